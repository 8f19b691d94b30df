"""``Session``: the one evented state that the Qt app and the Jupyter widgets both observe.

Views write through setters (``session.temperature = 0.7``) and react to
``session.events.<name>`` signals (psygnal ``SignalGroup``). A setter
validates (``ChoreoError`` for a bad value) and emits only when the value
really changes. Long work (training, generation) runs on a :class:`Worker`;
its results come back as state changes of the session.

Why an explicit ``SignalGroup`` and properties rather than psygnal's
``@evented`` dataclass: every setter needs validation that depends on other
state (a mixture index must exist in the loaded model, a seed frame in the
loaded clip), and a few state changes have side effects (live regeneration),
which plain evented fields cannot express.

Threads. Signals fire in the thread that made the change: setters and
methods in the caller's thread; training progress, streamed frames, new
takes' completion and errors in a worker thread. Values handed out are
immutable snapshots (tuples, frozen dataclasses), so reading the session from
any thread is safe. Emission never waits on a front end. Pick one of:

* **Qt** (slots must run in the GUI thread)::

      session.events.training_progress.connect(panel.show_progress, thread="main")
      # ... every connection with thread="main", then drain the queue from the Qt loop:
      timer = QTimer(); timer.timeout.connect(psygnal.emit_queued); timer.start(15)
      # (``psygnal.qt.start_emitting_from_queue()`` does the same but needs ``qtpy``)

  A queued connection only appends to a ``queue.Queue``; the worker never waits.
  Alternatively connect directly to a ``pyqtSignal.emit`` (Qt queues across threads).

* **Jupyter / ipywidgets**: direct connections work (ipykernel sends widget
  messages from any thread), but keep such slots quick. To run slots in the
  kernel's main thread instead, connect with ``thread="main"`` and call
  ``session.pump_in_asyncio()`` once: it drains the queue from the kernel's
  asyncio loop every ~30 ms.

* **Polling** (scripts, tests, any loop): ``q = session.event_queue()`` gives
  a ``queue.SimpleQueue`` of ``(signal_name, args)`` for every event.
"""

from __future__ import annotations

import asyncio
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import psygnal

from ..core.device import resolve_device
from ..core.errors import ChoreoError
from ..core.mdn import MixtureChoice
from ..core.training import TrainConfig, TrainEvent, TrainResult
from ..core.training import preload as preload_training
from ..dance.model import DanceConfig, DanceModel
from ..dance.motion import Motion, load_motion
from .state import (
    BY_VALUE,
    LossHistory,
    SessionEvents,
    Take,
    TakeFrames,
    TrainingProgress,
    check_int,
    check_number,
)
from .worker import FrameChunk, GenerationDone, GenerationParams, GenerationRequest, Worker, WorkerError

__all__ = ["LossHistory", "Session", "SessionEvents", "Take", "TakeFrames", "TrainingProgress"]

class _Param:
    """A session field: validated setter, change-only emission, live regeneration for generation knobs."""

    def __init__(self, check: Callable[[Session, Any], Any], regenerate: bool = True) -> None:
        self.check, self.regenerate = check, regenerate

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Session | None, owner: type) -> Any:
        return self if obj is None else obj._values[self.name]

    def __set__(self, obj: Session, value: Any) -> None:
        value = self.check(obj, value)
        regen = self.regenerate or (self.name == "playhead" and obj._values["continue_from_playhead"])
        if obj._assign(self.name, value) and regen and obj._values["live"]:
            obj._regenerate_live()


