"""The directing recipe as plain data, and floor paths read from .npy and .svg files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import ChoreoError
from engine.dance.direction import (
    Direction,
    Keep,
    Keyframe,
    PartTemperature,
    as_path,
    load_path,
    path_from_drawing,
    resample_path,
    stage_box,
    typical_travel,
)


def test_keyframe_pose_is_centre_relative_and_checked():
    pos = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3) + 10
    kf = Keyframe.of(pos, 1, 40, "clip")
    assert np.allclose(kf.array.mean(0), 0) and np.allclose(kf.array, pos[1] - pos[1].mean(0))
    assert (kf.frame, kf.source_frame, kf.moved(7).frame) == (40, 1, 7)
    with pytest.raises(ChoreoError, match="outside"):
        Keyframe.of(pos, 5, 0)


def test_direction_checks_joints_frames_and_temperatures():
    kf = Keyframe(10, tuple([0.0] * 9))
    assert Direction(keyframes=(kf,)).check(3, 20) and not Direction()
    for bad, match in ((Direction(keyframes=(kf,)), "outside the take"),
                       (Direction(keep=(Keep((0, 5)),)), "not one of"),
                       (Direction(part_temperatures=(PartTemperature((1,), 11.0),)), "from 0 to 10")):
        with pytest.raises(ChoreoError, match=match):
            bad.check(3, 5)
    with pytest.raises(ChoreoError, match="joints"):
        Direction(keyframes=(kf,)).check(4)


def test_direction_round_trips_through_json():
    d = Direction((Keyframe(3, (0.5, -1.0, 2.0)),), (Keep((1, 2), "take:4", 7, "arms"),), ((0.0, 1.0), (2.0, 3.5)),
                  (PartTemperature((0,), 2.0, "legs"),))
    assert Direction.from_plain(json.loads(json.dumps(d.to_plain()))) == d


def test_paths_from_npy_files(tmp_path):
    pts = np.stack([np.linspace(0, 1, 50), np.zeros(50)], 1)
    np.save(tmp_path / "p.npy", pts)
    got = load_path(tmp_path / "p.npy", stage=(np.zeros(2), np.ones(2)), speed=1.0)
    assert np.allclose(got, pts)  # as given: one point per frame
    for name, arr, match in (("bad.npy", np.zeros((5, 3)), r"\(frames, 2\)"),
                             ("nan.npy", np.full((4, 2), np.nan), "NaN")):
        np.save(tmp_path / name, arr)
        with pytest.raises(ChoreoError, match=match):
            load_path(tmp_path / name, stage=(np.zeros(2), np.ones(2)), speed=1.0)
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ChoreoError, match=r"obj\.npy"):  # never unpickled
        load_path(tmp_path / "obj.npy", stage=(np.zeros(2), np.ones(2)), speed=1.0)
    with pytest.raises(ChoreoError, match=r"\.txt"):
        load_path(tmp_path / "p.txt", stage=(np.zeros(2), np.ones(2)), speed=1.0)


def test_paths_from_svg_are_a_top_view_of_the_stage(tmp_path):
    svg = tmp_path / "p.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"><path d="M 10 10 L 110 10 L 110 60"/></svg>')
    lo, hi = np.array([0.0, -2.0]), np.array([4.0, 6.0])
    got = load_path(svg, stage=(lo, hi), speed=0.1)
    assert np.allclose(got.max(0) - got.min(0), [3.2, 1.6], atol=0.1)  # 80 % of the stage's width, aspect kept
    assert np.allclose((got.max(0) + got.min(0)) / 2, (lo + hi) / 2, atol=0.1)  # centred on the stage
    assert (got >= lo).all() and (got <= hi).all()
    steps = np.linalg.norm(np.diff(got, axis=0), axis=1)
    assert np.allclose(steps, 0.1, atol=1e-6)  # walked at ``speed`` per frame
    (tmp_path / "none.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><circle r="3"/></svg>')
    with pytest.raises(ChoreoError, match=r"none\.svg"):
        load_path(tmp_path / "none.svg", stage=(lo, hi), speed=1.0)


def test_stage_box_is_the_floor_the_data_covers():
    t = np.arange(300)[:, None, None] * np.array([0.01, 0.0, 0.0])  # walks 3 units along x
    body = np.zeros((1, 2, 3))
    body[0, 1, 1] = 1.7
    lo, hi = stage_box(t + body, up=1)
    assert np.allclose(lo, [0.0, -0.425], atol=0.01) and np.allclose(hi, [2.99, 0.425], atol=0.01)


def test_drawn_paths_and_typical_travel():
    square = np.array([[0, 0], [1, 0], [1, 1]], float)
    walked = path_from_drawing(square, np.array([5.0, 5.0]), 0.25)
    assert np.allclose(walked[0], [5, 5]) and np.allclose(walked[-1], [6, 6])
    assert len(resample_path(square, 0.5)) == 5
    with pytest.raises(ChoreoError):
        as_path([[1, 2]])
    t = np.arange(300)[:, None, None] * np.array([0.01, 0.0, 0.0])  # 1 cm per frame along x
    body = np.zeros((1, 2, 3))
    body[0, 1, 1] = 1.7
    assert typical_travel(t + body, 30.0, 1) == pytest.approx(0.2 * 1.7 / 30)  # at least MIN_TRAVEL heights/s
    assert typical_travel(5 * t + body, 30.0, 1) == pytest.approx(0.05)
