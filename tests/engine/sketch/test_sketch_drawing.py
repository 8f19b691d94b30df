"""The drawing state both front ends share: strokes in, stroke-3 prefix, endings that keep it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.core.errors import ChoreoError
from engine.sketch import SketchConfig, SketchRNN
from engine.sketch.drawing import SketchDrawing, points_to_stroke3


def _tiny_model() -> SketchRNN:
    torch.manual_seed(0)
    model = SketchRNN(SketchConfig(enc_hidden=8, dec_hidden=16, z_size=4, mixtures=2, max_seq_len=60)).eval()
    model.scale, model.integer_units, model.max_len = 30.0, True, 60
    return model


def test_points_become_resampled_stroke3_scaled_to_the_size():
    arc = [(np.cos(a) * 100 + 200, np.sin(a) * 100 + 200) for a in np.linspace(0, np.pi, 60)]
    s3 = points_to_stroke3([arc, [(10, 10), (40, 40)]], step=10.0, size=200.0)
    assert s3.dtype == np.int16 and s3.shape[1] == 3
    assert s3[:, 2].sum() == 2  # each stroke ends by lifting the pen
    pos = np.cumsum(s3[:, :2], axis=0)
    diag = np.linalg.norm(pos.max(0) - pos.min(0))
    assert 170 < diag < 230
    assert np.all(np.linalg.norm(s3[1:, :2], axis=1)[s3[:-1, 2] == 0] >= 5)  # resampled, not every mouse point


def test_finish_keeps_the_drawing_and_refuses_an_empty_one():
    d = SketchDrawing(_tiny_model(), "tiny")
    with pytest.raises(ChoreoError, match="draw something"):
        d.finish(2, 0.5)
    d.add_stroke([(0, 0)])
    for x in range(10, 200, 10):
        d.extend(x, x / 2)
    prefix = d.prefix()
    prefix[-1, 2] = 0
    endings = d.finish(3, 0.5, rng=1)
    assert len(endings) == 3 and all(np.array_equal(e[: len(prefix)], prefix) for e in endings)
    assert [e.tolist() for e in endings] == [e.tolist() for e in d.finish(3, 0.5, rng=1)]  # seeded
    d.clear()
    assert d.empty


def test_no_model_is_a_clear_error():
    with pytest.raises(ChoreoError, match="no sketch model"):
        SketchDrawing().from_scratch(2, 0.5)
