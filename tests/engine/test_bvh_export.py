"""BVH out with rotations: read back by our reader and by an independent one (pybvh), the take comes back.

Figures are percentages of the body's height (median per-frame extent along the up axis).
"""

from __future__ import annotations

import numpy as np
import pybvh
import pytest
from scipy.spatial.transform import Rotation

from engine.core.errors import ChoreoError
from engine.dance.axes import motion_up_axis, up_to_y
from engine.dance.bvh import BvhJoint, forward_kinematics, parse_bvh
from engine.dance.export import export_motion
from engine.dance.motion import Motion, load_motion
from engine.dance.rig import pose_motion
from engine.dance.synthetic import synthetic_dancer


def height(pos: np.ndarray) -> float:
    return float(np.median(np.ptp(pos[..., 1], axis=1)))


def errors(path, want: np.ndarray, names: list[str]) -> tuple[float, float]:
    """Largest joint error (% of body height) reading ``path`` with our reader and with pybvh."""
    ours = load_motion(path)
    theirs = pybvh.read_bvh_file(str(path))
    their_names = [n.name for n in theirs.nodes]
    assert [n for n in ours.joint_names if not n.endswith("_end")] == \
        [n for n in their_names if not n.startswith("EndSite")]
    pick = [ours.joint_names.index(n) for n in names]
    ours_pos = ours.positions[:, pick].astype(np.float64)
    theirs_pos = theirs.node_positions()[:, pick]
    h = height(want)
    return (float(np.linalg.norm(ours_pos - want, axis=-1).max() / h * 100),
            float(np.linalg.norm(theirs_pos - want, axis=-1).max() / h * 100))


def test_cmu_clip_round_trip(tmp_path, shared_data):
    m = load_motion(shared_data / "cmu_05_01_modern_dance.bvh")
    out = export_motion(m, tmp_path / "clip.bvh")
    ours, theirs = errors(out, m.positions.astype(np.float64), m.joint_names)
    assert ours < 0.5 and theirs < 0.5  # the bar; measured ~2e-5 %
    # real movement, smooth rotations: at 120 fps no joint turns far between frames (frame 0 is CMU's
    # T-pose, a jump in the data itself; the largest step after it, 21.6 degrees, is the source's own
    # LeftToeBase channels at frame 199)
    rot = pose_motion(m).rotations[1:]
    step = Rotation.from_matrix(rot[1:].reshape(-1, 3, 3)).inv() * Rotation.from_matrix(rot[:-1].reshape(-1, 3, 3))
    assert np.degrees(step.magnitude()).max() < 22
    again = load_motion(out)
    assert again.fps == m.fps and again.joint_names == m.joint_names
    assert [j.channels for j in again.rig] == [j.channels for j in m.rig]  # the source's channel orders
    np.testing.assert_allclose([j.offset for j in again.rig], [j.offset for j in m.rig], atol=1e-6)


@pytest.fixture(scope="module")
def cmu_model(tmp_path_factory, shared_data):
    """A tiny model trained a few seconds on the CMU clip (its rig travels in the checkpoint)."""
    from engine import DanceConfig, TrainConfig, train

    m = load_motion(shared_data / "cmu_05_01_modern_dance.bvh")
    out = tmp_path_factory.mktemp("cmu") / "cmu.pt"
    train(m, out, model_config=DanceConfig(hidden=32, layers=1, mixtures=2),
          config=TrainConfig(epochs=3, batch=8, seq_len=32, val_every=5, lr=3e-3, device="cpu", precision="fp32"))
    return out, m


def test_generated_take_round_trip(tmp_path, cmu_model):
    from engine import DanceGenerator, DanceModel

    path, m = cmu_model
    model = DanceModel.load(path)
    assert model.seed.rig is not None and [j.name for j in model.seed.rig] == m.joint_names
    take = model.seed.like(DanceGenerator(model, seed=m, seed_frame=300, rng=0).generate(240), "take")
    out = export_motion(take, tmp_path / "take.bvh")
    ours, theirs = errors(out, take.positions.astype(np.float64), m.joint_names)
    assert ours < 1.0 and theirs < 1.0  # the bar; measured ~2e-5 %


def test_take_without_rig_onto_a_skeleton_file(tmp_path, shared_data):
    """``--skeleton SOURCE.bvh``: a bare array of the source's joints written on the source's bones."""
    src = shared_data / "cmu_05_01_modern_dance.bvh"
    m = load_motion(src)
    bare = Motion(m.positions[100:160], fps=m.fps)
    out = export_motion(bare, tmp_path / "bare.bvh", skeleton=src)
    ours, theirs = errors(out, bare.positions.astype(np.float64), m.joint_names)
    assert ours < 0.5 and theirs < 0.5
    half = Motion(m.positions * 0.5, fps=m.fps)
    with pytest.raises(ChoreoError, match=r"bones are 0\.50x the motion's"):
        export_motion(half, tmp_path / "half.bvh", skeleton=src)
    renamed = Motion(m.positions, fps=m.fps, joint_names=["Root", *m.joint_names[1:]])
    with pytest.raises(ChoreoError, match=r"joint 'Hips' stands where the motion has 'Root'"):
        export_motion(renamed, tmp_path / "renamed.bvh", skeleton=src)


