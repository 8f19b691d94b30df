"""The project file (``.choreo``): clips, models, every take with its recipe and frames, favourites,
names, the knobs, the playhead and the front end's view, in one zip of JSON and ``.npy`` members.

Layout (version 1)::

    project.json                 everything but arrays (below)
    takes/<number>.npy           a take's frames, float32 (variations, frames, joints, 3)
    clips/<hex>.npy              an embedded clip's positions, float32 (frames, joints, 3)
    models/<hex>.json            an embedded model: its checkpoint as JSON, tensors as references...
    models/<hex>/<i>.npy         ... to these arrays (see ``engine.session.sources``)

``<hex>`` is the source's sha256 fingerprint; member names are derived from fingerprints and take
numbers, never read from the JSON. ``project.json``::

    {"format": "choreo-project", "version": 1, "saved_by": "choreo-studio 0.1.0", "saved_at": ISO time,
     "clips": [{"id": "sha256:...", "name": "dance.bvh", "path": "dance.bvh" | "/abs/dance.bvh" | null,
                "embedded": false, "layout": "frames-first", "fps": null, "proportions": "auto",
                "skeleton": {"fps", "joint_names", "bones", "up_axis", "layout", "axis_scale", "rig",
                             "frames", "joints"}}],
     "models": [{"id": "sha256:...", "name": "dance.pt", "path": ..., "embedded": false,
                 "summary": {"joints", "hidden", "layers", "mixtures", "steps", "skeleton"}}],
     "takes": [{"number": 1, "name": "", "favourite": false, "status": "done", "live": false,
                "created": ISO time, "frames": 300, "variations": 1, "recipe": {... see recipe.py}}],
     "state": {"clips": [clip ids, the first shown], "model": id | null, "current_take": number | null,
               "playhead": 0, "next_take": 2, "settings": {knob: value, ...},
               "song": {"path": ..., "sha256": ...} | null},
     "view": {... the front end's own: camera, panels ...}}

A clip or model with a lasting file is referred to by path (relative to the project's folder when it
lies inside it, else absolute) and found again by fingerprint; one made in the studio (a trained
model, the synthetic dancer), or any with ``embed=True``, is stored inside. A take's recipe
regenerates it bit for bit on the same machine and device; its stored frames keep it exact anywhere.

Versions: a file of a newer major version is refused with a clear message. Keys this version does
not know (later additions: constraints, music) are kept and written back unchanged.

Reading (``engine.session.project_reader``) is as careful as every other reader here and never
writes anything. Missing or changed clips and models are not errors: the project opens, and each
gets a :class:`Problem` a front end shows with a "locate…" action.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from ..core.errors import ChoreoError
from ..core.fileio import atomic_path
from ..dance.motion import Motion
from .sources import ClipSource, ModelSource, model_tree, skeleton_motion
from .state import Take

FORMAT = "choreo-project"
VERSION = 1
SUFFIX = ".choreo"
MAX_JSON_BYTES = 16 << 20  # a JSON member, uncompressed (a project with many takes: tens of KB)
MAX_MEMBERS = 100_000
MAX_TOTAL_BYTES = 64 << 30  # everything the archive claims, uncompressed
_ID = re.compile(r"sha256:[0-9a-f]{64}")


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Project:
    """Everything a project file holds (sources may be unavailable: see ``ClipSource.available``)."""

    clips: tuple[ClipSource, ...] = ()
    models: tuple[ModelSource, ...] = ()
    takes: tuple[Take, ...] = ()
    shown_clips: tuple[str, ...] = ()  # ids of the session's clips; the first is shown and seeded from
    model: str | None = None  # id of the model that makes new takes
    settings: Mapping[str, Any] = field(default_factory=_empty)  # knob values, as the session holds them
    playhead: int = 0
    current_take: int | None = None  # number of the shown take
    next_take: int = 1
    view: Mapping[str, Any] = field(default_factory=_empty)  # the front end's own, kept as is
    extra: Mapping[str, Any] = field(default_factory=_empty)  # top-level keys of a newer version
    song: tuple[Path, str] | None = None  # the song takes dance to: its file and sha256 (not stored inside)

    def take(self, number: int) -> Take:
        """Take ``number``; ChoreoError when there is none."""
        for t in self.takes:
            if t.number == number:
                return t
        numbers = ", ".join(str(t.number) for t in self.takes) or "none"
        raise ChoreoError(f"there is no take {number} (takes: {numbers})")

    def clip(self, clip_id: str | None) -> ClipSource | None:
        return next((c for c in self.clips if c.id == clip_id), None)

    def model_source(self, model_id: str | None) -> ModelSource | None:
        return next((m for m in self.models if m.id == model_id), None)


def take_motions(project: Project, take: Take, positions: np.ndarray | None = None) -> list[Motion]:
    """A take's variations (or ``positions`` made from its recipe) as Motions with the fps, joint names,
    bones and up axis of the clip it continues (or the model's seed stretch): ready to export."""
    clip = project.clip(take.recipe.seed_clip)
    model = project.model_source(take.recipe.model)
    skeleton = clip.skeleton if clip is not None else model.summary.get("skeleton", {}) if model is not None else {}
    frames = take.positions if positions is None else positions
    return [skeleton_motion(skeleton, frames[v], source=take.title) for v in range(frames.shape[0])]


@dataclass(frozen=True)
class Problem:
    """A clip or model the project names but could not provide: shown with a "locate…" action."""

    kind: str  # missing | changed | unreadable
    what: str  # clip | model
    id: str
    name: str
    path: str | None
    message: str  # one line for people


# -- writing -----------------------------------------------------------------------------------

def _version() -> str:
    try:
        return metadata.version("choreo-studio")
    except metadata.PackageNotFoundError:
        return "dev"


def _ref(path: Path | None, base: Path | None) -> str | None:
    """A path as stored: relative to the project's folder when inside it, else absolute."""
    if path is None:
        return None
    if base is not None:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return str(path.resolve())


def _hex(source_id: str) -> str:
    return source_id.removeprefix("sha256:")


def _write_array(z: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    info = zipfile.ZipInfo(name, date_time=_dt.datetime.now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED  # float data barely compresses; storing is fast
    with z.open(info, "w", force_zip64=True) as f:
        np.lib.format.write_array(f, np.ascontiguousarray(array), allow_pickle=False)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):  # read-only mappings of the data model
        return dict(value)
    raise TypeError(f"cannot store a {type(value).__name__} in a project")


def take_json(take: Take) -> dict[str, Any]:
    """A take's entry in ``project.json`` (also what ``choreo project info --json`` prints)."""
    return {"number": take.number, "name": take.name, "favourite": take.favourite, "status": take.status,
            "live": take.live, "created": take.created.isoformat(timespec="seconds"),
            "frames": take.frames_ready, "variations": int(take.positions.shape[0]), "recipe": take.recipe.to_json()}


def write_project(project: Project, path: str | Path, *, embed: bool = False, overwrite: bool = True,
                  relative_paths: bool = True, note: Mapping[str, Any] | None = None) -> Path:
    """Write ``project`` to ``path`` atomically (a half-written file never replaces a good one).

    ``embed`` stores every available clip and model inside (else only those without a lasting
    file). ``relative_paths=False`` stores absolute paths (autosaves, which live elsewhere).
    ``note`` is stored under ``"note"`` (e.g. what an autosave belongs to).
    """
    path = Path(path)
    base = path.parent if relative_paths else None
    clips, models = [], []
    with atomic_path(path, overwrite) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for c in project.clips:
            inside = c.motion is not None and (embed or c.path is None)
            if inside:
                _write_array(z, f"clips/{_hex(c.id)}.npy", np.asarray(c.motion.positions, np.float32))
            clips.append({"id": c.id, "name": c.name, "path": _ref(c.path, base), "embedded": inside,
                          "layout": c.layout, "fps": c.fps, "proportions": c.proportions,
                          "skeleton": dict(c.skeleton)})
        for m in project.models:
            tree = m.tree if m.tree is not None else model_tree(m.model) if m.model is not None else None
            inside = tree is not None and (embed or m.path is None)
            if inside:
                z.writestr(f"models/{_hex(m.id)}.json", json.dumps(dict(tree.tree)))
                for i, a in enumerate(tree.arrays):
                    _write_array(z, f"models/{_hex(m.id)}/{i}.npy", a)
            models.append({"id": m.id, "name": m.name, "path": _ref(m.path, base), "embedded": inside,
                           "summary": dict(m.summary)})
        for t in project.takes:
            _write_array(z, f"takes/{t.number}.npy", t.positions)
        doc = {**project.extra, "format": FORMAT, "version": VERSION, "saved_by": f"choreo-studio {_version()}",
               "saved_at": _dt.datetime.now().isoformat(timespec="seconds"), "clips": clips, "models": models,
               "takes": [take_json(t) for t in project.takes],
               "state": {"clips": list(project.shown_clips), "model": project.model,
                         "current_take": project.current_take, "playhead": project.playhead,
                         "next_take": project.next_take, "settings": dict(project.settings),
                         "song": None if project.song is None else {"path": _ref(project.song[0], base),
                                                                     "sha256": project.song[1]}},
               "view": dict(project.view)}
        if note is not None:
            doc["note"] = dict(note)
        z.writestr("project.json", json.dumps(doc, indent=1, default=_plain))
    return path
