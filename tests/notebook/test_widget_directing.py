"""The notebook's Direct panel over the session: keyframes, kept joints, part temperatures and a floor path through
simple widgets, API changes showing in the panel, and takes whose recipe carries the directions."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import psygnal
import pytest

from studio.notebook import StudioWidget
from studio.notebook.floor import SHAPES, shape_points


@pytest.fixture
def widget(session, tiny_model, tmp_path):
    session.load_model(tiny_model)
    session.duration = 2.0  # 60 frames
    session.seed_frame = 100
    w = StudioWidget(session, train_minutes=0, export_dir=tmp_path, view_size=(200, 150))
    yield w
    w.close()


def labels(select) -> list[str]:
    return [label for label, _ in select.options]


def test_keyframes_added_moved_and_removed_through_the_panel(widget, session, dancer):
    d = widget.direct
    assert d in widget.children and "no directions" in d.summary.value and d.clear_button.disabled
    session.playhead = 250
    d.kf_frame.value = 40
    d.kf_add.click()  # the clip's pose under the playhead
    assert [k.frame for k in session.keyframes] == [40] and session.keyframes[0].source_frame == 250
    d.kf_source.value = "clip"
    assert not d.kf_source_frame.disabled
    d.kf_source_frame.value = 10
    d.kf_frame.value = 20
    d.kf_add.click()
    assert [k.frame for k in session.keyframes] == [20, 40]
    assert labels(d.kf_list) == ["take frame 20 ← clip frame 10", "take frame 40 ← clip frame 250"]
    d.kf_list.value = 1
    assert d.kf_move_to.value == 40  # choosing an entry shows its frame
    d.kf_move_to.value = 50
    d.kf_move.click()
    assert [k.frame for k in session.keyframes] == [20, 50]
    d.kf_list.value = 0
    d.kf_remove.click()
    assert [k.frame for k in session.keyframes] == [50] and len(d.kf_list.options) == 1
    assert "1 keyframe" in d.summary.value and not d.clear_button.disabled
    d.kf_list.value = None
    d.kf_remove.click()  # nothing chosen: a message, nothing removed
    assert widget.messages[-1][0] == "error" and "choose" in widget.messages[-1][1] and len(session.keyframes) == 1
    d.kf_source.value = "take"
    d.kf_add.click()  # no take yet: the session's refusal becomes a message
    assert "no take" in widget.messages[-1][1] and len(session.keyframes) == 1


def test_api_changes_show_in_the_panel(widget, session, dancer):
    d = widget.direct
    session.add_keyframe(30, pose=dancer.positions[7])
    session.add_keyframe(90, source="clip", source_frame=5)  # past this 60-frame take: it waits
    assert labels(d.kf_list)[0] == "take frame 30 ← a pose given in code"
    assert "waits" in labels(d.kf_list)[1]
    session.keep_joints("arms")
    assert labels(d.keep_list) == [f"arms ({len(session.keep[0].joints)} joints) follow the clip"]
    session.set_part_temperature("legs", 1.5)
    assert labels(d.part_list)[0].endswith("temperature 1.5")
    session.draw_path(np.array([[0.0, 0.0], [1.0, 0.0]]), timed=True)
    assert "path of 2 frames" in d.path_info.value and d.floor.value[:4] == b"\x89PNG"
    assert "2 keyframe" in d.summary.value and "kept: arms" in d.summary.value
    session.clear_direction()
    assert d.kf_list.options == () and d.keep_list.options == () and d.part_list.options == ()
    assert "no path" in d.path_info.value and "no directions" in d.summary.value


def test_keep_and_part_temperatures_through_the_widgets(widget, session):
    d = widget.direct
    groups = session.body_parts().groups
    assert {"arms", "legs", "upper"} <= set(d.keep_group.options)
    d.keep_group.value = "left_arm"
    d.keep_add.click()
    assert session.keep[0].joints == groups["left_arm"] and session.keep[0].source == ""
    d.keep_group.value = "no_such_part"
    d.keep_add.click()
    assert "unknown joint" in widget.messages[-1][1] and len(session.keep) == 1
    d.keep_list.value = 0
    d.keep_remove.click()
    assert session.keep == ()

    d.part_group.value = "legs"
    d.part_temperature.value = 0.4
    d.part_set.click()
    d.part_group.value = "arms"
    d.part_temperature.value = 2.0
    d.part_set.click()
    assert [(p.joints, p.temperature) for p in session.part_temperatures] == [
        (groups["legs"], 0.4), (groups["arms"], 2.0)]
    d.part_list.value = 0
    assert d.part_group.value == "legs" and d.part_temperature.value == pytest.approx(0.4)
    d.part_remove.click()
    assert [p.label for p in session.part_temperatures] == ["arms"] and len(d.part_list.options) == 1


@pytest.mark.parametrize("kind", SHAPES)
def test_shapes_start_at_the_origin_and_have_their_size(kind):
    p = shape_points(kind, 2.0)
    assert np.allclose(p[0], 0.0) and np.ptp(p, axis=0).max() == pytest.approx(2.0, rel=0.02)


def test_paths_from_a_file_an_upload_and_a_shape_end_up_in_the_session(widget, session, tmp_path):
    d = widget.direct
    np.save(tmp_path / "walk.npy", np.zeros((40, 2)))
    d.path_file.value = "walk.npy"  # relative to export_dir
    d.path_load.click()
    assert len(session.path) == 40 and "path of 40 frames" in d.path_info.value
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><polyline points="0,0 100,0 100,100"/></svg>'
    d.path_upload.value = ({"name": "drawn.svg", "type": "image/svg+xml", "size": len(svg), "content": memoryview(svg),
                            "last_modified": datetime.now(timezone.utc)},)
    assert len(session.path) > 10 and len(session.path) != 40
    assert d.path_upload.value == ()  # ready for the next upload, even of the same file
    before = session.path
    d.path_file.value = "missing.svg"
    d.path_load.click()
    assert "missing.svg" in widget.messages[-1][1] and session.path == before
    d.path_shape.value = "circle"
    d.path_size.value = 0.5
    d.path_draw.click()
    p = np.asarray(session.path)
    height = float(np.median(np.ptp(session.seed_clip().positions[..., 1], axis=1)))
    start = session.seed_clip().positions[99].mean(0)[[0, 2]]  # where the take starts (seed frame 100)
    assert np.allclose(p[0], start) and np.ptp(p, axis=0).max() == pytest.approx(0.5 * height, rel=0.1)
    assert np.linalg.norm(p[-1] - p[0]) < 0.05 * height  # a circle comes back
    d.path_clear.click()
    assert session.path == () and "no path" in d.path_info.value


def test_a_take_generated_with_directions_carries_them_and_the_stage_shows_them(widget, session):
    d = widget.direct
    d.kf_source.value = "clip"
    d.kf_source_frame.value = 200
    d.kf_frame.value = 30
    d.kf_add.click()
    d.keep_group.value = "left_arm"
    d.keep_add.click()
    d.part_group.value = "legs"
    d.part_temperature.value = 0.5
    d.part_set.click()
    d.path_shape.value = "line"
    d.path_draw.click()
    assert not widget.messages, widget.messages
    widget.generate_button.click()
    assert widget.wait(60)
    take = session.takes[session.current_take]
    p = take.params
    assert take.status == "done" and p.direction == session.params.direction
    assert [k.frame for k in p.keyframes] == [30] and p.keep[0].label == "left_arm"
    assert p.part_temperatures[0].temperature == 0.5 and p.path == session.path
    assert "keyframes at slider frames 30" in widget.stage.readout.value and "floor path" in widget.stage.readout.value
    widget.stage.frame.value = 30
    assert "on a keyframe" in widget.stage.readout.value
    n = min(len(p.path), take.frames_ready)
    assert np.allclose(take.positions[0, :n].mean(1)[:, [0, 2]], np.asarray(p.path)[:n], atol=1e-3)
    d.clear_button.click()
    psygnal.emit_queued()
    assert not session.params.direction and "no directions" in d.summary.value
