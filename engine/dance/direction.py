"""Directing a take: what a choreographer asks of it, as plain data (a take's recipe holds it).

* :class:`Keyframe`: "be in this pose at this moment": a centre-relative pose at a frame of the take.
* :class:`Keep`: "keep these joints from that clip": the joints follow a reference motion (centre-relative)
  while the model invents the rest, conditioned on them.
* a floor path: one point per take frame on the two floor axes (in axis order, e.g. x, z for a Y-up
  clip), in the clip's coordinates: the body's centre follows it.
* :class:`PartTemperature`: a temperature for some joints (the arms wilder, the legs calmer).

Everything here is frozen and JSON-able (``Direction.to_plain`` / ``from_plain``); joints are
stored as indices (resolved from group names by ``engine.dance.parts``), poses and paths as numbers,
so a take regenerates exactly. How the generator honours them: ``engine.dance.directing``.
This module also reads floor paths from ``.npy`` and ``.svg`` files and resamples drawn ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import ChoreoError
from ..core.svgpath import read_svg_root, tree_polylines
from .axes import body_height

STAGE_FILL = 0.8  # a drawing fills this share of the data's stage each way, at most
MIN_TRAVEL = 0.2  # body heights per second: a path without timing is walked at least this fast


@dataclass(frozen=True)
class Keyframe:
    """Be in ``pose`` (centre-relative, ``joints * 3`` numbers) at take frame ``frame``."""

    frame: int
    pose: tuple[float, ...]
    source: str = ""  # where the pose came from, for people: a file, "clip", "take 3", "playhead"
    source_frame: int | None = None

    @property
    def array(self) -> np.ndarray:
        """The pose ``(joints, 3)`` float64."""
        return np.asarray(self.pose, np.float64).reshape(-1, 3)

    @classmethod
    def of(cls, positions: np.ndarray, source_frame: int, frame: int, source: str = "") -> Keyframe:
        """The pose of ``positions[source_frame]`` (``(frames, joints, 3)``) at take frame ``frame``."""
        positions = np.asarray(positions)
        if not 0 <= source_frame < len(positions):
            raise ChoreoError(f"keyframe source frame {source_frame} is outside {source or 'the source'} "
                              f"(0..{len(positions) - 1})")
        pose = positions[source_frame].astype(np.float64)
        pose = pose - pose.mean(0)
        return cls(int(frame), tuple(float(v) for v in pose.reshape(-1)), source, int(source_frame))

    def moved(self, frame: int) -> Keyframe:
        """The same pose at another take frame."""
        return Keyframe(int(frame), self.pose, self.source, self.source_frame)


@dataclass(frozen=True)
class Keep:
    """Joints that follow a reference motion: take frame ``t`` holds them as ``source`` frame ``start + t``."""

    joints: tuple[int, ...]
    source: str = ""  # "": the clip the take continues; else a name the generator's ``references`` holds
    start: int | None = None  # source frame at take frame 0; None: the seed frame (seed clip) or 0
    label: str = ""  # what was asked, for people ("arms", "LeftArm,RightArm")


@dataclass(frozen=True)
class PartTemperature:
    """Temperature ``temperature`` for the movement of ``joints`` (1 = as learned)."""

    joints: tuple[int, ...]
    temperature: float
    label: str = ""


@dataclass(frozen=True)
class Direction:
    """Everything a take is asked to do beside the knobs (empty: the model alone decides)."""

    keyframes: tuple[Keyframe, ...] = ()
    keep: tuple[Keep, ...] = ()
    path: tuple[tuple[float, float], ...] = ()  # floor point per take frame (floor axes in axis order)
    part_temperatures: tuple[PartTemperature, ...] = ()
    sources: dict[str, str] = field(default_factory=dict, compare=False)  # reference name -> file, for people

    def __bool__(self) -> bool:
        return bool(self.keyframes or self.keep or self.path or self.part_temperatures)

    def check(self, n_joints: int, frames: int | None = None) -> Direction:
        """Raise ChoreoError when a joint index or a take frame is out of range; returns self."""
        for kf in self.keyframes:
            if len(kf.pose) != 3 * n_joints:
                raise ChoreoError(f"a keyframe pose has {len(kf.pose) // 3} joints, the model dances {n_joints}")
            if kf.frame < 0 or (frames is not None and kf.frame >= frames):
                raise ChoreoError(f"keyframe at take frame {kf.frame} is outside the take (0..{(frames or 1) - 1})")
        for joints in [k.joints for k in self.keep] + [p.joints for p in self.part_temperatures]:
            bad = [j for j in joints if not 0 <= j < n_joints]
            if bad or not joints:
                raise ChoreoError(f"joint {bad[0] if bad else '(none)'} is not one of the body's {n_joints} joints")
        for p in self.part_temperatures:
            if not 0 <= p.temperature <= 10:
                raise ChoreoError(f"part temperature must be from 0 to 10, got {p.temperature:g}")
        if self.path and np.asarray(self.path).shape[1:] != (2,):
            raise ChoreoError("a floor path needs two floor coordinates per frame")
        return self

    def to_plain(self) -> dict[str, Any]:
        """JSON-able dict (lists and numbers)."""
        d = asdict(self)
        d.pop("sources")
        return d

    @classmethod
    def from_plain(cls, d: dict[str, Any]) -> Direction:
        """The inverse of :meth:`to_plain`."""
        return cls(
            keyframes=tuple(Keyframe(int(k["frame"]), tuple(map(float, k["pose"])), k.get("source", ""),
                                     k.get("source_frame")) for k in d.get("keyframes", ())),
            keep=tuple(Keep(tuple(map(int, k["joints"])), k.get("source", ""), k.get("start"), k.get("label", ""))
                       for k in d.get("keep", ())),
            path=tuple((float(x), float(y)) for x, y in d.get("path", ())),
            part_temperatures=tuple(PartTemperature(tuple(map(int, p["joints"])), float(p["temperature"]),
                                                    p.get("label", "")) for p in d.get("part_temperatures", ())),
        )


def floor_axes(up: int) -> tuple[int, int]:
    """The two floor axes (indices, in axis order) of a clip whose up axis is ``up``."""
    a, b = (i for i in range(3) if i != up)
    return a, b


def as_path(points: np.ndarray | Sequence[Sequence[float]]) -> tuple[tuple[float, float], ...]:
    """A floor path ``(n, 2)`` as the recipe stores it. Raises ChoreoError for a bad shape or NaN."""
    p = np.asarray(points, np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or len(p) < 2:
        raise ChoreoError(f"a floor path is (frames, 2) floor points, at least 2; got shape {p.shape}")
    if not np.isfinite(p).all():
        raise ChoreoError("the floor path has NaN or infinite values")
    return tuple((float(x), float(y)) for x, y in p)


def resample_path(points: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` along the polyline ``points`` ``(n, 2)`` (its timing is dropped)."""
    p = np.asarray(points, np.float64)
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0 or step <= 0:
        return p[:1].copy()
    at = np.arange(0.0, s[-1] + 1e-12, step)
    return np.stack([np.interp(at, s, p[:, 0]), np.interp(at, s, p[:, 1])], axis=1)


