"""What takes are made from: clips and models, named by content fingerprints.

A fingerprint is ``"sha256:" + hexdigest`` (``hashlib.sha256``) of the content *as used*, not of
a file's bytes, so a clip made in memory (the synthetic dancer) or a model trained in the studio
has one too, and reading the same file again gives the same one:

* a clip: its positions (float32, frames first, as loaded) and what generation and exports read
  beside them (fps, joint names, bones, up axis);
* a model: what makes it generate (``DanceModel.save``'s config, weights and extras: normalisation,
  skeleton, seed stretch), without training bookkeeping or the path of its training data.

A model travels inside a project as a *tree*: the checkpoint's nested dict as JSON, with every
tensor replaced by ``{"$tensor": i, "dtype": ...}`` and stored as the ``i``-th ``.npy`` array. No
pickle is written; reading builds the checkpoint dict back from JSON and vetted arrays and loads
it through the one checkpoint reader (``DanceModel.load``, ``weights_only=True``).

:class:`SourceLibrary` remembers the clips and models a session has used, with the file each can
be read again from (when there is a lasting one), so a project can name and keep them after the
session has moved on to another clip or model.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import torch

from ..core.checkpoint import read_checkpoint, save_checkpoint
from ..core.errors import ChoreoError
from ..dance.bvh import rig_from_plain, rig_to_plain
from ..dance.model import DanceConfig, DanceModel
from ..dance.motion import LOADABLE, Motion

PREFIX = "sha256:"
_NOT_FINGERPRINTED = ("source",)  # extras that do not change what a model generates


class _IdentityCache:
    """Values computed once per live object (by identity; dropped when the object dies)."""

    def __init__(self) -> None:
        self._values: dict[int, Any] = {}
        self._lock = threading.Lock()

    def get(self, obj: object, compute: Any) -> Any:
        key = id(obj)
        with self._lock:
            if key in self._values:
                return self._values[key]
        value = compute(obj)
        with self._lock:
            if key not in self._values:
                self._values[key] = value
                weakref.finalize(obj, self._values.pop, key, None)
        return value


_CLIP_IDS = _IdentityCache()
_MODEL_IDS = _IdentityCache()
_MODEL_TREES = _IdentityCache()


def _digest(header: Any, arrays: Iterable[np.ndarray]) -> str:
    h = hashlib.sha256(json.dumps(header, sort_keys=True, separators=(",", ":")).encode())
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return PREFIX + h.hexdigest()


def skeleton_of(motion: Motion) -> dict[str, Any]:
    """What exports and players need besides positions: fps, joint names, bones, up axis, layout, the
    per-axis scale restored on loading, the BVH rig (plain lists), and the size."""
    return {"fps": float(motion.fps), "joint_names": [str(n) for n in motion.joint_names],
            "bones": np.asarray(motion.bones, np.int64).reshape(-1, 2).tolist(), "up_axis": motion.up_axis,
            "layout": motion.layout, "axis_scale": [float(v) for v in motion.axis_scale],
            "rig": rig_to_plain(motion.rig) if motion.rig else None,
            "frames": motion.n_frames, "joints": motion.n_joints}


def skeleton_motion(skeleton: Mapping[str, Any], positions: np.ndarray, source: str = "") -> Motion:
    """Frames as a Motion with ``skeleton``'s fps, names, bones, up axis and layout (``skeleton_of``'s output)."""
    names = list(skeleton.get("joint_names") or [])
    fits = len(names) == positions.shape[1]
    rig = skeleton.get("rig")
    return Motion(positions, fps=float(skeleton.get("fps", 30.0)), joint_names=names if fits else [],
                  bones=np.asarray(skeleton.get("bones") if fits else [], np.int64).reshape(-1, 2),
                  source=source, layout=str(skeleton.get("layout", "frames-first")),
                  up_axis=str(skeleton.get("up_axis", "")), axis_scale=skeleton.get("axis_scale") or np.ones(3),
                  rig=rig_from_plain(rig) if rig and fits else None)


def clip_fingerprint(motion: Motion) -> str:
    """``sha256:...`` of a clip's positions, fps, joint names, bones and up axis (cached per object)."""
    def compute(m: Motion) -> str:
        s = skeleton_of(m)
        header = {k: s[k] for k in ("fps", "joint_names", "bones", "up_axis")}
        return _digest(header, [np.asarray(m.positions, np.float32)])
    return _CLIP_IDS.get(motion, compute)


