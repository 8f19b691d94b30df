"""The directing flags every dancing command takes (``choreo generate``, ``choreo stream``):
``--keyframe``, ``--keep``, ``--path`` and ``--part-temperature`` (see ``engine.dance.direction``)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from engine.core.errors import ChoreoError
from engine.dance.axes import up_index
from engine.dance.direction import (
    Direction,
    Keep,
    Keyframe,
    PartTemperature,
    as_path,
    floor_axes,
    load_path,
    stage_box,
    typical_travel,
)
from engine.dance.model import DanceModel
from engine.dance.motion import Motion, load_motion
from engine.dance.parts import GROUPS, body_parts
from engine.dance.warp import resample

GROUP_HELP = ", ".join(GROUPS[:6])


def add_direction_args(g: argparse.ArgumentParser) -> None:
    """``--keyframe``, ``--keep``, ``--path``, ``--part-temperature``."""
    d = g.add_argument_group("directing the dancer")
    d.add_argument("--keyframe", action="append", default=[], metavar="SOURCE:FRAME@TAKE_FRAME",
                   help="be in the pose of SOURCE's frame FRAME at frame TAKE_FRAME of the take (repeat for several; "
                        "SOURCE empty: the seed clip)")
    d.add_argument("--keep", action="append", default=[], metavar="GROUP_OR_JOINTS=SOURCE[:FRAME]",
                   help=f"those joints follow SOURCE from its frame FRAME on (centre-relative) while the model "
                        f"invents the rest; GROUP is {GROUP_HELP} (also left_arm ...), or comma-separated joint names "
                        f"or indices; FRAME defaults to the seed frame for the seed clip, else 0; when SOURCE ends "
                        f"the model takes those joints over")
    d.add_argument("--path", metavar="PATH.npy|PATH.svg",
                   help="floor path for the body's centre: .npy is (take frames, 2), one point per frame on the two "
                        "floor axes in axis order (x, z for a Y-up BVH), in the clip's units; .svg is a top view of "
                        "the stage (x along the first floor axis, y along the second), fitted into the floor area the "
                        "data covers, joined from where the dancer stands and walked at the data's typical speed")
    d.add_argument("--part-temperature", action="append", default=[], metavar="GROUP=T",
                   help="temperature of one part's movement (repeat for several): above 1 livelier, below 1 calmer")


def _split_frame(spec: str, what: str) -> tuple[str, int | None]:
    path, sep, frame = spec.rpartition(":")
    if sep and frame.lstrip("-").isdigit():
        return path, int(frame)
    if sep and not frame:
        raise ChoreoError(f"{what} {spec!r}: the frame after ':' is missing")
    return spec, None


class _Sources:
    """Motions named on the command line, loaded once, checked against the model's body."""

    def __init__(self, model: DanceModel, seed: Motion, seed_path: str | None) -> None:
        self.model, self.seed, self.seed_path = model, seed, seed_path
        self._cache: dict[str, Motion] = {}

    def is_seed(self, path: str) -> bool:
        return not path or (self.seed_path is not None and Path(path).resolve() == Path(self.seed_path).resolve())

    def motion(self, path: str) -> Motion:
        if self.is_seed(path):
            return self.seed
        if path not in self._cache:
            m = load_motion(path)
            if m.n_joints != self.seed.n_joints:
                raise ChoreoError(f"has {m.n_joints} joints, the model dances {self.seed.n_joints}", path)
            self._cache[path] = m
        return self._cache[path]


def direction_from_args(args: argparse.Namespace, model: DanceModel, seed: Motion, seed_path: str | None,
                        seed_frame: int, frames: int | None) -> tuple[Direction, dict[str, np.ndarray]]:
    """The Direction the flags ask for, and the reference motions its kept joints follow (by name).

    ``seed_frame``: the frame of ``seed`` the take continues from (a drawn path starts where the body is then).
    """
    src = _Sources(model, seed, seed_path)
    parts = None

    def joints(spec: str, flag: str) -> tuple[int, ...]:
        nonlocal parts
        if parts is None:
            parts = body_parts(seed)
        try:
            return parts.resolve(spec)
        except ChoreoError as err:
            raise ChoreoError(f"{flag} {spec!r}: {err}") from None

    keyframes = []
    for spec in args.keyframe:
        where, at, take_frame = spec.rpartition("@")
        if not at or not take_frame.lstrip("-").isdigit():
            raise ChoreoError(f"--keyframe {spec!r}: expected SOURCE:FRAME@TAKE_FRAME, e.g. clip.bvh:120@300")
        path, frame = _split_frame(where, "--keyframe")
        if frame is None:
            raise ChoreoError(f"--keyframe {spec!r}: expected SOURCE:FRAME@TAKE_FRAME, e.g. clip.bvh:120@300")
        m = src.motion(path)
        try:
            keyframes.append(Keyframe.of(m.positions, frame, int(take_frame), path or "seed clip"))
        except ChoreoError as err:
            raise ChoreoError(f"--keyframe {spec!r}: {err}") from None
    keep, references = [], {}
    for spec in args.keep:
        group, eq, source = spec.partition("=")
        if not eq or not group or not source:
            raise ChoreoError(f"--keep {spec!r}: expected GROUP_OR_JOINTS=SOURCE[:FRAME], e.g. arms=clip.bvh:100")
        path, frame = _split_frame(source, "--keep")
        held = joints(group, "--keep")
        if src.is_seed(path):
            keep.append(Keep(held, "", frame, group))
            continue
        m = src.motion(path)
        ref, start = m.positions, frame or 0
        if abs(m.fps - seed.fps) > 1e-6 * seed.fps:  # the reference plays at the take's rate
            ref = resample(ref, m.fps, np.arange(round(len(ref) * seed.fps / m.fps)) / seed.fps)
            start = round(start * seed.fps / m.fps)
        references[path] = ref
        keep.append(Keep(held, path, start, group))
    temps = []
    for spec in args.part_temperature:
        group, eq, value = spec.rpartition("=")
        try:
            t = float(value)
        except ValueError:
            t = float("nan")
        if not eq or not group or not np.isfinite(t):
            raise ChoreoError(f"--part-temperature {spec!r}: expected GROUP=T, e.g. arms=2")
        temps.append(PartTemperature(joints(group, "--part-temperature"), t, group))
    path: tuple[tuple[float, float], ...] = ()
    if args.path:
        up = up_index(seed)
        floor = list(floor_axes(up))
        points = load_path(args.path, stage=stage_box(seed.positions, up),
                           speed=typical_travel(seed.positions, seed.fps, up))
        if Path(args.path).suffix.lower() == ".npy":  # the clip's units: as the file stores them
            points = points * seed.axis_scale[floor]
        path = as_path(points)
    direction = Direction(tuple(keyframes), tuple(keep), path, tuple(temps))
    return direction.check(seed.n_joints, frames), references
