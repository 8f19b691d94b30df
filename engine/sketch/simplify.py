"""Polylines to stroke-3 the way the Quick, Draw! data was prepared.

The Sketch-RNN datasets were made from absolute polylines: each drawing moved so
its top-left corner is at the origin, scaled so that its larger side is 255
units, simplified with Ramer-Douglas-Peucker (epsilon 2) and stored as whole-unit
offsets. Drawings from other sources (SVG files, the procedural sets) go through
the same steps so that one trained model sees one kind of data.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

CANVAS = 255.0  # larger side of a prepared drawing, in data units (Quick, Draw!)
EPSILON = 2.0  # RDP tolerance in data units (Quick, Draw!)


def rdp_mask(points: np.ndarray, epsilon: float) -> np.ndarray:
    """Which points of a polyline Ramer-Douglas-Peucker keeps (boolean mask; the end points always)."""
    pts = np.asarray(points, np.float64)
    keep = np.zeros(len(pts), bool)
    keep[[0, -1]] = len(pts) > 0
    stack = [(0, len(pts) - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        seg = pts[b] - pts[a]
        rel = pts[a + 1 : b] - pts[a]
        norm = np.hypot(*seg)
        dist = np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / norm if norm > 1e-9 else np.hypot(*rel.T)
        i = int(np.argmax(dist))
        if dist[i] > epsilon:
            keep[a + 1 + i] = True
            stack += [(a, a + 1 + i), (a + 1 + i, b)]
    return keep


def rdp(points: np.ndarray, epsilon: float) -> np.ndarray:
    """Ramer-Douglas-Peucker simplification of a polyline (the end points are always kept)."""
    pts = np.asarray(points, np.float64)
    return pts if len(pts) < 3 else pts[rdp_mask(pts, epsilon)]


def polylines_to_stroke3(strokes: Sequence[np.ndarray], canvas: float = CANVAS,
                         epsilon: float = EPSILON) -> np.ndarray:
    """Absolute ``(k, 2)`` polylines (y down) -> int16 stroke-3, prepared like Quick, Draw!.

    The first row moves from the origin (the drawing's top-left corner) to the first
    point; the pen lifts after the last point of every stroke. Points that round onto
    the previous one are dropped (a stroke keeps at least its last point).
    """
    strokes = [np.asarray(s, np.float64).reshape(-1, 2) for s in strokes]
    strokes = [s for s in strokes if len(s)]
    if not strokes:
        return np.zeros((0, 3), np.int16)
    allp = np.concatenate(strokes)
    lo = allp.min(0)
    k = canvas / max(float((allp.max(0) - lo).max()), 1e-9)
    rows, last = [], np.zeros(2)
    for st in strokes:
        pts = np.round(rdp((st - lo) * k, epsilon))
        for i, p in enumerate(pts):
            if i and (p == last).all() and i != len(pts) - 1:
                continue  # a repeated point after rounding
            rows.append([p[0] - last[0], p[1] - last[1], 1 if i == len(pts) - 1 else 0])
            last = p
    return np.asarray(rows, np.int16)


def simplify_stroke3(sketch: np.ndarray, epsilon: float) -> np.ndarray:
    """One stroke-3 drawing RDP-simplified stroke by stroke (``epsilon`` in its own units).

    Absolute positions of the kept points are unchanged (whole-unit data stays whole), every
    stroke keeps its first and last point, so stroke count and size are kept; the first row
    still moves from the drawing's origin.
    """
    s = np.asarray(sketch)
    if len(s) < 3 or epsilon <= 0:
        return s
    pos = np.cumsum(s[:, :2].astype(np.float64), axis=0)
    ends = np.flatnonzero(s[:, 2] > 0.5)
    bounds = np.concatenate([[0], ends + 1, [len(s)]])
    keep = np.zeros(len(s), bool)
    for a, b in itertools.pairwise(bounds):
        if b <= a:
            continue
        keep[a:b] = rdp_mask(pos[a:b], epsilon)
    kept_pos = pos[keep]
    out = np.empty((len(kept_pos), 3), np.float64)
    out[:, :2] = np.diff(kept_pos, axis=0, prepend=np.zeros((1, 2)))
    out[:, 2] = s[keep, 2]
    return np.round(out).astype(s.dtype) if np.issubdtype(s.dtype, np.integer) else out.astype(s.dtype)

