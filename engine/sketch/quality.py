"""Sanity figures for sampled sketches, and the trainer-vs-plain-torch benchmark.

*Size* of a drawing is the diagonal of the bounding box of its drawn points
(absolute positions, the starting origin excluded), in the data's units.
*Strokes* is the number of pen-down runs (polylines).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from .render import strokes_to_polylines
from .sampling import MAX_POINTS


def sketch_size(sketch: np.ndarray) -> float:
    """Bounding-box diagonal of the drawn points."""
    lines = strokes_to_polylines(sketch)
    if not lines:
        return 0.0
    pts = np.concatenate(lines)
    return float(np.linalg.norm(pts.max(0) - pts.min(0)))


def stroke_count(sketch: np.ndarray) -> int:
    """Number of strokes (pen-down runs)."""
    return len(strokes_to_polylines(sketch))


def sketch_quality(samples: Sequence[np.ndarray], data: Sequence[np.ndarray],
                   ended: Sequence[bool] | None = None, max_points: int = MAX_POINTS) -> dict[str, Any]:
    """Check samples against the data: finite, well-formed, ended, strokes and size within 5-95 %.

    ``ended`` (from ``sample(..., return_ended=True)``) says whether the model emitted
    end-of-sketch; without it a sample counts as ended when it is shorter than
    ``max_points``. A sample "ends with the pen lifted" when it ended and its last point
    has pen state 1.
    """
    n = len(samples)
    finite = [bool(np.isfinite(np.asarray(s, np.float64)).all()) for s in samples]
    formed = [np.asarray(s).ndim == 2 and np.asarray(s).shape[1] == 3 and len(s) > 0
              and bool(np.isin(np.asarray(s)[:, 2], (0, 1)).all()) for s in samples]
    if ended is None:
        ended = [len(s) < max_points for s in samples]
    lifted = [bool(e) and len(s) > 0 and len(s) < max_points and int(s[-1, 2]) == 1
              for s, e in zip(samples, ended, strict=True)]
    d_strokes = np.array([stroke_count(s) for s in data])
    d_size = np.array([sketch_size(s) for s in data])
    s_strokes = np.array([stroke_count(s) for s in samples if len(s)])
    s_size = np.array([sketch_size(s) for s in samples if len(s)])
    band_strokes = [float(v) for v in np.percentile(d_strokes, [5, 95])]
    band_size = [float(v) for v in np.percentile(d_size, [5, 95])]
    med_strokes = float(np.median(s_strokes)) if len(s_strokes) else 0.0
    med_size = float(np.median(s_size)) if len(s_size) else 0.0
    out = {
        "samples": n,
        "all_finite": all(finite),
        "all_well_formed": all(formed),
        "ended_pen_lifted_fraction": float(np.mean(lifted)) if n else 0.0,
        "median_points": float(np.median([len(s) for s in samples])) if n else 0.0,
        "median_strokes": med_strokes,
        "data_strokes_p5_p95": band_strokes,
        "data_median_strokes": float(np.median(d_strokes)),
        "median_size": med_size,
        "data_size_p5_p95": band_size,
        "data_median_size": float(np.median(d_size)),
    }
    out["strokes_in_band"] = band_strokes[0] <= med_strokes <= band_strokes[1]
    out["size_in_band"] = band_size[0] <= med_size <= band_size[1]
    out["passed"] = bool(out["all_finite"] and out["all_well_formed"]
                         and out["ended_pen_lifted_fraction"] >= 0.9
                         and out["strokes_in_band"] and out["size_in_band"])
    return out


def bench_sketch_training(seconds: float = 20.0, precision: str = "auto", n_sketches: int = 1000,
                          seed: int = 0, model_config: Any = None) -> dict[str, Any]:
    """Steps/s of ``fit`` on the default SketchRNN vs a plain PyTorch loop of the same model and batches.

    Uses procedural demo sketches (no files needed). Half of ``seconds`` goes to each loop;
    ``model_config`` (a ``SketchConfig``) defaults to the default model.
    The plain loop is fp32 Adam + clipping with no validation, checkpoints or guards.
    """
    from ..device import resolve_device, resolve_precision
    from ..training import fit
    from .model import SketchConfig, SketchRNN
    from .strokes import normalize, offset_scale
    from .synthetic import synthetic_sketches
    from .task import SketchTask, sketch_train_config

    data = synthetic_sketches(n_sketches, seed)
    scale = offset_scale(data)
    norm = normalize(data, scale)
    max_len = max(len(s) for s in data)
    half = seconds / 2
    cfg = model_config or SketchConfig()
    torch.manual_seed(seed)
    task = SketchTask(SketchRNN(cfg), norm[:-50], norm[-50:], max_len, {"scale": scale})
    tcfg = sketch_train_config(minutes=half / 60, seq_len=max_len, precision=precision, seed=seed,
                               val_every=10**9)
    result = fit(task, tcfg, None, model_config=asdict(cfg))
    fit_rate = result.steps / max(result.seconds, 1e-9)

    torch.manual_seed(seed)
    model = SketchRNN(cfg)
    ref_task = SketchTask(model, norm[:-50], [], max_len, {})
    opt = torch.optim.Adam(model.parameters(), lr=tcfg.lr)
    device = torch.device("cpu")
    model.train()
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < half:
        batch = ref_task.sample_batch(tcfg.batch, max_len, np.random.default_rng([seed, steps]), device)
        loss, _, _ = ref_task.loss(model, batch, steps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.grad_clip)
        opt.step()
        steps += 1
    ref_rate = steps / (time.perf_counter() - t0)
    return {
        "model_parameters": model.n_parameters(),
        "batch": tcfg.batch,
        "padded_length": max_len,
        "fit_precision": str(resolve_precision(precision, resolve_device(tcfg.device))).replace("torch.", ""),
        "fit_steps_per_s": fit_rate,
        "plain_torch_fp32_steps_per_s": ref_rate,
        "ratio": fit_rate / max(ref_rate, 1e-9),
        "threads": torch.get_num_threads(),
    }
