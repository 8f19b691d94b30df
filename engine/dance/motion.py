"""Motion capture clips: the ``Motion`` data model and ``load_motion``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import ChoreoError
from .axes import estimate_axis_scale, motion_up_axis
from .readers import detect_layout, load_csv, load_npy, load_npz

__all__ = ["DEFAULT_FPS", "LAYOUTS", "LOADABLE", "Motion", "detect_layout", "load_motion", "load_motions"]

if TYPE_CHECKING:
    from .bvh import BvhJoint


@dataclass
class Motion:
    """One clip of joint positions.

    positions:   float32 ``(frames, joints, 3)`` in the source's units and axes.
    fps:         frames per second.
    joint_names: one name per joint (``joint0``... when the file has none).
    bones:       int ``(bones, 2)`` pairs of joint indices (parent, child).
    source:      where it came from (a path, or e.g. ``"synthetic:seed=0"``).
    layout:      how the source stored it: ``"frames-first"`` (F, J, 3) or
                 ``"joints-first"`` (J, F, 3); exports use it by default.
    layout_note: what auto-detection decided and why (for ``choreo info``).
    fps_note:    where ``fps`` came from (argument, file, or assumed default).
    up_axis:     "y", "-z", ... when known; empty when it has to be guessed (``axes.motion_up_axis``).
    axis_scale:  ``(3,)`` scale applied per axis on loading: ``positions = file values * axis_scale``.
                 ``[1, 1, 1]`` unless the file was stored per-axis normalised and its proportions
                 were restored (``axes.estimate_axis_scale``); exports divide it out again, so files
                 written for the user stay in the source's own units.
    scale_note:  what restoring proportions did and why (for ``choreo info``).
    notes:       what loading did that the user should know (C3D: gaps filled, markers excluded).
    rig:         the BVH hierarchy the joints come from (one ``BvhJoint`` per joint, end sites
                 included), so a take can be written back onto the source skeleton; None otherwise.
    """

    positions: np.ndarray
    fps: float = 30.0
    joint_names: list[str] = field(default_factory=list)
    bones: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    source: str = ""
    layout: str = "frames-first"
    layout_note: str = ""
    fps_note: str = ""
    up_axis: str = ""  # which axis points up when known ("y" for BVH; a generated take copies its source's)
    axis_scale: np.ndarray = field(default_factory=lambda: np.ones(3))
    scale_note: str = ""
    notes: list[str] = field(default_factory=list)
    rig: list[BvhJoint] | None = None

    def __post_init__(self) -> None:
        self.positions = np.asarray(self.positions, dtype=np.float32)
        self.axis_scale = np.asarray(self.axis_scale, dtype=np.float64).reshape(3)
        if self.positions.ndim != 3 or self.positions.shape[2] != 3:
            raise ValueError(f"positions must be (frames, joints, 3), got {self.positions.shape}")
        if not self.joint_names:
            self.joint_names = [f"joint{i}" for i in range(self.n_joints)]
        self.bones = np.asarray(self.bones, dtype=np.int64).reshape(-1, 2)

    @property
    def n_frames(self) -> int:
        return int(self.positions.shape[0])

    @property
    def n_joints(self) -> int:
        return int(self.positions.shape[1])

    @property
    def restored(self) -> bool:
        """True when proportions were restored on loading (``axis_scale`` is not all ones)."""
        return bool(np.any(np.abs(self.axis_scale - 1.0) > 1e-9))

    def in_file_units(self) -> np.ndarray:
        """``positions`` in the source file's own units and axes (``axis_scale`` divided out)."""
        return self.positions if not self.restored else (self.positions / self.axis_scale).astype(np.float32)

    def like(self, positions: np.ndarray, source: str) -> Motion:
        """A new clip (a take) that stands the way this one does: its fps, joint names, bones, layout,
        up axis, axis scale and BVH rig (a guess of the up axis on a drifting take could flip it; the
        rig lets a BVH export write the take on the source's skeleton)."""
        return Motion(positions, fps=self.fps, joint_names=list(self.joint_names), bones=self.bones, source=source,
                      layout=self.layout, up_axis=motion_up_axis(self), axis_scale=self.axis_scale, rig=self.rig)

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps



DEFAULT_FPS = 30.0
LOADABLE = (".npy", ".npz", ".bvh", ".c3d", ".csv")
LAYOUTS = ("auto", "frames-first", "joints-first")
PROPORTIONS = ("auto", "file")  # restore per-axis-normalised proportions, or keep the file's values


def _fps_from(fps: float | None, file_fps: float | None, path: Path) -> tuple[float, str]:
    if fps is not None:
        if not (np.isfinite(fps) and fps > 0):
            raise ChoreoError(f"fps must be a positive number, got {fps}", path)
        return float(fps), "given"
    if file_fps is not None:
        return file_fps, "from the file"
    return DEFAULT_FPS, f"not in the file, assumed {DEFAULT_FPS:g} (use --fps to set it)"


def _check_positions(pos: np.ndarray, path: Path) -> None:
    if pos.shape[0] < 2:
        raise ChoreoError(f"needs at least 2 frames, got {pos.shape[0]}", path)
    bad = ~np.isfinite(pos).all(axis=(1, 2))
    if bad.any():
        first = int(np.argmax(bad))
        raise ChoreoError(
            f"{int(bad.sum())} of {len(bad)} frames contain NaN or infinite values (first: frame {first})",
            path,
        )




def _round_fps(fps: float) -> float:
    # 1 / 0.0083333 is 120.0005: a BVH frame time is written with few digits
    r = round(fps)
    return float(r) if r > 0 and abs(fps - r) < 1e-3 * r else fps