def test_marker_clip_gets_a_built_hierarchy_and_comes_back_exactly(tmp_path):
    """No BVH behind it (C3D markers, Z up): a skeleton from the bones, Y up, every marker by name."""
    d = synthetic_dancer(frames=120, fps=60.0, rng=3)
    zup = (d.positions.astype(np.float64) @ np.linalg.inv(up_to_y("z")).T).astype(np.float32)
    names = [f"Dancer:M{i}" for i in range(d.n_joints)]
    m = Motion(zup, fps=60.0, joint_names=names, up_axis="z")
    out = export_motion(m, tmp_path / "markers.bvh")
    want = zup.astype(np.float64) @ up_to_y("z").T
    ours, theirs = errors(out, want, names)
    assert ours < 1e-3 and theirs < 1e-3
    assert load_motion(out).fps == 60.0


def random_rig_take(frames: int = 300) -> tuple[list[BvhJoint], np.ndarray]:
    """A rig with zero-length bones, a three-way branch, a two-way collinear branch and a bone that turns
    right round; animated by smooth random rotations through our own forward kinematics."""
    def j(name, parent, off, ch=("zrotation", "xrotation", "yrotation")):
        return BvhJoint(name, parent, np.asarray(off, float), list(ch))

    joints = [
        j("root", -1, [0, 0, 0], ("xposition", "yposition", "zposition", "yrotation", "xrotation", "zrotation")),
        j("zero", 0, [0, 0, 0]), j("a", 1, [0, 2, 0]), j("b", 0, [1, 0, 0]), j("c", 0, [-1, 0.2, 0]),
        j("d", 2, [0, 1, 0.5]), j("e", 2, [0, -1, -0.5]),  # collinear with d, opposite ways
        j("f", 5, [0, 1, 0], ("xrotation", "yrotation", "zrotation")),
    ]
    ends = [BvhJoint(n + "_end", i, np.array([0.3, 0.4, 0.0]), end_site=True)
            for i, n in [(3, "b"), (4, "c"), (6, "e"), (7, "f")]]
    joints += ends
    t = np.linspace(0, 2 * np.pi, frames)[:, None]
    rng = np.random.default_rng(0)
    cols = []
    for jt in joints:
        for c in jt.channels:
            amp, phase = rng.uniform(20, 80), rng.uniform(0, 2 * np.pi)
            cols.append((amp * np.sin(t + phase) if "rotation" in c else np.sin(t + phase))[:, 0])
    cols[-3] = np.linspace(0, 540, frames)  # f turns one and a half times about its own x
    from engine.dance.bvh import BvhClip

    clip = BvhClip(joints, np.stack(cols, 1), 1 / 30)
    return joints, forward_kinematics(clip)


def test_solver_reproduces_a_rigid_take_on_a_tricky_rig(tmp_path):
    joints, pos = random_rig_take()
    m = Motion(pos.astype(np.float32), fps=30.0, joint_names=[jt.name for jt in joints], rig=joints)
    out = export_motion(m, tmp_path / "tricky.bvh")
    clip = parse_bvh(out.read_text(), out)
    by_name = [[jt.name for jt in clip.joints].index(jt.name) for jt in joints]  # the file lists depth first
    back = forward_kinematics(clip)[:, by_name]
    assert np.abs(back - pos).max() < 1e-4 * np.ptp(pos)
    # no channel jumps by a whole turn (angles are unwrapped)
    assert np.abs(np.diff(clip.values[:, 3:], axis=0)).max() < 270


def test_one_child_joints_get_no_twist_relative_to_rest():
    """A one-child joint's local rotation is the shortest swing: its child's rest direction is its axis."""
    joints, pos = random_rig_take(60)
    m = Motion(pos.astype(np.float32), fps=30.0, joint_names=[jt.name for jt in joints], rig=joints)
    posed = pose_motion(m)
    k = [jt.name for jt in joints].index("a")  # one child (d and e), collinear: swing only
    rot = Rotation.from_matrix(posed.rotations[:, k]).as_rotvec()
    rest = joints[5].offset - joints[6].offset
    assert np.abs(rot @ (rest / np.linalg.norm(rest))).max() < 1e-6  # no component about the bone


def test_bvh_export_writes_each_variation_and_refuses_to_replace(tmp_path):
    d = synthetic_dancer(frames=30, fps=30.0, rng=0)
    takes = [d, d.like(d.positions + 0.1, "moved")]
    paths = export_motion(takes, tmp_path / "v.bvh")
    assert [p.name for p in paths] == ["v_v0.bvh", "v_v1.bvh"]
    with pytest.raises(ChoreoError, match="already exists"):
        export_motion(takes, tmp_path / "v.bvh")
    with pytest.raises(ChoreoError, match=r"a skeleton applies only to \.bvh and \.glb"):
        export_motion(d, tmp_path / "v.npy", skeleton=tmp_path / "v_v0.bvh")


def test_stretching_marker_bones_get_position_channels_and_come_back_exactly(tmp_path):
    """Markers on two sides of a joint change distance: only those joints get position channels."""
    from engine.dance.synthetic import synthetic_markers

    m = synthetic_markers(frames=120, n_markers=24)
    out = export_motion(m, tmp_path / "soft.bvh")
    back = load_motion(out)
    pick = [back.joint_names.index(n) for n in m.joint_names]
    want = m.positions.astype(np.float64) @ up_to_y(motion_up_axis(m)).T
    assert np.linalg.norm(back.positions[:, pick] - want, axis=-1).max() < 1e-4 * height(want)
    with_pos = [j.name for j in back.rig if j.parent >= 0 and "xposition" in j.channels]
    assert 0 < len(with_pos) < m.n_joints - 1  # the stretchy ones only
