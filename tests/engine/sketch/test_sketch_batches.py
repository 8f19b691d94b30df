"""Training batches group sketches of similar length (less padding) yet cover every length."""

from __future__ import annotations

import numpy as np
import torch

from engine.sketch.model import SketchConfig, SketchRNN
from engine.sketch.task import SketchTask


def _sketches(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for length in rng.integers(5, 200, size=n):
        s = np.zeros((length, 3), np.float32)
        s[:, :2] = rng.normal(0, 1, (length, 2))
        s[-1, 2] = 1
        out.append(s)
    return out


def test_batches_pad_little_and_still_reach_short_and_long_sketches():
    rng = np.random.default_rng(0)
    task = SketchTask(SketchRNN(SketchConfig()), _sketches(600, rng), [], 200, {})
    seen, padded = set(), []
    for _ in range(200):
        b = task.sample_batch(16, 0, rng, torch.device("cpu"))
        lengths = b.lengths.numpy()
        padded.append(b.x5.shape[1] / lengths.mean())
        seen.update(lengths.tolist())
    assert np.median(padded) < 1.3  # random batches of 5..200 points would pad ~2x
    assert min(seen) < 15 and max(seen) > 190
