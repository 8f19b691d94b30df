"""What a :class:`engine.session.Session` holds and announces: takes, training progress, loss
curves and the signal group. Plain data, no threads."""

from __future__ import annotations

import datetime as _dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from psygnal import Signal, SignalGroup

from ..core.training import TrainEvent, TrainResult
from ..dance.motion import Motion
from .recipe import Recipe
from .worker import GenerationParams, WorkerError


@dataclass(frozen=True)
class Take:
    """A generated take, as published: never changed afterwards (a take that grows, ends, is renamed
    or marked a favourite is published again as a new ``Take`` with the same ``id``).

    ``positions`` ``(variations, frames made so far, joints, 3)`` is read-only; ``recipe`` is
    everything that made it (``params``: its knobs; ``params.frames`` frames were asked for; the
    model and seed clip by fingerprint). ``seed`` is the clip it continues (from
    ``params.seed_frame``): the clip on stage then, or the model's own when that did not fit (None
    for a take opened from a project whose clip is missing). ``number`` names it for people and
    files ("take 3"): takes are numbered from 1 in the order they were added, never reused.
    """

    id: int
    positions: np.ndarray
    recipe: Recipe
    status: str = "generating"  # generating | done | cancelled | error
    live: bool = False  # made by live regeneration (replaced by the next one)
    created: _dt.datetime = field(default_factory=_dt.datetime.now)
    seed: Motion | None = field(default=None, repr=False, compare=False)
    number: int = 0
    name: str = ""  # given by the choreographer; "" shows as "take <number>"
    favourite: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.recipe, GenerationParams):  # knobs alone (code written before recipes): no sources
            object.__setattr__(self, "recipe", Recipe(self.recipe))

    @property
    def params(self) -> GenerationParams:
        """The knobs it was made with (``recipe.params``)."""
        return self.recipe.params

    @property
    def title(self) -> str:
        """Its name, or ``take <number>``."""
        return self.name or f"take {self.number}"

    @property
    def frames_ready(self) -> int:
        """Frames made so far."""
        return int(self.positions.shape[1])

    @property
    def seed_frame(self) -> int | None:
        """Frame of the seed clip the take continues from (None: the model's built-in seed)."""
        return self.params.seed_frame


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

    def updated(self, ev: TrainEvent) -> TrainingProgress:
        """This progress with what a trainer event says (fields it does not carry are kept)."""
        return TrainingProgress(
            step=ev.step, total_steps=ev.total_steps if ev.total_steps is not None else self.total_steps,
            fraction=ev.fraction or self.fraction, eta_s=ev.eta_s if ev.kind == "progress" else self.eta_s,
            frames_per_s=ev.frames_per_s or self.frames_per_s,
            train_loss=ev.train_loss if ev.train_loss is not None else self.train_loss,
            val_loss=ev.val_loss if ev.val_loss is not None else self.val_loss,
            message=ev.message or self.message)

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

    def overfitting(self, rises: int = 3) -> bool:
        """True when validation loss has risen ``rises`` times in a row above its best while the training
        loss kept falling: the model is starting to memorise the training frames."""
        val, train = self.val, self.train
        if len(val) < rises + 1 or len(train) < 2:
            return False
        recent = val[-(rises + 1):]
        rising = all(b > a for a, b in itertools.pairwise(recent)) and recent[-1] > min(val)
        # the training loss over the same stretch of steps
        since = self.val_steps[-(rises + 1)]
        window = [t for s, t in zip(self.train_steps, train, strict=True) if s >= since] or list(train[-2:])
        return rising and len(window) >= 2 and window[-1] < window[0]


def clip_name(motion: Motion | None) -> str:
    """A short name for a clip: its file name, or what made it."""
    if motion is None:
        return ""
    src = str(motion.source or "clip")
    if src.startswith("synthetic-markers"):
        return "synthetic markers"
    if src.startswith("synthetic"):
        return "demo dancer"
    return Path(src).name or src


@dataclass(frozen=True)
class Fit:
    """Whether the loaded model can continue the clip on stage (both can be loaded whatever they are)."""

    model_joints: int | None = None  # joints of the body the model dances; None: no model
    clip_joints: int | None = None  # joints of the clip on stage; None: no clip
    clip_name: str = ""

    @staticmethod
    def joints_of(model: Any) -> int:
        """Joints of the body a dance model dances."""
        return model.codec.n_joints if model.codec is not None else model.config.n_joints

    @classmethod
    def between(cls, model: Any, clip: Motion | None) -> Fit:
        """How ``model`` (a DanceModel or None) fits ``clip`` (or None)."""
        return cls(None if model is None else cls.joints_of(model), None if clip is None else clip.n_joints,
                   clip_name(clip))

    @property
    def ok(self) -> bool:
        """True unless both are loaded and their bodies differ."""
        return self.model_joints is None or self.clip_joints is None or self.model_joints == self.clip_joints

    @property
    def message(self) -> str:
        """What does not fit and what to do about it ("" when it fits)."""
        if self.ok:
            return ""
        name = self.clip_name or "this clip"
        return (f"The model dances a body of {self.model_joints} joints; {name} has {self.clip_joints}. "
                f"New takes continue the model's own clip, not this one. To dance on from {name}, "
                f"train a model on it (Train tab) or load a model made for {self.clip_joints} joints.")


BY_VALUE = (int, float, str, bool, TrainingProgress, LossHistory, Fit)  # compared with ==, others by identity


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
    look_back = Signal(float)  # seconds
    rng = Signal(int)
    duration = Signal(float)  # seconds
    variations = Signal(int)
    pose_guard = Signal(float)
    anchor = Signal(float)
    seed_frame = Signal(object)  # int | None
    continue_from_playhead = Signal(bool)
    live = Signal(bool)
    lead_in = Signal(bool)  # show the take's lead-in (stage and videos)
    fit = Signal(Fit)  # does the model fit the clip on stage
    beat_align = Signal(bool)
    song = Signal(object)  # Song | None: the song takes dance to (engine.dance.music)
    playhead = Signal(int)
    keyframes = Signal(tuple)  # tuple[Keyframe, ...] in frame order (engine.dance.direction)
    keep = Signal(tuple)  # tuple[Keep, ...]: joints that follow a reference
    path = Signal(tuple)  # floor point per take frame, () for none
    part_temperatures = Signal(tuple)  # tuple[PartTemperature, ...]
    takes = Signal(tuple)  # tuple[Take, ...]
    current_take = Signal(int)  # index in takes, -1 for none
    next_take = Signal(int)  # number the next new take gets
    take_frames = Signal(TakeFrames)  # streamed frames of a take being generated
    generation_status = Signal(str)  # idle | generating
    training_status = Signal(str)  # idle | training | cancelling
    training_progress = Signal(TrainingProgress)
    loss_history = Signal(LossHistory)
    training_event = Signal(TrainEvent)  # every raw event of the trainer
    training_finished = Signal(TrainResult)
    error = Signal(WorkerError)  # .message: one line to show
