"""A take's recipe: everything that made it, as plain JSON that can grow, and regeneration from it alone.

A recipe is the take's :class:`GenerationParams` (every knob, resolved to frames) plus what they
were applied to: the model and the seed clip, named by content fingerprints (``sha256:...``, see
:mod:`engine.session.sources`), and the device. :meth:`Recipe.to_json` gives one flat object::

    {"version": 1, "model": "sha256:...", "seed_clip": "sha256:..." | null, "seed_frame": 120,
     "look_back": 32, "temperature": 1.0, "sigma_temperature": 1.0, "mixture": "auto", "rng": 0,
     "frames": 300, "variations": 1, "rigid": true, "device": "cpu"}

``seed_clip`` null means the stretch of training data inside the model; ``seed_frame`` null means
the generator's default moment.

Growing it: a new ``GenerationParams`` field is written and read by name when its value is plain
JSON (numbers, strings, booleans, null); a structured one (constraints, music) adds an entry to
:data:`FIELD_CODECS` (to JSON, and back with checks). Fields this version does not know (written by
a newer one) are kept verbatim in :attr:`Recipe.extra` and written back unchanged; regeneration
refuses such a recipe rather than silently ignoring part of it.

Regeneration is bit for bit on the same machine and device: the generator is built exactly as the
worker builds it (:func:`engine.session.worker.generator_for`), stepped one frame at a time, with
PyTorch on the worker's generation thread count (another count can change float sums).
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import torch

from ..core.errors import ChoreoError
from ..dance.direction import Direction
from ..dance.knobs import GENERATION
from ..dance.model import DanceModel
from ..dance.motion import Motion
from ..dance.music import Song
from ..dance.warp import dance_to_song, projector_for
from .sources import clip_fingerprint, model_fingerprint
from .worker import GEN_THREADS, GenerationParams, generator_for

RECIPE_VERSION = 1
MAX_FRAMES = 10_000_000  # frames of one take (a day at 120 fps): a larger number is a damaged file
_OWN = ("version", "model", "seed_clip", "device")  # the recipe's own keys beside the params


def _frozen(data: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(copy.deepcopy(dict(data)))


@dataclass(frozen=True)
class Recipe:
    """What a take was made from: knobs, model, seed clip, device (and fields of newer versions)."""

    params: GenerationParams = field(default_factory=GenerationParams)
    model: str = ""  # fingerprint of the model ("" unknown)
    seed_clip: str | None = None  # fingerprint of the clip continued; None: the model's own seed stretch
    device: str = "cpu"  # where it was generated: regeneration is bit for bit on the same device
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))  # unknown fields, kept

    def to_json(self) -> dict[str, Any]:
        """One flat JSON object (a fresh dict)."""
        out: dict[str, Any] = {"version": RECIPE_VERSION, "model": self.model, "seed_clip": self.seed_clip}
        for f in fields(GenerationParams):
            value = getattr(self.params, f.name)
            codec = FIELD_CODECS.get(f.name)
            out[f.name] = codec[0](value) if codec else value
        out["device"] = self.device
        for key, value in self.extra.items():
            out.setdefault(key, copy.deepcopy(value))
        return out

    @classmethod
    def from_json(cls, data: Any) -> Recipe:
        """A recipe from :meth:`to_json`'s output (untrusted: every value is checked; ChoreoError)."""
        if not isinstance(data, dict):
            raise ChoreoError(f"recipe must be a JSON object, got {type(data).__name__}")
        version = data.get("version", RECIPE_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ChoreoError(f"recipe version must be a whole number from 1, got {version!r}")
        values = {}
        for f in fields(GenerationParams):
            if f.name in data:
                check = FIELD_CODECS[f.name][1] if f.name in FIELD_CODECS else _CHECKS.get(f.name, _plain)
                try:
                    values[f.name] = check(data[f.name])
                except ChoreoError as err:
                    raise ChoreoError(f"recipe {f.name}: {err}") from None
        model, seed_clip, device = data.get("model", ""), data.get("seed_clip"), data.get("device", "cpu")
        if not isinstance(model, str) or not (seed_clip is None or isinstance(seed_clip, str)) \
                or not isinstance(device, str):
            raise ChoreoError("recipe model, seed_clip and device must be text (seed_clip may be null)")
        known = {*_OWN, *(f.name for f in fields(GenerationParams))}
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(GenerationParams(**values), model, seed_clip, device, _frozen(extra))

    def describe(self) -> str:
        """A short line for lists: ``T=0.8 σ=1 mixture auto, rng 3, 300 frames x 2``."""
        p = self.params
        seed = f" from frame {p.seed_frame}" if p.seed_frame is not None else ""
        return (f"T={p.temperature:g} σ={p.sigma_temperature:g} mixture {p.mixture}, look-back {p.look_back}, "
                f"rng {p.rng}, {p.frames} frames x {p.variations}{seed}{'' if p.rigid else ', not rigid'}")


def _plain(value: Any) -> Any:
    if value is not None and not isinstance(value, (bool, int, float, str)):
        raise ChoreoError(f"expected a plain value, got {type(value).__name__}")
    return value


def _whole(lo: int, hi: int, optional: bool = False) -> Callable[[Any], int | None]:
    def check(value: Any) -> int | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ChoreoError(f"must be a whole number from {lo} to {hi}, got {value!r}")
        return int(value)
    return check


def _knob(name: str) -> Callable[[Any], Any]:
    knob = GENERATION[name]

    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ChoreoError(f"must be a finite number, got {value!r}")
        return knob.check(value)
    return check


def _mixture(value: Any) -> str | int:
    if value in ("auto", "argmax"):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1024:
        return int(value)
    raise ChoreoError(f"must be auto, argmax or a component index, got {value!r}")


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ChoreoError(f"must be true or false, got {value!r}")
    return value


def _text(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > 4096):
        raise ChoreoError(f"must be text or null, got {type(value).__name__}")
    return value


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "temperature": _knob("temperature"), "sigma_temperature": _knob("sigma_temperature"), "mixture": _mixture,
    "look_back": _whole(1, MAX_FRAMES), "rng": _whole(0, 2**63 - 1), "frames": _whole(1, MAX_FRAMES),
    "variations": _whole(1, int(GENERATION["variations"].hi or 8)),
    "seed_frame": _whole(1, 2**40, optional=True), "rigid": _flag, "pose_guard": _optional(_knob("pose_guard")),
    "anchor": _optional(_knob("anchor")), "song": _text, "song_sha256": _text, "beat_align": _flag,
}