# -- model trees -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelTree:
    """A checkpoint as JSON (``tree``) plus the arrays its ``$tensor`` entries point to."""

    tree: Mapping[str, Any]
    arrays: tuple[np.ndarray, ...]

    def fingerprint(self) -> str:
        """The model's fingerprint, from what makes it generate."""
        core = {k: self.tree[k] for k in ("kind", "model_config", "model", "extra") if k in self.tree}
        if isinstance(core.get("extra"), dict):
            core["extra"] = {k: v for k, v in core["extra"].items() if k not in _NOT_FINGERPRINTED}
        used: list[int] = []
        _tensor_refs(core, used, len(self.arrays))
        return _digest(core, [self.arrays[i] for i in used])

    def load(self, device: str | torch.device = "cpu") -> DanceModel:
        """The model (through the one checkpoint reader). Raises ChoreoError for a damaged tree."""
        self.check_size()
        payload = _unflatten(self.tree, self.arrays)
        with tempfile.TemporaryDirectory(prefix="choreo-model-") as tmp:
            path = Path(tmp) / "embedded.pt"
            save_checkpoint(path, payload)
            try:
                return DanceModel.load(path, device=device)
            except ChoreoError as err:
                raise ChoreoError(err.problem) from None


    def check_size(self) -> None:
        """Refuse a config that claims more weights than are stored, before anything is allocated (a
        hostile file could otherwise ask for terabytes): the model is first built on PyTorch's
        ``meta`` device, which only counts."""
        weights: list[int] = []
        _tensor_refs(self.tree.get("model", {}), weights, len(self.arrays))
        stored = sum(int(self.arrays[i].size) for i in weights)
        try:
            with torch.device("meta"):
                shape = DanceModel(DanceConfig(**self.tree["model_config"]))
            wanted = sum(t.numel() for t in shape.state_dict().values())
        except Exception as err:  # a damaged config: any error while merely counting
            raise ChoreoError(f"embedded model: unusable config ({str(err)[:120]})") from None
        if wanted != stored:
            raise ChoreoError(f"embedded model: its config needs {wanted:,} weights but {stored:,} are stored")


def _tensor_refs(tree: Any, out: list[int], n_arrays: int) -> None:
    """Collect the array indices a tree refers to, in order (ChoreoError for a reference to nothing)."""
    if isinstance(tree, Mapping):
        if "$tensor" in tree:
            i = tree["$tensor"]
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n_arrays:
                raise ChoreoError(f"embedded model: bad tensor reference {i!r}"[:160])
            out.append(i)
            return
        for v in tree.values():
            _tensor_refs(v, out, n_arrays)
    elif isinstance(tree, list):
        for v in tree:
            _tensor_refs(v, out, n_arrays)


