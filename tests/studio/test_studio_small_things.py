"""Issue 14, item 8: the small things: sizes at 1000x700, the Sketch tab's status bar, endings that differ,
and a Help menu."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PyQt6")
pytest.importorskip("vispy")

from PyQt6.QtCore import QPoint, Qt

from studio.qt import helpmenu


def test_at_1000x700_nothing_is_squeezed(qtbot, win, tiny_dance):
    win.session.load(tiny_dance[1])
    win.session.load_model(tiny_dance[0])
    win.resize(1000, 700)
    qtbot.waitUntil(lambda: win.width() == 1000 and win.height() == 700, timeout=3000)
    assert win.minimumSizeHint().width() <= 1000
    assert win.timeline.slider.width() >= 450  # was ~200 px
    for name in ("duration", "look_back"):
        note = win.controls.editors[name].note
        assert note.width() >= note.sizeHint().width(), f"{name}'s frames are cut off"
    win.tabs.setCurrentWidget(win.sketch)
    qtbot.waitUntil(win.sketch.isVisible, timeout=2000)
    assert win.sketch.temperature.slider.width() >= 100  # was a stub


def test_the_status_bar_names_the_model_of_the_tab(qtbot, win):
    win.tabs.setCurrentWidget(win.sketch)
    assert win.sketch.drawing.ready
    assert win.model_label.text() == f"sketch model: {win.sketch.drawing.source}"
    win.tabs.setCurrentIndex(0)
    assert win.model_label.text() == "no dance model"


def _ending_spread(results: list[np.ndarray], prefix_len: int) -> float:
    """Mean distance between the endings (resampled along their length), over the drawing's size."""
    tails = []
    for r in results:
        p = np.cumsum(r[:, :2].astype(float), axis=0)[prefix_len - 1:]
        arc = np.r_[0, np.cumsum(np.linalg.norm(np.diff(p, axis=0), axis=1))]
        s = np.linspace(0, arc[-1], 32)
        tails.append(np.c_[np.interp(s, arc, p[:, 0]), np.interp(s, arc, p[:, 1])])
    size = np.ptp(np.cumsum(results[0][:, :2].astype(float), axis=0), axis=0).max()
    return float(np.mean([np.linalg.norm(a - b, axis=1).mean() for i, a in enumerate(tails) for b in tails[i + 1:]])
                 / size)


def test_sketch_endings_differ(qtbot, win):
    tab = win.sketch
    assert tab.drawing.ready  # the shipped demo sketch model
    win.tabs.setCurrentWidget(tab)
    pad = tab.pad
    qtbot.waitExposed(pad)
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(40, 60))
    for x in range(45, 220, 6):  # one straight line: a box, a triangle, a house... could follow
        qtbot.mouseMove(pad, QPoint(x, 60))
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(220, 60))
    job = tab.finish()
    qtbot.waitUntil(lambda: not job.running and len(tab.results) == 4, timeout=30000)
    assert _ending_spread(tab.results, len(tab.drawing.prefix())) > 0.15  # was 0.10: four near-identical boxes


def test_the_help_menu(qtbot, win):
    assert "Help" in win.menus
    keys = dict(helpmenu.shortcuts(win))
    for key in ("Ctrl+G", "Ctrl+T", "Ctrl+E", "Space", "F1"):
        assert key in keys, key
    assert keys["Ctrl+G"] == "Dance ▸ Generate"
    text = helpmenu.shortcuts_dialog(win).text.toPlainText()
    assert "Ctrl+G" in text and "Play / pause" in text
    tour = helpmenu.tour_dialog(win).text.toPlainText()
    assert all(title in tour for title, _ in helpmenu.TOUR) and len(helpmenu.TOUR) == 7
