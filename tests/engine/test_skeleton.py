"""Bone inference, integrity metrics (against dance_quality.py) and the rigid projector."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.dance.motion import Motion
from engine.dance.skeleton import RigidProjector, bone_lengths, infer_bones, integrity, motion_skeleton

TOOL = Path(__file__).parents[2].parent / "shared" / "tools" / "dance_quality.py"

# a rigid stick figure: hips(0) spine(1) head(2) l/r arm(3,4) on the spine, l/r knee(5,6), l/r foot(7,8)
BONES = {(0, 1), (1, 2), (1, 3), (1, 4), (0, 5), (0, 6), (5, 7), (6, 8)}


def rigid_figure(frames: int = 80, seed: int = 0) -> np.ndarray:
    """(frames, 9, 3) float64: every bone keeps its length, limbs swing, the body travels."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / 30.0
    parents = {1: 0, 2: 1, 3: 1, 4: 1, 5: 0, 6: 0, 7: 5, 8: 6}
    lengths = {1: 0.5, 2: 0.3, 3: 0.6, 4: 0.6, 5: 0.5, 6: 0.5, 7: 0.45, 8: 0.45}
    rest = {1: (0, 1, 0), 2: (0, 1, 0), 3: (-1, -0.3, 0), 4: (1, -0.3, 0), 5: (-0.3, -1, 0), 6: (0.3, -1, 0),
            7: (0, -1, 0.1), 8: (0, -1, -0.1)}
    x = np.zeros((frames, 9, 3))
    x[:, 0] = np.stack([0.4 * t, 1 + 0.05 * np.sin(3 * t), 0.1 * t], 1)
    phase = rng.uniform(0, 2 * np.pi, 9)
    for j in range(1, 9):
        d = np.array(rest[j], float) + 0.5 * np.stack(
            [np.sin(2 * t + phase[j]), 0.3 * np.cos(3 * t + phase[j]), np.cos(2 * t + phase[j])], 1
        )
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        x[:, j] = x[:, parents[j]] + lengths[j] * d
    return x


def test_infer_bones_recovers_the_figure():
    x = rigid_figure()
    bones, lengths = infer_bones(x)
    assert {tuple(sorted(b)) for b in bones.tolist()} == BONES
    # oriented from a root: every joint but one is a child exactly once, parents appear before children
    assert len(set(bones[:, 1].tolist())) == 8
    seen = {int(bones[0, 0])}
    for p, c in bones.tolist():
        assert p in seen
        seen.add(c)
    np.testing.assert_allclose(lengths, bone_lengths(x, bones)[0], rtol=1e-9)


def test_infer_bones_subsamples_long_clips():
    x = rigid_figure(3000)
    bones, _ = infer_bones(x, max_frames=64)
    assert {tuple(sorted(b)) for b in bones.tolist()} == BONES


@pytest.mark.skipif(not TOOL.is_file(), reason="shared/tools/dance_quality.py is absent")
def test_integrity_matches_dance_quality():
    spec = importlib.util.spec_from_file_location("dance_quality", TOOL)
    dq = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dq)
    x = rigid_figure(50) + np.random.default_rng(1).normal(0, 0.01, (50, 9, 3))
    x[10:14] = x[10]  # a few frozen frames
    ref_bones, ref = dq.infer_bones(x)
    bones, _ = infer_bones(x)
    assert {tuple(sorted(b)) for b in bones.tolist()} == {tuple(sorted(b)) for b in ref_bones.tolist()}
    dev = dq.bone_dev(x, ref_bones, ref)
    sd = np.linalg.norm(np.diff(x, axis=0), axis=-1).mean(1)
    got = integrity(x, bones)
    assert got["bone_dev_median"] == pytest.approx(float(np.median(dev)), rel=1e-12)
    assert got["bone_dev_p95"] == pytest.approx(float(np.percentile(dev, 95)), rel=1e-12)
    assert got["mean_speed"] == pytest.approx(float(sd.mean()), rel=1e-12)
    assert got["frozen_frac"] == pytest.approx(float((sd < 0.1 * np.median(sd)).mean()))
    assert got["frozen_frac"] > 0
    np.testing.assert_allclose(got["extent_min"], x.reshape(-1, 3).min(0))


def test_integrity_non_finite():
    x = rigid_figure(10)
    x[3, 2, 0] = np.nan
    assert integrity(x, np.array([[0, 1]]))["finite"] is False


