"""Sketch-RNN training speed: the shared trainer against a plain PyTorch loop, in the same run."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from engine.core.device import resolve_device, resolve_precision
from engine.core.fit import fit
from engine.sketch.model import SketchConfig, SketchRNN
from engine.sketch.strokes import normalize, offset_scale
from engine.sketch.synthetic import synthetic_sketches
from engine.sketch.task import SketchTask, sketch_train_config


def bench_sketch_training(seconds: float = 20.0, precision: str = "auto", n_sketches: int = 1000,
                          rng: int = 0, model_config: Any = None) -> dict[str, Any]:
    """Steps/s of ``fit`` on the default SketchRNN vs a plain PyTorch loop of the same model and batches.

    Uses procedural demo sketches (no files needed). Half of ``seconds`` goes to each loop;
    ``model_config`` (a ``SketchConfig``) defaults to the default model.
    The plain loop is fp32 Adam + clipping with no validation, checkpoints or guards.
    """
    data = synthetic_sketches(n_sketches, rng)
    scale = offset_scale(data)
    norm = normalize(data, scale)
    max_len = max(len(s) for s in data)
    half = seconds / 2
    cfg = model_config or SketchConfig()
    torch.manual_seed(rng)
    task = SketchTask(SketchRNN(cfg), norm[:-50], norm[-50:], max_len, {"scale": scale})
    tcfg = sketch_train_config(minutes=half / 60, seq_len=max_len, precision=precision, rng=rng,
                               val_every=10**9)
    result = fit(task, tcfg, None, model_config=asdict(cfg))
    fit_rate = result.steps / max(result.seconds, 1e-9)

    torch.manual_seed(rng)
    model = SketchRNN(cfg)
    ref_task = SketchTask(model, norm[:-50], [], max_len, {})
    opt = torch.optim.Adam(model.parameters(), lr=tcfg.lr)
    device = torch.device("cpu")
    model.train()
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < half:
        batch = ref_task.sample_batch(tcfg.batch, max_len, np.random.default_rng([rng, steps]), device)
        loss, _, _ = ref_task.loss(model, batch, steps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.grad_clip)
        opt.step()
        steps += 1
    ref_rate = steps / (time.perf_counter() - t0)
    return {
        "model_parameters": model.n_parameters,
        "batch": tcfg.batch,
        "padded_length": max_len,
        "fit_precision": str(resolve_precision(precision, resolve_device(tcfg.device))).replace("torch.", ""),
        "fit_steps_per_s": fit_rate,
        "plain_torch_fp32_steps_per_s": ref_rate,
        "ratio": fit_rate / max(ref_rate, 1e-9),
        "threads": torch.get_num_threads(),
    }
