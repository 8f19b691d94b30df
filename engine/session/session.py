"""``Session``: the one evented state that the Qt app and the Jupyter widgets both observe.

Views write through setters (``session.temperature = 0.7``) and react to
``session.events.<name>`` signals (psygnal ``SignalGroup``). A setter
validates (``ChoreoError`` for a bad value) and emits only when the value
really changes. Long work (training, generation) runs on a :class:`Worker`;
its results come back as state changes of the session.

Knobs are checked against their one definition (``engine.dance.knobs``), the table
the front ends build their sliders from. Why an explicit ``SignalGroup`` and
properties rather than psygnal's ``@evented`` dataclass: some checks depend on
other state (a mixture index must exist in the loaded model, a seed frame in
the loaded clip), and a few changes have side effects (live regeneration).

The work is split by job: :class:`~engine.session.store.StateStore` (values and
change events), :class:`~engine.session.takes.TakeShelf` (immutable takes,
streamed into), :class:`~engine.session.training.TrainingRun` (training
progress), the :class:`~engine.session.worker.Worker` (threads), and
:class:`~engine.session.keeping.ProjectKeeping` (take edits, project files,
regeneration; the clips and models takes were made from are remembered in
:class:`~engine.session.sources.SourceLibrary`).

Threads and how each front end receives events: see the package docstring (``engine.session``).
"""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..core.assets import asset_path
from ..core.device import resolve_device
from ..core.errors import ChoreoError
from ..core.mdn import MixtureChoice
from ..core.training import TrainConfig, TrainResult
from ..core.training import preload as preload_training
from ..dance.knobs import GENERATION, VIEW
from ..dance.model import DanceConfig, DanceModel
from ..dance.motion import Motion, load_motion
from ..dance.music import Song, load_song
from ..dance.skeleton import motion_skeleton
from ..dance.skeleton import warm_up as warm_up_projection
from ..dance.synthetic import synthetic_dancer
from .directing import Directing
from .exports import copy_checkpoint, export_take
from .keeping import ProjectKeeping
from .recipe import Recipe
from .showing import Showing
from .sources import model_fingerprint
from .state import Fit, LossHistory, Take, TrainingProgress
from .store import SessionField, StateStore, frame_index, pump_in_asyncio
from .takes import TakeShelf
from .training import TrainingRun
from .worker import FrameChunk, GenerationDone, GenerationParams, GenerationRequest, Worker, WorkerError

DEFAULT_FPS = 30.0  # converts seconds to frames before any clip is loaded


def _knob(name: str) -> SessionField:
    knob = GENERATION[name]
    return SessionField(lambda _s, v: knob.check(v), regenerate=name != "live")