def load_motion(path: str | Path, layout: str = "auto", fps: float | None = None,
                proportions: str = "auto") -> Motion:
    """Read one clip from ``.npy``, ``.npz``, ``.bvh``, ``.c3d`` or ``.csv`` into a :class:`Motion`.

    ``layout`` ("auto", "frames-first", "joints-first") says how a NumPy array is
    stored; "auto" decides by temporal smoothness and records why in
    ``layout_note``. ``fps`` overrides the file's rate (BVH ``Frame Time``, C3D point
    rate, an ``fps`` entry of a ``.npz``); without either, 30 fps is assumed and
    ``fps_note`` says so. ``proportions="auto"`` restores the body's proportions when
    every axis was scaled to the same range (many published dance files are min-max
    normalised per axis) and says so in ``scale_note``; ``"file"`` keeps the values as
    stored. Every problem with the file raises :class:`ChoreoError`.
    """
    path = Path(path)
    if layout not in LAYOUTS:
        raise ChoreoError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}", path)
    if proportions not in PROPORTIONS:
        raise ChoreoError(f"proportions must be one of {', '.join(PROPORTIONS)}, got {proportions!r}", path)
    if not path.exists():
        raise ChoreoError("no such file", path)
    if path.is_dir():
        raise ChoreoError("is a folder, expected a motion file", path)
    if not path.is_file():  # a FIFO or device would block or never end
        raise ChoreoError("is not a regular file (a pipe or device?), expected a motion file", path)
    ext = path.suffix.lower()
    if ext not in LOADABLE:
        kinds = ", ".join(LOADABLE)
        raise ChoreoError(f"unknown file type {ext or '(none)'!r}; expected one of {kinds}", path)
    if path.stat().st_size == 0:
        raise ChoreoError("the file is empty", path)

    file_fps: float | None = None
    names: list[str] = []
    bones: np.ndarray | None = None
    notes: list[str] = []
    rig = None
    up = "y" if ext == ".bvh" else ""  # BVH's convention
    if ext == ".npy":
        pos, lay, note = load_npy(path, layout)
    elif ext == ".npz":
        pos, lay, note, file_fps, names, bones = load_npz(path, layout)
    elif ext == ".bvh":
        from .bvh import load_bvh

        world, clip = load_bvh(path)
        pos = world.astype(np.float32)
        n_end = sum(j.end_site for j in clip.joints)
        lay = "frames-first"
        note = (f"frames-first: BVH hierarchy + forward kinematics, {len(clip.joints) - n_end} joints"
                f" + {n_end} end sites")
        file_fps = _round_fps(clip.fps)
        names = [j.name for j in clip.joints]
        bones = clip.bones()
        rig = clip.joints
    elif ext == ".c3d":
        from .c3d import read_c3d

        c3d = read_c3d(path)
        pos, lay, names, notes, up = c3d.positions, "frames-first", c3d.labels, c3d.notes, c3d.up_axis
        note = (f"frames-first: C3D, {pos.shape[1]} markers from frame {c3d.first_frame}, "
                f"{c3d.units} -> metres")
        file_fps = _round_fps(c3d.fps)
    else:
        values, names = load_csv(path)
        pos, lay, note = values.astype(np.float32), "frames-first", "frames-first: CSV, one row per frame"
    _check_positions(pos, path)
    rate, fps_note = _fps_from(fps, file_fps, path)
    scale, scale_note = np.ones(3), ""
    if proportions == "auto" and ext not in (".bvh", ".c3d"):  # a skeleton's offsets, metres: nothing to restore
        scale = estimate_axis_scale(pos)
        if np.any(np.abs(scale - 1.0) > 1e-9):
            pos = (pos * scale).astype(np.float32)
            scale_note = ("every axis spans the same range (stored per-axis normalised): proportions restored "
                          f"by scaling the axes {np.round(scale, 3).tolist()} so the steadiest joint pairs "
                          "are most rigid; exports are written back in the file's units")
    return Motion(
        positions=pos,
        fps=rate,
        joint_names=names,
        bones=np.zeros((0, 2), np.int64) if bones is None else bones,
        source=str(path),
        layout=lay,
        layout_note=note,
        fps_note=fps_note,
        up_axis=up,
        axis_scale=scale,
        scale_note=scale_note,
        notes=notes,
        rig=rig,
    )


def motion_files(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """The clip files named by ``paths``: files as given, folders searched recursively (sorted by path;
    hidden files and folders skipped). Nothing is read."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in LOADABLE and f.is_file()
                           and not any(part.startswith(".") for part in f.relative_to(p).parts))
            if not found:
                raise ChoreoError(f"folder holds no motion files ({', '.join(LOADABLE)})", p)
            files.extend(found)
        else:
            files.append(p)
    return files


def load_motions(
    paths: str | Path | Iterable[str | Path], layout: str = "auto", fps: float | None = None,
    proportions: str = "auto",
) -> list[Motion]:
    """Load several clips (files and/or folders of files, searched recursively and sorted by path).

    All clips must have the same number of joints; a mismatch raises
    :class:`ChoreoError` naming the first clip that differs.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = motion_files(paths)
    if not files:
        raise ChoreoError("no motion files given")
    motions = [load_motion(f, layout=layout, fps=fps, proportions=proportions) for f in files]
    first = motions[0]
    for m in motions[1:]:
        if m.n_joints != first.n_joints:
            raise ChoreoError(
                f"has {m.n_joints} joints but {first.source} has {first.n_joints}; "
                "clips must share a skeleton",
                m.source,
            )
    return motions
