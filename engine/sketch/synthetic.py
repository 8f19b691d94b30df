"""Procedural demo sketches: simple shapes drawn as strokes with a hand-drawn wobble.

They make the sketch side work on a fresh machine with no files: train on
``synthetic_sketches(2000)`` and the model learns circles, squares, triangles,
stars, spirals and houses. Output is int16 stroke-3 in pixel-like units, as in
the Sketch-RNN datasets.
"""

from __future__ import annotations

import itertools

import numpy as np

from .simplify import polylines_to_stroke3

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


def synthetic_sketches(n: int, rng: int = 0, shapes: tuple[str, ...] = SHAPES) -> list[np.ndarray]:
    """``n`` stroke-3 int16 sketches of random shapes with random size, rotation and wobble."""
    rng = np.random.default_rng(rng)
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


# --- one object class, drawn the Quick, Draw! way ------------------------------------------------
#
# The Sketch-RNN datasets hold crowd-sourced drawings of *one* class each, simplified with
# Ramer-Douglas-Peucker (epsilon 2) and scaled so that a drawing's larger side is 255 units.
# ``quickdraw_like_sketches`` imitates that: a cat face drawn in 3..12 strokes (head, ears,
# eyes, nose, mouth, whiskers -- each optional part drawn by only some "people", in a
# human-like order: outline first, top to bottom), wobbly hand-drawn curves, RDP-simplified,
# scaled to 255 and stored as int16 stroke-3. It exercises what the real files do and the
# kanji file does not: few long strokes, big pen-up jumps, and a fixed-size canvas.


def _wobble(pts: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Smooth, low-frequency hand tremor along a densely sampled curve."""
    t = np.linspace(0, 1, len(pts))[:, None]
    k = rng.normal(0, amount, (3, 2))
    phase = rng.uniform(0, 2 * np.pi, (3, 1))
    return pts + sum(k[i] * np.sin((i + 1) * np.pi * t + phase[i]) for i in range(3))


def _arc(cx: float, cy: float, rx: float, ry: float, t0: float, t1: float, n: int = 40) -> np.ndarray:
    t = np.linspace(t0, t1, n)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def _line(a, b, n: int = 10) -> np.ndarray:
    return np.linspace(np.asarray(a, float), np.asarray(b, float), n)


def _cat_strokes(rng: np.random.Generator) -> list[np.ndarray]:
    """One cat face as dense polylines (y down), in a human drawing order."""
    rx, ry = rng.uniform(80, 110), rng.uniform(65, 100)
    start = rng.uniform(-np.pi, np.pi)
    strokes = [_arc(0, 0, rx, ry, start, start + 2 * np.pi * rng.uniform(1.0, 1.08), 60)]  # head
    if rng.random() < 0.85:  # ears
        for side in (-1, 1):
            bx = side * rx * rng.uniform(0.35, 0.6)
            tip = (side * rx * rng.uniform(0.55, 0.9), -ry - rng.uniform(30, 70))
            base_out = (side * rx * rng.uniform(0.75, 0.95), -ry * rng.uniform(0.5, 0.7))
            base_in = (bx, -ry * rng.uniform(0.85, 1.0))
            strokes.append(np.concatenate([_line(base_in, tip), _line(tip, base_out)[1:]]))
    if rng.random() < 0.9:  # eyes
        er = rng.uniform(6, 16)
        ex, ey = rx * rng.uniform(0.3, 0.45), -ry * rng.uniform(0.15, 0.35)
        for side in (-1, 1):
            strokes.append(_arc(side * ex, ey, er, er * rng.uniform(0.8, 1.3), 0, 2 * np.pi, 20))
    if rng.random() < 0.7:  # nose
        s = rng.uniform(6, 12)
        ny = ry * rng.uniform(0.05, 0.2)
        strokes.append(np.array([[-s, ny], [s, ny], [0, ny + s], [-s, ny]]))
    if rng.random() < 0.75:  # mouth
        my, w = ry * rng.uniform(0.35, 0.5), rx * rng.uniform(0.2, 0.35)
        strokes.append(_arc(0, my - w * 0.3, w, w * 0.5, 0.15 * np.pi, 0.85 * np.pi, 16))
    n_whiskers = int(rng.choice([0, 0, 2, 4, 6]))
    for i in range(n_whiskers):  # whiskers: left ones, then right ones, top to bottom
        side = -1 if i < n_whiskers // 2 else 1
        row = i % max(1, n_whiskers // 2)
        y0 = ry * (0.15 + 0.12 * row)
        inner = (side * rx * rng.uniform(0.25, 0.4), y0)
        outer = (side * rx * rng.uniform(0.95, 1.3), y0 + rng.uniform(-15, 15) + 8 * (row - 1))
        strokes.append(_line(inner, outer))
    return strokes


def quickdraw_like_sketches(n: int, rng: int = 0, epsilon: float = 2.0) -> list[np.ndarray]:
    """``n`` Quick, Draw!-like int16 stroke-3 sketches of one class (a cat face, 3..12 strokes).

    Each drawing is wobbled, slightly rotated and stretched, scaled so that its larger side
    is 255 units with its top-left corner at the origin, RDP-simplified (``epsilon`` units)
    and stored as whole-unit offsets; the first row moves from the origin to the first point.
    """
    rng = np.random.default_rng(rng)
    out = []
    for _ in range(n):
        strokes = [_wobble(s, rng, rng.uniform(1.0, 4.0)) for s in _cat_strokes(rng)]
        rot = rng.normal(0, 0.08)
        c, s = np.cos(rot), np.sin(rot)
        stretch = np.array([rng.uniform(0.8, 1.2), 1.0])
        strokes = [(st @ np.array([[c, s], [-s, c]])) * stretch for st in strokes]
        out.append(polylines_to_stroke3(strokes, epsilon=epsilon))
    return out


def write_quickdraw_like_npz(path, n_train: int = 3000, n_valid: int = 250, n_test: int = 250, rng: int = 7):
    """A Sketch-RNN-layout ``.npz`` (``train``/``valid``/``test`` object arrays of int16 stroke-3) of
    ``quickdraw_like_sketches``: a stand-in for a real one-class file when trying training settings."""
    from pathlib import Path

    sketches = quickdraw_like_sketches(n_train + n_valid + n_test, rng)
    cuts = {"train": (0, n_train), "valid": (n_train, n_train + n_valid),
            "test": (n_train + n_valid, n_train + n_valid + n_test)}
    arrays = {}
    for name, (a, b) in cuts.items():
        arr = np.empty(b - a, dtype=object)
        for i, s in enumerate(sketches[a:b]):
            arr[i] = s
        arrays[name] = arr
    np.savez(path, **arrays)
    return Path(path)
