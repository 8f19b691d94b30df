"""Procedural demo sketches: simple shapes drawn as strokes with a hand-drawn wobble.

They make the sketch side work on a fresh machine with no files: train on
``synthetic_sketches(2000)`` and the model learns circles, squares, triangles,
stars, spirals and houses. Output is int16 stroke-3 in pixel-like units, as in
the Sketch-RNN datasets.
"""

from __future__ import annotations

import itertools

import numpy as np

SHAPES = ("circle", "square", "triangle", "star", "spiral", "house")


def _polygon(corners: np.ndarray, closed: bool = True) -> np.ndarray:
    pts = np.concatenate([corners, corners[:1]]) if closed else corners
    return pts


def _resample(pts: np.ndarray, step: float) -> np.ndarray:
    """Points every ~``step`` units along a polyline (corners kept)."""
    out = [pts[0]]
    for a, b in itertools.pairwise(pts):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        out.extend(a + (b - a) * (i / n) for i in range(1, n + 1))
    return np.asarray(out)


def _shape_strokes(kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    r = rng.uniform(60, 110)
    if kind == "circle":
        t0 = rng.uniform(0, 2 * np.pi)
        t = t0 + np.linspace(0, 2 * np.pi * rng.uniform(1.0, 1.1), 24)
        aspect = rng.uniform(0.8, 1.2)
        return [np.stack([r * np.cos(t) * aspect, r * np.sin(t)], 1)]
    if kind == "square":
        w, h = r * rng.uniform(0.8, 1.2), r * rng.uniform(0.8, 1.2)
        return [_resample(_polygon(np.array([[-w, -h], [w, -h], [w, h], [-w, h]])), r / 2)]
    if kind == "triangle":
        ang = -np.pi / 2 + np.array([0, 2 * np.pi / 3, 4 * np.pi / 3]) + rng.normal(0, 0.08, 3)
        return [_resample(_polygon(np.stack([r * np.cos(ang), r * np.sin(ang)], 1)), r / 2)]
    if kind == "star":
        ang = -np.pi / 2 + np.arange(5) * 4 * np.pi / 5
        return [_polygon(np.stack([r * np.cos(ang), r * np.sin(ang)], 1))]
    if kind == "spiral":
        t = np.linspace(0, 2 * np.pi * rng.uniform(2.0, 3.0), 40)
        rad = r * t / t[-1]
        return [np.stack([rad * np.cos(t), rad * np.sin(t)], 1)]
    # house: a square body, then the roof as a second stroke, then a door
    w = r * rng.uniform(0.7, 1.0)
    body = _resample(_polygon(np.array([[-w, 0], [w, 0], [w, r], [-w, r]])), r / 2)
    roof = np.array([[-w, 0], [0, -r * rng.uniform(0.6, 0.9)], [w, 0]])
    d = w * 0.3
    door = np.array([[-d, r], [-d, r * 0.5], [d, r * 0.5], [d, r]])
    return [body, roof, door]


def _to_stroke3(strokes: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    rows, last = [], np.zeros(2)
    for stroke in strokes:
        pts = stroke + rng.normal(0, 2.0, stroke.shape)  # the hand wobbles
        for i, p in enumerate(pts):
            p = np.round(p)
            rows.append([p[0] - last[0], p[1] - last[1], 1 if i == len(pts) - 1 else 0])
            last = p
    return np.asarray(rows, dtype=np.int16)


def synthetic_sketches(n: int, seed: int = 0, shapes: tuple[str, ...] = SHAPES) -> list[np.ndarray]:
    """``n`` stroke-3 int16 sketches of random shapes with random size, rotation and wobble."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        kind = shapes[int(rng.integers(len(shapes)))]
        strokes = _shape_strokes(kind, rng)
        rot = rng.normal(0, 0.15)
        c, s = np.cos(rot), np.sin(rot)
        shift = rng.normal(0, 10, 2)
        strokes = [st @ np.array([[c, s], [-s, c]]) + shift for st in strokes]
        out.append(_to_stroke3(strokes, rng))
    return out
