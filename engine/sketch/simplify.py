"""Polylines to stroke-3 the way the Quick, Draw! data was prepared.

The Sketch-RNN datasets were made from absolute polylines: each drawing moved so
its top-left corner is at the origin, scaled so that its larger side is 255
units, simplified with Ramer-Douglas-Peucker (epsilon 2) and stored as whole-unit
offsets. Drawings from other sources (SVG files, the procedural sets) go through
the same steps so that one trained model sees one kind of data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CANVAS = 255.0  # larger side of a prepared drawing, in data units (Quick, Draw!)
EPSILON = 2.0  # RDP tolerance in data units (Quick, Draw!)


def rdp(points: np.ndarray, epsilon: float) -> np.ndarray:
    """Ramer-Douglas-Peucker simplification of a polyline (the end points are always kept)."""
    pts = np.asarray(points, np.float64)
    if len(pts) < 3:
        return pts
    keep = np.zeros(len(pts), bool)
    keep[[0, -1]] = True
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
    return pts[keep]


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
