"""Background threads for training and generation, reporting through psygnal signals.

``Worker`` runs at most one training job (its own thread, started per job) and
one generation job at a time (a long-lived thread; a new request supersedes
the running one, which stops cooperatively between two frames). Everything it
has to say is emitted as a psygnal signal *from the worker thread*:

==================== ======================= ===========================================
signal               payload                 when
==================== ======================= ===========================================
``training``         :class:`TrainEvent`     every event of ``engine.train`` (start,
                                             progress ~4/s, validation, checkpoint,
                                             warning, done)
``training_finished`` :class:`TrainResult`   a training job returned (budget, early stop,
                                             cancelled); not after an error
``frames``           :class:`FrameChunk`     new frames of the running generation: the first
                                             frame alone, as soon as it exists, then chunks
``generation_finished`` :class:`GenerationDone` a generation ended (complete or superseded)
``error``            :class:`WorkerError`    a job failed; one-line ``message`` to show
==================== ======================= ===========================================

Emitting never waits for a front end: a slot connected *directly* runs in the
worker thread (keep it short: copy, enqueue, return), a slot connected with
``thread=`` is only queued (psygnal's ``QueuedCallback``) and runs when that
thread calls ``psygnal.emit_queued()``. Front ends normally observe
:class:`engine.session.Session`, which re-emits all of this as state changes;
see its module docstring for the Qt and Jupyter recipes.

Threads: training runs with ``torch.set_num_threads(train_threads)`` (the
intra-op thread count is per calling thread with PyTorch's OpenMP backend) and
a raised nice value on Linux, so the UI thread and live generation keep a
core's worth of CPU on a 2-core laptop; generation runs single-threaded (one
frame of the default model is a few small matrix products). The worker also
lowers the interpreter's GIL switch interval to ``switch_interval`` (1 ms; it is
process-wide, 5 ms by default): a thread waiting for the GIL — the UI thread —
then waits at most about that long while generation runs Python code. Pass
``switch_interval=None`` to leave it alone.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from psygnal import Signal

from ..core.errors import ChoreoError
from ..core.mdn import MixtureChoice
from ..core.training import TrainConfig, TrainEvent, TrainResult
from ..dance.direction import Direction, Keep, Keyframe, PartTemperature
from ..dance.model import DanceConfig, DanceModel
from ..dance.motion import Motion
from ..dance.music import Song

if TYPE_CHECKING:
    from ..dance.generation import DanceGenerator

log = logging.getLogger(__name__)

TRAIN_NICE = 10  # niceness added to the training thread (Linux): the UI and live generation come first
CHUNK_FRAMES = 8  # frames per streamed chunk after the first frame
CHUNK_SECONDS = 0.05  # ... or fewer, when producing them takes longer than this
GEN_THREADS = 1  # PyTorch intra-op threads for generation: a frame is small (regeneration uses the same)


@dataclass(frozen=True)
class GenerationParams:
    """Every generation knob of one take, resolved to frames of the seed clip (with the model and the
    seed clip they make the take's :class:`~engine.session.recipe.Recipe`)."""

    temperature: float = 1.0
    sigma_temperature: float = 1.0
    mixture: MixtureChoice = "auto"
    look_back: int = 32  # frames of the seed clip that prime the model
    rng: int = 0  # random seed
    frames: int = 300  # frames to generate
    variations: int = 1
    seed_frame: int | None = None  # frame of the seed clip it continues from; None: the generator's default
    pose_guard: float | None = None  # radius of the pose guard in held-out pose distances (None: 0.5; 0 = off)
    anchor: float | None = None  # pull towards the anchor head's pose per step (None: the model's)
    song: str | None = None  # the song the take dances to (path as loaded); None: no song
    song_sha256: str | None = None  # the song file's SHA-256, to know it is the same song when regenerating
    beat_align: bool = False  # the take was re-timed onto the song's beats (engine.dance.warp)
    rigid: bool = True  # hold bone lengths at the data's lengths
    # directing the dancer (engine.dance.direction): plain, JSON-able, empty = the model alone decides
    keyframes: tuple[Keyframe, ...] = ()  # poses (centre-relative) to be in at frames of the take
    keep: tuple[Keep, ...] = ()  # joints that follow a reference motion ("" = the seed clip, "take:ID" = a take)
    path: tuple[tuple[float, float], ...] = ()  # floor point per take frame for the body's centre (floor axes)
    part_temperatures: tuple[PartTemperature, ...] = ()  # temperatures of parts' movement

    @property
    def direction(self) -> Direction:
        """The directing part of the recipe as one ``Direction``."""
        return Direction(self.keyframes, self.keep, self.path, self.part_temperatures)


def generator_for(model: DanceModel, params: GenerationParams, seed: Motion | np.ndarray | None,
                  references: Mapping[str, np.ndarray] | None = None) -> DanceGenerator:
    """The ``DanceGenerator`` a recipe describes (the worker and regeneration build it the same way)."""
    from ..dance.generation import DanceGenerator

    p = params
    return DanceGenerator(model, seed=seed, seed_frame=p.seed_frame, look_back=p.look_back,
                          temperature=p.temperature, sigma_temperature=p.sigma_temperature,
                          mixture=p.mixture, rng=p.rng, variations=p.variations, rigid=p.rigid,
                          pose_guard=p.pose_guard, anchor=p.anchor,
                          direction=p.direction, references=references)


@dataclass(frozen=True)
class GenerationRequest:
    """A generation job: model, seed clip and recipe. ``id`` is assigned by the worker."""

    model: DanceModel
    params: GenerationParams
    seed: Motion | np.ndarray | None = None  # None: the stretch of training data inside the model
    id: int = 0
    song: Song | None = None  # with params.beat_align: the take is re-timed onto its beats
    references: Mapping[str, np.ndarray] = field(default_factory=dict)  # motions params.keep names as sources


@dataclass(frozen=True)
class FrameChunk:
    """Frames ``start .. stop`` of request ``request_id``; ``frames`` is ``(variations, n, joints, 3)``."""

    request_id: int
    start: int
    frames: np.ndarray
    total: int  # frames the request asked for
    params: GenerationParams
    t: float = field(default_factory=time.perf_counter)  # when the chunk was emitted

    @property
    def stop(self) -> int:
        """Index after the last frame of the chunk."""
        return self.start + self.frames.shape[1]


@dataclass(frozen=True)
class GenerationDone:
    """End of a generation: ``positions`` ``(variations, frames_done, joints, 3)``."""

    request_id: int
    positions: np.ndarray
    cancelled: bool  # superseded, cancelled or shut down before the last frame
    seconds: float


@dataclass(frozen=True)
class WorkerError:
    """A failed job. ``message`` is one line for the user; ``details`` the traceback for logs."""

    job: str  # "training" | "generation"
    message: str
    details: str = ""
    request_id: int | None = None


def error_message(err: BaseException) -> str:
    """One line for the user: the ChoreoError text, else ``Unexpected error: Type: text``."""
    if isinstance(err, ChoreoError):
        return str(err).splitlines()[0] if str(err) else type(err).__name__
    text = str(err).strip().splitlines()
    return f"Unexpected error: {type(err).__name__}" + (f": {text[0][:200]}" if text else "")


def _lower_priority(increment: int) -> None:
    """Raise this thread's nice value (Linux: per thread); a no-op elsewhere."""
    if increment <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + increment)
    except (OSError, AttributeError):
        pass


