"""Proportions of clips stored per-axis normalised are restored, and exports go back to the file's units."""

from __future__ import annotations

import numpy as np
import pytest

from engine.dance.axes import estimate_axis_scale, looks_axis_normalised
from engine.dance.export import export_motion
from engine.dance.motion import load_motion
from engine.dance.skeleton import bone_lengths, infer_bones
from engine.dance.synthetic import synthetic_dancer, synthetic_markers


def _minmax(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = x.reshape(-1, 3).min(0), x.reshape(-1, 3).max(0)
    return ((x - lo) / (hi - lo)).astype(np.float32), hi - lo


def _bone_dev(x: np.ndarray, bones: np.ndarray) -> float:
    lengths = bone_lengths(x, bones)
    return float(np.median(np.abs(lengths - lengths.mean(0)) / lengths.mean(0)))


@pytest.mark.parametrize("make", [lambda: synthetic_dancer(frames=600).positions,
                                  lambda: synthetic_markers(frames=600).positions])
def test_ordinary_clips_are_left_alone(make):
    x = make()
    assert not looks_axis_normalised(x)
    assert np.array_equal(estimate_axis_scale(x), np.ones(3))


def test_real_capture_is_left_alone(shared_data):
    x = load_motion(shared_data / "cmu_05_01_modern_dance.bvh").positions
    assert np.array_equal(estimate_axis_scale(x), np.ones(3))


@pytest.mark.parametrize("make", [lambda: synthetic_dancer(frames=500, rng=4).positions,
                                  lambda: synthetic_markers(frames=500, rng=5).positions])
def test_min_max_normalised_clip_gets_its_proportions_back(make):
    truth = make()
    squashed, span = _minmax(truth)
    assert looks_axis_normalised(squashed)
    scale = estimate_axis_scale(squashed)
    up = int(np.argmax(np.ptp(truth, axis=1).mean(0)))
    expected = span / span[up]  # restoring multiplies each axis back to its share of the height's range
    assert scale[up] == 1.0
    np.testing.assert_allclose(scale, expected, rtol=0.1)
    bones, _ = infer_bones(truth)
    assert _bone_dev(squashed * scale, bones) < 0.3 * _bone_dev(squashed, bones)


def test_loading_restores_and_exports_write_the_files_units(tmp_path):
    truth = synthetic_dancer(frames=400, rng=6).positions
    squashed, _ = _minmax(truth)
    path = tmp_path / "published.npy"
    np.save(path, squashed.transpose(1, 0, 2))  # joints-first, as many published files are
    m = load_motion(path)
    assert m.restored and m.layout == "joints-first" and "restored" in m.scale_note
    def shape(x):  # the body's mean per-frame extent on each axis, relative to its height (Y up)
        e = np.ptp(x, axis=1).mean(0)
        return e / e[1]

    np.testing.assert_allclose(shape(m.positions), shape(truth), rtol=0.15)  # not a thin pillar any more
    assert shape(squashed)[[0, 2]].max() < 0.5 * shape(truth)[[0, 2]].max()  # which the stored values are
    as_stored = load_motion(path, proportions="file")
    assert not as_stored.restored and np.array_equal(as_stored.positions, squashed)
    out = export_motion(m.like(m.positions, "take"), tmp_path / "take.npy")
    np.testing.assert_allclose(np.load(out), squashed.transpose(1, 0, 2), atol=1e-6)
    shown = export_motion(m, tmp_path / "shown.npy", units="restored")
    np.testing.assert_allclose(np.load(shown), m.positions.transpose(1, 0, 2))


def test_up_axis_of_a_real_crop_with_floor_work(shared_data):
    """A crop of the CMU modern-dance clip as a bare array: the floor-contact cue finds up (and down)."""
    from engine.dance.axes import guess_up_axis

    crop = load_motion(shared_data / "cmu_05_01_modern_dance.bvh").positions[40:540]
    assert guess_up_axis(crop) == "y"
    assert guess_up_axis(-crop) == "-y"
    squashed, _ = _minmax(crop)
    assert guess_up_axis(squashed) == "y"
