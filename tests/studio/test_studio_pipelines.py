"""The studio with the pipeline formats: a C3D capture dropped on the window, the "Stream to…" toggle
(the shown frames go out over OSC; bad targets are messages)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PyQt6")
pytest.importorskip("vispy")

from PyQt6.QtCore import QMimeData, QPointF, Qt, QUrl
from PyQt6.QtGui import QDropEvent

from engine.dance.synthetic import synthetic_dancer
from engine.session import Session
from studio.qt import files, osc
from studio.qt.window import MainWindow


@pytest.fixture
def win(qtbot):
    s = Session(device="cpu")
    w = MainWindow(s)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w._close_choice = "closing"
    w.close()
    s.close()


def test_toggle_streams_the_shown_frames(qtbot, win, osc_receiver, monkeypatch):
    clip = synthetic_dancer(frames=60, fps=30.0, rng=0)
    win.session.load(clip)
    win.timeline.pause()
    monkeypatch.setattr(osc, "ask_target", lambda parent, default: f"127.0.0.1:{osc_receiver.port}")
    assert "Stream to" in win.osc.action.text()
    win.osc.action.trigger()
    assert win.osc.action.isChecked() and "Streaming to 127.0.0.1" in win.last_message
    for f in (5, 6, 7, 20):
        win.timeline.set_frame(f, user=True)
    got = osc_receiver.wait_for(4)
    assert [a[0] for _, a in got[-4:]] == [5, 6, 7, 20]
    _, seconds, *values = got[-1][1]
    assert seconds == pytest.approx(20 / 30.0)
    np.testing.assert_array_equal(np.asarray(values, np.float32).reshape(-1, 3), clip.positions[20])
    win.osc.action.trigger()  # off
    n = len(osc_receiver.messages)
    win.timeline.set_frame(30, user=True)
    assert len(osc_receiver.wait_for(n + 1, timeout=0.3)) == n and not win.osc.action.isChecked()


def test_bad_target_is_a_message_and_the_toggle_stays_off(qtbot, win, monkeypatch):
    monkeypatch.setattr(osc, "ask_target", lambda parent, default: "localhost:nope")
    win.osc.action.trigger()
    assert not win.osc.action.isChecked()
    assert "the port must be a number" in win.last_message
    monkeypatch.setattr(osc, "ask_target", lambda parent, default: None)  # cancelled
    win.osc.action.trigger()
    assert not win.osc.action.isChecked()


def test_streams_the_take_from_its_start(qtbot, win, tiny_dance, osc_receiver, monkeypatch):
    ckpt, motion = tiny_dance
    s = win.session
    s.load(motion)
    s.load_model(ckpt)
    s.duration, s.variations = 20 / motion.fps, 1
    win.controls.generate_btn.click()
    qtbot.waitUntil(lambda: s.takes and s.takes[-1].frames_ready == 20, timeout=20000)
    qtbot.waitUntil(lambda: s.generation_status == "idle", timeout=5000)
    win.timeline.pause()
    monkeypatch.setattr(osc, "ask_target", lambda parent, default: f"127.0.0.1:{osc_receiver.port}")
    win.osc.action.trigger()
    assert win.timeline.total == 20  # the timeline is the take's span
    win.timeline.set_frame(10, user=True)
    values = osc_receiver.wait_for(1)[-1][1][2:]  # after index and seconds
    np.testing.assert_array_equal(np.asarray(values, np.float32).reshape(-1, 3), s.takes[-1].positions[0, 10])
    win.osc.stop()


@pytest.mark.filterwarnings("ignore:No analog data found")
def test_drop_a_c3d_capture(qtbot, win, tmp_path, c3d_file):
    d = synthetic_dancer(frames=60, fps=60.0, rng=5).positions * 1000.0
    path = c3d_file(tmp_path / "capture.c3d", d, rate=60.0)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    assert ".c3d" in files.OPENABLE and "*.c3d" in files.open_filter()  # the drop target and the open dialog
    win.dropEvent(QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                             Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: win.session.motion is not None, timeout=10000)
    m = win.session.motion
    assert m.fps == 60.0 and m.up_axis == "z" and "C3D" in m.layout_note
    np.testing.assert_allclose(m.positions, d / 1000.0, atol=1e-6)
