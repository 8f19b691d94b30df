"""What the network sees: exact decoding, chunked statistics equal whole-clip ones."""

from __future__ import annotations

import numpy as np
import pytest

from engine.dance import representation as rep
from engine.dance.synthetic import synthetic_dancer


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return synthetic_dancer(frames=500, rng=2).positions


def test_features_decode_back_to_the_source_coordinates(clip):
    feats = rep.raw_features(clip)
    start = clip[0].mean(0) - feats[0, -3:]  # the centre "before" frame 0
    back = rep.positions_from_features(feats, start, clip.shape[1])
    assert np.allclose(back, clip, atol=1e-5)


def test_decode_step_inverts_the_targets(clip):
    codec = rep.MotionCodec.fit([clip])
    feats = rep.raw_features(clip).astype(np.float64)
    targets = codec.encode_targets(feats)
    nxt = codec.decode_step(feats[:-1], targets.astype(np.float64))
    assert np.allclose(nxt, feats[1:], atol=1e-5)


def test_chunked_encoding_matches_the_whole_clip(clip, monkeypatch):
    codec = rep.MotionCodec.fit([clip])
    feats = rep.raw_features(clip)
    x, y = codec.encode_clip(clip)
    assert np.array_equal(x, codec.encode_inputs(feats[:-1])) and np.array_equal(y, codec.encode_targets(feats))
    monkeypatch.setattr(rep, "CHUNK", 37)
    small = rep.MotionCodec.fit([clip])
    x2, y2 = small.encode_clip(clip)
    assert np.allclose(small.in_std, codec.in_std, rtol=1e-5) and np.allclose(small.out_mean, codec.out_mean)
    assert np.allclose(x2, x, atol=1e-5) and np.allclose(y2, y, atol=1e-5)


def test_statistics_are_z_scores_of_the_data(clip):
    codec = rep.MotionCodec.fit([clip, clip[::-1].copy()])
    x, _ = codec.encode_clip(clip)
    assert abs(float(x.mean())) < 0.5 and 0.3 < float(x.std()) < 2.0
    state = rep.MotionCodec.from_state_dict(codec.state_dict())
    assert np.array_equal(state.out_std, codec.out_std) and state.n_joints == codec.n_joints
