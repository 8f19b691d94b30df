"""A pose-space guard: keeps each generated pose near the poses this body makes.

A take is stepped from its own samples, so small errors in the pose add up until the body
leaves its repertoire (legs fold flat, the figure lies down in a tangle, markers spread into
a cloud). The guard holds a compact bank of the training data's poses, centre-relative and
turned about the up axis to a common facing (the principal horizontal axis, both signs),
and a radius: how far real *unseen* movement lies from the seen poses (the median distance of
the last 20 % of each clip to the nearest pose of its first 80 %). A generated pose further
than that from every bank pose is moved onto the ball of that radius around its nearest
bank pose (turned back to the pose's own facing). Poses inside the radius are left alone, so
the take is not pulled into a replay; the corrected pose is what the network reads next, so
the model keeps seeing poses like its training data.

Per frame this is one small matrix-vector product against the bank (at most ``MAX_BANK``
poses, searched in ``SEARCH_DIMS`` principal components with the few best candidates
checked exactly) and a handful of element-wise operations.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

MAX_BANK = 1024  # poses kept; longer data is subsampled evenly in time
SEARCH_DIMS = 24  # principal components used to find candidate neighbours
HELD_OUT = 0.2  # the last part of each clip that plays "unseen movement" for the radius


def _facing(pose: np.ndarray, floor: tuple[int, int]) -> np.ndarray:
    """Angle of the principal horizontal axis of centre-relative poses ``(..., J, 3)``."""
    hx, hy = pose[..., floor[0]], pose[..., floor[1]]
    cxx, cyy, cxy = (hx * hx).mean(-1), (hy * hy).mean(-1), (hx * hy).mean(-1)
    return 0.5 * np.arctan2(2 * cxy, cxx - cyy)


def _turn(pose: np.ndarray, angle: np.ndarray, floor: tuple[int, int]) -> np.ndarray:
    """Rotate ``(..., J, 3)`` about the up axis by ``angle`` (``(...,)``)."""
    c, s = np.cos(angle)[..., None], np.sin(angle)[..., None]
    out = pose.copy()
    hx, hy = pose[..., floor[0]], pose[..., floor[1]]
    out[..., floor[0]] = c * hx - s * hy
    out[..., floor[1]] = s * hx + c * hy
    return out


def canonical_poses(positions: np.ndarray, up: int) -> np.ndarray:
    """Centre-relative poses ``(T, J*3)`` turned so their principal horizontal axis lies along the first floor axis."""
    x = np.asarray(positions, np.float64)
    p = x - x.mean(1, keepdims=True)
    floor = tuple(a for a in range(3) if a != up)
    return _turn(p, -_facing(p, floor), floor).reshape(len(p), -1)


def build_pose_bank(clips: Sequence[np.ndarray], up: int, max_bank: int = MAX_BANK) -> tuple[np.ndarray, float]:
    """(bank ``(M, J*3)`` float32 of canonical poses, radius) from ``(T, J, 3)`` clips.

    The radius is the median distance from each clip's last ``HELD_OUT`` part to the nearest
    canonical pose (either facing) of the first part: how far real unseen movement lies from seen poses.
    """
    from scipy.spatial import cKDTree

    canon = [canonical_poses(c, up) for c in clips if len(c) >= 2]
    j = clips[0].shape[1]
    dists = []
    for c in canon:
        n = int(len(c) * (1 - HELD_OUT))
        if n < 1 or n >= len(c):
            continue
        known = np.concatenate([c[:n], _flip(c[:n], j, up)])
        dists.append(cKDTree(known).query(c[n:])[0])
    allp = np.concatenate(canon)
    radius = float(np.median(np.concatenate(dists))) if dists else 0.0
    if len(allp) > max_bank:
        allp = allp[np.linspace(0, len(allp) - 1, max_bank).round().astype(np.int64)]
    return allp.astype(np.float32), radius


def _flip(canon: np.ndarray, j: int, up: int) -> np.ndarray:
    """The same canonical poses facing the other way (turned by pi about the up axis)."""
    p = canon.reshape(len(canon), j, 3).copy()
    for a in range(3):
        if a != up:
            p[..., a] *= -1
    return p.reshape(len(canon), -1)


class PoseGuard:
    """Moves poses further than ``radius`` from the bank onto the radius (see the module docstring)."""

    def __init__(self, bank: np.ndarray, radius: float, up: int, strength: float = 1.0,
                 units: np.ndarray | None = None) -> None:
        bank = np.asarray(bank, np.float64)
        # the bank and radius are in the data file's own units: poses are divided by ``units`` (the clip's
        # axis scale, see engine.dance.axes) before they are compared, and multiplied back after
        self.units = None if units is None or np.allclose(units, 1.0) else np.asarray(units, np.float64)
        self.j = bank.shape[1] // 3
        self.up = int(up)
        self.floor = tuple(a for a in range(3) if a != self.up)
        full = np.concatenate([bank, _flip(bank, self.j, self.up)])  # both facings
        self.bank = full
        self.base_radius = float(radius)
        self.radius = float(radius) * float(strength)
        mean = full.mean(0)
        k = min(SEARCH_DIMS, full.shape[1], len(full))
        _, _, vt = np.linalg.svd(full - mean, full_matrices=False)
        self.basis = np.ascontiguousarray(vt[:k].T)  # (D, k)
        self.mean = mean
        proj = (full - mean) @ self.basis  # (N, k)
        self.proj_t = np.ascontiguousarray(proj.T, dtype=np.float32)
        self.proj_sq = (proj * proj).sum(1).astype(np.float32)
        self.basis2 = (2 * self.basis).astype(np.float32)  # the search's 2 * q.b term folded in
        self.mean_proj2 = (2 * mean @ self.basis).astype(np.float32)
        self.corrected = 0  # poses moved so far (diagnostics)
        self.seen = 0
        self._nearest: np.ndarray | None = None  # bank index nearest to each row's last pose

    def fresh(self, strength: float) -> PoseGuard:
        """A guard over the same bank and search index with radius ``strength`` and no history (building
        the index costs ~20 ms, which a live take would otherwise pay on every knob move)."""
        guard = copy.copy(self)
        guard.radius = self.base_radius * float(strength)
        guard.corrected, guard.seen, guard._nearest = 0, 0, None
        return guard

    def __call__(self, pose: np.ndarray) -> np.ndarray:
        """Guard centre-relative poses ``(B, J, 3)`` (float64); returns the (possibly moved) poses.

        The nearest bank pose is found in the bank's principal components and its exact
        distance measured: about twenty small NumPy operations per frame.
        """
        self.seen += len(pose)
        if self.radius <= 0:
            return pose
        if self.units is not None:
            return self._guard(pose / self.units) * self.units
        return self._guard(pose)

    def _guard(self, pose: np.ndarray) -> np.ndarray:
        f0, f1 = self.floor
        shift = pose.mean(1, keepdims=True)
        p = pose - shift
        hx, hy = p[..., f0], p[..., f1]
        angle = 0.5 * np.arctan2(2 * np.einsum("bj,bj->b", hx, hy),
                                 np.einsum("bj,bj->b", hx, hx) - np.einsum("bj,bj->b", hy, hy))
        c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
        q = p.copy()  # turned by -angle about the up axis
        q[..., f0] = c * hx + s * hy
        q[..., f1] = c * hy - s * hx
        q = q.reshape(len(p), -1)
        last = self._nearest
        if last is not None and len(last) == len(q):
            # a pose within the radius of the bank pose nearest to the last one is inside: untouched, no search
            # (exact: the guard only moves poses further than the radius from *every* bank pose)
            gap = q - self.bank[last]
            if (np.einsum("bd,bd->b", gap, gap) <= self.radius * self.radius).all():
                return pose
        qf = q.astype(np.float32)  # the search runs in float32 (half the memory traffic); distances are exact below
        best = (self.proj_sq - (qf @ self.basis2 - self.mean_proj2) @ self.proj_t).argmin(1)
        self._nearest = best
        nn = self.bank[best]
        diff = q - nn
        d = np.sqrt(np.einsum("bd,bd->b", diff, diff))
        far = d > self.radius
        if not far.any():
            return pose
        self.corrected += int(far.sum())
        w = np.minimum(1.0, self.radius / np.maximum(d, 1e-12))[:, None]
        moved = (nn + diff * w).reshape(p.shape)
        out = moved.copy()  # back to the pose's own facing (turned by +angle)
        out[..., f0] = c * moved[..., f0] - s * moved[..., f1]
        out[..., f1] = s * moved[..., f0] + c * moved[..., f1]
        return out + shift
