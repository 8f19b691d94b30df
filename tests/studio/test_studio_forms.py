"""Issue 14, items 4-6: typed values are never lost, durations are typed in seconds (frames beside them),
disabled controls say why, and Ctrl+T shows what it started."""

from __future__ import annotations

import pytest

pytest.importorskip("PyQt6")
pytest.importorskip("vispy")

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QAbstractButton

from engine.dance.knobs import GENERATION
from engine.dance.synthetic import synthetic_dancer
from studio.qt import files


def _type(qtbot, editor, text: str) -> None:
    """Type ``text`` into a knob's spin box without confirming it (no Enter, no Tab)."""
    spin = editor.spin
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    spin.selectAll()
    qtbot.keyClicks(spin, text)


def test_typed_variations_are_used_by_ctrl_g(qtbot, take_on_stage):
    win, _ = take_on_stage
    s = win.session
    s.duration = 0.5
    _type(qtbot, win.controls.variations, "4")
    assert s.variations == 1  # typed, not confirmed
    qtbot.keyClick(win.controls.variations.spin, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: s.takes and s.takes[-1].status == "done", timeout=20000)
    assert s.variations == 4 and s.takes[-1].positions.shape[0] == 4


def test_typed_values_are_used_by_every_action(qtbot, take_on_stage, monkeypatch):
    win, make = take_on_stage
    s = win.session
    make(10)
    started = []
    monkeypatch.setattr(s, "start_training", lambda **kw: started.append(kw))
    _type(qtbot, win.training.minutes, "0.5")
    qtbot.keyClick(win.training.minutes.spin, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert started and started[-1]["config"].minutes == 0.5
    win.panels.setCurrentWidget(win.controls)
    _type(qtbot, win.controls.duration, "2.5")
    monkeypatch.setattr(files, "ask_export", lambda *_a, **_k: None)
    export = next(a for a in win.menus["File"].actions() if a.text() == "&Export…")
    export.trigger()  # from the menu (in a text field Ctrl+E moves the cursor to the end, as Qt's fields do)
    assert s.duration == 2.5
    _type(qtbot, win.controls.look_back, "0.5")
    win.controls.generate_btn.click()
    assert s.look_back == 0.5


def test_durations_are_typed_in_seconds_with_frames_beside(qtbot, win):
    fast = synthetic_dancer(frames=600, fps=120.0)
    win.session.load(fast)
    c = win.controls
    assert GENERATION["duration"].unit == "s" and GENERATION["look_back"].unit == "s"
    assert c.duration.spin.suffix() == " s" and c.look_back.spin.suffix() == " s"
    c.duration.spin.setValue(2.5)
    c.look_back.spin.setValue(0.5)
    assert win.session.frames == 300
    assert c.duration.note.text() == "300 frames" and c.look_back.note.text() == "60 frames"
    win.timeline.set_frame(240, user=True)
    assert "2.00 s" in win.timeline.readout.text()


def test_the_take_menu_says_seconds(qtbot, take_on_stage):
    win, make = take_on_stage
    make(45)
    assert "take 1: 1.5 s" in win.controls.takes.itemText(1)


def test_disabled_controls_say_why(qtbot, win):
    c, t = win.controls, win.training
    reasons = {c.generate_btn: "No model yet", c.stop_btn: "Nothing is being generated",
               t.train_btn: "Load a clip first", t.resume_btn: "Load a clip first", t.cancel_btn: "not running",
               t.save_btn: "No model to save"}
    for button, why in reasons.items():
        assert not button.isEnabled() and why in button.toolTip(), (button.text(), button.toolTip())
    for button in win.findChildren(QAbstractButton):
        if not button.isEnabled() and button.isVisibleTo(win):
            assert button.toolTip(), f"{button.text()!r} is greyed out without a reason"
    win.session.load(synthetic_dancer(frames=120))
    qtbot.waitUntil(t.train_btn.isEnabled, timeout=3000)
    assert "Train a new model" in t.train_btn.toolTip()
    assert "Nothing to resume" in t.resume_btn.toolTip()


def test_ctrl_t_brings_the_train_tab_forward(qtbot, win, monkeypatch):
    win.session.load(synthetic_dancer(frames=120))
    started = []
    monkeypatch.setattr(win.session, "start_training", lambda **kw: started.append(kw))
    win.panels.setCurrentWidget(win.controls)
    qtbot.keyClick(win, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert started and win.panels.currentWidget() is win.training
