"""Keeping the work: take edits (rename, favourite, delete, put back), project files, regeneration.

Part of :class:`engine.session.Session` (a mixin: these methods use the session's store, takes,
sources and worker). Every edit publishes new immutable takes and fires ``takes`` (and
``current_take`` when the shown take changes), so the Qt undo stack, the notebook and scripts can
all drive them. Loading a project needs no front end::

    session = Session.open_project("piece.choreo")     # or session.load_project(path)
    session.project_problems                             # missing or changed clips and models
    session.locate(problem.id, "/new/place/dance.bvh")  # found again (checked by fingerprint)
    session.rename_take(3, "the fall"); session.set_favourite(3)
    session.save_project("piece.choreo")
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.errors import ChoreoError
from ..dance.motion import Motion
from ..dance.music import Song, load_song
from .project import Problem, Project, write_project
from .project_reader import load_clip_source, load_model_source, read_project, resolve_sources
from .recipe import regenerate
from .sources import ClipSource, ModelSource, SourceLibrary, clip_fingerprint, model_fingerprint
from .state import Fit, Take
from .worker import GenerationParams

if TYPE_CHECKING:
    from .session import Session

SETTINGS = ("temperature", "sigma_temperature", "mixture", "look_back", "duration", "rng", "variations", "pose_guard",
            "anchor", "beat_align",
            "continue_from_playhead", "seed_frame")  # knobs a project keeps (not "live": opening never regenerates)
CHANGES = ("motions", "model", "song", "takes", "next_take", *SETTINGS)  # events that change what a project holds


def _seed_of(clips: Iterable[ClipSource], models: Iterable[ModelSource], take: Take) -> Motion | None:
    """The clip a take continues, when available: its seed clip, or its model's own seed stretch."""
    r = take.recipe
    if r.seed_clip is not None:
        clip = next((c for c in clips if c.id == r.seed_clip), None)
        return clip.motion if clip is not None else None
    model = next((m for m in models if m.id == r.model), None)
    return model.model.seed if model is not None and model.model is not None else None


@dataclass(frozen=True)
class OpenedProject:
    """What :meth:`Session.load_project` found: problems to show and the front end's stored view."""

    path: Path
    problems: tuple[Problem, ...]
    view: Mapping[str, Any]