def test_projector_restores_lengths_and_keeps_rigid_pose():
    x = torch.tensor(rigid_figure(20), dtype=torch.float64)
    bones, lengths = infer_bones(x.numpy())
    proj = RigidProjector(bones, lengths)
    torch.testing.assert_close(proj(x), x, atol=1e-10, rtol=0)
    noisy = x + 0.05 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y = proj(noisy)
    got = (y[:, bones[:, 0]] - y[:, bones[:, 1]]).norm(dim=-1)
    torch.testing.assert_close(got, torch.as_tensor(lengths).expand_as(got), atol=1e-12, rtol=0)
    root = int(bones[0, 0])
    torch.testing.assert_close(y[:, root], noisy[:, root])
    # float32, a batch of variations (V, J, 3), and NumPy input
    y32 = proj(noisy[:4].float())
    assert y32.dtype == torch.float32 and y32.shape == (4, 9, 3)
    assert isinstance(proj(noisy.numpy()), np.ndarray)


def test_projector_forest_zero_direction_and_isolated_joint():
    # two trees (0->1->2, 3->4) and a joint 5 in no bone
    bones = np.array([[0, 1], [1, 2], [3, 4]])
    proj = RigidProjector(bones, np.array([1.0, 2.0, 0.5]))
    x = torch.zeros(6, 3, dtype=torch.float64)
    x[1] = torch.tensor([3.0, 0, 0])
    x[2] = torch.tensor([1.0, 0, 0])  # exactly where joint 1 lands: falls back to its old direction (-x)
    x[4] = torch.tensor([0.0, 4, 0])
    x[5] = torch.tensor([7.0, 7, 7])
    y = proj(x)
    f64 = torch.float64
    torch.testing.assert_close(y[1], torch.tensor([1.0, 0, 0], dtype=f64))
    torch.testing.assert_close(y[2], torch.tensor([-1.0, 0, 0], dtype=f64))
    torch.testing.assert_close(y[4], torch.tensor([0.0, 0.5, 0], dtype=f64))
    torch.testing.assert_close(y[5], x[5])
    # no direction at all (child on its parent before and after): left in place, still finite
    z = torch.zeros(6, 3, dtype=f64)
    assert torch.equal(proj(z), z)
    with pytest.raises(ValueError, match="two parents"):
        RigidProjector(np.array([[0, 1], [2, 1]]), np.ones(2))


def test_motion_skeleton_uses_file_bones_or_infers():
    x = rigid_figure(30)
    m = Motion(x, bones=np.array([[0, 1], [1, 2]]))
    bones, lengths = motion_skeleton(m)
    np.testing.assert_array_equal(bones, [[0, 1], [1, 2]])
    np.testing.assert_allclose(lengths, [0.5, 0.3], rtol=1e-5)
    bones2, _ = motion_skeleton(Motion(x))
    assert len(bones2) == 8


def test_compiled_projection_equals_a_plain_reference():
    """The compiled loop places each child on the sphere around its projected parent, parents first."""
    rng = np.random.default_rng(3)
    j = 30
    parents = [int(rng.integers(0, c)) for c in range(1, j)]  # a random tree
    bones = np.array([[p, c] for c, p in zip(range(1, j), parents, strict=True)])
    lengths = rng.uniform(0.0, 1.0, len(bones))
    lengths[3] = 0.0  # a zero-length bone
    x = rng.normal(size=(5, j, 3))
    x[2, bones[7, 1]] = x[2, bones[7, 0]]  # a child on its parent
    ref = x.copy()
    for n in range(len(x)):
        for c in range(1, j):  # parents have lower indices here, so index order is a valid order
            p = parents[c - 1]
            length = lengths[c - 1]
            d = x[n, c] - ref[n, p]
            norm = np.linalg.norm(d)
            if norm <= 1e-8:
                d = x[n, c] - x[n, p]
                norm = max(np.linalg.norm(d), 1e-8)
            ref[n, c] = ref[n, p] + d * (length / norm)
    np.testing.assert_allclose(RigidProjector(bones, lengths).project(x), ref, atol=1e-12)
    y32 = RigidProjector(bones, lengths).to_float32(ref)
    assert y32.dtype == np.float32
    got = np.linalg.norm(y32[:, bones[:, 1]].astype(np.float64) - y32[:, bones[:, 0]], axis=-1)
    assert np.abs(got - lengths).max() < 1e-6
