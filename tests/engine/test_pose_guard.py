"""The pose guard and the axis-scale estimator."""

from __future__ import annotations

import numpy as np

from engine import DanceGenerator, DanceModel
from engine.dance.axes import estimate_axis_scale, looks_axis_normalised
from engine.dance.pose_guard import PoseGuard, build_pose_bank, canonical_poses
from engine.dance.synthetic import synthetic_dancer, synthetic_markers


def _turned(x: np.ndarray, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    out = x.copy()
    out[..., 0], out[..., 2] = c * x[..., 0] - s * x[..., 2], s * x[..., 0] + c * x[..., 2]
    return out


def test_guard_leaves_data_poses_alone_in_any_facing_and_pulls_far_poses_to_the_radius():
    m = synthetic_dancer(frames=600)
    bank, radius = build_pose_bank([m.positions], up=1)
    assert bank.shape == (600, m.n_joints * 3) and radius > 0
    guard = PoseGuard(bank, radius, up=1)
    pose = m.positions[[100, 300]].astype(np.float64)
    pose = _turned(pose - pose.mean(1, keepdims=True), 1.3)  # a data pose, facing somewhere new
    assert np.allclose(guard(pose), pose)
    rng = np.random.default_rng(0)
    far = pose + rng.normal(0, 0.2, pose.shape)
    out = guard(far)
    d = np.sqrt(((bank[None].astype(np.float64) - canonical_poses(out, 1)[:, None]) ** 2).sum(-1)).min(1)
    # both facings of the bank are searched; the moved pose lies on the radius around its nearest bank pose
    assert np.all(d <= radius * 1.0001)
    assert np.allclose(out.mean(1), far.mean(1))  # the guard moves the pose, not the body centre
    assert guard.corrected == 2


def test_trained_model_carries_the_bank_and_the_guard_can_be_switched_off(tiny_dance):
    path, motion = tiny_dance
    model = DanceModel.load(path)
    assert model.pose_bank is not None and model.pose_radius > 0 and model.pose_up == 1
    on = DanceGenerator(model, seed=motion, seed_frame=100, rng=0)
    off = DanceGenerator(model, seed=motion, seed_frame=100, rng=0, pose_guard=0)
    assert on._guard is not None and off._guard is None
    assert np.isfinite(on.generate(30)).all()


def test_axis_scale_restores_min_max_normalised_clips_and_leaves_others_alone():
    for motion in (synthetic_dancer(frames=600), synthetic_markers(frames=600)):
        x = motion.positions.astype(np.float64)
        assert not looks_axis_normalised(x)
        assert np.array_equal(estimate_axis_scale(x), np.ones(3))
        lo, hi = x.reshape(-1, 3).min(0), x.reshape(-1, 3).max(0)
        normalised = (x - lo) / (hi - lo)
        assert looks_axis_normalised(normalised)
        truth = (hi - lo) / (hi - lo)[1]  # y is up and keeps scale 1
        assert np.allclose(estimate_axis_scale(normalised), truth, rtol=0.02)