class ProjectKeeping:
    """The session's take edits, project files and regeneration (see the module docstring)."""

    sources: SourceLibrary
    project_path: Path | None
    project_problems: tuple[Problem, ...]

    def _init_keeping(self: Session) -> None:
        self.sources = SourceLibrary()
        self.project_path = None  # the file this session was last saved to or opened from
        self.project_problems = ()  # clips and models the opened project could not provide
        self._project_extra: Mapping[str, Any] = MappingProxyType({})  # keys of a newer version, kept
        self._wanted: tuple[tuple[str, ...], str | None] = ((), None)  # project's clips and model, to locate
        self._opening = False
        self._revision = self._saved_revision = 0
        for name in CHANGES:
            getattr(self.events, name).connect(self._touch, check_nargs=False)

    def _touch(self, *_: object) -> None:
        self._revision += 1

    @property
    def modified(self) -> bool:
        """True when clips, model, takes or knobs changed since the project was last saved or opened."""
        return self._revision != self._saved_revision

    @property
    def revision(self) -> int:
        """Counts changes of what a project keeps (an autosave remembers which one it holds)."""
        return self._revision

    def mark_saved(self, saved: bool = True) -> None:
        """Count the present state as saved (``modified`` becomes False), or as not saved (recovered work)."""
        self._saved_revision = self._revision if saved else -1

    # -- take edits --------------------------------------------------------------------------

    def take(self: Session, number: int) -> Take:
        """Take ``number`` (``take.number``, as shown: "take 3"). ChoreoError when there is none."""
        return self.shelf.by_number(number)[1]

    def rename_take(self: Session, number: int, name: str) -> Take:
        """Name take ``number`` ("" goes back to "take <number>"); returns the new take."""
        if not isinstance(name, str):
            raise ChoreoError(f"a take's name must be text, got {name!r}")
        return self.shelf.edit(number, name=" ".join(name.split())[:200])

    def set_favourite(self: Session, number: int, favourite: bool = True) -> Take:
        """Mark take ``number`` a favourite (or not); returns the new take."""
        return self.shelf.edit(number, favourite=bool(favourite))

    def delete_take(self: Session, number: int) -> tuple[int, Take]:
        """Remove take ``number`` (stopping it if it is being made); returns ``(index, take)`` for
        :meth:`restore_take`."""
        _, take = self.shelf.by_number(number)
        if take.status == "generating":
            self.cancel_generation()
        return self.shelf.delete(number)

    def restore_take(self: Session, take: Take, index: int) -> None:
        """Put a removed take back at ``index`` and show it (undo of :meth:`delete_take`)."""
        self.shelf.insert(index, take)

    def regenerate_take(self: Session, number: int) -> np.ndarray:
        """Make take ``number`` again from its recipe alone: ``(variations, frames, joints, 3)``.

        Bit for bit the stored frames on the same machine and device. ChoreoError when its model
        or clip is not available (locate them first) or the recipe is from a newer version.
        """
        take = self.take(number)
        r = take.recipe
        model = self.sources.model(r.model)
        if model is None or model.model is None:
            name = f" ({model.name})" if model is not None else ""
            raise ChoreoError(f"the model of {take.title}{name} is not available: locate it first")
        clip = self.sources.clip(r.seed_clip)
        if r.seed_clip is not None and (clip is None or clip.motion is None):
            name = f" ({clip.name})" if clip is not None else ""
            raise ChoreoError(f"the clip {take.title} continues{name} is not available: locate it first")
        return regenerate(r, model.model, clip.motion if clip is not None else None, self._song_of(r.params),
                          self.references(r.params.keep))

    def _song_of(self: Session, p: GenerationParams) -> Song | None:
        """The song a beat-aligned recipe danced to: the session's, or read again from its file."""
        if not p.beat_align:
            return None
        if self.song is not None and self.song.sha256 == p.song_sha256:
            return self.song
        return load_song(p.song) if p.song and Path(p.song).is_file() else None

    def _restore_song(self: Session, song: tuple[Path, str] | None) -> tuple[Problem, ...]:
        """Load the project's song again (its file, the same bytes); a problem when it cannot be."""
        self.clear_song()
        if song is None:
            return ()
        path, sha = song
        try:
            found = load_song(path) if path.is_file() else None
        except ChoreoError as err:
            return (Problem("unreadable", "song", sha, path.name, str(path), str(err)),)
        if found is None or found.sha256 != sha:
            detail = "not found" if found is None else "changed since the project was saved"
            return (Problem("missing" if found is None else "changed", "song", sha, path.name, str(path),
                            f"{path}: {detail}; load the song again from the music bar"),)
        self.load_song(found)
        return ()

    # -- sources ------------------------------------------------------------------------------

    def _register_clip(self, motion: Any) -> str:
        cid = clip_fingerprint(motion)
        if self.sources.clip(cid) is None or not self.sources.clip(cid).available:
            self.sources.add_clip(motion)
        return cid

    def _prune_sources(self: Session) -> None:
        """Forget clips and models no take, clip or model of the session refers to any more."""
        if self._opening:
            return
        keep = {clip_fingerprint(m) for m in self.motions}
        if self.model is not None:
            keep.add(model_fingerprint(self.model))
        for t in self.takes:
            keep.update(i for i in (t.recipe.model, t.recipe.seed_clip) if i)
        self.sources.keep_only(keep)

    # -- project files --------------------------------------------------------------------------

    def project_snapshot(self: Session, view: Mapping[str, Any] | None = None) -> Project:
        """The session as a :class:`Project` (immutable values only: cheap; write it on any thread)."""
        takes = self.takes
        shown = tuple(clip_fingerprint(m) for m in self.motions) or self._wanted[0]
        model_id = model_fingerprint(self.model) if self.model is not None else self._wanted[1]
        used = {*shown, model_id, *(i for t in takes for i in (t.recipe.model, t.recipe.seed_clip))}
        cur = self.current_take
        return Project(
            clips=tuple(c for c in self.sources.clips if c.id in used),
            models=tuple(m for m in self.sources.models if m.id in used),
            takes=takes, shown_clips=shown, model=model_id,
            settings=MappingProxyType({name: getattr(self, name) for name in SETTINGS}),
            playhead=self.playhead, current_take=takes[cur].number if 0 <= cur < len(takes) else None,
            next_take=self.store["next_take"], view=MappingProxyType(dict(view or {})), extra=self._project_extra,
            song=None if self.song is None else (Path(self.song.path).resolve(), self.song.sha256))

    def save_project(self: Session, path: str | Path, *, embed: bool = False, view: Mapping[str, Any] | None = None,
                     overwrite: bool = True) -> Path:
        """Write the session to a ``.choreo`` project (atomically). ``embed`` stores clips and models
        inside even when they have files; ``view`` is the front end's own state (camera, panels...)."""
        path = Path(path)
        revision = self._revision
        write_project(self.project_snapshot(view), path, embed=embed, overwrite=overwrite)
        self.project_path = path
        self._saved_revision = revision  # changes made while writing still count as unsaved
        return path

    def load_project(self: Session, path: str | Path) -> OpenedProject:
        """Replace everything with the project at ``path``. Missing or changed clips and models do not
        stop it: they are ``project_problems`` (``locate`` them). ChoreoError for a damaged file;
        nothing changes then."""
        if self.training_status != "idle":
            raise ChoreoError("stop training before opening a project")
        path = Path(path)
        project = read_project(path)
        project, problems = resolve_sources(project, device=self.device)
        shown = [c.motion for c in (project.clip(i) for i in project.shown_clips) if c is not None and c.available]
        if len({m.n_joints for m in shown}) > 1:  # checked before anything changes
            raise ChoreoError("its clips have different joint counts", path)
        takes = tuple(replace(t, id=self.worker.reserve_id(), seed=_seed_of(project.clips, project.models, t))
                      for t in project.takes)
        self.cancel_generation()
        self.live = False
        self._opening = True
        try:
            self.sources.replace_all(project.clips, project.models)
            self._wanted = (project.shown_clips, project.model)
            self._show_wanted(replace_all=True)
            problems += self._restore_song(project.song)
            for name, value in project.settings.items():
                if name in SETTINGS:
                    try:
                        setattr(self, name, value)
                    except ChoreoError as err:
                        problems += (Problem("unreadable", "setting", name, name, None, f"{name}: {err}"),)
            current = next((i for i, t in enumerate(takes) if t.number == project.current_take), len(takes) - 1)
            self.shelf.replace_all(takes, current, project.next_take)
            if self.motion is not None:
                self.playhead = min(project.playhead, self.motion.n_frames - 1)
        finally:
            self._opening = False
        self.project_path, self.project_problems, self._project_extra = path, problems, project.extra
        self.mark_saved()
        return OpenedProject(path, problems, project.view)

    @classmethod
    def open_project(cls, path: str | Path, device: str = "auto") -> Session:
        """A new session holding the project at ``path`` (see :meth:`load_project`)."""
        session = cls(device=device)
        try:
            session.load_project(path)
        except BaseException:
            session.close()
            raise
        return session

    def _show_wanted(self: Session, replace_all: bool = False) -> None:
        """Show the project's clips and model when they are available (after opening or locating)."""
        clip_ids, model_id = self._wanted
        clips = [c.motion for c in (self.sources.clip(i) for i in clip_ids) if c is not None and c.available]
        if clips and (replace_all or not self.motions):
            self.load(clips)
        elif replace_all:
            self._clear_clips()
            missing = self.sources.clip(clip_ids[0]) if clip_ids else None
            if missing is not None:  # takes still draw as figures: the missing clip's bones are known
                self.store.assign("skeleton", np.asarray(missing.skeleton.get("bones") or [], np.int64).reshape(-1, 2))
        source = self.sources.model(model_id)
        if source is not None and source.available and (replace_all or self.model is None):
            self._set_model(source.model, source.path)
        elif replace_all and (source is None or not source.available):
            self._clear_model()

    def _clear_clips(self: Session) -> None:
        """No clip on stage (an opened project's clip is missing)."""
        for name, value in (("motions", ()), ("skeleton", np.zeros((0, 2), np.int64)), ("seed_frame", None),
                            ("playhead", 0), ("motion", None), ("fit", Fit.between(self.model, None))):
            self.store.assign(name, value)

    def _clear_model(self: Session) -> None:
        """No model (an opened project's model is missing)."""
        self.model_checkpoint = None
        self.store.assign("model", None)
        self.store.assign("fit", Fit.between(None, self.motion))

    def locate(self: Session, source_id: str, path: str | Path) -> ClipSource | Any:
        """Tell the session where a missing clip or model is now; checked by fingerprint (ChoreoError if
        the file is another one). The project's clip or model is then shown again."""
        clip, model = self.sources.clip(source_id), self.sources.model(source_id)
        if clip is not None:
            found: Any = load_clip_source(clip, path)
        elif model is not None:
            found = load_model_source(model, path, device=self.device)
        else:
            raise ChoreoError(f"this project has no clip or model {source_id}")
        self.sources.put(found)
        self.shelf.reseed(lambda t: _seed_of(self.sources.clips, self.sources.models, t))
        self._opening = True
        try:
            self._show_wanted()
        finally:
            self._opening = False
        self.project_problems = tuple(p for p in self.project_problems if p.id != source_id)
        return found
