"""What a :class:`engine.session.Session` holds and announces: takes, training progress, loss
curves, the signal group, and the value checks its setters use. Plain data, no threads."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from psygnal import Signal, SignalGroup

from ..core.errors import ChoreoError
from ..core.training import TrainEvent, TrainResult
from .worker import GenerationParams, WorkerError


@dataclass
class Take:
    """A generated take. ``positions`` ``(variations, frames, joints, 3)``; valid up to ``frames_ready``."""

    id: int
    positions: np.ndarray
    params: GenerationParams
    seed_frame: int | None  # frame of the seed clip it continues from (None: model's built-in seed)
    created: _dt.datetime = field(default_factory=_dt.datetime.now)
    frames_ready: int = 0
    status: str = "generating"  # generating | done | cancelled | error
    live: bool = False  # made by live regeneration (replaced by the next one)


@dataclass(frozen=True)
class TakeFrames:
    """New frames of take ``take_id`` (index ``index`` in ``session.takes``): ``frames`` ``(V, n, J, 3)``."""

    take_id: int
    index: int
    start: int
    frames: np.ndarray
    params: GenerationParams
    t: float  # perf_counter when the worker produced them


@dataclass(frozen=True)
class TrainingProgress:
    """Latest training progress (from ``TrainEvent``)."""

    step: int = 0
    total_steps: int | None = None
    fraction: float = 0.0
    eta_s: float | None = None
    frames_per_s: float = 0.0
    train_loss: float | None = None
    val_loss: float | None = None
    message: str = ""

    def describe(self) -> list[str]:
        """Short phrases for a status line: losses, speed and any message (front ends join them)."""
        parts = []
        if self.train_loss is not None:
            parts.append(f"loss {self.train_loss:.3f}")
        if self.val_loss is not None:
            parts.append(f"validation {self.val_loss:.3f}")
        if self.frames_per_s:
            parts.append(f"{self.frames_per_s:,.0f} frames/s")
        if self.message and self.message != "starting":
            parts.append(self.message)
        return parts


@dataclass(frozen=True)
class LossHistory:
    """Loss curves: smoothed training loss at progress events, validation loss at validations."""

    train_steps: tuple[int, ...] = ()
    train: tuple[float, ...] = ()
    val_steps: tuple[int, ...] = ()
    val: tuple[float, ...] = ()


BY_VALUE = (int, float, str, bool, TrainingProgress, LossHistory)  # compared with ==, others by identity


class SessionEvents(SignalGroup):
    """Signals of a :class:`Session`; each carries the new value (payload type in the comment)."""

    motions = Signal(tuple)  # tuple[Motion, ...]
    motion = Signal(object)  # Motion | None: the clip shown and seeded from
    skeleton = Signal(object)  # np.ndarray (bones, 2) of the shown clip
    model = Signal(object)  # DanceModel | None
    device = Signal(str)
    temperature = Signal(float)
    sigma_temperature = Signal(float)
    mixture = Signal(object)  # "auto" | "argmax" | int
    look_back = Signal(int)
    rng_seed = Signal(int)
    frames = Signal(int)
    variations = Signal(int)
    seed_frame = Signal(object)  # int | None
    continue_from_playhead = Signal(bool)
    live = Signal(bool)
    playhead = Signal(int)
    takes = Signal(tuple)  # tuple[Take, ...]
    current_take = Signal(int)  # index in takes, -1 for none
    take_frames = Signal(TakeFrames)  # streamed frames of a take being generated
    generation_status = Signal(str)  # idle | generating
    training_status = Signal(str)  # idle | training | cancelling
    training_progress = Signal(TrainingProgress)
    loss_history = Signal(LossHistory)
    training_event = Signal(TrainEvent)  # every raw event of the trainer
    training_finished = Signal(TrainResult)
    error = Signal(WorkerError)  # .message: one line to show


def check_number(name: str, value: Any, lo: float, hi: float | None = None) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise ChoreoError(f"{name} must be a number, got {value!r}") from err
    if not np.isfinite(v) or v < lo or (hi is not None and v > hi):
        raise ChoreoError(f"{name} must be between {lo} and {hi}, got {value!r}" if hi is not None
                          else f"{name} must be at least {lo}, got {value!r}")
    return v


def check_int(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    whole_float = isinstance(value, float) and value.is_integer()
    if isinstance(value, bool) or (not isinstance(value, (int, np.integer)) and not whole_float):
        raise ChoreoError(f"{name} must be a whole number, got {value!r}")
    v = int(value)
    if v < lo or (hi is not None and v > hi):
        raise ChoreoError(f"{name} must be between {lo} and {hi}, got {v}" if hi is not None
                          else f"{name} must be at least {lo}, got {v}")
    return v
