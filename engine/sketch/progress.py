"""Watching a sketch model learn: a few drawings sampled while it trains, and how many of them are finished.

A loss curve does not say when a Sketch-RNN starts to *draw*: the failure people meet on long
drawings is a model whose samples never end (one line running to the point limit). So training
samples a few drawings every ``every_s`` seconds -- from the weights as they are between two steps,
on the training thread, always with the same seeds, so successive grids are comparable -- and
reports them with the share that is finished (the pen lifted at the end of a drawing shorter than
the longest training drawing, the bar of ``sketch_quality``, and not a stub: at least half as long
as the shortest 5 % of the training drawings -- an untrained decoder often ends after a point).
Front ends show the share in the progress bar and the drawings as a live grid.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..core.training import TrainEvent
from .model import SketchRNN
from .sampling import sample

SAMPLE_EVERY_S = 20.0  # seconds of training between two sample grids
SAMPLE_COUNT = 8  # drawings per grid
SAMPLE_TEMPERATURE = 0.4  # the temperature the quality bar is judged at


@dataclass
class SketchSamples(TrainEvent):
    """``kind="samples"``: drawings made by the model at ``step`` (stroke-3, data units)."""

    sketches: list[np.ndarray] = field(default_factory=list)
    finished: list[bool] = field(default_factory=list)  # per drawing: ended, pen lifted, not over-long

    @property
    def finished_share(self) -> float:
        """Share of the drawings that are finished, 0..1."""
        return float(np.mean(self.finished)) if self.finished else 0.0


def finished_flags(sketches: list[np.ndarray], ended: list[bool], longest: int, shortest: int = 1) -> list[bool]:
    """Per drawing: the model ended it, with the pen lifted after the last point, after at least
    ``shortest`` and fewer than ``longest`` points (the longest training drawing)."""
    return [bool(e) and shortest <= len(s) < longest and int(s[-1, 2]) == 1
            for s, e in zip(sketches, ended, strict=True)]


class SampleMonitor:
    """An ``on_event`` wrapper for ``fit``: passes every event on, and every ``every_s`` seconds of
    progress samples ``n`` drawings and emits a :class:`SketchSamples` (and a last one from the best
    weights just before "done", when a grid was shown before)."""

    def __init__(self, model: SketchRNN, emit: Callable[[TrainEvent], None], every_s: float = SAMPLE_EVERY_S,
                 n: int = SAMPLE_COUNT, temperature: float = SAMPLE_TEMPERATURE, rng: int = 0,
                 shortest: int = 1) -> None:
        self.model, self.emit, self.every_s, self.n = model, emit, every_s, n
        self.shortest = shortest  # fewer points than this is a stub, not a finished drawing
        self.temperature, self.rng = temperature, rng
        self.last: SketchSamples | None = None
        self._next = time.perf_counter() + every_s

    def __call__(self, ev: TrainEvent) -> None:
        on = self.n > 0 and self.every_s > 0
        if on and ev.kind == "done" and self.last is not None:  # the final grid (best weights) before "done"
            self.sample_now(ev)
        self.emit(ev)
        if on and ev.kind == "progress" and time.perf_counter() >= self._next:
            self.sample_now(ev)
            self._next = time.perf_counter() + self.every_s

    def sample_now(self, ev: TrainEvent) -> SketchSamples:
        """Sample the grid from the model's current weights and emit it."""
        model = self.model
        was_training = model.training
        longest = int(model.max_len)
        try:
            sketches, ended = sample(model, self.n, temperature=self.temperature, rng=self.rng,
                                     max_points=longest + 1, return_ended=True)
        finally:
            model.train(was_training)
        out = SketchSamples("samples", step=ev.step, fraction=ev.fraction, train_loss=ev.train_loss,
                            val_loss=ev.val_loss, elapsed_s=ev.elapsed_s, sketches=sketches,
                            finished=finished_flags(sketches, ended, longest, self.shortest))
        out.message = f"{sum(out.finished)}/{len(out.finished)} finished"
        self.last = out
        self.emit(out)
        return out
