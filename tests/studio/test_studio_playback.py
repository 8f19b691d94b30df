"""Issue 14, items 3 and 8: playback covers what is shown (the take, not the rest of the clip), Loop loops
it, the legend is always true, and a click on the timeline jumps there."""

from __future__ import annotations

import pytest

pytest.importorskip("PyQt6")
pytest.importorskip("vispy")

import itertools

from PyQt6.QtCore import QPoint, Qt


def test_playback_stops_at_the_end_of_the_take(qtbot, take_on_stage):
    win, make = take_on_stage
    make(12)  # 0.4 s of a 20 s clip
    tl = win.timeline
    assert tl.total == 12
    tl.loop.setChecked(False)
    tl.set_frame(0)
    tl.play()
    qtbot.waitUntil(lambda: not tl.playing, timeout=5000)
    assert tl.frame == 11
    assert win.stage.legend.text().endswith("take 1")  # still the take, in the take's colour
    assert [f.role for f in win.stage.showing.figures] == ["ghost", "take"]


def test_loop_loops_the_take(qtbot, take_on_stage):
    win, make = take_on_stage
    make(12)
    tl = win.timeline
    tl.loop.setChecked(True)
    tl.set_frame(8)
    tl.play()
    seen = []
    tl.position_changed.connect(seen.append)
    qtbot.waitUntil(lambda: any(b < a for a, b in itertools.pairwise(seen)), timeout=5000)
    assert max(seen) <= 11 and tl.playing  # wrapped to the take's start, never into the rest of the clip
    tl.pause()


def test_the_legend_names_what_is_on_stage(qtbot, take_on_stage):
    win, make = take_on_stage
    make(30, variations=2, seed_frame=590)  # the clip ends at take frame 10
    tl = win.timeline
    tl.pause()
    tl.set_frame(5, user=True)
    assert "ghost" in win.stage.legend.text() and "take 1 · 2" in win.stage.legend.text()
    tl.set_frame(20, user=True)
    assert "ghost" not in win.stage.legend.text() and len(win.stage.figures_at(20)[0]) == 2
    assert "take 1" in tl.readout.text() and "0.67" in tl.readout.text()  # seconds into the take
    win.controls.takes.setCurrentIndex(0)
    win.controls.takes.activated.emit(0)  # the clip on its own
    qtbot.waitUntil(lambda: win.stage.showing.take is None, timeout=3000)
    assert tl.total == win.session.motion.n_frames and "take" not in win.stage.legend.text()


def test_the_lead_in_is_shown_when_asked_for(qtbot, take_on_stage):
    win, make = take_on_stage
    take = make(20, seed_frame=200)
    lead = take.params.look_back
    win.lead_in_action.trigger()
    qtbot.waitUntil(lambda: win.timeline.total == lead + 20, timeout=3000)
    win.timeline.set_frame(2, user=True)
    assert "lead-in" in win.stage.legend.text() and "lead-in" in win.timeline.readout.text()
    assert len(win.stage.figures_at(2)[0]) == 1  # only the clip, before the take dances
    assert win.session.playhead == 200 - lead + 2  # a moment of the clip: continue-from-playhead uses it
    win.lead_in_action.trigger()
    qtbot.waitUntil(lambda: win.timeline.total == 20, timeout=3000)


def test_a_click_on_the_timeline_jumps_there(qtbot, win, dancer):
    win.session.load(dancer)
    tl = win.timeline
    qtbot.waitUntil(lambda: tl.total == dancer.n_frames, timeout=3000)
    tl.pause()
    tl.set_frame(0, user=True)
    slider = tl.slider
    x = slider.width() * 3 // 4
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(x, slider.height() // 2))
    assert abs(tl.frame - 0.75 * (dancer.n_frames - 1)) < 0.03 * dancer.n_frames  # not 10 frames on
    assert win.session.playhead == tl.frame
