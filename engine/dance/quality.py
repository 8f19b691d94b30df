"""Is a take this dancer's body, moving like the data, on the stage, and new? The figures of the
team's judge (``shared/tools/dance_quality.py``), inside the product for ``choreo eval`` and the
studio's quality panel. Definitions follow the tool exactly:

* ``bone_dev_median_take`` / ``_data``: |length - mean length| / mean length over the joint pairs
  of the data's steadiest spanning tree (median over frames and bones), for the take and the data.
  (For clips longer than a few thousand frames the tree comes from evenly spaced frames.)
* ``speed_ratio``: mean joint displacement per frame, take over data.
* ``frozen_frac``: frame steps slower than a tenth of the data's median speed.
* ``outside_frac``: frames with a joint beyond the data's bounding box grown by 25 % of its span.
* ``pose_ratio`` (and per third of the take, ``pose_ratio_thirds``): median distance of a take pose
  to the nearest data pose, over the same for the clip's held-out last 20 % to its first 80 %;
  poses centre-relative, turned to a common facing, mirror images counted as the same pose.
  ~1 = as plausible as real unseen movement.
* ``window_ratio``: the same for one-second windows (every 5th frame); ~0 = a replay of the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from .skeleton import bone_lengths, frame_speeds, steady_bones

HELD_OUT = 0.2  # the clip's last fifth is the "real unseen movement" the take is compared with
WINDOW, WINDOW_STEP = 30, 5  # frames per window and the stride inside it


@dataclass(frozen=True)
class Bar:
    """The team's bar for a take (every third, not just the whole take)."""

    pose_ratio: float = 1.5  # every third at most this
    window_ratio: float = 0.3  # at least this (not a replay)
    bone_ratio: float = 1.5  # take's median bone deviation at most this times the data's
    speed: tuple[float, float] = (0.5, 2.0)
    frozen: float = 0.10
    outside: float = 0.05


BAR = Bar()


def _up_axis(data: np.ndarray) -> int:
    """The axis with the largest per-frame body extent (the judge's rule)."""
    return int(np.argmax(np.ptp(data, axis=1).mean(0)))


def canonical_poses(x: np.ndarray, up: int) -> list[np.ndarray]:
    """Centre-relative poses ``(frames, joints * 3)`` turned about ``up`` to face one way: both facings of
    the principal horizontal axis, each also mirrored (four variants), so neither the direction a pose
    faces nor its mirror image counts as a new pose."""
    p = x - x.mean(1, keepdims=True)
    h = [a for a in range(3) if a != up]
    hx, hy = p[..., h[0]], p[..., h[1]]
    cxx, cyy, cxy = (hx * hx).mean(1), (hy * hy).mean(1), (hx * hy).mean(1)
    ang = 0.5 * np.arctan2(2 * cxy, cxx - cyy)  # principal horizontal axis
    out = []
    for flip in (0.0, np.pi):
        c, s = np.cos(-(ang + flip))[:, None], np.sin(-(ang + flip))[:, None]
        q = p.copy()
        q[..., h[0]], q[..., h[1]] = c * hx - s * hy, s * hx + c * hy
        out.append(q.reshape(len(x), -1))
        m = q.copy()
        m[..., h[1]] *= -1
        out.append(m.reshape(len(x), -1))
    return out


def _windows(f: np.ndarray) -> np.ndarray:
    idx = np.arange(0, WINDOW, WINDOW_STEP)
    starts = np.arange(0, len(f) - WINDOW + 1, 2)
    return np.stack([f[s + idx].ravel() for s in starts]) if len(starts) else f[:0]


