"""One training loop for every model in the engine (dance and sketch).

A *task* knows its data and loss; ``fit`` owns everything else: device and
precision, Adam, warm-up + cosine learning rate, gradient clipping,
validation and early stopping, a NaN/inf guard that rolls back, a time
budget, atomic checkpoints, resume, and progress events. It never prints.
The loop reads top to bottom in ``fit``; the state it carries lives in one ``_Run``.

Launched as several processes (torchrun, ``choreo train --nproc N``) the same loop trains with
``DistributedDataParallel``: each process's task holds its own shard of the data and takes its
part of the global batch, the team agrees on every decision (stop, roll back, early stopping)
through ``engine.core.distributed.Team``, and only rank 0 writes checkpoints. Alone, every
collective is a no-op.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from .checkpoint import read_checkpoint, save_checkpoint
from .device import resolve_device, resolve_precision
from .distributed import Team
from .errors import ChoreoError
from .fileio import check_writable
from .training import (
    MAX_EPOCHS_PER_BATCH,
    Budget,
    Task,
    TrainConfig,
    TrainEvent,
    TrainResult,
    lr_at,
    make_forward,
    preload,
)


class Snapshot(NamedTuple):
    """Everything a roll-back restores."""

    model: dict[str, Tensor]
    optimizer: dict[str, Any]
    step: int
    frames: int


class _Run:
    """The state of one ``fit`` call: counters, history, best weights, and what a checkpoint holds."""

    def __init__(self, task: Task, config: TrainConfig, opt: torch.optim.Optimizer, out: str | Path | None,
                 model_config: dict[str, Any] | None, val_batches: list[Any], team: Team) -> None:
        self.task, self.model, self.config, self.opt, self.team = task, task.model, config, opt, team
        self.model_config = model_config or {}
        self.val_batches = val_batches  # this process's share of the validation data
        # only rank 0 writes checkpoints: every process holds the same weights
        self.out_best = Path(out) if out is not None and team.is_main else None
        self.out_last = self.out_best.with_suffix(".last.pt") if self.out_best is not None else None
        for path in (self.out_best, self.out_last):
            if path is not None:
                check_writable(path)  # a bad --out fails now, not at the first checkpoint
        self.step = self.frames = 0  # over every run of this model (a resumed run continues them)
        self.steps_run = self.frames_run = 0  # this run only
        self.elapsed_before, self.best_val = 0.0, math.inf
        self.history: dict[str, list] = {"step": [], "train": [], "val_step": [], "val": []}
        self.lr_scale, self.rollbacks, self.bad_in_a_row, self.bad_step, self.stale_vals = 1.0, 0, 0, 0, 0
        self.train_ema: float | None = None
        self.val_loss: float | None = None
        self.best_state: dict[str, Tensor] | None = None
        self.stopped = "budget"
        self.precision = ""  # compute precision, e.g. "bfloat16"
        self.warm: tuple[float, int] | None = None  # (seconds, frames) when the first step of this run ended
        self.t0 = self.last_ckpt = self.last_emit = time.perf_counter()
        self.good = self.snapshot()

    # -- checkpoints -----------------------------------------------------------------

    def restore(self, payload: dict[str, Any]) -> None:
        """Continue from a checkpoint: weights, Adam state, counters and history."""
        self.model.load_state_dict(payload["model"])
        if payload.get("optimizer"):
            self.opt.load_state_dict(payload["optimizer"])
        self.step, self.frames = int(payload["step"]), int(payload["frames_seen"])
        self.elapsed_before, self.best_val = float(payload["elapsed"]), float(payload["best_val"])
        self.history = payload.get("history") or self.history
        self.good = self.snapshot()

    def save(self, path: Path | None) -> None:
        if path is not None:
            save_checkpoint(path, {
                "kind": self.task.kind, "model_config": self.model_config, "train_config": asdict(self.config),
                "model": self.model.state_dict(), "optimizer": self.opt.state_dict(), "step": self.step,
                "frames_seen": self.frames, "elapsed": self.elapsed_before + self.seconds(),
                "best_val": self.best_val, "history": self.history, "extra": self.task.checkpoint_extra(),
                "world_size": self.team.world_size,
            })

    def seconds(self) -> float:
        """Wall time of this run so far."""
        return time.perf_counter() - self.t0

    def steady_rate(self, seconds: float) -> float | None:
        """Frames/s after the first step (None before a second step)."""
        if self.warm is None or self.frames_run <= self.warm[1]:
            return None
        return (self.frames_run - self.warm[1]) / max(seconds - self.warm[0], 1e-9)

    # -- steps ---------------------------------------------------------------------

    def advance(self, loss: float, n_targets: int) -> None:
        """A step went through: count it and record its loss."""
        if self.bad_in_a_row and self.step > self.bad_step:
            self.bad_in_a_row = 0  # got past the step that failed: the trouble is over
        self.step, self.steps_run = self.step + 1, self.steps_run + 1
        self.frames, self.frames_run = self.frames + n_targets, self.frames_run + n_targets
        if self.warm is None:
            self.warm = (self.seconds(), self.frames_run)  # the first step pays one-off costs (kernels, buckets)
        self.train_ema = loss if self.train_ema is None else 0.9 * self.train_ema + 0.1 * loss
        self.history["step"].append(self.step)
        self.history["train"].append(loss)

    def snapshot(self) -> Snapshot:
        return Snapshot(copy.deepcopy(self.model.state_dict()), copy.deepcopy(self.opt.state_dict()),
                        self.step, self.frames)

    def roll_back(self) -> None:
        """Back to the last good snapshot: weights, Adam state, counters and history together."""
        good = self.good
        self.model.load_state_dict(good.model)
        self.opt.load_state_dict(copy.deepcopy(good.optimizer))  # Adam adopts these tensors and updates them
        self.steps_run -= self.step - good.step
        self.frames_run -= self.frames - good.frames
        self.step, self.frames = good.step, good.frames
        for steps, values in (("step", "train"), ("val_step", "val")):
            keep = sum(1 for s in self.history[steps] if s <= self.step)
            del self.history[steps][keep:], self.history[values][keep:]

    def recover(self, emit: Callable[[TrainEvent], None], lr: float) -> bool:
        """A NaN/inf loss or gradient: roll back and halve the learning rate. False: give up."""
        self.bad_in_a_row, self.rollbacks, self.bad_step = self.bad_in_a_row + 1, self.rollbacks + 1, self.step
        self.roll_back()
        self.lr_scale *= 0.5
        if self.bad_in_a_row > self.config.nan_retries:
            self.stopped = "numerical-trouble"
            emit(TrainEvent("warning", step=self.bad_step, message=(
                f"loss was NaN/inf {self.bad_in_a_row} times in a row; stopped and kept the best checkpoint")))
            return False
        emit(TrainEvent("warning", step=self.bad_step, message=(
            f"NaN/inf loss at step {self.bad_step}: rolled back and halved the learning rate (now {lr * 0.5:.2e})")))
        return True

    # -- validation ------------------------------------------------------------------

    def validate(self) -> float | None:
        """Mean validation loss per target over every process's validation data, or None without any."""
        self.model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for b in self.val_batches:
                loss, n, _ = self.task.loss(self.model, b, self.step)
                total, count = total + float(loss) * n, count + n
        self.model.train()
        total, count = self.team.sum(total, count)
        return total / count if count else None

    def validate_and_keep_best(self) -> bool:
        """Validate, record it, keep (and write) the best model. False when it stopped improving."""
        self.val_loss = self.validate()
        if self.val_loss is None:
            return True
        self.history["val_step"].append(self.step)
        self.history["val"].append(self.val_loss)
        if self.val_loss < self.best_val - 1e-4:
            self.best_val, self.stale_vals = self.val_loss, 0
            self.best_state = copy.deepcopy(self.model.state_dict())
            self.save(self.out_best)
            return True
        self.stale_vals += 1
        return self.stale_vals < self.config.patience

    def finish(self, emit: Callable[[TrainEvent], None]) -> TrainResult:
        """Final validation and checkpoints, best weights back in the model, the result."""
        seconds = self.seconds()
        if self.stopped != "numerical-trouble" and self.steps_run:
            self.validate_and_keep_best()
        if self.steps_run:
            self.save(self.out_last)
            if self.out_best is not None and (math.isinf(self.best_val) or not self.out_best.exists()):
                self.save(self.out_best)  # no validation data (or none improved): the final weights are the best
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        self.model.eval()
        result = TrainResult(
            frames=self.frames_run, seconds=seconds, frames_per_s=self.frames_run / max(seconds, 1e-9),
            steady_frames_per_s=self.steady_rate(seconds),
            train_loss=self.train_ema, val_loss=self.val_loss,
            best_val_loss=None if math.isinf(self.best_val) else self.best_val, steps=self.step,
            stopped=self.stopped, checkpoint=str(self.out_best) if self.out_best else None,
            history=self.history, model=self.model, world_size=self.team.world_size,
            device=str(next(self.model.parameters()).device), precision=self.precision,
        )
        emit(TrainEvent("done", step=self.step, fraction=1.0, train_loss=self.train_ema, val_loss=self.val_loss,
                        frames_per_s=result.frames_per_s, elapsed_s=seconds, message=self.stopped))
        if self.stopped == "numerical-trouble" and self.steps_run == 0:
            raise ChoreoError("training diverged immediately (NaN/inf loss); check the data for extreme values")
        return result