class Session(Directing, ProjectKeeping):
    """Motions, model, generation knobs, takes, playhead and training state, with change events.

    ``device``: "auto" (cuda > mps > cpu), "cpu", "cuda" or "mps"; where models are loaded
    and trained. ``worker``: share or inject a :class:`Worker` (default: a new one).
    Close with :meth:`close` (or use ``with Session() as s:``).
    Durations are in seconds (``duration``, ``look_back``); frames follow from the seed clip's rate.
    """

    temperature = _knob("temperature")
    sigma_temperature = _knob("sigma_temperature")
    mixture = SessionField(lambda s, v: s._check_mixture(v))
    look_back = _knob("look_back")
    duration = _knob("duration")
    rng = _knob("rng")
    variations = _knob("variations")
    pose_guard = _knob("pose_guard")
    anchor = _knob("anchor")
    continue_from_playhead = _knob("continue_from_playhead")
    live = _knob("live")
    lead_in = SessionField(lambda _s, v: VIEW["lead_in"].check(v), regenerate=False)
    beat_align = _knob("beat_align")
    seed_frame = SessionField(lambda s, v: s._check_seed_frame(v))
    playhead = SessionField(lambda s, v: s._check_playhead(v), regenerate=False)

    def __init__(self, device: str = "auto", worker: Worker | None = None) -> None:
        self.store = StateStore({
            **{name: knob.default for name, knob in GENERATION.items()},
            "seed_frame": None, "playhead": 0, "lead_in": VIEW["lead_in"].default, "fit": Fit(),
            "motions": (), "motion": None, "song": None, "skeleton": np.zeros((0, 2), np.int64), "model": None,
            "takes": (), "current_take": -1, "next_take": 1, "training_status": "idle", "generation_status": "idle",
            "training_progress": TrainingProgress(), "loss_history": LossHistory(),
            **Directing.DIRECTING_DEFAULTS,
        })
        self.events = self.store.events
        self._device = str(resolve_device(device))
        self.last_error: WorkerError | None = None
        self.model_checkpoint: Path | None = None  # file the current model can be saved from
        self._demo_model: DanceModel | None = None
        self._owns_worker = worker is None
        self.worker = worker or Worker(device=self._device)
        self.shelf = TakeShelf(self.store)
        self.training = TrainingRun(self.store, self.worker, self._set_model)
        self._slots: list[tuple[Any, Callable]] = [
            (self.worker.training, self.training.on_event),
            (self.worker.training_finished, self.training.on_finished),
            (self.worker.frames, self._on_frames),
            (self.worker.generation_finished, self._on_generation_done),
            (self.worker.error, self._on_error),
        ]
        for signal, slot in self._slots:
            signal.connect(slot)
        self._init_keeping()
        self._closed = False
        preload_training()
        warm_up_projection()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- read-only state ---------------------------------------------------------------

    motions = property(lambda self: self.store["motions"], doc="All loaded clips (tuple of Motion).")
    motion = property(lambda self: self.store["motion"], doc="The clip shown and seeded from, or None.")
    skeleton = property(lambda self: self.store["skeleton"],
                        doc="Bones (n, 2) of the shown clip (of an opened project's clip while it is missing).")
    model = property(lambda self: self.store["model"], doc="The DanceModel generating takes, or None.")
    song = property(lambda self: self.store["song"], doc="The Song takes dance to (engine.dance.music), or None.")
    takes = property(lambda self: self.store["takes"], doc="Takes generated so far (tuple of Take).")
    current_take = property(lambda self: self.store["current_take"], doc="Shown take, -1: none.")
    training_status = property(lambda self: self.store["training_status"], doc="idle|training|cancelling")
    generation_status = property(lambda self: self.store["generation_status"], doc="idle | generating")
    training_progress = property(lambda self: self.store["training_progress"], doc="TrainingProgress")
    loss_history = property(lambda self: self.store["loss_history"], doc="LossHistory of the current run")
    fit = property(lambda self: self.store["fit"], doc="Fit: does the model fit the clip on stage")

    @property
    def last_training(self) -> TrainResult | None:
        """The result of the last training run that finished."""
        return self.training.last_result

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
                self.store.assign("model", m.to(dev))
            self.events.device.emit(dev)

    @property
    def fps(self) -> float:
        """Frame rate of the clip takes continue (seconds become frames at this rate)."""
        clip = self.seed_clip()
        return float(clip.fps) if clip is not None else DEFAULT_FPS

    @property
    def frames(self) -> int:
        """Frames of the next take: ``duration`` at the seed clip's rate."""
        return max(1, round(self.duration * self.fps))

    @property
    def params(self) -> GenerationParams:
        """The recipe the next take would use (knobs resolved to frames of the seed clip).

        The seed frame is always resolved when there is a seed clip (the playhead, the chosen
        frame, or right after the first look-back), so a take knows the moment it continues from.
        """
        clip = self.seed_clip()
        look_back = max(1, round(self.look_back * self.fps))
        seed_frame = self.seed_frame
        if clip is not None:
            step = max(1, int(self.model.config.frame_step)) if self.model is not None else 1
            if self.continue_from_playhead and clip is self.motion:
                seed_frame = self.playhead
            elif seed_frame is None:
                seed_frame = look_back + step  # DanceGenerator's own default: primed on the first look-back
            seed_frame = min(max(seed_frame, step + 1), clip.n_frames)  # the generator needs one step before
        song = self.song
        return GenerationParams(self.temperature, self.sigma_temperature, self.mixture, look_back, self.rng,
                                self.frames, self.variations, seed_frame, self.pose_guard, self.anchor,
                                song=None if song is None else str(song.path),
                                song_sha256=None if song is None else song.sha256,
                                beat_align=song is not None and bool(self.beat_align),
                                # keyframes past the take's end wait (a longer take reaches them)
                                keyframes=tuple(k for k in self.keyframes if k.frame < self.frames),
                                keep=self.keep, path=self.path, part_temperatures=self.part_temperatures)

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
        return GENERATION["mixture"].check(value)

    def seed_clip(self) -> Motion | None:
        """The clip generation continues: the shown motion if it fits the model, else the model's own."""
        m, model = self.motion, self.model
        if m is not None and (model is None or model.codec is None or m.n_joints == model.codec.n_joints):
            return m
        return None if model is None else model.seed

    def _check_seed_frame(self, value: Any) -> int | None:
        clip = self.seed_clip()
        return None if value is None else frame_index("seed frame", value, 2, clip.n_frames if clip else None)

    def _check_playhead(self, value: Any) -> int:
        return frame_index("playhead", value, 0, self.motion.n_frames - 1 if self.motion else None)

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
        bones = first.bones if len(first.bones) else np.asarray(motion_skeleton(first)[0], np.int64)
        for m in motions:
            self._register_clip(m)
        # everything a view reads about the clip is in place before "motion" fires
        self.store.assign("current_take", -1)  # a new clip is shown on its own; its takes come next
        self.store.assign("motions", motions)
        self.store.assign("skeleton", bones)
        self.store.assign("seed_frame", None)
        self.store.assign("playhead", min(self.playhead, first.n_frames - 1))
        self.store.assign("motion", first)
        self.store.assign("fit", Fit.between(self.model, first))
        self._prune_sources()
        return first

    def load_model(self, path: str | Path | DanceModel) -> DanceModel:
        """Load a checkpoint (or take a DanceModel) as the generating model. Raises ChoreoError."""
        model = path if isinstance(path, DanceModel) else DanceModel.load(path, device=self._device)
        checkpoint = None if isinstance(path, DanceModel) else Path(path)
        self.sources.add_model(model, checkpoint)  # a file the project can refer to
        self._set_model(model, checkpoint)
        return model

    def _set_model(self, model: DanceModel, checkpoint: Path | None) -> None:
        if self.sources.model(model_fingerprint(model)) is None:
            self.sources.add_model(model)  # trained here: projects keep it inside
        self.model_checkpoint = checkpoint
        mix = self.mixture
        if isinstance(mix, int) and mix >= model.config.mixtures:
            self.store.assign("mixture", "auto")
        fps = model.seed.fps if model.seed is not None else DEFAULT_FPS
        self.store.assign("look_back", round(model.config.default_look_back / fps, 3))  # about a second
        self.store.assign("anchor", float(model.config.anchor))  # the pull the model was trained for
        changed = self.store.assign("model", model)
        self.store.assign("fit", Fit.between(model, self.motion))
        if changed and self.live:
            self.regenerate_live()
        self._prune_sources()

    @property
    def model_is_demo(self) -> bool:
        """True when the model is the demo model ``load_demo`` loaded (nothing the user made or chose)."""
        return self.model is not None and self.model is self._demo_model

    def load_demo(self, model: bool = True) -> None:
        """The synthetic dancer, and (``model=True``) the shipped demo model when ``assets/demo_dance.pt``
        exists. Front ends ask before replacing a model the user trained or loaded (``model_is_demo``)."""
        self.load(synthetic_dancer())
        if not model:
            return
        try:
            path = asset_path("demo_dance.pt")
        except ChoreoError:
            return
        self._demo_model = self.load_model(path)

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
        config = config or TrainConfig()
        if minutes is not None or epochs is not None:
            config = replace(config, minutes=minutes, epochs=epochs)
        if config.device == "auto":
            config = replace(config, device=self._device)
        m = self.model
        if model_config is None and m is not None and m.codec is not None and self.motions \
                and m.codec.n_joints == self.motions[0].n_joints:
            model_config = m.config
        self.training.start(self.motions, config, model_config, resume, out, train_fn)

    def cancel_training(self) -> None:
        """Stop training after the current step; the model keeps its best weights so far."""
        self.training.cancel()

    # -- generation ----------------------------------------------------------------

    def generate(self, params: GenerationParams | None = None, seed: Motion | None = None) -> Take:
        """Start a take; frames stream in as ``take_frames`` events.

        ``params`` (default: the current knobs, ``self.params``) and ``seed`` (default: the shown
        clip, or the model's own seed stretch when the clip does not fit the model) make its recipe.
        Supersedes a take still being generated. In live mode the new take replaces the
        previous live take instead of adding one. Raises ChoreoError without a model.
        """
        model = self.model
        if model is None:
            raise ChoreoError("no model loaded: train one or load a checkpoint first")
        params = self.params if params is None else params
        seed = self.seed_clip() if seed is None else seed
        n_joints = Fit.joints_of(model)
        if seed is not None and seed.n_joints != n_joints:
            raise ChoreoError(f"has {seed.n_joints} joints, the model was trained on {n_joints}", seed.source)
        own_seed = seed is None or seed is model.seed
        recipe = Recipe(params, model_fingerprint(model), None if own_seed else self._register_clip(seed),
                        model.device.type)
        take_id = self.worker.reserve_id()
        take = self.shelf.start(take_id, recipe, n_joints, live=bool(self.live), seed=seed)  # before frames
        self.store.assign("generation_status", "generating")
        self.worker.generate(GenerationRequest(model, params, seed, id=take_id, song=self.song,
                                               references=self.references(params.keep)))
        return take

    # -- music -----------------------------------------------------------------------

    def load_song(self, path: str | Path | Song) -> Song:
        """Read and analyse a song (``engine.dance.music.load_song``); takes dance to it from now on and
        the take length becomes the song's. Raises ChoreoError naming the file."""
        song = path if isinstance(path, Song) else load_song(path)
        self.store.assign("song", song)
        self.duration = min(song.duration, GENERATION["duration"].hi)
        return song

    def clear_song(self) -> None:
        """Dance without music again."""
        self.store.assign("song", None)

    def fit_to_song(self) -> Take:
        """Make a take as long as the song with its accents on the beats (beat align on). Raises
        ChoreoError without a song or a model."""
        if self.song is None:
            raise ChoreoError("no song loaded: load one first")
        self.store.assign("duration", min(self.song.duration, GENERATION["duration"].hi))
        self.store.assign("beat_align", True)
        return self.generate()

    def regenerate_live(self) -> None:
        """Make the live take again with the current knobs (called when a knob moves in live mode)."""
        if self.model is not None:
            self.generate()

    def cancel_generation(self) -> None:
        """Stop the take being generated (it keeps the frames made so far)."""
        self.worker.cancel_generation()

    def _on_frames(self, chunk: FrameChunk) -> None:
        frames = self.shelf.add_frames(chunk)
        if frames is not None:
            self.events.take_frames.emit(frames)

    def _on_generation_done(self, done: GenerationDone) -> None:
        self.shelf.finish(done.request_id, "cancelled" if done.cancelled else "done")
        if self.worker.is_latest(done.request_id):
            self.store.assign("generation_status", "idle")

    def take_by_id(self, take_id: int) -> Take:
        """The take with ``take_id`` as published now (a take grows and ends as new values)."""
        _, take = self.shelf.find(take_id)
        if take is None:
            raise ChoreoError(f"take {take_id} is gone")
        return take

    def select_take(self, index: int) -> Take:
        """Show take ``index`` (negative counts from the end). Raises ChoreoError when out of range."""
        return self.shelf.select(index)

    def show_clip(self) -> None:
        """Show the clip on its own (no take selected; the takes stay)."""
        self.store.assign("current_take", -1)

    def showing(self) -> Showing:
        """What the stage shows now and a video export writes (see ``engine.session.showing``)."""
        take = self.shelf.current()
        if take is None:
            return Showing.of_clip(self.motion, self.skeleton)
        return Showing.of_take(take, take.number, lead_in=bool(self.lead_in),
                               bones=self.skeleton if take.seed is None else None)

    # -- errors --------------------------------------------------------------------

    def _on_error(self, err: WorkerError) -> None:
        self.last_error = err
        if err.job == "training":
            self.training.on_error()
        else:
            if err.request_id is not None:
                self.shelf.finish(err.request_id, "error")
            if self.worker.is_latest(err.request_id):
                self.store.assign("generation_status", "idle")
        self.events.error.emit(err)

    # -- files -----------------------------------------------------------------------

    def take_motion(self, index: int | None = None, variation: int = 0) -> Motion:
        """A take (default: the current one) as a Motion standing like the clip it continues (its fps, names,
        bones, layout, up axis)."""
        return self.shelf.motion(self.current_take if index is None else index, variation, self.seed_clip())

    def export(self, path: str | Path, *, what: str = "take", overwrite: bool = False, **options: Any) -> Any:
        """Write the current take (all its variations; ``what="motion"``: the shown clip) to ``path``.

        Videos (.mp4, .gif) show exactly what the stage shows (``showing()``: same span, ghost
        alignment, lead-in, figures and colours); data files hold the take's own frames. Other
        options go to ``engine.dance.export.export_motion`` (layout, size...).
        """
        if what == "motion":
            if self.motion is None:
                raise ChoreoError("no motion loaded")
            return export_take(self.motion, Showing.of_clip(self.motion, self.skeleton), path, overwrite, options)
        if what != "take":
            raise ChoreoError(f"export what= must be take or motion, got {what!r}")
        take = self.shelf.current()
        if take is None:
            raise ChoreoError("no take to export: generate one first")
        motions = [self.take_motion(self.current_take, v) for v in range(take.positions.shape[0])]
        showing = self.showing()
        if take.params.song and Path(path).suffix.lower() == ".mp4" and Path(take.params.song).is_file():
            # the video carries the song the take dances to, starting with the take (after any lead-in)
            options.setdefault("song", take.params.song)
            options.setdefault("song_offset", -showing.lead_in / showing.fps)
        return export_take(motions if len(motions) > 1 else motions[0], showing, path, overwrite, options)

    def save_model(self, path: str | Path, overwrite: bool = True) -> Path:
        """Copy the current model's checkpoint (weights, optimizer, configs, statistics) to ``path``."""
        if self.model is None:
            raise ChoreoError("no model to save")
        if self.model_checkpoint is None or not self.model_checkpoint.exists():  # e.g. kept inside a project
            if Path(path).exists() and not overwrite:
                raise ChoreoError("exists (pass overwrite=True to replace it)", path)
            return self.model.save(path)  # a ready-to-generate checkpoint
        return copy_checkpoint(self.model_checkpoint, path, overwrite)

    # -- delivery helpers and shutdown ----------------------------------------------

    def event_queue(self) -> queue.SimpleQueue:
        """A queue receiving ``(signal_name, args)`` for every session event (for polling front ends)."""
        return self.store.event_queue()

    def pump_in_asyncio(self, interval: float = 0.03) -> asyncio.Task:
        """Drain psygnal's ``thread="main"`` queue from the running asyncio loop (Jupyter kernels)."""
        return pump_in_asyncio(lambda: self._closed, interval)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until training and generation are finished (scripts, tests). False on timeout."""
        deadline = time.monotonic() + timeout
        ok = self.worker.wait_training(timeout)
        return self.worker.wait_generation(max(0.0, deadline - time.monotonic())) and ok

    def close(self) -> None:
        """Cancel work, join the worker's threads, remove temporary files (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._owns_worker:
            self.worker.shutdown()
        for signal, slot in self._slots:
            signal.disconnect(slot, missing_ok=True)
        self.training.close()
