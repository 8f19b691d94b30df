"""What training is told and what it reports: ``TrainConfig``, ``TrainEvent``, ``TrainResult``, the
``Task`` protocol a model plugs into, and the schedule helpers. The loop itself is ``engine.core.fit``."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call

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
    min_fraction: float = 0.5  # early stopping waits until this much of the budget is spent: a short clip's noisy
    # validation often stalls for a while and improves again (the best weights are kept either way)
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
    world_size: int = 1  # processes that trained together (frames and frames_per_s are the team's)
    steady_frames_per_s: float | None = None  # frames/s after the first step (start-up costs left out)
    device: str = ""  # where this process trained, e.g. "cpu" or "cuda:0"
    precision: str = ""  # compute precision, e.g. "float32" or "bfloat16"

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


def make_forward(model: nn.Module, dtype: torch.dtype, device_type: str = "cpu") -> Forward:
    """Call ``model`` in ``dtype`` while its fp32 weights keep receiving fp32 gradients.

    On CUDA that is ``torch.autocast`` (cuDNN's LSTM runs in bf16 under it; the mixture heads
    compute the likelihood in fp32 either way). On the CPU the weights are cast to ``dtype``
    once per call (this project's CPU bf16 path, see ``choreo bench``). ``model`` may be
    wrapped in ``DistributedDataParallel``: its gradient hooks see the fp32 weights either way.
    """
    if dtype == torch.float32:
        return model
    if device_type == "cuda":
        return autocast_forward(model, dtype, device_type)

    def forward(*args: Any) -> Any:
        params = {name: p.to(dtype) for name, p in model.named_parameters()}
        args = tuple(a.to(dtype) if torch.is_tensor(a) and a.is_floating_point() else a for a in args)
        return functional_call(model, params, args)

    return forward


def autocast_forward(model: nn.Module, dtype: torch.dtype, device_type: str) -> Forward:
    """Call ``model`` under ``torch.autocast(device_type, dtype)`` (the CUDA path; CPU autocast tests it)."""

    def forward(*args: Any) -> Any:
        with torch.autocast(device_type, dtype=dtype):
            return model(*args)

    return forward


class Budget:
    """A run's budget: ``config.minutes`` and/or ``config.epochs`` (``DEFAULT_MINUTES`` when neither)."""

    def __init__(self, config: TrainConfig, steps_per_epoch: float) -> None:
        minutes = config.minutes
        if minutes is None and config.epochs is None:
            minutes = DEFAULT_MINUTES
        self.seconds = None if minutes is None else minutes * 60.0
        self.steps = None if config.epochs is None else max(1, math.ceil(config.epochs * steps_per_epoch))

    def fraction(self, step: int, elapsed: float) -> float:
        """How much of the budget is used, 0..1 (the larger of time and steps when both are set)."""
        parts = []
        if self.seconds:
            parts.append(elapsed / self.seconds)
        if self.steps:
            parts.append(step / self.steps)
        return min(1.0, max(parts)) if parts else 0.0

    def eta(self, step: int, elapsed: float) -> float | None:
        """Seconds left, measured now: the time budget's remainder, or the steps left at the pace so far
        (the sooner of the two when both are set; None when unknown)."""
        left = []
        if self.seconds:
            left.append(max(0.0, self.seconds - elapsed))
        if self.steps and step > 0:
            left.append(max(0, self.steps - step) * elapsed / step)
        return min(left) if left else None


def lr_at(config: TrainConfig, step: int, fraction: float) -> float:
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