def _backward(loss: Tensor, model: nn.Module, opt: torch.optim.Optimizer, grad_clip: float) -> bool:
    """Gradients (averaged over the team by DDP), clipped; False when they are NaN/inf.

    Every process sees the same averaged gradients, so every process decides the same.
    """
    opt.zero_grad(set_to_none=True)
    loss.backward()
    return bool(torch.isfinite(torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)))


def fit(
    task: Task,
    config: TrainConfig,
    out: str | Path | None = None,
    *,
    model_config: dict[str, Any] | None = None,
    on_event: Callable[[TrainEvent], None] | None = None,
    cancel: threading.Event | None = None,
    resume: str | Path | None = None,
) -> TrainResult:
    """Train ``task.model`` within ``config``'s budget; write checkpoints to ``out``.

    ``out`` receives the best model (by validation loss) and ``<out>.last.pt``
    the latest state; both resume. ``cancel`` stops at the next step and keeps
    the last good weights. In a process group (see the module docstring) ``task`` is this
    process's shard and ``config.batch`` the global batch.
    """
    emit = on_event or (lambda e: None)
    preload()  # torch's lazy imports happen before the clock starts, not inside the first step
    team = Team.current()
    device = team.device(resolve_device(config.device))
    dtype = resolve_precision(config.precision, device)
    model = task.model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    run = _Run(task, config, opt, out, model_config, list(task.val_batches(config.seq_len, device)), team)
    run.precision = str(dtype).removeprefix("torch.")
    if resume is not None:
        run.restore(read_checkpoint(resume, kind=task.kind))
    forward = make_forward(team.wrap(model), dtype, device.type)
    (train_targets,) = team.sum(task.train_targets)
    # a batch of many copies of a short clip wastes compute: cap it at a few epochs' worth, take more steps instead
    batch = min(config.batch, max(8, math.ceil(MAX_EPOCHS_PER_BATCH * train_targets / config.seq_len)))
    budget = Budget(config, train_targets / max(1, batch * config.seq_len))
    emit(TrainEvent("start", step=run.step, total_steps=budget.steps, message=(
        f"training on {device} ({run.precision}), batch {batch}"
        + ("" if team.alone else f" over {team.world_size} processes ({team.share(batch)} here)"))))
    model.train()
    while True:
        # a resumed run gets a fresh time budget; the slowest clock in the team decides for everyone
        fraction, cancelled = team.max(budget.fraction(run.step, run.seconds()), cancel is not None and cancel.is_set())
        if fraction >= 1.0:
            break
        if cancelled:
            run.stopped = "cancelled"
            break
        lr = lr_at(config, run.step, fraction) * run.lr_scale
        for g in opt.param_groups:
            g["lr"] = lr
        rng = np.random.default_rng(team.entropy(config.rng, run.step, run.rollbacks))  # a retry draws other crops
        batch_here = task.sample_batch(team.share(batch), config.seq_len, rng, device)
        loss, n_targets, _parts = task.loss(forward, batch_here, run.step)
        step = team.combine(loss, n_targets)  # the loss and targets of the whole team's batch
        if not (step.finite and _backward(loss * step.weight, model, opt, config.grad_clip)):
            if run.recover(emit, lr):
                continue
            break
        opt.step()
        run.advance(step.loss, step.targets)
        now = time.perf_counter()
        fps = run.frames_run / max(now - run.t0, 1e-9)
        if now - run.last_emit > 0.25 or run.step == 1:
            run.last_emit = now
            eta = budget.eta(run.step, run.seconds())  # measured now: `fraction` predates this step
            emit(TrainEvent("progress", step=run.step, total_steps=budget.steps, fraction=fraction,
                            train_loss=run.train_ema, val_loss=run.val_loss, lr=lr, frames_per_s=fps,
                            elapsed_s=now - run.t0, eta_s=eta))
        if run.step % config.val_every == 0:
            run.good = run.snapshot()
            improving = run.validate_and_keep_best()
            if run.val_loss is not None:
                emit(TrainEvent("validation", step=run.step, train_loss=run.train_ema, val_loss=run.val_loss,
                                lr=lr, fraction=fraction, frames_per_s=fps, elapsed_s=now - run.t0))
            if not improving and fraction >= config.min_fraction:
                run.stopped = "early-stopping"
                break
        if run.out_last is not None and time.perf_counter() - run.last_ckpt > config.checkpoint_every_s:
            run.save(run.out_last)
            run.last_ckpt = time.perf_counter()
            emit(TrainEvent("checkpoint", step=run.step, message=str(run.out_last)))
    return run.finish(emit)