class Session:
    """Motions, model, generation knobs, takes, playhead and training state, with change events.

    ``device``: "auto" (cuda > mps > cpu), "cpu", "cuda" or "mps"; where models are loaded
    and trained. ``worker``: share or inject a :class:`Worker` (default: a new one).
    Close with :meth:`close` (or use ``with Session() as s:``).
    """

    temperature = _Param(lambda s, v: check_number("temperature", v, 0.0, 10.0))
    sigma_temperature = _Param(lambda s, v: check_number("sigma temperature", v, 0.0, 10.0))
    mixture = _Param(lambda s, v: s._check_mixture(v))
    look_back = _Param(lambda s, v: check_int("look-back", v, 1, 10_000))
    rng_seed = _Param(lambda s, v: check_int("seed", v, 0, 2**63 - 1))
    frames = _Param(lambda s, v: check_int("frames", v, 1, 1_000_000))
    variations = _Param(lambda s, v: check_int("variations", v, 1, 64))
    seed_frame = _Param(lambda s, v: s._check_seed_frame(v))
    continue_from_playhead = _Param(lambda s, v: bool(v))
    live = _Param(lambda s, v: bool(v), regenerate=False)
    playhead = _Param(lambda s, v: s._check_playhead(v), regenerate=False)

    def __init__(self, device: str = "auto", worker: Worker | None = None) -> None:
        self.events = SessionEvents()
        self._lock = threading.RLock()
        self._values: dict[str, Any] = {
            "temperature": 1.0, "sigma_temperature": 1.0, "mixture": "auto", "look_back": 32,
            "rng_seed": 0, "frames": 300, "variations": 1, "seed_frame": None,
            "continue_from_playhead": False, "live": False, "playhead": 0,
            "motions": (), "motion": None, "skeleton": np.zeros((0, 2), np.int64), "model": None,
            "takes": (), "current_take": -1, "training_status": "idle", "generation_status": "idle",
            "training_progress": TrainingProgress(), "loss_history": LossHistory(),
        }
        self._device = str(resolve_device(device))
        self.last_error: WorkerError | None = None
        self.last_training: TrainResult | None = None
        self.model_checkpoint: Path | None = None  # file the current model can be saved from
        self._workdir: tempfile.TemporaryDirectory | None = None
        self._owns_worker = worker is None
        self.worker = worker or Worker(device=self._device)
        self.worker.training.connect(self._on_train_event)
        self.worker.training_finished.connect(self._on_train_finished)
        self.worker.frames.connect(self._on_frames)
        self.worker.generation_finished.connect(self._on_generation_done)
        self.worker.error.connect(self._on_error)
        self._closed = False
        preload_training()

    # -- state plumbing --------------------------------------------------------------

    def _assign(self, name: str, value: Any) -> bool:
        """Store ``value``; emit ``events.<name>`` (outside the lock) if it changed. True if changed."""
        with self._lock:
            old = self._values[name]
            if isinstance(old, np.ndarray) or isinstance(value, np.ndarray):
                same = old is value or np.array_equal(old, value)
            elif isinstance(old, BY_VALUE) and type(old) is type(value):
                same = old == value
            else:  # motions, models, takes: a new object is a change
                same = old is value
            if same:
                return False
            self._values[name] = value
        getattr(self.events, name).emit(value)
        return True

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- read-only state ---------------------------------------------------------------

    motions = property(lambda self: self._values["motions"], doc="All loaded clips (tuple of Motion).")
    motion = property(lambda self: self._values["motion"], doc="The clip shown and seeded from, or None.")
    skeleton = property(lambda self: self._values["skeleton"], doc="Bones (n, 2) of the shown clip.")
    model = property(lambda self: self._values["model"], doc="The DanceModel generating takes, or None.")
    takes = property(lambda self: self._values["takes"], doc="Takes generated so far (tuple of Take).")
    current_take = property(lambda self: self._values["current_take"], doc="Shown take, -1: none.")
    training_status = property(lambda self: self._values["training_status"], doc="idle|training|cancelling")
    generation_status = property(lambda self: self._values["generation_status"], doc="idle | generating")
    training_progress = property(lambda self: self._values["training_progress"], doc="TrainingProgress")
    loss_history = property(lambda self: self._values["loss_history"], doc="LossHistory of the current run")

    @property
    def model_config(self) -> DanceConfig | None:
        """Config of the loaded model."""
        m = self.model
        return None if m is None else m.config

    @property
    def device(self) -> str:
        """Where models are loaded and trained ("cpu", "cuda", "mps")."""
        return self._device

    @device.setter
    def device(self, value: str) -> None:
        dev = str(resolve_device(value))
        if dev != self._device:
            self._device = dev
            self.worker.device = dev
            m = self.model
            if m is not None:
                self._assign("model", m.to(dev))
            self.events.device.emit(dev)

    @property
    def params(self) -> GenerationParams:
        """The current generation knobs as one immutable value."""
        v = self._values
        return GenerationParams(v["temperature"], v["sigma_temperature"], v["mixture"], v["look_back"],
                                v["rng_seed"], v["frames"], v["variations"])

    # -- validation ----------------------------------------------------------------

    def _check_mixture(self, value: Any) -> MixtureChoice:
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            m = self.model
            k = m.config.mixtures if m is not None else None
            if value < 0 or (k is not None and value >= k):
                raise ChoreoError(f"mixture component {value} is out of range"
                                  + (f": this model has {k} (0..{k - 1})" if k else ""))
            return int(value)
        if value in ("auto", "argmax"):
            return value
        raise ChoreoError(f"mixture must be auto, argmax or a component index, got {value!r}")

    def _seed_clip(self) -> Motion | None:
        """The clip generation continues: the shown motion if it fits the model, else the model's own."""
        m, model = self.motion, self.model
        if m is not None and (model is None or model.codec is None or m.n_joints == model.codec.n_joints):
            return m
        return None if model is None else model.seed

    def _check_seed_frame(self, value: Any) -> int | None:
        if value is None:
            return None
        v = check_int("seed frame", value, 2)
        clip = self._seed_clip()
        if clip is not None and v > clip.n_frames:
            raise ChoreoError(f"seed frame {v} is outside the clip (2..{clip.n_frames})")
        return v

    def _check_playhead(self, value: Any) -> int:
        v = check_int("playhead", value, 0)
        m = self.motion
        if m is not None and v >= m.n_frames:
            raise ChoreoError(f"playhead {v} is past the end of the clip ({m.n_frames} frames)")
        return v

    # -- loading -------------------------------------------------------------------

    def load(self, source: str | Path | Motion | Sequence[str | Path | Motion], layout: str = "auto",
             fps: float | None = None) -> Motion:
        """Load one clip (path or Motion) or several; the first becomes the shown clip. Raises ChoreoError."""
        items = [source] if isinstance(source, (str, Path, Motion)) else list(source)
        if not items:
            raise ChoreoError("nothing to load")
        motions = tuple(m if isinstance(m, Motion) else load_motion(m, layout=layout, fps=fps) for m in items)
        if len({m.n_joints for m in motions}) > 1:
            raise ChoreoError("clips have different joint counts; load one skeleton at a time")
        first = motions[0]
        bones = first.bones
        if len(bones) == 0:
            from ..dance.skeleton import motion_skeleton

            bones = np.asarray(motion_skeleton(first)[0], np.int64)
        # everything a view reads about the clip is in place before "motion" fires
        self._assign("motions", motions)
        self._assign("skeleton", bones)
        self._assign("seed_frame", None)
        self._assign("playhead", min(self.playhead, first.n_frames - 1))
        self._assign("motion", first)
        return first

    def load_model(self, path: str | Path | DanceModel) -> DanceModel:
        """Load a checkpoint (or take a DanceModel) as the generating model. Raises ChoreoError."""
        model = path if isinstance(path, DanceModel) else DanceModel.load(path, device=self._device)
        self._set_model(model, None if isinstance(path, DanceModel) else Path(path))
        return model

    def _set_model(self, model: DanceModel, checkpoint: Path | None) -> None:
        self.model_checkpoint = checkpoint
        mix = self.mixture
        if isinstance(mix, int) and mix >= model.config.mixtures:
            self._assign("mixture", "auto")
        self._assign("look_back", model.config.default_look_back)  # about a second at the data's rate
        if self._assign("model", model) and self.live:
            self._regenerate_live()

    def load_demo(self) -> None:
        """The synthetic dancer, and the shipped demo model when ``assets/demo_dance.pt`` exists."""
        from ..core.assets import asset_path
        from ..dance.synthetic import synthetic_dancer

        self.load(synthetic_dancer())
        try:
            path = asset_path("demo_dance.pt")
        except ChoreoError:
            return
        self.load_model(path)

    # -- training ------------------------------------------------------------------

    def start_training(self, minutes: float | None = None, epochs: float | None = None, *,
                       config: TrainConfig | None = None, model_config: DanceConfig | None = None,
                       resume: str | Path | bool | None = None, out: str | Path | None = None,
                       train_fn: Callable[..., TrainResult] | None = None) -> None:
        """Train on the loaded clips in the background (progress arrives as events).

        ``minutes``/``epochs`` override ``config``'s budget. ``model_config`` defaults to the
        loaded model's shape, else ``DanceConfig()``. ``resume=True`` continues this session's
        last run (a path: that checkpoint). Checkpoints go to ``out`` (default: a session temp
        file, kept for :meth:`save_model`). Raises ChoreoError when nothing is loaded or a
        run is already going.
        """
        if not self.motions:
            raise ChoreoError("load a motion before training")
        if self.training_status != "idle" or self.worker.training_active:
            raise ChoreoError("training is already running")
        config = config or TrainConfig()
        if minutes is not None or epochs is not None:
            config = replace(config, minutes=minutes, epochs=epochs)
        if config.device == "auto":
            config = replace(config, device=self._device)
        if model_config is None and self.model is not None and self.model.codec is not None \
                and self.model.codec.n_joints == self.motions[0].n_joints:
            model_config = self.model.config
        if out is None:
            if self._workdir is None:
                self._workdir = tempfile.TemporaryDirectory(prefix="choreo-session-")
            out = Path(self._workdir.name) / "training.pt"
        out = Path(out)
        if resume is True:
            last = out.with_suffix(".last.pt")
            if not last.exists():
                raise ChoreoError("nothing to resume: no earlier training run in this session")
            resume = last
        self._train_out = out
        self._assign("loss_history", LossHistory())
        self._assign("training_progress", TrainingProgress(message="starting"))
        self._assign("training_status", "training")
        try:
            self.worker.start_training(list(self.motions), model_config=model_config, config=config, out=out,
                                       resume=resume or None, train_fn=train_fn)
        except BaseException:
            self._assign("training_status", "idle")
            raise

    def cancel_training(self) -> None:
        """Stop training after the current step; the model keeps its best weights so far."""
        if self.training_status == "training":
            self._assign("training_status", "cancelling")
            self.worker.cancel_training()

    def _on_train_event(self, ev: TrainEvent) -> None:
        self.events.training_event.emit(ev)
        if ev.kind in ("progress", "validation", "start", "warning"):
            old = self.training_progress
            self._assign("training_progress", TrainingProgress(
                step=ev.step, total_steps=ev.total_steps if ev.total_steps is not None else old.total_steps,
                fraction=ev.fraction or old.fraction, eta_s=ev.eta_s if ev.kind == "progress" else old.eta_s,
                frames_per_s=ev.frames_per_s or old.frames_per_s,
                train_loss=ev.train_loss if ev.train_loss is not None else old.train_loss,
                val_loss=ev.val_loss if ev.val_loss is not None else old.val_loss,
                message=ev.message or old.message))
        h = self.loss_history
        if ev.kind == "progress" and ev.train_loss is not None:
            self._assign("loss_history", replace(h, train_steps=(*h.train_steps, ev.step),
                                                 train=(*h.train, float(ev.train_loss))))
        elif ev.kind == "validation" and ev.val_loss is not None:
            self._assign("loss_history", replace(h, val_steps=(*h.val_steps, ev.step),
                                                 val=(*h.val, float(ev.val_loss))))

    def _on_train_finished(self, result: TrainResult) -> None:
        self.last_training = result
        p = self.training_progress
        self._assign("training_progress", replace(p, fraction=1.0, eta_s=0.0, step=result.steps,
                                                  message=result.stopped))
        if result.model is not None and result.steps > 0:
            ckpt = Path(result.checkpoint) if result.checkpoint else None
            self._set_model(result.model, ckpt if ckpt is not None and ckpt.exists() else None)
        self._assign("training_status", "idle")
        self.events.training_finished.emit(result)

    # -- generation ----------------------------------------------------------------

    def generate(self) -> Take:
        """Start a take with the current knobs; frames stream in as ``take_frames`` events.

        Supersedes a take still being generated. In live mode the new take replaces the
        previous live take instead of adding one. Raises ChoreoError without a model.
        """
        model = self.model
        if model is None:
            raise ChoreoError("no model loaded: train one or load a checkpoint first")
        params = self.params
        seed = self._seed_clip()
        seed_frame = self.seed_frame
        if self.continue_from_playhead and seed is not None and seed is self.motion:
            seed_frame = max(2, self.playhead)
        if seed is not None and seed_frame is not None:
            seed_frame = min(seed_frame, seed.n_frames)
        n_joints = model.codec.n_joints if model.codec is not None else model.config.n_joints
        live = bool(self.live)
        rid = self.worker.reserve_id()
        take = Take(rid, np.zeros((params.variations, params.frames, n_joints, 3), np.float32), params,
                    seed_frame, live=live)
        with self._lock:
            takes = list(self.takes)
            for old in takes:
                if old.status == "generating":
                    old.status = "cancelled"
            cur = self.current_take
            if live and 0 <= cur < len(takes) and takes[cur].live:
                takes[cur] = take
                index = cur
            else:
                takes.append(take)
                index = len(takes) - 1
        self._assign("takes", tuple(takes))  # before the worker can stream into it
        self._values["current_take"] = -2  # force the emission: the take at this index is new
        self._assign("current_take", index)
        self._assign("generation_status", "generating")
        self.worker.generate(GenerationRequest(model, params, seed, seed_frame, id=rid))
        return take

    def _regenerate_live(self) -> None:
        if self.model is not None:
            self.generate()

    def cancel_generation(self) -> None:
        """Stop the take being generated (it keeps the frames made so far)."""
        self.worker.cancel_generation()

    def _take_by_id(self, take_id: int) -> tuple[int, Take | None]:
        for i, t in enumerate(self.takes):
            if t.id == take_id:
                return i, t
        return -1, None

    def _on_frames(self, chunk: FrameChunk) -> None:
        index, take = self._take_by_id(chunk.request_id)
        if take is None:
            return
        take.positions[:, chunk.start:chunk.stop] = chunk.frames
        take.frames_ready = chunk.stop
        self.events.take_frames.emit(
            TakeFrames(take.id, index, chunk.start, chunk.frames, chunk.params, chunk.t))

    def _on_generation_done(self, done: GenerationDone) -> None:
        _, take = self._take_by_id(done.request_id)
        if take is not None:
            take.status = "cancelled" if done.cancelled else "done"
        if self.worker.is_latest(done.request_id):
            self._assign("generation_status", "idle")

    def select_take(self, index: int) -> Take:
        """Show take ``index`` (negative counts from the end). Raises ChoreoError when out of range."""
        takes = self.takes
        i = check_int("take", index, -len(takes), len(takes) - 1) if takes else None
        if i is None:
            raise ChoreoError("no takes yet")
        i %= len(takes)
        self._assign("current_take", i)
        return takes[i]

    # -- errors --------------------------------------------------------------------

    def _on_error(self, err: WorkerError) -> None:
        self.last_error = err
        if err.job == "training":
            self._assign("training_status", "idle")
        else:
            _, take = self._take_by_id(err.request_id if err.request_id is not None else -1)
            if take is not None:
                take.status = "error"
            if self.worker.is_latest(err.request_id):
                self._assign("generation_status", "idle")
        self.events.error.emit(err)

    # -- files -----------------------------------------------------------------------

    def take_motion(self, index: int | None = None, variation: int = 0) -> Motion:
        """A take (default: the current one) as a Motion with the source's fps, names and bones."""
        takes = self.takes
        i = self.current_take if index is None else index
        if not takes or not -len(takes) <= i < len(takes):
            raise ChoreoError("no take to export: generate one first")
        take = takes[i]
        ref = self._seed_clip()
        pos = take.positions[variation, : take.frames_ready]
        return Motion(pos, source=f"take {take.id}") if ref is None else ref.like(pos, f"take {take.id}")

    def export(self, path: str | Path, *, what: str = "take", overwrite: bool = False, **options: Any) -> Any:
        """Write the current take (all its variations; ``what="motion"``: the shown clip) to ``path``.

        Options go to ``engine.dance.export.export_motion`` (layout, fps, size, ghost...).
        """
        from ..dance.export import export_motion

        if what == "motion":
            if self.motion is None:
                raise ChoreoError("no motion loaded")
            return export_motion(self.motion, path, overwrite=overwrite, **options)
        if what != "take":
            raise ChoreoError(f"export what= must be take or motion, got {what!r}")
        takes = self.takes
        if not takes or self.current_take < 0:
            raise ChoreoError("no take to export: generate one first")
        take = takes[self.current_take]
        motions = [self.take_motion(self.current_take, v) for v in range(take.positions.shape[0])]
        what_out = motions if len(motions) > 1 else motions[0]
        return export_motion(what_out, path, overwrite=overwrite, **options)

    def save_model(self, path: str | Path, overwrite: bool = True) -> Path:
        """Copy the current model's checkpoint (weights, optimizer, configs, statistics) to ``path``."""
        from ..core.fileio import atomic_path

        if self.model is None:
            raise ChoreoError("no model to save")
        src = self.model_checkpoint
        if src is None or not src.exists():
            raise ChoreoError("this model has no checkpoint to save (it was not trained or loaded here)")
        path = Path(path)
        if path.exists() and not overwrite:
            raise ChoreoError("exists (pass overwrite=True to replace it)", path)
        with atomic_path(path, overwrite) as tmp:
            shutil.copyfile(src, tmp)
        return path

    # -- delivery helpers and shutdown ----------------------------------------------

    def event_queue(self) -> queue.SimpleQueue:
        """A queue receiving ``(signal_name, args)`` for every session event (for polling front ends)."""
        q: queue.SimpleQueue = queue.SimpleQueue()

        def put(info: Any) -> None:
            q.put((info.signal.name, info.args))

        self.events.all.connect(put)
        self._keep_alive = [*getattr(self, "_keep_alive", []), put]
        return q

    def pump_in_asyncio(self, interval: float = 0.03) -> asyncio.Task:
        """Drain psygnal's ``thread="main"`` queue from the running asyncio loop (Jupyter kernels)."""
        async def pump() -> None:
            while not self._closed:
                psygnal.emit_queued()
                await asyncio.sleep(interval)

        return asyncio.get_event_loop().create_task(pump())

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until training and generation are finished (scripts, tests). False on timeout."""
        deadline = time.monotonic() + timeout
        ok = self.worker.wait_training(timeout)
        ok = self.worker.wait_generation(max(0.0, deadline - time.monotonic())) and ok
        return ok

    def close(self) -> None:
        """Cancel work, join the worker's threads, remove temporary files (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._owns_worker:
            self.worker.shutdown()
        for sig, slot in ((self.worker.training, self._on_train_event),
                          (self.worker.training_finished, self._on_train_finished),
                          (self.worker.frames, self._on_frames),
                          (self.worker.generation_finished, self._on_generation_done),
                          (self.worker.error, self._on_error)):
            sig.disconnect(slot, missing_ok=True)
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

