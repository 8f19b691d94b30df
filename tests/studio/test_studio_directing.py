"""Issue 16 in the desktop studio: keyframe marks on the timeline, the Direct tab's body parts, picking joints
and drawing a floor path on the stage, undo of all of it, and live mode."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PyQt6")
pytest.importorskip("vispy")

from PyQt6.QtCore import QPoint, Qt
from vispy.util import keys


@pytest.fixture
def directed(qtbot, take_on_stage):
    """A window with a finished 60-frame take on stage (no lead-in), paused: ``(win, directing)``."""
    win, make = take_on_stage
    make(60)
    win.timeline.pause()
    win.session.lead_in = False
    qtbot.waitUntil(lambda: win.stage.showing.lead_in == 0 and win.stage.showing.take is not None, timeout=5000)
    win.timeline.pause()
    return win, win.directing


def _drag(qtbot, widget, x0: int, x1: int, y: int) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=QPoint(x0, y))
    for x in np.linspace(x0, x1, 6).astype(int)[1:]:
        qtbot.mouseMove(widget, QPoint(int(x), y))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=QPoint(x1, y))


def test_keyframe_marks_add_move_delete_and_undo(qtbot, directed):
    win, d = directed
    s, strip = win.session, d.track.strip
    win.timeline.set_frame(30, user=True)
    d.key_action.trigger()  # Dance ▸ Keyframe at the playhead (K)
    assert [k.frame for k in s.keyframes] == [30]
    ghost = win.stage.showing.reference.positions[win.stage.showing.seed_frame + 30]
    assert np.allclose(s.keyframes[0].array, ghost - ghost.mean(0), atol=1e-5)  # the clip's pose at that moment
    qtbot.waitUntil(lambda: [p for p, _ in strip.marks] == [30], timeout=3000)
    x30 = strip.x_of(30)
    assert win.timeline.position_at(x30, strip) == 30  # the mark stands over the slider's position
    assert d.panel.key_list.count() == 1 and "take frame 30" in d.panel.key_list.item(0).text()

    x45 = strip.x_of(45)
    _drag(qtbot, strip, x30, x45, strip.height() // 2)  # drag the mark
    assert [k.frame for k in s.keyframes] == [45]
    qtbot.waitUntil(lambda: [p for p, _ in strip.marks] == [45], timeout=3000)
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(x45, strip.height() // 2))
    assert strip.selected == 0
    qtbot.keyClick(strip, Qt.Key.Key_Delete)
    assert s.keyframes == ()

    stack = win.history.stack
    assert stack.undoText() == "delete keyframe at take frame 45"
    stack.undo()
    assert [k.frame for k in s.keyframes] == [45]
    stack.undo()
    assert [k.frame for k in s.keyframes] == [30]
    stack.undo()
    assert s.keyframes == ()
    stack.redo()
    assert [k.frame for k in s.keyframes] == [30]
    qtbot.waitUntil(lambda: [p for p, _ in strip.marks] == [30], timeout=3000)

    d.panel.pose_from.setCurrentIndex(d.panel.pose_from.findData("take"))  # the take's own pose
    win.timeline.set_frame(10, user=True)
    assert d.track.add_at_playhead()
    take = win.stage.showing.take
    assert np.allclose(s.keyframes[0].array, take.positions[0, 10] - take.positions[0, 10].mean(0), atol=1e-5)


def test_keep_a_group_and_a_part_temperature_through_the_panel(qtbot, directed):
    win, d = directed
    s, panel = win.session, d.panel
    panel.part.setCurrentIndex(panel.part.findData("arms"))
    arms = s.body_parts().groups["arms"]
    assert d.overlay.chosen == arms and d.overlay.chosen_vis.visible  # the chosen part is ringed on stage
    qtbot.mouseClick(panel.keep_clip_btn, Qt.MouseButton.LeftButton)
    assert len(s.keep) == 1 and s.keep[0].joints == arms and s.keep[0].source == ""
    qtbot.waitUntil(lambda: panel.keep_list.count() == 1 and d.overlay.kept == arms, timeout=3000)
    qtbot.mouseClick(panel.keep_take_btn, Qt.MouseButton.LeftButton)  # the same joints, now from the take
    assert len(s.keep) == 1 and s.keep[0].source.startswith("take:")

    panel.part.setCurrentIndex(panel.part.findData("legs"))
    panel.temperature.setValue(0.4)
    qtbot.mouseClick(panel.set_temp_btn, Qt.MouseButton.LeftButton)
    assert [(p.label, p.temperature) for p in s.part_temperatures] == [("legs", 0.4)]
    qtbot.waitUntil(lambda: panel.temp_list.count() == 1, timeout=3000)
    panel.temp_list.setCurrentRow(0)
    qtbot.mouseClick(panel.remove_temp_btn, Qt.MouseButton.LeftButton)
    assert s.part_temperatures == ()

    stack = win.history.stack
    stack.undo()  # the temperature comes back
    assert [p.temperature for p in s.part_temperatures] == [0.4]
    stack.undo()
    stack.undo()  # keep from the clip again
    assert s.part_temperatures == () and s.keep[0].source == ""
    stack.undo()
    assert s.keep == ()
    panel.clear_all()  # nothing to clear: no step
    assert stack.undoText() != "clear the direction"


def test_joints_picked_on_the_stage_are_the_part(qtbot, directed):
    win, d = directed
    s, ov, panel = win.session, d.overlay, d.panel
    (pose, _), = ov.dancers()  # the take (the ghost is not directed)
    xy = ov.to_screen(pose)
    j = int(np.argmax(xy[:, 1]))  # the lowest joint on the screen: a foot, clear of the others
    assert ov.joint_at(xy[j] + 3) == j
    qtbot.mouseClick(win.stage.canvas.native, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier,
                     QPoint(*np.round(xy[j]).astype(int)))  # Shift+click on the stage picks it
    assert ov.selection == (j,)
    assert panel.part.currentData() == "__picked__" and ov.chosen == (j,)
    ov.press(xy[j], (keys.SHIFT,))  # a second click takes it out again
    assert ov.selection == ()
    panel.pick_btn.setChecked(True)  # the toggle: plain clicks pick, the camera holds still
    assert not win.stage.stage.view.camera.interactive
    k = int(np.argmin(xy[:, 1]))  # the head
    ov.press(xy[j])
    ov.press(xy[k])
    assert ov.selection == tuple(sorted({j, k}))
    panel.keep("clip")
    assert s.keep[0].joints == tuple(sorted({j, k}))
    panel.pick_btn.setChecked(False)
    assert win.stage.stage.view.camera.interactive


def test_a_path_drawn_on_the_floor_goes_to_the_session(qtbot, directed):
    win, d = directed
    s, ov, panel = win.session, d.overlay, d.panel
    cam = win.stage.stage.view.camera
    before = cam.elevation
    qtbot.mouseClick(panel.draw_btn, Qt.MouseButton.LeftButton)
    assert ov.drawing and cam.elevation == 90 and not cam.interactive  # seen from above
    win.stage.canvas.render()  # the camera's new view is in the transforms
    (_, off), = ov.dancers()
    t = np.linspace(0, 1, 12)
    stage_pts = np.c_[off[0] + 0.6 * t, off[1] + 0.3 * np.sin(3 * t), np.zeros_like(t)]
    screen = ov.to_screen(stage_pts)
    assert np.allclose(ov.floor_at(screen[4])[:2], stage_pts[4, :2], atol=1e-3)  # the ray meets the floor there
    ov.press(screen[0])
    for p in screen[1:]:
        ov.move(p)
    ov.release(screen[-1])
    assert len(s.path) > 2
    drawn = ov.stage_to_floor(stage_pts[:, :2] - off[:2])
    assert np.allclose(s.path[0], drawn[0], atol=1e-3)  # the clip's floor coordinates (x, z for this dancer)
    reach = np.linalg.norm(np.asarray(s.path) - drawn[-1], axis=1).min()
    assert reach < 0.05 * np.ptp(drawn, axis=0).max() + 1e-3  # walked along the stroke to its end
    assert not ov.drawing and cam.elevation == before  # back to the camera as it was
    qtbot.waitUntil(lambda: ov.path_vis.visible and "frames" in panel.path_label.text(), timeout=3000)
    win.history.stack.undo()
    assert s.path == ()
    win.history.stack.redo()
    assert len(s.path) > 2
    qtbot.mouseClick(panel.clear_path_btn, Qt.MouseButton.LeftButton)
    assert s.path == ()
    qtbot.waitUntil(lambda: not ov.path_vis.visible, timeout=3000)


def test_a_floor_path_from_a_file_and_bad_files(qtbot, directed, tmp_path):
    win, d = directed
    np.save(tmp_path / "walk.npy", np.c_[np.linspace(0, 1, 40), np.zeros(40)])
    assert d.panel.load_path(str(tmp_path / "walk.npy"))
    assert len(win.session.path) == 40
    assert not d.panel.load_path(str(tmp_path / "walk.txt"))
    assert "walk.txt" in win.last_message and len(win.session.path) == 40  # one line, nothing lost


def test_controls_say_why_they_are_off(qtbot, win):
    panel = win.directing.panel
    assert not panel.add_key_btn.isEnabled() and "No model" in panel.add_key_btn.toolTip()
    assert not panel.keep_take_btn.isEnabled() and "model" in panel.keep_take_btn.toolTip()
    assert not panel.remove_key_btn.isEnabled() and panel.remove_key_btn.toolTip() == "No keyframe to remove"
    assert not win.directing.track.add_at_playhead() and "No model" in win.last_message


def test_live_mode_makes_the_take_again_on_a_keyframe(qtbot, directed):
    win, d = directed
    s = win.session
    s.live = True
    win.controls.generate()
    qtbot.waitUntil(lambda: s.takes[s.current_take].live and s.takes[s.current_take].status == "done", timeout=30000)
    first = s.takes[s.current_take].id
    win.timeline.pause()
    win.timeline.set_frame(20, user=True)
    assert d.track.add_at_playhead()
    qtbot.waitUntil(lambda: s.takes[s.current_take].id != first and s.takes[s.current_take].status == "done",
                    timeout=30000)
    assert [k.frame for k in s.takes[s.current_take].params.keyframes] == [d.track.take_frame_at(20)]
    win.history.stack.undo()  # undo is a change too: the take is made again without it
    qtbot.waitUntil(lambda: not s.takes[s.current_take].params.keyframes and s.takes[s.current_take].status == "done",
                    timeout=30000)
    s.live = False


def test_marks_stand_at_the_take_frame_after_the_lead_in(qtbot, directed):
    win, d = directed
    s = win.session
    s.add_keyframe(12, source="clip", source_frame=50)
    s.lead_in = True
    qtbot.waitUntil(lambda: win.stage.showing.lead_in > 0, timeout=5000)
    lead = win.stage.showing.lead_in
    qtbot.waitUntil(lambda: [p for p, _ in d.track.strip.marks] == [lead + 12], timeout=3000)
    assert d.track.take_frame_at(lead + 12) == 12
    s.show_clip()  # the clip alone: the mark stands where the ghost will be (the seed frame on)
    qtbot.waitUntil(lambda: [p for p, _ in d.track.strip.marks] == [s.params.seed_frame + 12], timeout=3000)
