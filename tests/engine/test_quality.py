"""The product's quality figures are the team judge's, and the verdict names what a take misses."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from engine.dance.quality import failures, take_quality
from engine.dance.synthetic import synthetic_dancer

TOOL = Path(__file__).resolve().parents[3] / "shared" / "tools" / "dance_quality.py"


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return synthetic_dancer(frames=400, rng=3).positions


def _judge():
    spec = importlib.util.spec_from_file_location("dance_quality", TOOL)
    dq = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dq)
    return dq


@pytest.mark.skipif(not TOOL.is_file(), reason="shared/tools/dance_quality.py is absent")
def test_figures_equal_the_judges(clip, tmp_path, capsys):
    rng = np.random.default_rng(0)
    take = clip[50:350] + rng.normal(0, 0.01, (300, *clip.shape[1:]))  # a noisy, shifted part of the clip
    take[:, :, 0] += np.linspace(0, 0.5, 300)[:, None]
    np.save(tmp_path / "data.npy", clip)
    np.save(tmp_path / "take.npy", take)
    _judge().main(str(tmp_path / "data.npy"), str(tmp_path / "take.npy"))
    expected = json.loads(capsys.readouterr().out)
    got = take_quality(clip, take)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def test_a_replay_and_a_collapse_fail_for_their_reasons(clip):
    replay = take_quality(clip, clip[:300])
    assert replay["window_ratio"] < 0.05 and any("replays" in f for f in failures(replay))
    collapsed = clip[:300].copy()
    collapsed[150:] = collapsed[150:].mean(1, keepdims=True) + 0.05 * (collapsed[150:] - collapsed[150:].mean(1,
                                                                                                     keepdims=True))
    q = take_quality(clip, collapsed)
    assert q["pose_ratio_thirds"][2] > 5 * max(q["pose_ratio_thirds"][0], 0.05)
    assert any("repertoire" in f and "last third" in f for f in failures(q))
    assert any("bones" in f for f in failures(q))
