"""Directing the dancer in a session: keyframes, kept joints, a floor path and part temperatures.

Four session fields with change events (``session.events.keyframes`` ...); in live mode a change
regenerates the take, like a knob. Each holds plain recipe values (``engine.dance.direction``), so
a take's ``params`` regenerates it exactly. Group names and joint lists are resolved to joint indices
against the body the model dances (``engine.dance.parts``), poses and paths to numbers, at the moment
they are set. Sources of poses and kept joints: ``"clip"`` (the clip takes continue), ``"take"``
(the current take, its first variation) or ``"playhead"`` (the clip's frame under the playhead).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..core.errors import ChoreoError
from ..dance.axes import up_index
from ..dance.direction import (
    Direction,
    Keep,
    Keyframe,
    PartTemperature,
    as_path,
    load_path,
    path_from_drawing,
    stage_box,
    typical_travel,
)
from ..dance.motion import Motion
from ..dance.parts import BodyParts, body_parts
from .store import SessionField

if TYPE_CHECKING:
    from .session import Session

TAKE_SOURCE = "take:"  # Keep.source of a take: "take:<id>"


def _check_keyframes(s: Session, value: Any) -> tuple[Keyframe, ...]:
    kfs = tuple(sorted(value, key=lambda k: k.frame))
    if any(not isinstance(k, Keyframe) for k in kfs):
        raise ChoreoError("keyframes must be Keyframe values (see Session.add_keyframe)")
    s._check_direction(Direction(keyframes=kfs))
    return kfs


def _check_keep(s: Session, value: Any) -> tuple[Keep, ...]:
    keep = tuple(value)
    if any(not isinstance(k, Keep) for k in keep):
        raise ChoreoError("kept joints must be Keep values (see Session.keep_joints)")
    s._check_direction(Direction(keep=keep))
    return keep


def _check_path(_s: Session, value: Any) -> tuple[tuple[float, float], ...]:
    return () if value is None or len(value) == 0 else as_path(value)


def _check_parts(s: Session, value: Any) -> tuple[PartTemperature, ...]:
    parts = tuple(value)
    if any(not isinstance(p, PartTemperature) for p in parts):
        raise ChoreoError("part temperatures must be PartTemperature values (see Session.set_part_temperature)")
    s._check_direction(Direction(part_temperatures=parts))
    return parts


class Directing:
    """The directing half of :class:`~engine.session.Session` (fields and helpers)."""

    keyframes = SessionField(_check_keyframes)
    keep = SessionField(_check_keep)
    path = SessionField(_check_path)
    part_temperatures = SessionField(_check_parts)

    DIRECTING_DEFAULTS: ClassVar[dict[str, Any]] = {"keyframes": (), "keep": (), "path": (), "part_temperatures": ()}

    # -- the body -------------------------------------------------------------------

    def body_parts(self: Session) -> BodyParts:
        """Joint groups (upper, lower, left, right, arms, legs ...) of the body takes are danced with."""
        clip = self.seed_clip()
        if clip is None:
            raise ChoreoError("no clip or model loaded: load one first")
        cache = self.__dict__.setdefault("_parts_cache", {})
        if id(clip) not in cache:
            cache.clear()
            cache[id(clip)] = body_parts(clip)
        return cache[id(clip)]

    def _check_direction(self: Session, direction: Direction) -> None:
        clip = self.seed_clip()
        if clip is not None:
            direction.check(clip.n_joints)

    def _pose_of(self: Session, source: str, frame: int | None) -> tuple[np.ndarray, str, int]:
        """(positions of a source, its label, the frame) for "clip", "playhead" or "take"."""
        if source in ("clip", "playhead"):
            clip = self.motion if source == "playhead" else self.seed_clip()
            if clip is None:
                raise ChoreoError("no clip loaded")
            frame = self.playhead if frame is None else int(frame)
            return clip.positions, "clip", frame
        if source == "take":
            take = self.shelf.current()
            if take is None or take.frames_ready == 0:
                raise ChoreoError("no take shown to take a pose from")
            return take.positions[0], f"take {self.current_take + 1}", 0 if frame is None else int(frame)
        raise ChoreoError(f"a pose comes from the clip, the playhead or the take, not {source!r}")

    # -- keyframes ------------------------------------------------------------------

    def add_keyframe(self: Session, frame: int, pose: np.ndarray | None = None, *, source: str = "playhead",
                     source_frame: int | None = None) -> Keyframe:
        """Be in a pose at take frame ``frame``: ``pose`` ``(joints, 3)`` (any place; it is made centre-relative),
        or the pose of ``source`` ("playhead": the clip under the playhead; "clip" / "take" at
        ``source_frame``). Replaces a keyframe at the same frame. Returns it."""
        if pose is not None:
            p = np.asarray(pose, np.float64)
            kf = Keyframe.of(p[None], 0, int(frame), source if source != "playhead" else "pose")
            kf = Keyframe(kf.frame, kf.pose, kf.source, source_frame)
        else:
            positions, label, at = self._pose_of(source, source_frame)
            kf = Keyframe.of(positions, at, int(frame), label)
        if kf.frame < 0:
            raise ChoreoError(f"a keyframe's take frame must be 0 or more, got {kf.frame}")
        self.keyframes = (*(k for k in self.keyframes if k.frame != kf.frame), kf)
        return kf

    def move_keyframe(self: Session, index: int, frame: int) -> None:
        """Move keyframe ``index`` (in frame order) to take frame ``frame`` (one at that frame is replaced)."""
        kfs = list(self.keyframes)
        if not 0 <= index < len(kfs):
            raise ChoreoError(f"no keyframe {index}: there are {len(kfs)}")
        if frame < 0:
            raise ChoreoError(f"a keyframe's take frame must be 0 or more, got {frame}")
        moved = kfs.pop(index).moved(int(frame))
        self.keyframes = (*(k for k in kfs if k.frame != moved.frame), moved)

    def remove_keyframe(self: Session, index: int) -> None:
        """Remove keyframe ``index`` (in frame order)."""
        kfs = list(self.keyframes)
        if not 0 <= index < len(kfs):
            raise ChoreoError(f"no keyframe {index}: there are {len(kfs)}")
        kfs.pop(index)
        self.keyframes = tuple(kfs)

    # -- kept joints ----------------------------------------------------------------

    def keep_joints(self: Session, joints: str | Sequence[int | str], source: str = "clip",
                    start: int | None = None) -> Keep:
        """Those joints (a group, joint names or indices) follow ``source`` ("clip": the clip takes continue,
        from the seed frame unless ``start``; "take": the current take from ``start`` or 0) while the model
        invents the rest. Replaces kept joints that overlap. Returns the new entry."""
        parts = self.body_parts()
        idx = parts.resolve(joints)
        label = joints if isinstance(joints, str) else parts.describe(idx)
        if source == "clip":
            entry = Keep(idx, "", start, label)
        elif source == "take":
            take = self.shelf.current()
            if take is None or take.frames_ready == 0:
                raise ChoreoError("no take shown to keep joints from")
            entry = Keep(idx, f"{TAKE_SOURCE}{take.id}", start or 0, label)
        else:
            raise ChoreoError(f"kept joints follow the clip or the take, not {source!r}")
        self.keep = (*(k for k in self.keep if not set(k.joints) & set(idx)), entry)
        return entry

    def references(self: Session, keep: Sequence[Keep]) -> dict[str, np.ndarray]:
        """The reference motions ``keep`` entries name (takes by id)."""
        out = {}
        for k in keep:
            if k.source.startswith(TAKE_SOURCE):
                take = self.take_by_id(int(k.source[len(TAKE_SOURCE):]))
                out[k.source] = np.asarray(take.positions[0])
        return out

    # -- part temperatures ----------------------------------------------------------

    def set_part_temperature(self: Session, joints: str | Sequence[int | str], temperature: float) -> None:
        """Temperature of one part's movement (1 removes it): above 1 livelier, below 1 calmer."""
        parts = self.body_parts()
        idx = parts.resolve(joints)
        label = joints if isinstance(joints, str) else parts.describe(idx)
        rest = tuple(p for p in self.part_temperatures if p.joints != idx)
        t = float(temperature)
        self.part_temperatures = rest if abs(t - 1.0) < 1e-9 else (*rest, PartTemperature(idx, t, label))

    # -- the floor path -------------------------------------------------------------

    def floor_frame(self: Session) -> tuple[Motion, int]:
        """The clip takes continue and the index of its up axis (the floor is the other two). Raises
        ChoreoError without a clip."""
        clip = self.seed_clip()
        if clip is None:
            raise ChoreoError("no clip or model loaded: load one first")
        return clip, up_index(clip)

    def draw_path(self: Session, points: np.ndarray, timed: bool = False) -> None:
        """A floor path drawn on the stage: ``points`` ``(n, 2)`` on the floor axes, in the clip's coordinates.
        ``timed``: one point per take frame as given; else walked at the data's typical speed."""
        p = np.asarray(points, np.float64)
        if not timed:
            clip, up = self.floor_frame()
            p = path_from_drawing(p, p[0], typical_travel(clip.positions, clip.fps, up))
        self.path = as_path(p)

    def load_path(self: Session, path: str | Path) -> None:
        """A floor path from a ``.npy`` (one point per take frame) or an ``.svg`` drawing (see ``choreo generate
        --path``). Raises ChoreoError naming the file."""
        clip, up = self.floor_frame()
        points = load_path(path, stage=stage_box(clip.positions, up),
                           speed=typical_travel(clip.positions, clip.fps, up))
        self.path = as_path(points)

    def clear_direction(self: Session) -> None:
        """No keyframes, kept joints, path or part temperatures: the model alone decides again."""
        changed = [self.store.assign(name, ()) for name in self.DIRECTING_DEFAULTS]
        if any(changed) and self.live:
            self.regenerate_live()
