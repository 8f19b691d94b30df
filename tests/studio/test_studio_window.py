"""GUI tests of the desktop studio (pytest-qt under Xvfb; vispy needs a real GL context)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PyQt6")
pytest.importorskip("vispy")

from PyQt6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PyQt6.QtGui import QDropEvent

from engine.core.training import TrainResult
from engine.dance.synthetic import synthetic_dancer, synthetic_markers
from studio.qt import files
from studio.qt.window import MainWindow


def _pixels(w: MainWindow) -> np.ndarray:
    return w.stage.render_pixels()[..., :3].astype(np.int16)


def test_importing_studio_does_not_import_qt():
    code = "import sys, studio; assert not any(m.startswith(('PyQt6', 'vispy', 'pyqtgraph')) for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_open_joints_first_clip_plays(qtbot, win, tmp_path):
    m = synthetic_markers(frames=200, n_markers=20)
    path = tmp_path / "clip.npy"
    np.save(path, m.positions.transpose(1, 0, 2))
    win.open_path(path)
    qtbot.waitUntil(lambda: win.session.motion is not None, timeout=10000)
    assert win.session.motion.layout == "joints-first"
    assert win.session.motion.n_frames == 200
    assert win.timeline.total == 200
    assert win.timeline.playing
    start = win.timeline.frame
    qtbot.waitUntil(lambda: win.timeline.frame > start + 3, timeout=5000)


def test_bad_file_is_a_message_not_a_crash(qtbot, win, tmp_path):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((4, 5)))
    win.open_path(bad)
    qtbot.waitUntil(lambda: "bad.npy" in (getattr(win, "last_message", "") or ""), timeout=5000)
    assert win.session.motion is None


def test_sliders_and_knobs_write_the_session(qtbot, win, tiny_dance):
    ckpt, motion = tiny_dance
    s = win.session
    s.load(motion)
    s.load_model(ckpt)
    c = win.controls
    c.temperature.slider.setValue(200)
    assert s.temperature == pytest.approx(c.temperature.value()) and s.temperature < 0.5
    c.sigma_temperature.slider.setValue(900)
    assert s.sigma_temperature > 2.0
    menu = c.mixture.menu
    menu.setCurrentIndex(menu.findData(1))
    menu.activated.emit(menu.currentIndex())
    assert s.mixture == 1
    c.look_back.spin.setValue(0.4)  # seconds
    c.rng.spin.setValue(7)
    c.duration.spin.setValue(1.5)
    c.variations.spin.setValue(3)
    c.continue_from_playhead.check.setChecked(True)
    assert (s.look_back, s.rng, s.duration, s.variations, s.continue_from_playhead) == (0.4, 7, 1.5, 3, True)
    assert s.frames == 45 and c.duration.note.text() == "45 frames" and c.look_back.note.text() == "12 frames"
    # and the other way: the session changes, the widgets follow
    s.temperature = 0.7
    s.duration = 2.0
    qtbot.waitUntil(lambda: c.duration.value() == 2.0 and abs(c.temperature.value() - 0.7) < 1e-6, timeout=2000)
    assert c.duration.note.text() == "60 frames"


def test_scrub_updates_stage_pixels_and_playhead(qtbot, win):
    win.session.load(synthetic_dancer(frames=300))
    qtbot.waitUntil(lambda: win.stage.has_content, timeout=3000)
    win.timeline.pause()
    win.timeline.set_frame(0, user=True)
    before = _pixels(win)
    assert (np.abs(before - before[0, 0]).sum(-1) > 30).sum() > 200  # a figure is drawn on the background
    win.timeline.set_frame(150, user=True)
    qtbot.waitUntil(lambda: win.session.playhead == 150, timeout=2000)
    after = _pixels(win)
    assert (np.abs(after - before).sum(-1) > 30).sum() > 100
    qtbot.keyClick(win, Qt.Key.Key_Right)
    assert win.timeline.frame == 151
    qtbot.keyClick(win, Qt.Key.Key_Home)
    assert win.timeline.frame == 0
    qtbot.keyClick(win, Qt.Key.Key_Space)
    assert win.timeline.playing
    qtbot.keyClick(win, Qt.Key.Key_Space)
    assert not win.timeline.playing


def test_generate_streams_a_take_onto_the_stage(qtbot, win, tiny_dance):
    ckpt, motion = tiny_dance
    s = win.session
    s.load(motion)
    s.load_model(ckpt)
    s.duration, s.variations = 40 / motion.fps, 2
    win.controls.generate_btn.click()
    qtbot.waitUntil(lambda: s.takes and s.takes[-1].frames_ready == 40, timeout=20000)
    qtbot.waitUntil(lambda: s.generation_status == "idle", timeout=5000)
    qtbot.waitUntil(lambda: win.stage.showing.take is not None and win.stage.showing.take.frames_ready == 40,
                    timeout=5000)
    assert win.timeline.total == 40  # the timeline is the take
    win.timeline.pause()
    win.timeline.set_frame(30, user=True)
    assert len(win.stage.figures_at(win.timeline.frame)[0]) == 3  # ghost + 2 variations
    assert "take 1 · 2" in win.stage.legend.text()
    assert "frames/s" in win.fps_label.text()


def test_train_a_tiny_model_then_cancel(qtbot, win):
    s = win.session
    s.load(synthetic_dancer(frames=400))
    p = win.training
    p.hidden.set_value(16)
    p.layers.set_value(1)
    p.mixtures.set_value(2)
    p.batch.set_value(4)
    p.seq_len.set_value(16)
    p.minutes.set_value(2.0)
    p.train_btn.click()
    assert s.training_status == "training"
    qtbot.waitUntil(lambda: len(s.loss_history.train) >= 2, timeout=60000)
    qtbot.waitUntil(lambda: p.train_curve.getData()[0] is not None and len(p.train_curve.getData()[0]) >= 2,
                    timeout=5000)
    assert p.cancel_btn.isEnabled() and not p.train_btn.isEnabled()
    p.cancel_btn.click()
    qtbot.waitUntil(lambda: s.training_status == "idle", timeout=30000)
    assert s.model is not None and s.model.config.hidden == 16
    qtbot.waitUntil(lambda: p.save_btn.isEnabled() and p.resume_btn.isEnabled(), timeout=2000)
    assert "cancelled" in p.progress.format() and "100%" not in p.progress.format()


def test_worker_error_shows_as_message(qtbot, win):
    s = win.session
    s.load(synthetic_dancer(frames=200))

    def broken(*_a, **_k) -> TrainResult:
        raise RuntimeError("the GPU caught fire")

    s.start_training(minutes=1, train_fn=broken)
    qtbot.waitUntil(lambda: "caught fire" in (getattr(win, "last_message", "") or ""), timeout=10000)
    assert s.training_status == "idle"


def test_export_never_overwrites_silently(qtbot, win, tiny_dance, tmp_path, monkeypatch):
    ckpt, motion = tiny_dance
    s = win.session
    s.load(motion)
    s.load_model(ckpt)
    s.duration = 20 / motion.fps
    s.generate()
    s.wait_idle(30)
    out = tmp_path / "take.npy"
    monkeypatch.setattr(files, "ask_export", lambda *_a, **_k: files.ExportChoice(out, "take"))
    job = win.export_dialog()
    qtbot.waitUntil(lambda: not job.running, timeout=10000)
    assert np.load(out).shape[-1] == 3
    stamp = out.stat().st_mtime_ns
    asked = []
    monkeypatch.setattr(files, "confirm_overwrite", lambda _p, paths: asked.append(paths) or False)
    assert win.export_dialog() is None
    assert asked and out.stat().st_mtime_ns == stamp
    monkeypatch.setattr(files, "confirm_overwrite", lambda _p, paths: True)
    job = win.export_dialog()
    # the job's thread ends before its "done" reaches the Qt thread: wait for the message itself
    qtbot.waitUntil(lambda: not job.running and "Exported" in win.last_message, timeout=10000)


def test_drop_a_file(qtbot, win, tmp_path):
    path = tmp_path / "dropped.npy"
    np.save(path, synthetic_dancer(frames=120).positions)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    ev = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    win.dropEvent(ev)
    qtbot.waitUntil(lambda: win.session.motion is not None, timeout=10000)
    assert Path(win.session.motion.source).name == "dropped.npy"


def test_close_during_training_stops_the_worker(qtbot, empty_session, tmp_path, monkeypatch):
    session = empty_session
    w = MainWindow(session)
    qtbot.addWidget(w)
    w.show()
    session.load(synthetic_dancer(frames=300))
    w.training.hidden.set_value(16)
    w.training.layers.set_value(1)
    w.training.batch.set_value(4)
    w.training.seq_len.set_value(16)
    w.training.start()
    qtbot.waitUntil(lambda: session.training_progress.step > 0, timeout=60000)
    monkeypatch.setattr(files, "ask_training_close", lambda _p: "keep")
    kept = tmp_path / "kept.pt"
    monkeypatch.setattr(files, "ask_save_path", lambda *_a: str(kept))
    w.close()
    assert w.isVisible()  # waits for the worker to stop first
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=30000)
    assert session.training_status == "idle" and not session.worker.training_active
    assert kept.exists()


def test_sketch_tab_finishes_a_drawing(qtbot, win):
    import torch

    from engine.sketch import SketchConfig, SketchRNN

    torch.manual_seed(0)
    model = SketchRNN(SketchConfig(enc_hidden=8, dec_hidden=16, z_size=4, mixtures=2, max_seq_len=60)).eval()
    model.scale, model.integer_units, model.max_len = 30.0, True, 60
    tab = win.sketch
    tab.drawing.use(model, "tiny test model")
    tab._sync()
    win.tabs.setCurrentWidget(tab)
    pad = tab.pad
    qtbot.waitExposed(pad)
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(40, 40))
    for x in range(45, 200, 15):
        qtbot.mouseMove(pad, QPoint(x, 40 + x // 4))
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(200, 90))
    assert len(pad.strokes) == 1 and len(pad.strokes[0]) > 3
    prefix = tab.drawing.prefix()
    assert prefix.ndim == 2 and prefix.shape[1] == 3 and prefix[-1, 2] == 1
    tab.endings.set_value(3)
    job = tab.finish()
    qtbot.waitUntil(lambda: not job.running and len(tab.results) == 3, timeout=20000)
    prefix[-1, 2] = 0  # completion continues the last stroke
    assert all(np.array_equal(r[: len(prefix)], prefix) for r in tab.results)
    assert tab.views[2].sketch is not None and tab.views[3].sketch is None


def test_layout_chooser_for_an_ambiguous_array(qtbot, win, tmp_path, monkeypatch):
    m = synthetic_dancer(frames=60)
    path = tmp_path / "square.npy"
    np.save(path, m.positions.transpose(1, 0, 2))
    monkeypatch.setattr(files, "layout_ambiguity", lambda _p: ("frames-first", "frames-first: unclear"))
    asked = []
    monkeypatch.setattr(files, "ask_layout", lambda _w, p, layout, note: asked.append(layout) or "joints-first")
    win.open_path(path)
    qtbot.waitUntil(lambda: win.session.motion is not None, timeout=10000)
    assert asked == ["frames-first"]
    assert win.session.motion.n_frames == 60 and win.session.motion.layout == "joints-first"


def test_layout_ambiguity_detects_clear_cases(tmp_path):
    m = synthetic_dancer(frames=200)
    path = tmp_path / "clear.npy"
    np.save(path, m.positions)
    assert files.layout_ambiguity(path) is None
    noise = tmp_path / "noise.npy"
    np.save(noise, np.random.default_rng(0).normal(size=(40, 40, 3)))
    assert files.layout_ambiguity(noise) is not None


def test_switching_to_a_clip_with_another_skeleton(qtbot, win):
    win.session.load(synthetic_markers(frames=100, n_markers=55))
    win.session.load(synthetic_dancer(frames=100))
    qtbot.waitUntil(lambda: win.stage.showing.clip is win.session.motion, timeout=3000)
    win.stage.show_frame(10)
    assert [len(f) for f in win.stage.figures_at(10)[0]] == [23]
    pixels = _pixels(win)
    assert (np.abs(pixels - pixels[0, 0]).sum(-1) > 30).sum() > 200  # the new body is drawn


def test_controls_are_built_from_the_knob_table(win):
    from engine.dance.knobs import GENERATION, TRAINING

    panels = [(win.controls.editors, GENERATION), (win.training.editors, TRAINING)]
    for editors, knobs in panels:
        for name, editor in editors.items():
            k = knobs[name]
            assert editor.toolTip() == k.tip
            if editor.spin is not None:
                assert (editor.spin.minimum(), editor.spin.maximum()) == (k.lo, k.hi)


def test_quality_line_judges_the_finished_take(qtbot, win, tiny_dance):
    ckpt, motion = tiny_dance
    s = win.session
    s.load(motion)
    s.load_model(ckpt)
    s.duration = 60 / motion.fps
    s.generate()
    qtbot.waitUntil(lambda: win.quality.figures is not None, timeout=30000)
    q = win.quality.figures
    assert q["take_frames"] == 60 and len(q["pose_ratio_thirds"]) == 3
    assert "poses" in win.quality.text() and "novelty" in win.quality.text() and win.quality.isVisible()
    s.show_clip()
    qtbot.waitUntil(lambda: not win.quality.isVisible(), timeout=3000)


def test_restore_proportions_can_be_turned_off(qtbot, win, tmp_path):
    m = synthetic_dancer(frames=200)
    x = m.positions
    lo, hi = x.reshape(-1, 3).min(0), x.reshape(-1, 3).max(0)
    path = tmp_path / "normalised.npy"
    np.save(path, ((x - lo) / (hi - lo)).astype(np.float32))
    job = win.open_path(path, play=False)
    qtbot.waitUntil(lambda: not job.running and win.session.motion is not None, timeout=20000)
    assert win.session.motion.restored and win.proportions_action.isChecked()
    win.proportions_action.trigger()  # off: the values as stored
    qtbot.waitUntil(lambda: win.session.motion is not None and not win.session.motion.restored, timeout=20000)
    np.testing.assert_allclose(win.session.motion.positions, (x - lo) / (hi - lo), atol=1e-6)
    win.proportions_action.trigger()
    qtbot.waitUntil(lambda: win.session.motion.restored, timeout=20000)
