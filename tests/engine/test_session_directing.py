"""Directing in the session: keyframes, kept joints, a floor path and part temperatures as evented state
that live mode regenerates on and every take's recipe holds."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import psygnal
import pytest

from engine.core.errors import ChoreoError
from engine.dance.direction import Direction


def rel(x):
    return x - x.mean(-2, keepdims=True)


@pytest.fixture
def directed(session, tiny_model):
    session.load_model(tiny_model)
    session.duration = 4.0  # 120 frames
    session.seed_frame = 100
    return session


def test_keyframes_are_state_with_events_and_validation(directed, dancer):
    s = directed
    seen = []
    s.events.keyframes.connect(seen.append)
    s.playhead = 250
    kf = s.add_keyframe(60)  # the clip's pose under the playhead
    assert kf.source_frame == 250 and np.allclose(kf.array, rel(dancer.positions[250]), atol=1e-5)
    s.add_keyframe(30, source="clip", source_frame=10)
    assert [k.frame for k in s.keyframes] == [30, 60] and len(seen) == 2
    s.move_keyframe(0, 90)
    assert [k.frame for k in s.keyframes] == [60, 90]
    s.add_keyframe(90, pose=dancer.positions[5] + 3.0)  # a pose anywhere: made centre-relative; replaces frame 90
    assert len(s.keyframes) == 2 and np.allclose(s.keyframes[1].array, rel(dancer.positions[5]), atol=1e-5)
    s.remove_keyframe(0)
    assert [k.frame for k in s.keyframes] == [90]
    with pytest.raises(ChoreoError):
        s.move_keyframe(5, 10)
    with pytest.raises(ChoreoError, match="joints"):
        s.add_keyframe(10, pose=np.zeros((4, 3)))
    with pytest.raises(ChoreoError, match="no take"):
        s.add_keyframe(10, source="take")


def test_the_recipe_holds_the_direction_and_the_take_honours_it(directed, dancer):
    s = directed
    s.add_keyframe(50, source="clip", source_frame=200)
    s.add_keyframe(500, source="clip", source_frame=20)  # beyond this take: waits for a longer one
    s.keep_joints("left_arm")  # kept joints win over a keyframe's pose on those joints
    s.set_part_temperature("legs", 0.5)
    start = dancer.positions[99].mean(0)[[0, 2]]
    s.draw_path(start + np.array([[0.0, 0.0], [0.5, 0.0]]), timed=False)
    p = s.params
    assert [k.frame for k in p.keyframes] == [50] and p.keep[0].label == "left_arm"
    assert p.part_temperatures[0].temperature == 0.5 and len(p.path) > 2
    json.dumps(asdict(p)["keyframes"]) and json.dumps(p.direction.to_plain())  # plain numbers all the way
    take = s.generate()
    assert s.wait_idle(60)
    psygnal.emit_queued()
    take = s.take_by_id(take.id)
    assert take.status == "done" and take.params.direction == p.direction
    pos = take.positions[0]
    arm = list(s.body_parts().groups["left_arm"])
    far = list(range(15)) + list(range(80, 120))  # away from the keyframe (which moves the body it holds on to)
    assert np.abs(rel(pos)[far][:, arm] - rel(dancer.positions[100:220])[far][:, arm]).max() < 0.05
    n = min(len(p.path), len(pos))
    assert np.allclose(pos[:n].mean(1)[:, [0, 2]], np.asarray(p.path)[:n], atol=1e-3)
    s.keep = ()
    take = s.generate()
    assert s.wait_idle(60)
    assert np.allclose(rel(s.take_by_id(take.id).positions[0, 50]), s.keyframes[0].array, atol=1e-4)


def test_live_mode_regenerates_when_the_direction_changes(directed):
    s = directed
    s.live = True
    s.generate()
    assert s.wait_idle(60)
    psygnal.emit_queued()
    before = len(s.takes)
    first = s.takes[s.current_take].id
    s.add_keyframe(40, source="clip", source_frame=150)
    assert s.wait_idle(60)
    psygnal.emit_queued()
    now = s.takes[s.current_take]
    assert now.id != first and len(s.takes) == before and now.params.keyframes  # the live take, made again
    s.clear_direction()
    assert s.wait_idle(60)
    assert not s.takes[s.current_take].params.direction


def test_keeping_joints_from_a_take(directed):
    s = directed
    t = s.generate()
    assert s.wait_idle(60)
    psygnal.emit_queued()
    entry = s.keep_joints("arms", source="take", start=10)
    assert entry.source == f"take:{t.id}" and entry.start == 10
    assert set(s.references(s.keep)) == {entry.source}
    s.keep_joints([5, "l_elbow"])  # overlapping entries are replaced
    assert len(s.keep) == 1 and s.keep[0].label == "l_collar, l_elbow"
    s.set_part_temperature("arms", 2.0)
    s.set_part_temperature("arms", 1.0)  # 1 removes it
    assert s.part_temperatures == ()
    with pytest.raises(ChoreoError, match="unknown joint"):
        s.keep_joints("tail")
    with pytest.raises(ChoreoError):
        s.keep_joints("arms", source="elsewhere")


def test_paths_from_files_and_bad_paths(directed, tmp_path):
    s = directed
    np.save(tmp_path / "p.npy", np.zeros((30, 2)))
    s.load_path(tmp_path / "p.npy")
    assert len(s.path) == 30
    svg = tmp_path / "p.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"><polyline points="0,0 100,0 100,100"/></svg>')
    s.load_path(svg)
    assert len(s.path) > 10
    with pytest.raises(ChoreoError, match=r"p\.txt"):
        s.load_path(tmp_path / "p.txt")
    with pytest.raises(ChoreoError):
        s.path = [[0.0, np.nan], [1.0, 1.0]]
    s.path = None
    assert s.path == () and s.params.direction == Direction()
