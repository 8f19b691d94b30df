"""Kept joints' geometry: a rigid projection rooted at the held joints, and the pose guard for the free ones.

A take that keeps some joints from a reference (``engine.dance.directing``) must never let the bone
projection or the pose guard drag a held joint off its reference: :func:`held_projector` re-roots the
bone tree at the held joints, and :func:`guard_free` completes only the free joints from the data's
pose bank (``engine.dance.pose_guard``).
"""

from __future__ import annotations

import numpy as np

from .pose_guard import PoseGuard
from .skeleton import RigidProjector

FREE_PULL = 1.0  # kept joints: the free joints move this fraction of the guard's correction per network step
CENTROID = 1.0  # kept joints: weight of matching the free joints' centroid (as the reference has it) in the bank search
STAY = 1.0  # kept joints: the bank's last pose (or the next) guards the free joints on while it fits the held ones
# about as well as the best fit (within the typical squared step from one bank pose to the next): the same leg pose
# recurs in many moves, and the bank holds every other frame or so

def held_projector(bones: np.ndarray, lengths: np.ndarray, held: np.ndarray) -> RigidProjector:
    """A ``RigidProjector`` whose roots are the ``held`` joints (bool ``(J,)``): bones are re-oriented
    breadth first from them, so projecting moves only free joints; a bone between two held joints, or
    where two walks from held joints meet, is left as it is. Parts without a held joint keep their roots."""
    bones = np.asarray(bones, np.int64).reshape(-1, 2)
    j = int(max(int(bones.max()) + 1 if len(bones) else 0, len(held)))
    adj: list[list[tuple[int, int]]] = [[] for _ in range(j)]
    for k, (p, c) in enumerate(bones):
        adj[p].append((int(c), k))
        adj[c].append((int(p), k))
    seen = np.zeros(j, bool)
    out_b: list[tuple[int, int]] = []
    out_l: list[float] = []

    def walk(queue: list[int]) -> None:  # breadth first from ``queue``, placing each joint from where it was reached
        seen[queue] = True
        while queue:
            nxt = []
            for p in queue:
                for c, k in adj[p]:
                    if not seen[c]:
                        seen[c] = True
                        out_b.append((p, c))
                        out_l.append(float(lengths[k]))
                        nxt.append(c)
            queue = nxt

    walk([int(i) for i in np.flatnonzero(held)])
    children = set(bones[:, 1].tolist())
    for root in [int(p) for p in bones[:, 0] if p not in children] + list(range(j)):  # parts without held joints
        if not seen[root]:
            walk([root])
    return RigidProjector(np.asarray(out_b, np.int64).reshape(-1, 2), np.asarray(out_l, np.float64))


def guard_free(guard: PoseGuard, pose: np.ndarray, held: np.ndarray, last: np.ndarray | None = None,
               rest: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The pose guard for poses ``(B, J, 3)`` whose ``held`` joints (bool ``(J,)``) may not move.

    The bank pose whose held joints best match the pose's, after the best turn about the up axis and
    shift (closed-form 2-D Procrustes per bank pose; the bank is stored facing-normalised, and a whole
    pose's facing would depend on the free joints), is turned and shifted onto them. When the pose is
    further from it than the guard's radius, only the free joints move towards that bank pose's, just
    far enough to come within the radius (all the way when the held joints alone are further): they
    end up as this body moves them with such held joints. The bank is in time order: while ``last`` (the
    previous choice per row) or one of the two after it fits about as well as the best (``STAY``), it
    is kept, so the free joints play the data's movement on instead of jumping between look-alikes.
    ``rest`` ``(3,)``: where the free joints' centroid should lie from the held joints' (the reference's):
    bank poses are also matched on it, so the held joints stay where the reference has them relative to
    the whole body's centre. Returns the poses and the bank index chosen per row.
    """
    if guard.radius <= 0 or held.all() or not held.any():
        return pose, last
    if guard.units is not None:  # the bank is in the data file's units (see PoseGuard)
        u = guard.units
        out, best = _guard_free(guard, pose / u, held, last, None if rest is None else rest / u)
        return out * u, best
    return _guard_free(guard, pose, held, last, rest)


def _guard_free(guard: PoseGuard, pose: np.ndarray, held: np.ndarray, last: np.ndarray | None,
                rest: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    a, b = guard.floor
    up = guard.up
    bank = guard.bank.reshape(len(guard.bank), -1, 3)
    bh = bank[:, held]
    bc = bh.mean(1, keepdims=True)  # (M, 1, 3): each bank pose's held centroid
    b0 = bh - bc
    ph = pose[:, held]
    pc = ph.mean(1, keepdims=True)
    p0 = ph - pc
    # rotate bank onto pose: maximise sum(dot) over the floor plane; the up axis is unaffected
    dot = np.einsum("bjc,mjc->bm", p0[..., [a, b]], b0[..., [a, b]])
    cross = np.einsum("bj,mj->bm", p0[..., b], b0[..., a]) - np.einsum("bj,mj->bm", p0[..., a], b0[..., b])
    vert = np.einsum("bj,mj->bm", p0[..., up], b0[..., up])
    res = (p0 * p0).sum((1, 2))[:, None] + (b0 * b0).sum((1, 2))[None] - 2 * (vert + np.hypot(dot, cross))
    angle = np.arctan2(cross, dot)  # (B, M)
    c, s = np.cos(angle)[..., None], np.sin(angle)[..., None]
    bf = bank[:, ~held] - bc  # every bank pose's free joints about its held centroid, turned onto the pose
    fitted = np.broadcast_to(bf, (len(pose), *bf.shape)).copy()
    fitted[..., a] = c * bf[None, ..., a] - s * bf[None, ..., b]
    fitted[..., b] = s * bf[None, ..., a] + c * bf[None, ..., b]
    fitted += pc[:, None]
    held_res = res
    if rest is not None:  # the centroid of the free joints from the held joints', as the reference has it
        miss = fitted.mean(2) - pc - rest
        res = res + CENTROID * fitted.shape[2] * (miss * miss).sum(-1)
    best = res.argmin(1)
    rows = np.arange(len(pose))
    r2 = guard.radius * guard.radius
    if last is not None and len(last) == len(pose):  # play on from the bank's last pose while it fits
        near = np.minimum(last[:, None] + np.arange(3)[None], len(bank) - 1)  # it, the next and the one after
        k = res[rows[:, None], near].argmin(1)
        on = near[rows, k]
        step = np.diff(bank[: len(bank) // 2, held], axis=0)  # held joints from one bank pose to the next
        slack = STAY * float(np.median((step * step).sum((1, 2))))
        best = np.where(res[rows, on] <= res[rows, best] + slack, on, best)
    d_held = np.maximum(held_res[rows, best], 0.0)
    fitted = fitted[rows, best]
    diff = pose[:, ~held] - fitted
    d_free = (diff * diff).sum((1, 2))
    far = d_held + d_free > r2
    if not far.any():
        return pose, best
    w = np.where(far, np.minimum(np.sqrt(np.maximum(r2 - d_held, 0.0) / np.maximum(d_free, 1e-24)), 1.0), 1.0)
    w = 1.0 - FREE_PULL * (1.0 - w)  # part of the way per step: the free joints glide, they do not jump
    out = pose.copy()
    out[:, ~held] = fitted + diff * w[:, None, None]
    return out, best
