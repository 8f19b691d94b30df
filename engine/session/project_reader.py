"""Opening a project file: read as carefully as every other reader here, then find its clips and models.

Reading (:func:`read_project`) never writes anything and never unpickles: not a zip (or a pickle) ->
one clear error; member names that are absolute or climb out with ``..`` -> the file is refused;
what the archive claims is checked against limits and the archive's own size before anything is
inflated; every ``.npy`` member goes through the clip reader's vetting
(``engine.dance.readers.read_npy_member``: no object arrays, no impossible shapes, zip-bomb ratio);
JSON is size-limited and every value is checked (recipes by ``Recipe.from_json``). Members with
other names are ignored (a newer version may add some).

Finding sources (:func:`resolve_sources`): a clip or model stored inside comes back from the file;
one referred to by path is read again and must have the same fingerprint. A missing, changed or
unreadable one is a :class:`~engine.session.project.Problem`, not an error: the project opens, and
``load_clip_source`` / ``load_model_source`` with a new path locate it.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from ..core.errors import ChoreoError
from ..dance.bvh import rig_from_plain
from ..dance.model import DanceModel
from ..dance.motion import load_motion
from ..dance.readers import ZIP_ERRORS, read_npy_member
from .project import _ID, FORMAT, MAX_JSON_BYTES, MAX_MEMBERS, MAX_TOTAL_BYTES, VERSION, Problem, Project, _hex
from .recipe import Recipe
from .sources import ClipSource, ModelSource, ModelTree, clip_fingerprint, model_fingerprint, skeleton_motion
from .state import Take

_STATUSES = ("done", "cancelled", "error", "generating")

def _safe_name(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and "\\" not in name and "\0" not in name \
        and ":" not in parts[0] and all(p not in ("", ".", "..") for p in parts)


class _Reader:
    """One project file being read: the archive, its vetted members and where problems are reported."""

    def __init__(self, path: Path, z: zipfile.ZipFile) -> None:
        self.path, self.z = path, z
        self.members: dict[str, zipfile.ZipInfo] = {}
        total = 0
        infos = z.infolist()
        if len(infos) > MAX_MEMBERS:
            self.fail(f"holds {len(infos)} members, more than a project ever has")
        for info in infos:
            name = info.filename
            if not _safe_name(name):
                self.fail(f"member {name[:80]!r} is not a plain relative name (absolute, or climbs out with ..): "
                          "refusing the file")
            if name in self.members:
                self.fail(f"member {name[:80]!r} appears twice")
            if info.flag_bits & 0x1:
                self.fail(f"member {name[:80]!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                self.fail(f"member {name[:80]!r} uses an unsupported compression ({info.compress_type})")
            total += info.file_size
            self.members[name] = info
        if total > MAX_TOTAL_BYTES:
            self.fail(f"claims {total / 1e9:.3g} GB uncompressed, beyond any project: refusing it")

    def fail(self, problem: str) -> None:
        raise ChoreoError(problem, self.path)

    def array(self, name: str) -> np.ndarray:
        info = self.members.get(name)
        if info is None:
            self.fail(f"member {name} is missing")
        arr = read_npy_member(self.z, info, self.path)
        if arr.dtype.kind != "f" and not (name.startswith("models/") and arr.dtype.kind in "biu"):
            self.fail(f"member {name}: expected numbers, got {arr.dtype}")
        return arr

    def document(self) -> dict[str, Any]:
        info = self.members.get("project.json")
        if info is None:
            self.fail("not a Choreo Studio project (no project.json inside)")
        doc = self.json(info)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            self.fail("not a Choreo Studio project (project.json has no 'format': 'choreo-project')")
        version = doc.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.fail(f"project version must be a whole number, got {version!r}")
        if version > VERSION:
            self.fail(f"written by a newer Choreo Studio (project version {version}; this one reads {VERSION})")
        return doc

    def json(self, info: zipfile.ZipInfo) -> Any:
        if info.file_size > MAX_JSON_BYTES:
            self.fail(f"member {info.filename} inflates to {info.file_size:,} bytes of JSON, far more than a project "
                      "needs: refusing a likely zip bomb")
        with self.z.open(info) as f:
            raw = f.read(MAX_JSON_BYTES + 1)  # never more, whatever the archive claims
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            self.fail(f"member {info.filename} is not valid JSON ({str(err)[:100]})")


def _get(d: Any, key: str, kind: type | tuple[type, ...], where: str, default: Any = ...) -> Any:
    if not isinstance(d, dict):
        raise ChoreoError(f"{where} must be a JSON object")
    if key not in d:
        if default is ...:
            raise ChoreoError(f"{where} has no {key!r}")
        return default
    value = d[key]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ChoreoError(f"{where} {key!r} has the wrong type (bool)")
    if not isinstance(value, kind):
        raise ChoreoError(f"{where} {key!r} has the wrong type ({type(value).__name__})")
    return value


def _source_path(ref: str | None, base: Path, where: str) -> Path | None:
    if ref is None:
        return None
    if "\0" in ref or len(ref) > 4096:
        raise ChoreoError(f"{where} has an impossible path")
    p = Path(ref)
    if not p.is_absolute():
        if ".." in Path(ref).parts or "\\" in ref:
            raise ChoreoError(f"{where} path {ref[:80]!r} climbs out of the project's folder (..): refusing the file")
        p = base / p
    return p


def _skeleton(value: Any, where: str) -> Mapping[str, Any]:
    s = value if isinstance(value, dict) else {}
    fps = s.get("fps", 30.0)
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps < 1e6:
        raise ChoreoError(f"{where} skeleton fps must be a positive number, got {fps!r}")
    names, bones = s.get("joint_names", []), s.get("bones", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ChoreoError(f"{where} skeleton joint_names must be a list of text")
    if not isinstance(bones, list) or not all(isinstance(b, list) and len(b) == 2 and all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < max(len(names), 1) for i in b) for b in bones):
        raise ChoreoError(f"{where} skeleton bones must be pairs of joint indices")
    scale, rig = s.get("axis_scale", [1.0, 1.0, 1.0]), s.get("rig")
    if not isinstance(scale, list) or len(scale) != 3 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 1e9 for v in scale):
        raise ChoreoError(f"{where} skeleton axis_scale must be three positive numbers")
    if rig is not None:
        try:
            if not isinstance(rig, dict) or len(rig_from_plain(rig)) != len(names):
                raise ValueError("not one rig joint per joint")
        except (ValueError, TypeError, KeyError) as err:
            raise ChoreoError(f"{where} skeleton rig is malformed ({str(err)[:80]})") from None
    return MappingProxyType({**s, "fps": float(fps)})


def _clip(r: _Reader, e: Any, base: Path, where: str) -> ClipSource:
    cid = _get(e, "id", str, where)
    if not _ID.fullmatch(cid):
        raise ChoreoError(f"{where} id must be sha256:<64 hex digits>")
    skeleton = _skeleton(_get(e, "skeleton", dict, where, {}), where)
    layout = _get(e, "layout", str, where, "frames-first")
    if layout not in ("frames-first", "joints-first"):
        raise ChoreoError(f"{where} layout must be frames-first or joints-first")
    fps = _get(e, "fps", (int, float, type(None)), where, None)
    name = _get(e, "name", str, where, "clip")
    path = _source_path(_get(e, "path", (str, type(None)), where, None), base, where)
    motion = None
    if _get(e, "embedded", bool, where, False):
        pos = r.array(f"clips/{_hex(cid)}.npy")
        if pos.ndim != 3 or pos.shape[2] != 3 or pos.shape[0] < 2 or \
                (skeleton.get("joint_names") and pos.shape[1] != len(skeleton["joint_names"])):
            raise ChoreoError(f"{where} embedded positions have shape {pos.shape}, expected (frames, joints, 3)")
        motion = skeleton_motion(skeleton, pos.astype(np.float32), str(path) if path is not None else name)
        if clip_fingerprint(motion) != cid:
            raise ChoreoError(f"{where} is damaged (its content does not match its fingerprint)")
    proportions = _get(e, "proportions", str, where, "auto")
    if proportions not in ("auto", "file"):
        raise ChoreoError(f"{where} proportions must be auto or file")
    return ClipSource(cid, name, path, layout, None if fps is None else float(fps), proportions, skeleton, motion)


def _model(r: _Reader, e: Any, base: Path, where: str) -> ModelSource:
    mid = _get(e, "id", str, where)
    if not _ID.fullmatch(mid):
        raise ChoreoError(f"{where} id must be sha256:<64 hex digits>")
    tree = None
    if _get(e, "embedded", bool, where, False):
        h = _hex(mid)
        doc = r.json(r.members.get(f"models/{h}.json") or r.fail(f"member models/{h}.json is missing"))
        if not isinstance(doc, dict):
            raise ChoreoError(f"{where} embedded model is not a JSON object")
        n = sum(1 for name in r.members if name.startswith(f"models/{h}/"))
        tree = ModelTree(MappingProxyType(doc), tuple(r.array(f"models/{h}/{i}.npy") for i in range(n)))
        if tree.fingerprint() != mid:
            raise ChoreoError(f"{where} is damaged (its content does not match its fingerprint)")
        try:
            tree.check_size()
        except ChoreoError as err:
            raise ChoreoError(f"{where}: {err}") from None
    summary = _get(e, "summary", dict, where, {})
    if "skeleton" in summary:
        summary = {**summary, "skeleton": _skeleton(summary["skeleton"], where)}
    return ModelSource(mid, _get(e, "name", str, where, "model"),
                       _source_path(_get(e, "path", (str, type(None)), where, None), base, where),
                       MappingProxyType(summary), None, tree)


def _take(r: _Reader, e: Any, where: str, next_id: int) -> Take:
    number = _get(e, "number", int, where)
    if not 1 <= number < 10**9:
        raise ChoreoError(f"{where} number must be from 1, got {number}")
    try:
        recipe = Recipe.from_json(_get(e, "recipe", dict, where))
    except ChoreoError as err:
        raise ChoreoError(f"{where}: {err}") from None
    status = _get(e, "status", str, where, "done")
    if status not in _STATUSES:
        raise ChoreoError(f"{where} status must be one of {', '.join(_STATUSES)}")
    pos = r.array(f"takes/{number}.npy")
    p = recipe.params
    if pos.ndim != 4 or pos.shape[3] != 3 or pos.shape[0] != p.variations or pos.shape[1] > p.frames:
        raise ChoreoError(f"{where} frames have shape {pos.shape}, its recipe says "
                          f"({p.variations}, up to {p.frames}, joints, 3)")
    pos = np.ascontiguousarray(pos, np.float32)
    pos.flags.writeable = False
    try:
        created = _dt.datetime.fromisoformat(_get(e, "created", str, where, "2000-01-01T00:00:00"))
    except ValueError:
        created = _dt.datetime.now()
    return Take(next_id, pos, recipe, status="cancelled" if status == "generating" else status,
                live=_get(e, "live", bool, where, False), created=created, number=number,
                name=_get(e, "name", str, where, "")[:500], favourite=_get(e, "favourite", bool, where, False))


def _not_a_zip(path: Path) -> None:
    if not path.exists():
        raise ChoreoError("no such file", path)
    if not path.is_file():
        raise ChoreoError("is not a regular file, expected a .choreo project", path)
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:1] == b"\x80":
        raise ChoreoError("is a pickle, not a project: refusing to unpickle it (it could run code)", path)
    if head[:2] != b"PK":
        raise ChoreoError("not a Choreo Studio project (expected a zip archive)", path)


def read_project(path: str | Path, first_take_id: int = 1) -> Project:
    """Read and check a project file. Takes get ids from ``first_take_id`` on.

    Embedded clips come back available; embedded models as trees (``ModelSource.tree``), files
    not read yet: :func:`resolve_sources` reads what is wanted. One ``ChoreoError`` for any damage.
    """
    path = Path(path)
    _not_a_zip(path)
    try:
        with zipfile.ZipFile(path) as z:
            r = _Reader(path, z)
            doc = r.document()
            base = path.resolve().parent
            clips = tuple(_clip(r, e, base, f"clip {i + 1}") for i, e in enumerate(_get(doc, "clips", list, "project")))
            models = tuple(_model(r, e, base, f"model {i + 1}")
                           for i, e in enumerate(_get(doc, "models", list, "project")))
            takes = tuple(_take(r, e, f"take entry {i + 1}", first_take_id + i)
                          for i, e in enumerate(_get(doc, "takes", list, "project")))
    except ChoreoError as err:
        if err.path is not None:
            raise
        raise ChoreoError(err.problem, path) from None
    except ZIP_ERRORS as err:
        raise ChoreoError(f"not a readable project (damaged zip archive: {str(err)[:120]})", path) from None
    if len({t.number for t in takes}) != len(takes):
        raise ChoreoError("two takes have the same number", path)
    try:
        return _project(doc, clips, models, takes, base)
    except ChoreoError as err:
        raise ChoreoError(err.problem, path) from None


def _song(state: dict, base: Path) -> tuple[Path, str] | None:
    song = _get(state, "song", (dict, type(None)), "state", None)
    if song is None:
        return None
    path, sha = _get(song, "path", str, "state song"), _get(song, "sha256", str, "state song")
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise ChoreoError("state song sha256 must be 64 hex digits")
    return _source_path(path, base, "state song"), sha


def _project(doc: dict, clips: tuple, models: tuple, takes: tuple, base: Path) -> Project:
    state = _get(doc, "state", dict, "project", {})
    shown = _get(state, "clips", list, "state", [])
    if not all(isinstance(c, str) for c in shown):
        raise ChoreoError("state clips must be a list of clip ids")
    model = _get(state, "model", (str, type(None)), "state", None)
    current = _get(state, "current_take", (int, type(None)), "state", None)
    playhead = _get(state, "playhead", int, "state", 0)
    next_take = _get(state, "next_take", int, "state", 1)
    known = ("format", "version", "saved_by", "saved_at", "clips", "models", "takes", "state", "view", "note")
    return Project(clips, models, takes, tuple(shown), model,
                   MappingProxyType(_get(state, "settings", dict, "state", {})), max(0, playhead), current,
                   max(1, next_take), MappingProxyType(_get(doc, "view", dict, "project", {})),
                   MappingProxyType({k: v for k, v in doc.items() if k not in known}), _song(state, base))


def read_header(path: str | Path) -> Mapping[str, Any]:
    """A quick look without reading arrays: ``saved_at``, ``takes`` (count) and the ``note`` it was written
    with (autosaves say what they belong to). ChoreoError for a damaged file."""
    path = Path(path)
    _not_a_zip(path)
    try:
        with zipfile.ZipFile(path) as z:
            doc = _Reader(path, z).document()
    except ZIP_ERRORS as err:
        raise ChoreoError(f"not a readable project (damaged zip archive: {str(err)[:120]})", path) from None
    note, takes = doc.get("note"), doc.get("takes")
    return MappingProxyType({"saved_at": str(doc.get("saved_at", "")), "takes": len(takes) if isinstance(takes, list)
                             else 0, "note": dict(note) if isinstance(note, dict) else {}})


# -- finding the clips and models ----------------------------------------------------------------

def _problem(kind: str, source: ClipSource | ModelSource, detail: str) -> Problem:
    what = "clip" if isinstance(source, ClipSource) else "model"
    where = str(source.path) if source.path is not None else source.name
    return Problem(kind, what, source.id, source.name, None if source.path is None else str(source.path),
                   f"{where}: {detail}")


def load_clip_source(source: ClipSource, path: str | Path | None = None) -> ClipSource:
    """Read the clip ``source`` names (from ``path`` when given: locating it). ChoreoError if that file
    is not the same clip (its fingerprint differs) or cannot be read."""
    path = Path(path) if path is not None else source.path
    if path is None:
        raise ChoreoError(f"{source.name}: it has no file and is not stored in the project")
    motion = load_motion(path, layout=source.layout, fps=source.fps, proportions=source.proportions)
    if clip_fingerprint(motion) != source.id:
        raise ChoreoError("is not the project's clip (its content differs from the one the project used)", path)
    return replace(source, path=Path(path).resolve(), motion=motion)


def load_model_source(source: ModelSource, path: str | Path | None = None, device: str = "cpu") -> ModelSource:
    """Load the model ``source`` names (its stored tree, or ``path``/its file). ChoreoError if it differs."""
    if path is None and source.tree is not None:
        return replace(source, model=source.tree.load(device))
    path = Path(path) if path is not None else source.path
    if path is None:
        raise ChoreoError(f"{source.name}: it has no file and is not stored in the project")
    model = DanceModel.load(path, device=device)
    if model_fingerprint(model) != source.id:
        raise ChoreoError("is not the project's model (its content differs from the one the project used)", path)
    return replace(source, path=Path(path).resolve(), model=model)


def resolve_sources(project: Project, device: str = "cpu", only: set[str] | None = None
                    ) -> tuple[Project, tuple[Problem, ...]]:
    """Read the clips and models the project names (``only``: these ids); problems instead of errors."""
    problems: list[Problem] = []

    def attempt(source: Any, load: Any) -> Any:
        if source.available or (only is not None and source.id not in only):
            return source
        if getattr(source, "tree", None) is None and (source.path is None or not source.path.exists()):
            problems.append(_problem("missing", source, "not found (moved or renamed?): locate it" if source.path
                                     else "neither stored in the project nor in a file"))
            return source
        try:
            return load(source)
        except ChoreoError as err:
            kind = "changed" if "content differs" in str(err) else "unreadable"
            detail = ("changed since the project was saved (its content differs): locate the original"
                      if kind == "changed" else err.problem)
            problems.append(_problem(kind, source, detail))
            return source

    clips = tuple(attempt(c, load_clip_source) for c in project.clips)
    models = tuple(attempt(m, lambda s: load_model_source(s, device=device)) for m in project.models)
    return replace(project, clips=clips, models=models), tuple(problems)

