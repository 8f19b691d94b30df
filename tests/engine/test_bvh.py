"""BVH parser and forward kinematics: hand-computed poses, rotation order, bad files, the CMU clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.core.errors import ChoreoError
from engine.dance.bvh import load_bvh, parse_bvh
from engine.dance.motion import load_motion

DATA = Path(__file__).parents[2].parent / "shared" / "data"
CMU = DATA / "cmu_05_01_modern_dance.bvh"

TINY = """HIERARCHY
ROOT root
{{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
  JOINT a
  {{
    OFFSET 1 0 0
    CHANNELS 3 {order}
    End Site
    {{
      OFFSET 0 2 0
    }}
  }}
  JOINT b
  {{
    OFFSET 0 0 1
    CHANNELS 4 Yposition Zrotation Xrotation Yrotation
  }}
}}
MOTION
Frames: {frames}
Frame Time: 0.04
10 0 0 0 0 0  0 0 0  0.5 0 0 0
0 0 0 90 0 0  0 90 0  0 0 0 0
0 0 0 0 0 0  90 90 0  0 0 0 0
"""


def tiny(order: str = "Zrotation Xrotation Yrotation", frames: int = 3) -> str:
    return TINY.format(order=order, frames=frames)


def test_tiny_fk_matches_hand_computed(tmp_path):
    p = tmp_path / "tiny.bvh"
    p.write_text(tiny())
    pos, clip = load_bvh(p)
    assert [j.name for j in clip.joints] == ["root", "a", "a_end", "b"]
    np.testing.assert_array_equal(clip.bones(), [[0, 1], [1, 2], [0, 3]])
    assert clip.fps == pytest.approx(25.0)
    expected = np.array(
        [
            # frame 0: root translated to x=10, b raised by its own Yposition channel
            [[10, 0, 0], [11, 0, 0], [11, 2, 0], [10, 0.5, 1]],
            # frame 1: root Zrot 90 turns x into y; a's Xrot 90 turns its end site from y into z
            [[0, 0, 0], [0, 1, 0], [0, 1, 2], [0, 0, 1]],
            # frame 2: a has Z 90 then X 90, R = Rz @ Rx: (0,2,0) -> (0,0,2)
            [[0, 0, 0], [1, 0, 0], [1, 0, 2], [0, 0, 1]],
        ],
        dtype=np.float64,
    )
    np.testing.assert_allclose(pos, expected, atol=1e-12)


def test_rotation_order_is_channel_order(tmp_path):
    p = tmp_path / "xz.bvh"
    p.write_text(tiny("Xrotation Zrotation Yrotation"))
    pos, _ = load_bvh(p)
    # values 90 90 0 now mean X 90 then Z 90: R = Rx @ Rz, (0,2,0) -> (-2,0,0)
    np.testing.assert_allclose(pos[2, 2], [-1, 0, 0], atol=1e-12)


def test_end_sites_optional():
    clip = parse_bvh(tiny(), end_sites=False)
    assert [j.name for j in clip.joints] == ["root", "a", "b"]
    np.testing.assert_array_equal(clip.bones(), [[0, 1], [0, 2]])


def test_load_motion_bvh(tmp_path):
    p = tmp_path / "tiny.bvh"
    p.write_text(tiny())
    m = load_motion(p)
    assert m.fps == 25.0 and m.fps_note == "from the file" and m.up_axis == "y"  # BVH: Y up
    assert m.joint_names == ["root", "a", "a_end", "b"] and len(m.bones) == 3
    assert load_motion(p, fps=50).fps == 50


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (tiny(frames=4), "Frames: 4 but the file has 3 frames"),
        (tiny().replace("CHANNELS 4 Yposition Zrotation Xrotation Yrotation", ""), "joint b has no CHANNELS"),
        (tiny().replace("0.5 0 0 0\n", "0.5 0 0\n"), "12 values, the hierarchy declares 13 channels"),
        (tiny().replace("90 90 0", "90 x 0"), "'x' is not a number"),
        (tiny().replace("CHANNELS 3 Zrotation", "CHANNELS 3 Wrotation"), "unknown channel"),
        (tiny().replace("Frame Time: 0.04", "Frame Time: 0"), "Frame Time must be positive"),
        ("HIERARCHY\nROOT r\n{\n OFFSET 0 0\nMOTION\nFrames: 1\nFrame Time: 1\n", "OFFSET"),
        ("HIERARCHY\nROOT r\n{\n OFFSET 0 0 0\n CHANNELS 1 Xposition\nMOTION\n", "unclosed"),
    ],
)
def test_bad_bvh(tmp_path, text, match):
    p = tmp_path / "bad.bvh"
    p.write_text(text)
    with pytest.raises(ChoreoError, match=match) as err:
        load_motion(p)
    assert str(err.value).startswith(str(p)) and "\n" not in str(err.value)


def test_binary_bvh(tmp_path):
    p = tmp_path / "noise.bvh"
    p.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ChoreoError, match=r"noise\.bvh"):
        load_motion(p)


@pytest.mark.skipif(not CMU.is_file(), reason="shared/data with the CMU clip is absent")
def test_cmu_modern_dance():
    pos, clip = load_bvh(CMU)
    assert clip.n_frames == 599 and pos.shape[0] == 599
    assert clip.values.shape == (599, 96)
    assert sum(not j.end_site for j in clip.joints) == 31
    m = load_motion(CMU)
    assert m.fps == 120.0 and m.n_joints == 38 and len(m.bones) == 37
    names = m.joint_names
    y = pos[..., 1]
    assert (y[:, names.index("Head")] > y[:, names.index("Hips")] + 5).all()
    feet = {names.index(n) for n in ("LeftToeBase", "LeftToeBase_end", "RightToeBase", "RightToeBase_end")}
    assert set(np.unique(y.argmin(1)).tolist()) <= feet
    lengths = np.linalg.norm(pos[:, clip.bones()[:, 0]] - pos[:, clip.bones()[:, 1]], axis=-1)
    real = lengths[0] > 1e-9
    rel = np.abs(lengths[:, real] - lengths[0, real]) / lengths[0, real]
    assert rel.max() < 1e-4
