"""The floor seen from above, for the notebook's Direct panel: where the take starts, path shapes to walk
(circle, line, figure-eight, square) and a picture of the clip's centre, the path and the take's centre.

No drawing widget ships with ipywidgets (``ipycanvas`` is not a dependency), so a path is drawn by
choosing a shape and its size in body heights, by ``session.draw_path(points)`` from code, or from a
``.npy`` / ``.svg`` file. The picture is a matplotlib figure on the Agg canvas (no pyplot), like the
loss plot and the song, so it also survives a static export.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from engine.core.errors import ChoreoError
from engine.dance.axes import body_height
from engine.dance.direction import floor_axes, resample_path
from engine.session import Session

from .images import axes_png, plot_axes

SHAPES = ("circle", "line", "figure-eight", "square")
SHAPE_POINTS = 240  # points of a generated shape before the session walks it at the data's speed


class Floor(NamedTuple):
    """The floor of the clip takes continue: its centre per frame on the floor axes, where the take starts,
    the body's height (the unit shapes are sized in) and the floor axes' names."""

    centres: np.ndarray  # (frames, 2)
    start: np.ndarray  # (2,)
    height: float
    index: tuple[int, int]  # the floor axes (0 x, 1 y, 2 z), in axis order

    @property
    def axes(self) -> tuple[str, str]:
        return "xyz"[self.index[0]], "xyz"[self.index[1]]

    def of(self, positions: np.ndarray) -> np.ndarray:
        """The centre of ``positions`` ``(frames, joints, 3)`` on the floor ``(frames, 2)``."""
        return np.asarray(positions, np.float64).mean(1)[:, list(self.index)]


def floor_of(session: Session) -> Floor:
    """The floor of the session's seed clip. Raises ChoreoError without a clip."""
    clip, up = session.floor_frame()
    floor = floor_axes(up)
    centres = np.asarray(clip.positions, np.float64).mean(1)[:, list(floor)]
    seed_frame = session.params.seed_frame or 1
    start = centres[max(0, min(len(centres), seed_frame) - 1)]  # the frame the take continues from
    height = body_height(clip.positions, up)
    return Floor(centres, start, max(height, 1e-6), floor)


def shape_points(kind: str, size: float, n: int = SHAPE_POINTS) -> np.ndarray:
    """A shape ``(n, 2)`` on the floor starting at (0, 0), ``size`` across (the line: ``size`` long)."""
    if size <= 0:
        raise ChoreoError(f"a path's size must be above 0, got {size:g}")
    t = np.linspace(0.0, 2 * np.pi, n)
    if kind == "circle":
        r = size / 2
        p = np.stack([r - r * np.cos(t), r * np.sin(t)], axis=1)
    elif kind == "line":
        p = np.stack([np.linspace(0.0, size, n), np.zeros(n)], axis=1)
    elif kind == "figure-eight":  # a lemniscate of Gerono through the start, size wide
        a = size / 2
        p = np.stack([a * np.sin(t), a * np.sin(t) * np.cos(t)], axis=1)
    elif kind == "square":
        corners = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], np.float64) * size
        p = resample_path(corners, 4 * size / (n - 1))
    else:
        raise ChoreoError(f"a path shape is one of {', '.join(SHAPES)}, not {kind!r}")
    return p - p[0]


def draw_shape(session: Session, kind: str, size: float) -> None:
    """Ask the session's takes to walk ``kind`` (see :data:`SHAPES`), ``size`` body heights across, from where
    the take starts, at the data's typical speed (``session.draw_path``)."""
    floor = floor_of(session)
    session.draw_path(floor.start + shape_points(kind, size * floor.height), timed=False)


def floor_png(floor: Floor, path: np.ndarray | None = None, take: np.ndarray | None = None,
              size: tuple[int, int] = (300, 300), title: str = "the floor from above") -> bytes:
    """The clip's centre (grey), a floor path (orange, a dot where it starts) and a take's centre (blue), from
    above, as PNG bytes. ``path`` and ``take`` are ``(frames, 2)`` on the floor axes."""
    ax = plot_axes(size)
    ax.plot(floor.centres[:, 0], floor.centres[:, 1], color="#b0b0b0", lw=1, label="clip")
    if path is not None and len(path):
        ax.plot(path[:, 0], path[:, 1], color="#f08c28", lw=2, label="path")
        ax.scatter(path[:1, 0], path[:1, 1], color="#f08c28", s=25, zorder=3)
    if take is not None and len(take):
        ax.plot(take[:, 0], take[:, 1], color="#3a6ea5", lw=1.2, label="take")
    ax.scatter(floor.start[:1], floor.start[1:], marker="x", color="#333", s=30, zorder=4, label="take starts")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(floor.axes[0], fontsize=8)
    ax.set_ylabel(floor.axes[1], fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(loc="best", fontsize=7, frameon=False)
    ax.set_title(title, fontsize=9)
    return axes_png(ax)
