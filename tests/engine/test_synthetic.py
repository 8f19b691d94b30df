"""The procedural dancer and marker cloud: reproducible, rigid, moving, on stage."""

from __future__ import annotations

import time

import numpy as np
import pytest

from engine.dance.motion import Motion
from engine.dance.synthetic import synthetic_dancer, synthetic_markers


@pytest.fixture(scope="module")
def dancer() -> Motion:
    return synthetic_dancer(900, fps=30.0, rng=0)


def test_shape_and_metadata(dancer: Motion) -> None:
    assert dancer.positions.shape == (900, 23, 3)
    assert dancer.positions.dtype == np.float32
    assert dancer.fps == 30.0
    assert len(dancer.joint_names) == 23 and "head" in dancer.joint_names
    assert dancer.bones.shape == (22, 2)  # a tree
    assert dancer.layout == "frames-first"


def test_reproducible_from_seed() -> None:
    a = synthetic_dancer(300, rng=7).positions
    b = synthetic_dancer(300, rng=7).positions
    c = synthetic_dancer(300, rng=8).positions
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("joints", ["full", "compact"])
def test_bone_lengths_constant(joints: str) -> None:
    m = synthetic_dancer(600, rng=3, joints=joints)
    p = m.positions.astype(np.float64)
    lengths = np.linalg.norm(p[:, m.bones[:, 0]] - p[:, m.bones[:, 1]], axis=-1)
    assert np.abs(lengths - lengths[0]).max() < 1e-5
    assert lengths.min() > 0.03


def test_on_stage_and_feet_on_floor(dancer: Motion) -> None:
    p = dancer.positions
    assert np.abs(p[:, :, [0, 2]]).max() < 3.0  # a stage of a few metres
    assert p[:, :, 1].min() >= 0.0
    feet = [dancer.joint_names.index(n) for n in ("l_ankle", "r_ankle", "l_toe", "r_toe")]
    lowest = p[:, feet, 1].min(axis=1)
    assert np.all(lowest < 0.05)  # always one foot on (or just above) the floor
    height = p[:, :, 1].max(axis=1) - p[:, :, 1].min(axis=1)
    assert 1.2 < np.median(height) < 2.2


def test_moves_and_travels(dancer: Motion) -> None:
    p = dancer.positions
    speed = np.linalg.norm(np.diff(p, axis=0), axis=-1).mean(axis=1) * dancer.fps
    assert speed.mean() > 0.2
    assert (speed < 0.01).mean() < 0.02  # few frozen frames
    root = p[:, 0, [0, 2]]
    assert np.ptp(root, axis=0).max() > 0.5  # it travels


def test_fast() -> None:
    start = time.perf_counter()
    synthetic_dancer(1800)
    assert time.perf_counter() - start < 1.0


def test_markers() -> None:
    m = synthetic_markers(200, fps=30.0, rng=1)
    assert m.positions.shape == (200, 55, 3)
    assert len(m.bones) == 0
    assert np.isfinite(m.positions).all()
    assert np.array_equal(m.positions, synthetic_markers(200, fps=30.0, rng=1).positions)
    # markers are rigid on their segments: some pairs keep a constant distance
    p = m.positions.astype(np.float64)
    d = np.linalg.norm(p[:, :, None] - p[:, None, :], axis=-1)
    rigid = d.std(axis=0) < 1e-5
    np.fill_diagonal(rigid, False)
    assert rigid.sum() >= 10
    assert synthetic_markers(10, n_markers=12).positions.shape == (10, 12, 3)