class Worker:
    """Runs training and generation off the calling thread; see the module docstring for the signals.

    device:        where newly trained models go ("auto": cuda > mps > cpu); generation runs
                   where its model lives.
    train_threads: PyTorch intra-op threads for training (default: all cores but one, at least 1).
    gen_threads:   intra-op threads for generation (default 1: a frame is small).
    switch_interval: GIL switch interval set while the worker exists (None: unchanged).
    """

    training = Signal(TrainEvent)
    training_finished = Signal(TrainResult)
    frames = Signal(FrameChunk)
    generation_finished = Signal(GenerationDone)
    error = Signal(WorkerError)

    def __init__(self, device: str = "auto", train_threads: int | None = None, gen_threads: int = GEN_THREADS,
                 switch_interval: float | None = 0.001) -> None:
        self.device = device
        if switch_interval is not None and sys.getswitchinterval() > switch_interval:
            sys.setswitchinterval(switch_interval)
        self.train_threads = train_threads or max(1, (os.cpu_count() or 2) - 1)
        self.gen_threads = gen_threads
        self._lock = threading.Lock()
        self._closing = False
        self._train_thread: threading.Thread | None = None
        self._train_cancel = threading.Event()
        self._gen_cond = threading.Condition(self._lock)
        self._gen_pending: GenerationRequest | None = None
        self._gen_latest = 0  # id of the newest request; a running job with another id stops
        self._next_id = 0
        self._gen_running = False
        self._gen_thread: threading.Thread | None = None

    # -- training ------------------------------------------------------------------

    @property
    def training_active(self) -> bool:
        """True while a training job's thread is alive."""
        t = self._train_thread
        return t is not None and t.is_alive()

    def start_training(
        self,
        data: Motion | Sequence[Motion] | Any,
        *,
        model_config: DanceConfig | None = None,
        config: TrainConfig | None = None,
        out: str | os.PathLike | None = None,
        resume: str | os.PathLike | None = None,
        train_fn: Callable[..., TrainResult] | None = None,
    ) -> None:
        """Start ``engine.train`` on a new thread; raises ChoreoError if a job is already running.

        ``train_fn`` replaces ``engine.train`` (tests, other model kinds).
        """
        with self._lock:
            if self._closing:
                raise ChoreoError("the worker is shut down")
            if self.training_active:
                raise ChoreoError("a training job is already running; cancel it first")
            self._train_cancel = threading.Event()
            cancel = self._train_cancel
            config = config or TrainConfig()
            if config.device == "auto" and self.device != "auto":
                config = replace(config, device=self.device)
            if train_fn is None:
                from ..dance.task import train as train_fn
            kwargs = dict(out=out, model_config=model_config, config=config, cancel=cancel, resume=resume)
            self._train_thread = threading.Thread(
                target=self._run_training, args=(train_fn, data, kwargs), name="choreo-train", daemon=True)
            self._train_thread.start()

    def cancel_training(self) -> None:
        """Ask the running training job to stop after its current step (it keeps the best weights)."""
        self._train_cancel.set()

    def wait_training(self, timeout: float | None = None) -> bool:
        """Block until the training job ends; False on timeout. (Scripts and tests; not for UI threads.)"""
        t = self._train_thread
        if t is not None:
            t.join(timeout)
            return not t.is_alive()
        return True

    def _run_training(self, train_fn: Callable[..., TrainResult], data: Any, kwargs: dict) -> None:
        _lower_priority(TRAIN_NICE)
        torch.set_num_threads(self.train_threads)
        try:
            result = train_fn(data, on_event=self.training.emit, **kwargs)
        except BaseException as err:  # every failure becomes an error event
            self._report("training", err)
            return
        self.training_finished.emit(result)

    # -- generation ----------------------------------------------------------------

    def is_latest(self, request_id: int | None) -> bool:
        """True when no request newer than ``request_id`` is waiting or running."""
        return self._gen_pending is None and self._gen_latest in (request_id, 0)

    def reserve_id(self) -> int:
        """A fresh request id for ``GenerationRequest.id`` (to expect results before submitting)."""
        with self._lock:
            self._next_id += 1
            return self._next_id

    def generate(self, request: GenerationRequest) -> int:
        """Queue ``request`` (superseding any running or waiting one); returns its id at once.

        A request with ``id=0`` gets a fresh id; a reserved one (:meth:`reserve_id`) keeps it.
        """
        rid = request.id or self.reserve_id()
        with self._gen_cond:
            if self._closing:
                raise ChoreoError("the worker is shut down")
            self._gen_latest = rid
            self._gen_pending = replace(request, id=rid)
            if self._gen_thread is None:
                self._gen_thread = threading.Thread(target=self._gen_loop, name="choreo-generate",
                                                    daemon=True)
                self._gen_thread.start()
            self._gen_cond.notify()
        return rid

    def cancel_generation(self) -> None:
        """Stop the running generation after its current frame and drop a waiting one."""
        with self._gen_cond:
            self._gen_latest = 0  # no request has id 0: the running one stops
            self._gen_pending = None

    def wait_generation(self, timeout: float | None = None) -> bool:
        """Block until no generation runs or waits; False on timeout. (Scripts and tests.)"""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._gen_cond:
            while self._gen_running or self._gen_pending is not None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._gen_cond.wait(left)
        return True

    def _gen_loop(self) -> None:
        torch.set_num_threads(self.gen_threads)
        while True:
            with self._gen_cond:
                while self._gen_pending is None and not self._closing:
                    self._gen_cond.wait()
                if self._closing:
                    return
                request, self._gen_pending = self._gen_pending, None
                self._gen_running = True
            try:
                self._run_generation(request)
            except BaseException as err:
                self._report("generation", err, request.id)
            finally:
                with self._gen_cond:
                    self._gen_running = False
                    self._gen_cond.notify_all()

    def _superseded(self, rid: int) -> bool:
        return self._gen_latest != rid or self._closing

    def _run_generation(self, req: GenerationRequest) -> None:
        t0 = time.perf_counter()
        p = req.params
        gen = generator_for(req.model, p, req.seed, req.references)
        if req.song is not None and p.beat_align:
            self._run_to_song(req, gen, t0)
            return
        out = np.empty((p.variations, p.frames, gen.codec.n_joints, 3), np.float32)
        done = sent = 0
        last_emit = time.perf_counter()
        while done < p.frames:
            if self._superseded(req.id):
                break
            out[:, done] = gen.step()
            done += 1
            now = time.perf_counter()
            due = done - sent >= CHUNK_FRAMES or now - last_emit >= CHUNK_SECONDS
            if done == 1 or due or done == p.frames:
                self.frames.emit(FrameChunk(req.id, sent, out[:, sent:done].copy(), p.frames, p))
                sent, last_emit = done, now
        self.generation_finished.emit(
            GenerationDone(req.id, out[:, :done], done < p.frames, time.perf_counter() - t0))

    def _run_to_song(self, req: GenerationRequest, gen: Any, t0: float) -> None:
        """A beat-aligned take: dance longer than asked, re-time onto the song's beats, then stream it."""
        from ..dance.warp import frames_to_generate, projector_for, retime_to_song

        p, song = req.params, req.song
        assert song is not None
        seed = req.seed if isinstance(req.seed, Motion) else req.model.seed
        fps = float(seed.fps) if seed is not None else 30.0
        seconds = p.frames / fps
        raw = np.empty((p.variations, frames_to_generate(seconds, fps, True), gen.codec.n_joints, 3), np.float32)
        for i in range(raw.shape[1]):
            if self._superseded(req.id):
                self.generation_finished.emit(GenerationDone(req.id, raw[:, :0], True, time.perf_counter() - t0))
                return
            raw[:, i] = gen.step()
        projector = projector_for(req.model) if gen.rigid else None
        out = np.stack([retime_to_song(r, fps, song.beats, seconds, projector)[0] for r in raw])
        t1 = time.perf_counter()
        for start in range(0, p.frames, CHUNK_FRAMES * 32):
            stop = min(p.frames, start + CHUNK_FRAMES * 32)  # stamped with when its share of the work was done
            self.frames.emit(FrameChunk(req.id, start, out[:, start:stop].copy(), p.frames, p,
                                        t=t0 + (t1 - t0) * stop / p.frames))
        self.generation_finished.emit(GenerationDone(req.id, out, False, time.perf_counter() - t0))

    # -- errors and shutdown -------------------------------------------------------

    def _report(self, job: str, err: BaseException, request_id: int | None = None) -> None:
        details = "".join(traceback.format_exception(type(err), err, err.__traceback__))
        if not isinstance(err, ChoreoError):
            log.error("%s job failed:\n%s", job, details)
        self.error.emit(WorkerError(job, error_message(err), details, request_id))

    def shutdown(self, timeout: float = 30.0) -> None:
        """Cancel everything and join the threads (idempotent)."""
        with self._gen_cond:
            self._closing = True
            self._gen_pending = None
            self._gen_cond.notify_all()
        self._train_cancel.set()
        for t in (self._gen_thread, self._train_thread):
            if t is not None and t is not threading.current_thread():
                t.join(timeout)
                if t.is_alive():
                    log.warning("worker thread %s did not stop within %.0f s", t.name, timeout)