def repertoire(data: np.ndarray, take: np.ndarray) -> dict[str, float | list[float]]:
    """``pose_ratio``, ``pose_ratio_thirds`` and (when both are long enough) ``window_ratio``."""
    up = _up_axis(data)
    n = int(len(data) * (1 - HELD_OUT))
    known, held, every = (canonical_poses(part, up)[0] for part in (data[:n], data[n:], data))
    variants = canonical_poses(take, up)
    base = float(np.median(cKDTree(known).query(held)[0])) + 1e-12
    tree = cKDTree(every)
    d_take = np.min([tree.query(v)[0] for v in variants], axis=0)
    out: dict[str, float | list[float]] = {
        "pose_ratio": float(np.median(d_take) / base),
        "pose_ratio_thirds": [float(np.median(part) / base) for part in np.array_split(d_take, 3)],
    }
    wk, wh, wall = _windows(known), _windows(held), _windows(every)
    wtake = [_windows(v) for v in variants]
    if len(wk) and len(wh) and len(wtake[0]):
        wbase = float(np.median(cKDTree(wk).query(wh)[0])) + 1e-12
        wtree = cKDTree(wall)
        out["window_ratio"] = float(np.median(np.min([wtree.query(v)[0] for v in wtake], axis=0)) / wbase)
    return out


def take_quality(data: np.ndarray, take: np.ndarray) -> dict[str, float | int | bool | list[float]]:
    """The judge's figures for ``take`` ``(frames, joints, 3)`` against the clip it learned from."""
    data = np.asarray(data, np.float64)
    take = np.asarray(take, np.float64)
    if data.ndim != 3 or take.ndim != 3 or take.shape[1:] != data.shape[1:]:
        raise ValueError(f"take {take.shape} and data {data.shape} must both be (frames, joints, 3), same joints")
    out: dict[str, float | int | bool | list[float]] = {
        "take_frames": int(take.shape[0]), "joints": int(take.shape[1]), "finite": bool(np.isfinite(take).all())}
    if not out["finite"]:
        return out
    bones, ref = steady_bones(data)
    dev_data = np.abs(bone_lengths(data, bones) - ref) / (ref + 1e-9)
    dev_take = np.abs(bone_lengths(take, bones) - ref) / (ref + 1e-9)
    sd, st = frame_speeds(data), frame_speeds(take)
    lo, hi = data.reshape(-1, 3).min(0), data.reshape(-1, 3).max(0)
    span = hi - lo
    outside = ((take < lo - 0.25 * span) | (take > hi + 0.25 * span)).any(-1).mean()
    out.update({
        "bone_dev_median_data": float(np.median(dev_data)), "bone_dev_median_take": float(np.median(dev_take)),
        "bone_dev_p95_data": float(np.percentile(dev_data, 95)),
        "bone_dev_p95_take": float(np.percentile(dev_take, 95)),
        "speed_ratio": float(st.mean() / sd.mean()),
        "frozen_frac": float((st < 0.1 * np.median(sd)).mean()),
        "outside_frac": float(outside),
    })
    out.update(repertoire(data, take))
    return out


def failures(q: dict, bar: Bar = BAR) -> list[str]:
    """What a take misses of ``bar``, in words (empty: it passes)."""
    if not q.get("finite", False):
        return ["the take has NaN or infinite values"]
    out = []
    thirds = q["pose_ratio_thirds"]
    worst = max(thirds)
    if worst > bar.pose_ratio:
        third = ("first", "middle", "last")[thirds.index(worst)]
        out.append(f"poses leave this dancer's repertoire (pose ratio {worst:.2f} in the {third} third, "
                   f"bar {bar.pose_ratio:g})")
    if "window_ratio" in q and q["window_ratio"] < bar.window_ratio:
        out.append(f"replays the clip (window ratio {q['window_ratio']:.2f}, bar {bar.window_ratio:g})")
    ratio = q["bone_dev_median_take"] / max(q["bone_dev_median_data"], 1e-12)
    if ratio > bar.bone_ratio and q["bone_dev_median_take"] > 1e-6:
        out.append(f"bones stretch ({ratio:.2f}x the data's deviation, bar {bar.bone_ratio:g}x)")
    if not bar.speed[0] <= q["speed_ratio"] <= bar.speed[1]:
        out.append(f"moves at {q['speed_ratio']:.2f}x the data's speed (bar {bar.speed[0]:g}-{bar.speed[1]:g}x)")
    if q["frozen_frac"] > bar.frozen:
        out.append(f"frozen {100 * q['frozen_frac']:.0f} % of the time (bar {100 * bar.frozen:.0f} %)")
    if q["outside_frac"] > bar.outside:
        out.append(f"off the stage {100 * q['outside_frac']:.0f} % of the time (bar {100 * bar.outside:.0f} %)")
    return out
