"""Sketch-RNN training speed: the shared trainer against a plain PyTorch loop, in the same run."""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import torch

from engine.core.device import resolve_device, resolve_precision, training_threads
from engine.core.fit import fit
from engine.core.training import MAX_EPOCHS_PER_BATCH, lr_at
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
    with _sketch_threads():
        return _bench_sketch_training(seconds, precision, n_sketches, rng, model_config)


@contextmanager
def _sketch_threads():
    """Train with the threads ``choreo sketch train`` would use (both loops alike), then restore them."""
    before = torch.get_num_threads()
    torch.set_num_threads(training_threads(None)[0])
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _bench_sketch_training(seconds: float, precision: str, n_sketches: int, rng: int, model_config: Any
                           ) -> dict[str, Any]:
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


class PackedEncoderSketchRNN(SketchRNN):
    """The reference: the encoder as the paper's implementations run it, one packed bidirectional pass."""

    def encode(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        from torch.nn.utils.rnn import pack_padded_sequence

        packed = pack_padded_sequence(x, lengths.cpu().clamp(min=1), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.encoder(packed)
        return self.to_latent(torch.cat([h[0], h[1]], dim=-1)).chunk(2, dim=-1)


def bench_sketch_long_training(seconds: float = 20.0, precision: str = "auto", n_sketches: int = 600,
                               rng: int = 0, model_config: Any = None, batch: int = 64) -> dict[str, Any]:
    """Sketch training on long drawings (``animal_sketches``: median ~130 points, ~14 strokes).

    Reference: a plain PyTorch loop (fp32 Adam + clipping, the packed encoder, fit's batches and
    learning-rate schedule) on the drawings as given, for about ``seconds``: ``n`` steps.
    Ours: ``fit`` (bf16 where the CPU has it, the plain-pass encoder) for the same ``n`` steps on
    the same drawings, batches and initial weights, so the validation losses after ``n`` steps
    can be compared ("same loss"); then ``fit`` for ``seconds`` on the drawings as
    ``train_sketch`` prepares them (``recipe.plan_training``: re-simplified towards a 72-point
    median), which is what ``choreo sketch train`` runs.
    """
    with _sketch_threads():
        return _bench_long(seconds, precision, n_sketches, rng, model_config, batch)


def _bench_long(seconds: float, precision: str, n_sketches: int, rng: int, model_config: Any, batch: int
                ) -> dict[str, Any]:
    from engine.sketch.animals import animal_sketches
    from engine.sketch.recipe import plan_training, prepare
    from engine.sketch.strokes import lift_last_point

    data = lift_last_point(animal_sketches(n_sketches, rng))
    cfg = model_config or SketchConfig()
    device = torch.device("cpu")

    def task_for(model: SketchRNN, sketches: list) -> SketchTask:
        scale = offset_scale(sketches)
        norm = normalize(sketches, scale)
        return SketchTask(model, norm[:-50], norm[-50:], max(len(s) for s in sketches), {"scale": scale})

    def val_loss(task: SketchTask) -> float:
        task.model.eval()
        with torch.no_grad():
            losses = [(float(task.loss(task.model, b, 0)[0]), int(b.lengths.sum()))
                      for b in task.val_batches(0, device)]
        return sum(v * n for v, n in losses) / sum(n for _, n in losses)

    torch.manual_seed(rng)
    ref = task_for(PackedEncoderSketchRNN(cfg), data)
    tcfg = sketch_train_config(batch=batch, seq_len=ref.max_len, precision=precision, rng=rng, val_every=10**9)
    batch = min(batch, max(8, math.ceil(MAX_EPOCHS_PER_BATCH * ref.train_targets / ref.max_len)))  # as fit does
    opt = torch.optim.Adam(ref.model.parameters(), lr=tcfg.lr)
    ref.model.train()

    def ref_step(step: int, total: int) -> None:
        b = ref.sample_batch(batch, ref.max_len, np.random.default_rng([rng, step, 0]), device)  # fit's batches
        for g in opt.param_groups:
            g["lr"] = lr_at(tcfg, step, step / total)  # fit's schedule for a step budget
        loss, _, _ = ref.loss(ref.model, b, step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ref.model.parameters(), tcfg.grad_clip)
        opt.step()

    t0 = time.perf_counter()
    ref_step(0, 2)  # the first step tells how many fit in ``seconds``
    steps = max(2, int(seconds / max(time.perf_counter() - t0, 1e-6)))
    torch.manual_seed(rng)
    ref = task_for(PackedEncoderSketchRNN(cfg), data)
    opt = torch.optim.Adam(ref.model.parameters(), lr=tcfg.lr)
    ref.model.train()
    t0 = time.perf_counter()
    for step in range(steps):
        ref_step(step, steps)
    ref_seconds = time.perf_counter() - t0
    ref_val = val_loss(ref)

    torch.manual_seed(rng)
    ours = task_for(SketchRNN(cfg), data)
    # a step budget of exactly ``steps`` (fit counts epochs of training points)
    epochs = (steps - 0.5) * batch * ours.max_len / ours.train_targets
    same = fit(ours, replace(tcfg, epochs=epochs), None, model_config=asdict(cfg))
    ours_val = val_loss(ours)

    plan = plan_training(data, cfg.max_seq_len, minutes=seconds / 60)
    torch.manual_seed(rng)
    prepared = task_for(SketchRNN(cfg), prepare(data, plan))
    recipe = fit(prepared, replace(tcfg, minutes=seconds / 60, seq_len=prepared.max_len), None,
                 model_config=asdict(cfg))
    ref_rate = steps / ref_seconds
    fit_rate = same.steps / max(same.seconds, 1e-9)
    recipe_rate = recipe.steps / max(recipe.seconds, 1e-9)
    return {
        "model_parameters": ours.model.n_parameters,
        "batch": batch,
        "median_points": float(np.median([len(s) for s in data])),
        "median_points_prepared": plan.median_points_after,
        "fit_precision": str(resolve_precision(precision, resolve_device(tcfg.device))).replace("torch.", ""),
        "plain_torch_fp32_packed_steps_per_s": ref_rate,
        "fit_steps_per_s": fit_rate,
        "ratio": fit_rate / max(ref_rate, 1e-9),
        "equal_steps": steps,
        "plain_torch_val_loss": ref_val,
        "fit_val_loss": ours_val,
        "recipe_steps_per_s": recipe_rate,
        "recipe_ratio": recipe_rate / max(ref_rate, 1e-9),
        "threads": torch.get_num_threads(),
    }