def typical_travel(positions: np.ndarray, fps: float, up: int) -> float:
    """The data's typical travel speed of the body's centre across the floor, per frame.

    The median distance the centre covers in one second, per frame (jitter within a second cancels),
    at least ``MIN_TRAVEL`` body heights per second, so a dancer who mostly stays in place still walks
    a drawn path.
    """
    pos = np.asarray(positions, np.float64)
    centre = pos.mean(1)[:, list(floor_axes(up))]
    w = max(1, min(len(pos) - 1, round(fps)))
    per_second = np.linalg.norm(centre[w:] - centre[:-w], axis=1) if len(pos) > w else np.zeros(1)
    height = body_height(pos, up)
    return max(float(np.median(per_second)) / w, MIN_TRAVEL * height / fps)


def path_from_drawing(points: np.ndarray, start: np.ndarray, speed: float) -> np.ndarray:
    """A per-frame floor path from a drawn shape ``(n, 2)`` without timing: moved to begin at ``start``
    ``(2,)``, walked at ``speed`` per frame."""
    p = np.asarray(points, np.float64)
    if len(p) < 2:
        raise ChoreoError("a path needs at least two points")
    p = p - p[0] + np.asarray(start, np.float64)
    return resample_path(p, speed)


def stage_box(positions: np.ndarray, up: int) -> tuple[np.ndarray, np.ndarray]:
    """The floor area ``(lo, hi)`` (two floor axes) the body's centre covers in ``positions``: where the
    generator keeps the dancer and the judge counts it on stage. At least a quarter of the body's height
    each way from its middle, so a dancer who stays in place still walks a small drawing."""
    pos = np.asarray(positions, np.float64)
    centre = pos.mean(1)[:, list(floor_axes(up))]
    lo, hi = centre.min(0), centre.max(0)
    half = np.maximum((hi - lo) / 2, 0.25 * body_height(pos, up))
    mid = (lo + hi) / 2
    return mid - half, mid + half


def fit_to_stage(points: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A drawing ``(n, 2)`` scaled uniformly into ``STAGE_FILL`` of the box ``lo``-``hi`` and centred on it."""
    p = np.asarray(points, np.float64)
    size = np.ptp(p, axis=0)
    room = STAGE_FILL * (np.asarray(hi, np.float64) - np.asarray(lo, np.float64))
    scale = float(np.min(room / np.maximum(size, 1e-12))) if size.max() > 0 else 1.0
    return (p - (p.min(0) + p.max(0)) / 2) * scale + (np.asarray(lo) + np.asarray(hi)) / 2


def load_path(path: str | Path, *, stage: tuple[np.ndarray, np.ndarray], speed: float) -> np.ndarray:
    """A floor path ``(frames, 2)`` from a file (see the CLI's ``--path``).

    ``.npy``: ``(take frames, 2)``, one floor point per frame, used as given (the clip's units and axes).
    ``.svg``: a top view of the stage: its shapes joined in document order, SVG x along the first floor
    axis and SVG y along the second, scaled uniformly into ``STAGE_FILL`` of the ``stage`` box
    ``(lo, hi)`` (the floor area the data covers, :func:`stage_box`) and centred on it, walked at
    ``speed`` per frame (the data's typical travel, :func:`typical_travel`). The take joins it from
    wherever the dancer stands.
    Raises ChoreoError naming the file.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".npy":
        if not path.is_file():
            raise ChoreoError("file not found", path)
        try:
            points = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as err:
            raise ChoreoError(f"not a readable .npy file ({err})"[:200], path) from err
        try:
            return np.asarray(as_path(points))
        except ChoreoError as err:
            raise ChoreoError(str(err), path) from err
    if ext == ".svg":
        lines = tree_polylines(read_svg_root(path), path)
        if not lines:
            raise ChoreoError("holds no lines, polylines, polygons or paths", path)
        return resample_path(fit_to_stage(np.concatenate(lines), *stage), speed)
    raise ChoreoError(f"a floor path is a .npy of floor points or an .svg drawing, not {ext or 'a file without type'}",
                      path)