def _as_lists(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_as_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_lists(v) for k, v in value.items()}
    return value


def _all_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        value = list(value.values())
    return all(_all_finite(v) for v in value) if isinstance(value, list) else True


def _direction_field(name: str) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """Codec of one directing field (keyframes, keep, path, part_temperatures) through ``Direction``'s plain form."""

    def to_json(value: Any) -> Any:
        return _as_lists(Direction(**{name: value}).to_plain()[name])

    def from_json(value: Any) -> Any:
        if not isinstance(value, list) or len(value) > MAX_FRAMES:
            raise ChoreoError(f"must be a list, got {type(value).__name__}")
        try:
            out = getattr(Direction.from_plain({name: value}), name)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ChoreoError("is not a list of what this version of Choreo Studio writes") from None
        if not _all_finite(value):
            raise ChoreoError("has NaN or infinite numbers")
        return out
    return to_json, from_json


# Structured GenerationParams fields: name -> (value to JSON, JSON to value with checks raising ChoreoError).
FIELD_CODECS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    name: _direction_field(name) for name in ("keyframes", "keep", "path", "part_temperatures")
}


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def regenerate(recipe: Recipe, model: DanceModel, seed: Motion | None = None, song: Song | None = None,
               references: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Make the take again from its recipe: ``(variations, frames, joints, 3)`` float32.

    ``model`` and ``seed`` (the clip, None when the recipe continues the model's own seed stretch)
    must be the ones the recipe names: their fingerprints are checked; so is ``song`` for a take
    re-timed onto a song's beats (``engine.dance.warp.dance_to_song``, as the worker does);
    ``references`` the motions its kept joints follow by name (other takes, other clips). Raises
    ChoreoError.
    """
    if recipe.extra:
        raise ChoreoError(f"the recipe uses {', '.join(sorted(recipe.extra))}, which this version of "
                          "Choreo Studio does not know; the take's stored frames are exact")
    if recipe.model and model_fingerprint(model) != recipe.model:
        raise ChoreoError("this is not the model the take was made with (its content differs)")
    if recipe.seed_clip is not None and (seed is None or clip_fingerprint(seed) != recipe.seed_clip):
        raise ChoreoError("this is not the clip the take continues (its content differs)")
    p = recipe.params
    if p.beat_align and (song is None or song.sha256 != p.song_sha256):
        raise ChoreoError(f"the take was fitted to the beats of {Path(p.song or 'a song').name}: "
                          "give that very song to make it again")
    seed = seed if recipe.seed_clip is not None else None
    with _torch_threads(GEN_THREADS):
        gen = generator_for(model, p, seed, references)
        if p.beat_align:
            clip = seed if seed is not None else model.seed
            fps = float(clip.fps) if clip is not None else 30.0
            out = dance_to_song(gen, fps, song.beats, p.frames / fps, True,
                                projector_for(model) if gen.rigid else None)
            return out if out.ndim == 4 else out[None]
        out = np.empty((p.variations, p.frames, gen.codec.n_joints, 3), np.float32)
        for i in range(p.frames):
            out[:, i] = gen.step()
    return out
