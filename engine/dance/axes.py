"""Which way is up in a clip, and the proportions of clips whose axes were scaled apart.

Generation (floor band), the renderer, exports and ``choreo info`` all ask the same
question; it is answered here, once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import minimize
from scipy.sparse.csgraph import minimum_spanning_tree

from .skeleton import subsample_frames

if TYPE_CHECKING:
    from .motion import Motion


def guess_up_axis(positions: np.ndarray) -> str:
    """Guess which axis points up in ``(frames, joints, 3)`` data: ``"y"``, ``"-z"``, ...

    The axis is the one along which the body's per-frame extent is largest on average (people are
    taller than they are wide or deep). Three cues, each odd under flipping the axis, vote on its
    sign: most joints of a body (torso, arms, head) sit above the middle of its height; the lowest
    points (feet on the floor) move up and down less over time than the highest ones; and the lowest
    joint of a frame is usually a planted foot, slower than the highest (a measured case: on a clip of
    modern dance with floor work the second cue alone points down, the third clearly up).
    """
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim == 2:
        pos = pos[None]
    finite = np.isfinite(pos).all(axis=(1, 2))
    pos = pos[finite] if finite.any() else np.nan_to_num(pos)
    extent = (pos.max(axis=1) - pos.min(axis=1)).mean(axis=0)
    axis = int(np.argmax(extent))
    c = pos[:, :, axis]
    lo, hi = c.min(axis=1), c.max(axis=1)
    span = np.maximum(hi - lo, 1e-9)
    mass = float(np.mean((np.median(c, axis=1) - (lo + hi) / 2) / span))
    s_lo, s_hi = float(np.std(lo)), float(np.std(hi))
    steadiness = (s_hi - s_lo) / (s_hi + s_lo + 1e-9)
    contact = 0.0
    if len(pos) > 2:
        speed = np.linalg.norm(np.diff(pos, axis=0), axis=-1)
        t = np.arange(len(speed))
        v_lo, v_hi = np.median(speed[t, c[:-1].argmin(1)]), np.median(speed[t, c[:-1].argmax(1)])
        contact = float((v_hi - v_lo) / (v_hi + v_lo + 1e-12))
    sign = "" if mass + 0.5 * steadiness + 0.5 * contact >= 0 else "-"
    return sign + "xyz"[axis]


def known_up_axis(motion: Motion) -> str | None:
    """The up axis a clip says it has (``Motion.up_axis``, or ``"y"`` for a BVH source), else None."""
    return motion.up_axis or ("y" if str(motion.source).lower().endswith(".bvh") else None)


def motion_up_axis(motion: Motion) -> str:
    """The up axis of a clip: the known one, else ``guess_up_axis`` on up to ~256 of its frames."""
    return known_up_axis(motion) or guess_up_axis(motion.positions[:: max(1, motion.n_frames // 256)])


def up_index(motion: Motion) -> int:
    """Index (0, 1, 2) of a clip's up axis (known, else guessed)."""
    return "xyz".index(motion_up_axis(motion)[-1])


def body_height(positions: np.ndarray, up: int) -> float:
    """The body's typical height in ``positions`` ``(frames, joints, 3)``: the median over frames of its
    extent along the up axis ``up``."""
    return float(np.median(np.ptp(np.asarray(positions)[..., up], axis=1)))


NORMALISED_SPAN_TOL = 0.01  # whole-clip spans of all three axes equal within 1 %: stored per-axis min-max scaled


def looks_axis_normalised(positions: np.ndarray) -> bool:
    """True when every axis spans the same range over the whole clip (e.g. each min-max scaled to [0, 1]).

    A real body is taller than it is wide and travels further across the floor than up, so equal
    spans on all three axes (to 1 %) mean the clip was scaled per axis, not captured that way.
    """
    x = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    x = x[np.isfinite(x).all(1)]
    if len(x) < 2:
        return False
    span = np.ptp(x, axis=0)
    return bool(span.min() > 0 and span.max() / span.min() - 1 <= NORMALISED_SPAN_TOL)


