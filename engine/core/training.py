"""One training loop for every model in the engine (dance and sketch).

A *task* knows its data and loss; ``fit`` owns everything else: device and
precision, Adam, warm-up + cosine learning rate, gradient clipping,
validation and early stopping, a NaN/inf guard that rolls back, a time
budget, atomic checkpoints, resume, and progress events. It never prints.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call

from .checkpoint import read_checkpoint, save_checkpoint
from .device import resolve_device, resolve_precision
from .errors import ChoreoError
from .fileio import check_writable

DEFAULT_MINUTES = 3.0  # budget when neither minutes nor epochs is given
NEGATIVE_LOSS_NOTE = (
    "Loss is the negative log-likelihood per number (nats): lower is better. Below zero is normal: a "
    "continuous density can exceed 1 where the model is confident, so -log p goes negative as the fit sharpens."
)
MAX_EPOCHS_PER_BATCH = 4  # small data: smaller batches, more steps


@dataclass
class TrainConfig:
    """How to train. Saved in the checkpoint beside the model config."""

    minutes: float | None = None  # wall-clock budget; with epochs unset defaults to DEFAULT_MINUTES
    epochs: float | None = None  # passes over the training targets (alternative to minutes)
    batch: int = 64  # sequences per step (at most about 4 epochs' worth for small data)
    seq_len: int = 128  # frames per training crop (every frame is a target)
    lr: float = 2e-3  # peak Adam learning rate
    lr_final: float = 0.1  # cosine decay ends at lr * lr_final
    warmup_steps: int = 30  # linear warm-up steps
    grad_clip: float = 1.0  # max global gradient norm
    val_fraction: float = 0.1  # the last part of each clip (in time) is held out
    val_every: int = 25  # steps between validations
    patience: int = 12  # validations without improvement before early stopping
    checkpoint_every_s: float = 30.0  # seconds between "last" checkpoints
    nan_retries: int = 5  # roll-backs in a row before giving up
    device: str = "auto"  # auto | cpu | cuda | mps
    precision: str = "auto"  # auto | bf16 | fp32 (auto: bf16 where the hardware is fast at it)
    rng: int = 0  # random seed: initial weights, crops and noise are reproducible from it


@dataclass
class TrainEvent:
    """Progress report. ``kind`` is start | progress | validation | checkpoint | warning | done."""

    kind: str
    step: int = 0
    total_steps: int | None = None  # known with an epoch budget
    fraction: float = 0.0  # of the budget, 0..1
    train_loss: float | None = None
    val_loss: float | None = None
    lr: float = 0.0
    frames_per_s: float = 0.0
    elapsed_s: float = 0.0
    eta_s: float | None = None
    message: str = ""


@dataclass
class TrainResult:
    """What ``fit`` returns (and ``--json`` prints)."""

    frames: int  # supervised target frames seen
    seconds: float  # wall time of the training loop
    frames_per_s: float
    train_loss: float | None
    val_loss: float | None
    best_val_loss: float | None
    steps: int
    stopped: str  # budget | early-stopping | cancelled | numerical-trouble
    checkpoint: str | None
    history: dict[str, list] = field(default_factory=dict)
    model: nn.Module | None = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        """JSON-friendly figures."""
        d = asdict(self)
        d.pop("model")
        d.pop("history")
        return d


Forward = Callable[..., Any]


class Task(Protocol):
    """What ``fit`` needs to know about a model and its data."""

    kind: str  # "dance" | "sketch": written into the checkpoint
    model: nn.Module
    train_targets: int  # supervised targets in one epoch

    def sample_batch(self, batch: int, seq_len: int, rng: np.random.Generator, device: torch.device) -> Any: ...

    def loss(self, forward: Forward, batch: Any, step: int) -> tuple[Tensor, int, dict[str, float]]:
        """(scalar loss, number of targets, named parts) for a batch; call the model via ``forward``."""
        ...

    def val_batches(self, seq_len: int, device: torch.device) -> Iterable[Any]: ...

    def checkpoint_extra(self) -> dict[str, Any]: ...


def make_forward(model: nn.Module, dtype: torch.dtype) -> Forward:
    """Call ``model`` in ``dtype`` while its fp32 weights keep receiving fp32 gradients."""
    if dtype == torch.float32:
        return model

    def forward(*args: Any) -> Any:
        params = {name: p.to(dtype) for name, p in model.named_parameters()}
        args = tuple(a.to(dtype) if torch.is_tensor(a) and a.is_floating_point() else a for a in args)
        return functional_call(model, params, args)

    return forward


class _Budget:
    def __init__(self, config: TrainConfig, steps_per_epoch: float) -> None:
        minutes = config.minutes
        if minutes is None and config.epochs is None:
            minutes = DEFAULT_MINUTES
        self.seconds = None if minutes is None else minutes * 60.0
        self.steps = None if config.epochs is None else max(1, math.ceil(config.epochs * steps_per_epoch))

    def fraction(self, step: int, elapsed: float) -> float:
        parts = []
        if self.seconds:
            parts.append(elapsed / self.seconds)
        if self.steps:
            parts.append(step / self.steps)
        return min(1.0, max(parts)) if parts else 0.0


def _lr_at(config: TrainConfig, step: int, fraction: float) -> float:
    warm = min(1.0, (step + 1) / max(1, config.warmup_steps))
    cosine = config.lr_final + (1 - config.lr_final) * 0.5 * (1 + math.cos(math.pi * fraction))
    return config.lr * warm * cosine


def format_eta(seconds: float | None) -> str:
    """``"1 min 05 s left"`` style text ("" when unknown)."""
    if seconds is None:
        return ""
    s = max(0, round(seconds))
    return f"{s // 60} min {s % 60:02d} s left" if s >= 60 else f"{s} s left"


def preload() -> None:
    """Import what building the first optimizer imports lazily (``torch._dynamo``, 0.1-1 s).

    Interactive front ends call this at start-up: inside a training thread that import holds
    the GIL in chunks of ~100 ms and freezes the UI thread right after the Train click.
    """
    import torch._dynamo  # noqa: F401


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
    the last good weights.
    """
    emit = on_event or (lambda e: None)
    device = resolve_device(config.device)
    dtype = resolve_precision(config.precision, device)
    model = task.model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    step, frames, elapsed0, best_val = 0, 0, 0.0, math.inf
    history: dict[str, list] = {"step": [], "train": [], "val_step": [], "val": []}
    if resume is not None:
        payload = read_checkpoint(resume, kind=task.kind)
        model.load_state_dict(payload["model"])
        if payload.get("optimizer"):
            opt.load_state_dict(payload["optimizer"])
        step, frames = int(payload["step"]), int(payload["frames_seen"])
        elapsed0, best_val = float(payload["elapsed"]), float(payload["best_val"])
        history = payload.get("history") or history

    out_best = Path(out) if out is not None else None
    out_last = out_best.with_suffix(".last.pt") if out_best is not None else None
    for path in (out_best, out_last):
        if path is not None:
            check_writable(path)  # a bad --out fails now, not at the first checkpoint
    forward = make_forward(model, dtype)
    # a batch of many copies of a short clip wastes compute: cap it at a few epochs' worth, take more steps instead
    batch = min(config.batch, max(8, math.ceil(MAX_EPOCHS_PER_BATCH * task.train_targets / config.seq_len)))
    steps_per_epoch = task.train_targets / max(1, batch * config.seq_len)
    budget = _Budget(config, steps_per_epoch)
    val_batches = list(task.val_batches(config.seq_len, device))

    def payload_now() -> dict[str, Any]:
        return {
            "kind": task.kind, "model_config": model_config or {}, "train_config": asdict(config),
            "model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
            "frames_seen": frames, "elapsed": elapsed0 + (time.perf_counter() - t0),
            "best_val": best_val, "history": history, "extra": task.checkpoint_extra(),
        }

    def validate() -> float | None:
        if not val_batches:
            return None
        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for b in val_batches:
                loss, n, _ = task.loss(model, b, step)
                total, count = total + float(loss) * n, count + n
        model.train()
        return total / max(1, count)

    def snapshot() -> tuple[dict, dict, int, int]:
        """Everything a roll-back restores: weights, Adam state, step and frame counts."""
        return copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict()), step, frames

    def roll_back() -> None:
        nonlocal step, frames, steps_run, frames_run
        model.load_state_dict(good[0])
        opt.load_state_dict(copy.deepcopy(good[1]))  # the optimizer adopts these tensors and updates them in place
        steps_run, frames_run = steps_run - (step - good[2]), frames_run - (frames - good[3])
        step, frames = good[2], good[3]
        keep = sum(1 for s in history["step"] if s <= step)
        del history["step"][keep:], history["train"][keep:]
        keep_val = sum(1 for s in history["val_step"] if s <= step)
        del history["val_step"][keep_val:], history["val"][keep_val:]

    t0 = time.perf_counter()
    good = snapshot()
    best_state: dict | None = None
    lr_scale, bad_in_a_row, rollbacks, bad_step, stale_vals = 1.0, 0, 0, 0, 0
    train_ema: float | None = None
    val_loss: float | None = None
    stopped = "budget"
    last_ckpt = last_emit = time.perf_counter()
    steps_run, frames_run = 0, 0
    emit(TrainEvent("start", step=step, total_steps=budget.steps,
                    message=f"training on {device} ({str(dtype).removeprefix('torch.')}), batch {batch}"))
    model.train()
    while True:
        elapsed = time.perf_counter() - t0
        fraction = budget.fraction(step, elapsed)  # a resumed run gets a fresh time budget
        if fraction >= 1.0:
            break
        if cancel is not None and cancel.is_set():
            stopped = "cancelled"
            break
        rng = np.random.default_rng([config.rng, step, rollbacks])  # a retried step draws other crops
        lr = _lr_at(config, step, fraction) * lr_scale
        for g in opt.param_groups:
            g["lr"] = lr
        crops = task.sample_batch(batch, config.seq_len, rng, device)
        loss, n_targets, _parts = task.loss(forward, crops, step)
        ok = bool(torch.isfinite(loss))
        if ok:
            opt.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            ok = bool(torch.isfinite(grad_norm))
        if not ok:
            bad_in_a_row, rollbacks, bad_step = bad_in_a_row + 1, rollbacks + 1, step
            roll_back()
            lr_scale *= 0.5
            if bad_in_a_row > config.nan_retries:
                stopped = "numerical-trouble"
                emit(TrainEvent("warning", step=bad_step, message=(
                    f"loss was NaN/inf {bad_in_a_row} times in a row; stopped and kept the best checkpoint")))
                break
            emit(TrainEvent("warning", step=bad_step, message=(
                f"NaN/inf loss at step {bad_step}: rolled back and halved the learning rate (now {lr * 0.5:.2e})")))
            continue
        opt.step()
        if bad_in_a_row and step > bad_step:
            bad_in_a_row = 0  # got past the step that failed: the trouble is over
        step, steps_run = step + 1, steps_run + 1
        frames, frames_run = frames + n_targets, frames_run + n_targets
        value = float(loss.detach())
        train_ema = value if train_ema is None else 0.9 * train_ema + 0.1 * value
        history["step"].append(step)
        history["train"].append(value)
        now = time.perf_counter()
        fps = frames_run / max(now - t0, 1e-9)
        if now - last_emit > 0.25 or step == 1:
            last_emit = now
            eta = (now - t0) * (1 - fraction) / fraction if fraction > 0 else None
            emit(TrainEvent("progress", step=step, total_steps=budget.steps, fraction=fraction,
                            train_loss=train_ema, val_loss=val_loss, lr=lr, frames_per_s=fps,
                            elapsed_s=now - t0, eta_s=eta))
        if step % config.val_every == 0:
            val_loss = validate()
            good = snapshot()
            if val_loss is not None:
                history["val_step"].append(step)
                history["val"].append(val_loss)
                emit(TrainEvent("validation", step=step, train_loss=train_ema, val_loss=val_loss, lr=lr,
                                fraction=fraction, frames_per_s=fps, elapsed_s=now - t0))
                if val_loss < best_val - 1e-4:
                    best_val, stale_vals = val_loss, 0
                    best_state = good[0]
                    if out_best is not None:
                        save_checkpoint(out_best, payload_now())
                else:
                    stale_vals += 1
                    if stale_vals >= config.patience:
                        stopped = "early-stopping"
                        break
        if out_last is not None and time.perf_counter() - last_ckpt > config.checkpoint_every_s:
            save_checkpoint(out_last, payload_now())
            last_ckpt = time.perf_counter()
            emit(TrainEvent("checkpoint", step=step, message=str(out_last)))

    seconds = time.perf_counter() - t0
    if stopped != "numerical-trouble" and steps_run:
        val_loss = validate()
        if val_loss is not None:
            history["val_step"].append(step)
            history["val"].append(val_loss)
            if val_loss < best_val - 1e-4:
                best_val, best_state = val_loss, copy.deepcopy(model.state_dict())
                if out_best is not None:
                    save_checkpoint(out_best, payload_now())
    if out_last is not None and steps_run:
        save_checkpoint(out_last, payload_now())
    if out_best is not None and (not val_batches or not out_best.exists()) and steps_run:
        save_checkpoint(out_best, payload_now())
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    result = TrainResult(
        frames=frames_run, seconds=seconds, frames_per_s=frames_run / max(seconds, 1e-9),
        train_loss=train_ema, val_loss=val_loss, best_val_loss=None if math.isinf(best_val) else best_val,
        steps=step, stopped=stopped, checkpoint=str(out_best) if out_best else None,
        history=history, model=model,
    )
    emit(TrainEvent("done", step=step, fraction=1.0, train_loss=train_ema, val_loss=val_loss,
                    frames_per_s=result.frames_per_s, elapsed_s=seconds, message=stopped))
    if stopped == "numerical-trouble" and steps_run == 0:
        raise ChoreoError("training diverged immediately (NaN/inf loss); check the data for extreme values")
    return result
