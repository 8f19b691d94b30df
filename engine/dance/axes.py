"""Which way is up in a clip, and the proportions of clips whose axes were scaled apart.

Generation (floor band), the renderer, exports and ``choreo info`` all ask the same
question; it is answered here, once.
"""

from __future__ import annotations

import numpy as np

from .motion import Motion


def guess_up_axis(positions: np.ndarray) -> str:
    """Guess which axis points up in ``(frames, joints, 3)`` data: ``"y"``, ``"-z"``, ...

    The axis is the one along which the body's per-frame extent is largest on
    average (people are taller than they are wide or deep). The sign puts the
    feet down: the lowest points of a dancer (feet on the floor) move less
    over time than the highest ones (hands, head), and most joints of a body
    (torso, arms, head) sit above the middle of its height.
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
    sign = "" if mass + 0.5 * steadiness >= 0 else "-"
    return sign + "xyz"[axis]


def known_up_axis(motion: Motion) -> str | None:
    """The up axis a clip says it has (``Motion.up_axis``, or ``"y"`` for a BVH source), else None."""
    return motion.up_axis or ("y" if str(motion.source).lower().endswith(".bvh") else None)


def motion_up_axis(motion: Motion) -> str:
    """The up axis of a clip: the known one, else ``guess_up_axis`` on up to ~256 of its frames."""
    return known_up_axis(motion) or guess_up_axis(motion.positions[:: max(1, motion.n_frames // 256)])


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