def fit_axis_scale(positions: np.ndarray, up: int | None = None, max_frames: int = 128
                   ) -> tuple[np.ndarray, float, float]:
    """Per-axis scale (up axis fixed at 1) that makes the steadiest joint pairs most rigid.

    The cost of a scale is the weight of the minimum spanning tree of pair-distance variability
    (the tree ``infer_bones`` takes as bones) at that scale, i.e. the mean coefficient of
    variation of the steadiest pairs that connect every joint; the pairs are chosen anew for
    every scale, so a wrong first guess of the bones cannot trap the search. A log-space grid
    over the two floor axes (1/8x to 8x), then Nelder-Mead. Returns ``(scale, cost before, cost after)``.
    """
    x = subsample_frames(np.asarray(positions), max_frames)
    x = x - x.mean(axis=1, keepdims=True)
    if up is None:
        up = int(np.argmax(np.ptp(x, axis=1).mean(0)))
    floor = [a for a in range(3) if a != up]
    diff = x[:, :, None, :] - x[:, None, :, :]  # (T, J, J, 3), scaled per axis below
    sq = [diff[..., a] ** 2 for a in range(3)]

    def cost(logs: np.ndarray) -> float:
        s = np.ones(3)
        s[floor] = np.exp(np.clip(logs, -5, 5))
        d = np.sqrt(sum(sq[a] * s[a] ** 2 for a in range(3)))
        mean = d.mean(0)
        w = d.std(0) / (mean + 1e-9)
        # coincident joints (zero-length bones) are rigid at any scale: they say nothing about it
        w[mean <= 1e-6 * (mean.max() + 1e-12)] = np.inf
        w = w + 1e-9
        np.fill_diagonal(w, 0)
        w[~np.isfinite(w)] = 0  # no edge
        tree = minimum_spanning_tree(w)
        return float(tree.sum() / max(1, tree.nnz))

    grid = np.log(2.0) * np.linspace(-3, 3, 13)
    best = min((cost(np.array([a, b])), a, b) for a in grid for b in grid)
    res = minimize(cost, np.array(best[1:]), method="Nelder-Mead",
                   options={"xatol": 1e-4, "fatol": 1e-8, "maxiter": 300})
    scale = np.ones(3)
    scale[floor] = np.exp(np.clip(res.x, -5, 5))
    return scale, cost(np.zeros(2)), float(res.fun)


def estimate_axis_scale(positions: np.ndarray) -> np.ndarray:
    """Scale per axis ``(3,)`` that restores a clip stored per-axis min-max normalised (up axis = 1).

    Many published dance ``.npy`` files scale each axis to [0, 1] over the whole clip: the dancer
    becomes a thin pillar, every turn a non-rigid change, and inferred bones a tangle. Such a clip
    (``looks_axis_normalised``) gets the floor-axis scales that make its steadiest joint pairs most
    rigid (``fit_axis_scale``); any other clip gets ``[1, 1, 1]``. Multiply positions by the result
    to restore proportions (divide to go back to the file's units).
    """
    if not looks_axis_normalised(positions):
        return np.ones(3)
    return fit_axis_scale(positions)[0]

def up_to_y(up: str) -> np.ndarray:
    """The rotation (3, 3) that turns a clip whose up axis is ``up`` ("z", "-x"...) to stand along +Y
    (BVH's and glTF's convention): ``positions @ up_to_y(up).T``."""
    turns = {
        "y": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
        "-y": [[1, 0, 0], [0, -1, 0], [0, 0, -1]],
        "z": [[1, 0, 0], [0, 0, 1], [0, -1, 0]],
        "-z": [[1, 0, 0], [0, 0, -1], [0, 1, 0]],
        "x": [[0, -1, 0], [1, 0, 0], [0, 0, 1]],
        "-x": [[0, 1, 0], [-1, 0, 0], [0, 0, 1]],
    }
    return np.asarray(turns[up], dtype=np.float64)