def _flatten(obj: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu()
        dtype = str(t.dtype).removeprefix("torch.")
        arrays.append((t.float() if t.dtype == torch.bfloat16 else t).numpy().copy())
        return {"$tensor": len(arrays) - 1, "dtype": dtype}
    if isinstance(obj, dict):
        if any(not isinstance(k, str) or k.startswith("$") for k in obj):
            raise ValueError("checkpoint keys must be text not starting with $")
        return {k: _flatten(v, arrays) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_flatten(v, arrays) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return {"$float": repr(obj)}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise ValueError(f"cannot store a {type(obj).__name__} in a project")


_DTYPES = {name: getattr(torch, name) for name in (
    "float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool")}


def _unflatten(tree: Any, arrays: tuple[np.ndarray, ...]) -> Any:
    if isinstance(tree, Mapping):
        if "$tensor" in tree:
            i, dtype = tree.get("$tensor"), tree.get("dtype")
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(arrays) or dtype not in _DTYPES:
                raise ChoreoError(f"embedded model: bad tensor reference {tree!r}"[:160])
            return torch.from_numpy(np.array(arrays[i])).to(_DTYPES[dtype])
        if "$float" in tree:
            if tree["$float"] not in ("inf", "-inf", "nan"):
                raise ChoreoError(f"embedded model: bad number {tree!r}"[:160])
            return float(tree["$float"])
        return {k: _unflatten(v, arrays) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_unflatten(v, arrays) for v in tree]
    return tree


def _core_payload(model: DanceModel) -> dict[str, Any]:
    """What ``DanceModel.save`` writes that makes the model generate (its three parts, by name)."""
    return {"kind": "dance", "model_config": asdict(model.config), "model": model.state_dict(),
            "extra": model.checkpoint_extra()}


def model_fingerprint(model: DanceModel) -> str:
    """``sha256:...`` of a model's config, weights, normalisation, skeleton and seed (cached per object)."""
    def compute(m: DanceModel) -> str:
        arrays: list[np.ndarray] = []
        return ModelTree(_flatten(_core_payload(m), arrays), tuple(arrays)).fingerprint()
    return _MODEL_IDS.get(model, compute)


def model_tree(model: DanceModel) -> ModelTree:
    """The model as a tree: the checkpoint ``DanceModel.save`` writes, flattened (cached per object)."""
    def compute(m: DanceModel) -> ModelTree:
        with tempfile.TemporaryDirectory(prefix="choreo-model-") as tmp:
            payload = read_checkpoint(m.save(Path(tmp) / "model.pt"), kind="dance")
        payload.pop("optimizer", None)
        arrays: list[np.ndarray] = []
        return ModelTree(MappingProxyType(_flatten(payload, arrays)), tuple(arrays))
    return _MODEL_TREES.get(model, compute)


# -- sources ---------------------------------------------------------------------------------

def _readonly(d: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class ClipSource:
    """A clip a project uses: its fingerprint, a name for people, where to read it again."""

    id: str
    name: str
    path: Path | None  # a lasting file to read it from (absolute); None: kept inside the project
    layout: str = "frames-first"  # how to read the file again
    fps: float | None = None  # frame rate given when it was loaded (None: the file's own)
    proportions: str = "auto"  # load_motion's proportions: "auto" (restored when normalised) or "file"
    skeleton: Mapping[str, Any] = field(default_factory=dict)  # skeleton_of(clip): shown even when missing
    motion: Motion | None = None  # the clip, when available

    @property
    def available(self) -> bool:
        return self.motion is not None


@dataclass(frozen=True)
class ModelSource:
    """A model a project uses: its fingerprint, a name for people, where to read it again."""

    id: str
    name: str
    path: Path | None  # a lasting checkpoint to read it from (absolute); None: kept inside the project
    summary: Mapping[str, Any] = field(default_factory=dict)  # shape and the seed stretch's skeleton
    model: DanceModel | None = None  # the model, when available
    tree: ModelTree | None = None  # its stored content when it came from a project file

    @property
    def available(self) -> bool:
        return self.model is not None


def file_of(motion: Motion) -> Path | None:
    """The readable clip file a motion came from (absolute), or None (made in memory, gone)."""
    p = Path(motion.source) if motion.source else None
    if p is not None and p.suffix.lower() in LOADABLE and p.is_file():
        return p.resolve()
    return None


def clip_source(motion: Motion, path: Path | None = None) -> ClipSource:
    """Describe a loaded clip (``path`` defaults to the file it came from, when it still exists)."""
    path = path.resolve() if path is not None else file_of(motion)
    name = path.name if path is not None else (motion.source or "clip")
    return ClipSource(clip_fingerprint(motion), name, path, motion.layout,
                      float(motion.fps) if motion.fps_note == "given" else None,
                      "auto" if motion.restored else "file",  # "file" reads an unrestored clip the same either way
                      _readonly(skeleton_of(motion)), motion)


def model_source(model: DanceModel, path: Path | None = None) -> ModelSource:
    """Describe a model (``path``: the checkpoint it was loaded from, if lasting)."""
    cfg = model.config
    summary = {"joints": cfg.n_joints, "hidden": cfg.hidden, "layers": cfg.layers, "mixtures": cfg.mixtures,
               "steps": int(model.checkpoint_info.get("step") or 0)}
    if model.seed is not None:
        summary["skeleton"] = skeleton_of(model.seed)
    path = path.resolve() if path is not None else None
    name = path.name if path is not None else f"model trained here ({summary['steps']} steps)"
    return ModelSource(model_fingerprint(model), name, path, _readonly(summary), model)


class SourceLibrary:
    """Every clip and model a session has used, by fingerprint (thread-safe)."""

    def __init__(self) -> None:
        self._clips: dict[str, ClipSource] = {}
        self._models: dict[str, ModelSource] = {}
        self._lock = threading.Lock()

    @property
    def clips(self) -> tuple[ClipSource, ...]:
        return tuple(self._clips.values())

    @property
    def models(self) -> tuple[ModelSource, ...]:
        return tuple(self._models.values())

    def clip(self, clip_id: str | None) -> ClipSource | None:
        return self._clips.get(clip_id) if clip_id else None

    def model(self, model_id: str | None) -> ModelSource | None:
        return self._models.get(model_id) if model_id else None

    def add_clip(self, motion: Motion, path: Path | None = None) -> ClipSource:
        """Remember a clip; returns its source (an available one is never replaced by a missing one)."""
        return self.put(clip_source(motion, path))

    def add_model(self, model: DanceModel, path: Path | None = None) -> ModelSource:
        """Remember a model; returns its source."""
        return self.put(model_source(model, path))

    def put(self, source: ClipSource | ModelSource) -> Any:
        """Add or update a source; a known one keeps its object and lasting path when the new one lacks them."""
        table: dict = self._clips if isinstance(source, ClipSource) else self._models
        with self._lock:
            old = table.get(source.id)
            if old is not None:
                obj = "motion" if isinstance(source, ClipSource) else "model"
                if getattr(source, obj) is None and getattr(old, obj) is not None:
                    source = replace(source, **{obj: getattr(old, obj)})
                if source.path is None and old.path is not None:
                    source = replace(source, path=old.path)
            table[source.id] = source
        return source

    def keep_only(self, ids: Iterable[str]) -> None:
        """Forget sources nothing refers to any more (memory: clips and models are large)."""
        keep = set(ids)
        with self._lock:
            for table in (self._clips, self._models):
                for key in [k for k in table if k not in keep]:
                    del table[key]

    def replace_all(self, clips: Iterable[ClipSource], models: Iterable[ModelSource]) -> None:
        """Forget everything and take these (opening a project)."""
        with self._lock:
            self._clips = {c.id: c for c in clips}
            self._models = {m.id: m for m in models}
