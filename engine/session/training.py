"""A session's training run: started on the worker, followed as progress and loss curves.

Everything a view needs arrives as state changes of the session: ``training_status``
(idle | training | cancelling), ``training_progress`` (one ``TrainingProgress`` value),
``loss_history`` (curves for the plot), and ``training_finished`` with the result.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from ..core.errors import ChoreoError
from ..core.training import TrainConfig, TrainEvent, TrainResult
from ..dance.model import DanceConfig, DanceModel
from ..dance.motion import Motion
from .state import LossHistory, TrainingProgress
from .store import StateStore
from .worker import Worker


class TrainingRun:
    """Starts, follows and cancels training for a session.

    ``on_model(model, checkpoint)`` receives the trained model when a run ends with steps made.
    Checkpoints go to a temporary folder kept for the session (``save_model`` copies from it).
    """

    def __init__(self, store: StateStore, worker: Worker,
                 on_model: Callable[[DanceModel, Path | None], None]) -> None:
        self.store, self.worker, self.on_model = store, worker, on_model
        self.last_result: TrainResult | None = None
        self._workdir: tempfile.TemporaryDirectory | None = None

    def _default_out(self) -> Path:
        if self._workdir is None:
            self._workdir = tempfile.TemporaryDirectory(prefix="choreo-session-")
        return Path(self._workdir.name) / "training.pt"

    def start(self, motions: Sequence[Motion], config: TrainConfig, model_config: DanceConfig | None,
              resume: str | Path | bool | None, out: str | Path | None,
              train_fn: Callable[..., TrainResult] | None) -> None:
        """Train on ``motions`` in the background; see :meth:`Session.start_training`."""
        if not motions:
            raise ChoreoError("load a motion before training")
        if self.store["training_status"] != "idle" or self.worker.training_active:
            raise ChoreoError("training is already running")
        out = Path(out) if out is not None else self._default_out()
        if resume is True:
            last = out.with_suffix(".last.pt")
            if not last.exists():
                raise ChoreoError("nothing to resume: no earlier training run in this session")
            resume = last
        self.store.assign("loss_history", LossHistory())
        self.store.assign("training_progress", TrainingProgress(message="starting"))
        self.store.assign("training_status", "training")
        try:
            self.worker.start_training(list(motions), model_config=model_config, config=config, out=out,
                                       resume=resume or None, train_fn=train_fn)
        except BaseException:
            self.store.assign("training_status", "idle")
            raise

    def cancel(self) -> None:
        """Stop after the current step; the model keeps its best weights so far."""
        if self.store["training_status"] == "training":
            self.store.assign("training_status", "cancelling")
            self.worker.cancel_training()

    def on_event(self, ev: TrainEvent) -> None:
        """A trainer event (worker thread) -> progress and loss curves."""
        store = self.store
        store.events.training_event.emit(ev)
        if ev.kind in ("progress", "validation", "start", "warning"):
            store.assign("training_progress", store["training_progress"].updated(ev))
        h: LossHistory = store["loss_history"]
        if ev.kind == "progress" and ev.train_loss is not None:
            store.assign("loss_history", replace(h, train_steps=(*h.train_steps, ev.step),
                                                 train=(*h.train, float(ev.train_loss))))
        elif ev.kind == "validation" and ev.val_loss is not None:
            store.assign("loss_history", replace(h, val_steps=(*h.val_steps, ev.step),
                                                 val=(*h.val, float(ev.val_loss))))

    def on_finished(self, result: TrainResult) -> None:
        """The run returned (budget, early stop or cancel): publish the model and the end state."""
        self.last_result = result
        p: TrainingProgress = self.store["training_progress"]
        done = result.stopped != "cancelled"
        self.store.assign("training_progress", replace(
            p, fraction=1.0 if done else p.fraction, eta_s=0.0, step=result.steps, message=result.stopped))
        if result.model is not None and result.steps > 0:
            ckpt = Path(result.checkpoint) if result.checkpoint else None
            self.on_model(result.model, ckpt if ckpt is not None and ckpt.exists() else None)
        self.store.assign("training_status", "idle")
        self.store.events.training_finished.emit(result)

    def on_error(self) -> None:
        """The run failed (the error itself is announced by the session)."""
        self.store.assign("training_status", "idle")

    def close(self) -> None:
        """Remove the session's temporary checkpoints."""
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None
