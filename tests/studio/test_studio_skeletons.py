"""Issue 14, item 1: a model and a clip of different bodies can both be loaded; the stage keeps working,
the studio says what does not fit and what to do, and never replaces the user's model without asking.

Exceptions raised in Qt slots fail these tests (pytest-qt), so an ``IndexError`` per frame or an
``EmitLoopError`` while opening would show up here.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PyQt6")
pytest.importorskip("vispy")

from engine.dance.synthetic import synthetic_markers
from studio.qt import files


@pytest.fixture
def markers55(tmp_path):
    """A 55-marker clip saved joints-first, as the issue's user had it."""
    path = tmp_path / "markers55.npy"
    np.save(path, synthetic_markers(frames=600, n_markers=55).positions.transpose(1, 0, 2))
    return path


def _open(qtbot, win, path) -> None:
    job = win.open_path(path)
    qtbot.waitUntil(lambda: not job.running, timeout=10000)
    qtbot.waitUntil(lambda: win.session.motion is not None and win.session.motion.n_joints == 55, timeout=5000)


def test_opening_a_clip_of_another_body_with_a_take_on_stage(qtbot, take_on_stage, markers55, stage_pixels,
                                                             figure_pixels):
    win, make = take_on_stage
    make(30)
    model = win.session.model
    for _ in range(2):  # opening again used to raise EmitLoopError
        _open(qtbot, win, markers55)
    start = win.timeline.frame
    qtbot.waitUntil(lambda: win.timeline.frame > start + 5, timeout=5000)  # it plays
    figs, _, bones, _ = win.stage.figures_at(win.timeline.frame)
    assert [len(f) for f in figs] == [55] and all(b.max() < 55 for b in bones if len(b))
    assert figure_pixels(stage_pixels(win)) > 200  # the new body is drawn
    assert win.session.model is model  # the user's model stays
    notice = win.fit_notice
    assert notice.isVisible()
    text = notice.text.text()
    assert "23 joints" in text and "55" in text and "markers55.npy" in text
    assert "train a model on it" in text and "load a model" in text
    notice.train_btn.click()
    assert win.panels.currentWidget() is win.training


def test_the_earlier_take_still_plays_with_its_own_body(qtbot, take_on_stage, markers55, tmp_path):
    win, make = take_on_stage
    take = make(30)
    _open(qtbot, win, markers55)
    win.controls.takes.setCurrentIndex(1)
    win.controls.takes.activated.emit(1)
    qtbot.waitUntil(lambda: win.stage.showing.take is not None, timeout=3000)
    win.timeline.pause()
    playhead = win.session.playhead
    win.timeline.set_frame(10, user=True)
    figs = win.stage.figures_at(10)[0]
    assert [len(f) for f in figs] == [23, 23]  # its ghost (its own clip) and itself
    assert win.session.playhead == playhead  # its moments are not moments of the 55-marker clip
    out = tmp_path / "old.mp4"
    assert win.session.export(out) == out and out.stat().st_size > 0
    assert win.session.takes[0].id == take.id


def test_generate_with_a_model_that_does_not_fit_continues_the_models_clip(qtbot, take_on_stage, markers55):
    win, make = take_on_stage
    _open(qtbot, win, markers55)
    assert "does not fit" in win.controls.generate_btn.toolTip()
    take = make(20)
    assert take.seed is win.session.model.seed and take.positions.shape[2] == 23
    assert [len(f) for f in win.stage.figures_at(5)[0]] == [23, 23]


@pytest.mark.parametrize("answer", ["clip", "both", "cancel"])
def test_demo_asks_before_replacing_the_users_model(qtbot, take_on_stage, markers55, monkeypatch, answer):
    win, _ = take_on_stage
    _open(qtbot, win, markers55)
    model = win.session.model
    asked = []
    monkeypatch.setattr(files, "ask_demo_model", lambda _w: asked.append(True) or answer)
    win.load_demo()
    assert asked
    s = win.session
    if answer == "cancel":
        assert s.model is model and s.motion.n_joints == 55
    elif answer == "clip":
        assert s.model is model and s.motion.source.startswith("synthetic")
    else:
        assert s.model is not model and s.model_is_demo


def test_demo_over_the_demo_model_does_not_ask(qtbot, win, monkeypatch):
    monkeypatch.setattr(files, "ask_demo_model", lambda _w: pytest.fail("asked needlessly"))
    win.load_demo()
    first = win.session.model
    win.load_demo()
    assert win.session.model_is_demo and first is not None
    win.session.wait_idle(30)


@pytest.mark.parametrize("label, answer", [("Demo dancer only (keep my model)", "clip"),
                                           ("Replace my model with the demo's", "both"), ("Cancel", "cancel")])
def test_the_demo_question_answers_what_was_clicked(qtbot, label, answer):
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication, QMessageBox

    def click() -> None:
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
        next(b for b in box.buttons() if b.text() == label).click()

    QTimer.singleShot(100, click)
    assert files.ask_demo_model(None) == answer
