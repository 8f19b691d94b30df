"""Long, messy drawings of one animal: a stand-in for a real crowd class.

Real Quick, Draw! classes of animals (and people's own SVGs) are long: a detailed class has a
median of ~120 points, ~10 strokes and a tail up to the 250-point limit; the drawings are messy
(tremor, overshoot, a few scribbled strokes, some redrawn lines). ``animal_sketches`` makes such
a class: a pig seen from the side -- body, head, snout with nostrils, ears, eye, four legs, a curly
tail, optional mud spots and ground line -- in a human drawing order, drawn with hand tremor at a
low simplification (RDP ``epsilon`` 1.25 instead of 2), scaled so its larger side is 255 units.
``animal_svgs`` writes another such class (a fish) as SVG files of cubic Bezier paths, the way a
traced or hand-made vector drawing arrives, to test the SVG route end to end.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from ..core.fileio import atomic_path
from .simplify import polylines_to_stroke3


def _ellipse(cx: float, cy: float, rx: float, ry: float, rng: np.random.Generator, turns: float = 1.0,
             n: int = 90) -> np.ndarray:
    t0 = rng.uniform(0, 2 * np.pi)
    t = t0 + np.linspace(0, 2 * np.pi * turns, n)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def _polyline(points, n_per_segment: int = 12) -> np.ndarray:
    pts = np.asarray(points, float)
    out = [pts[:1]]
    for a, b in itertools.pairwise(pts):
        out.append(np.linspace(a, b, n_per_segment + 1)[1:])
    return np.concatenate(out)


def _tremor(pts: np.ndarray, rng: np.random.Generator, smooth: float, jitter: float) -> np.ndarray:
    """Slow wobble (``smooth`` units) plus fast hand jitter (``jitter`` units) along a dense curve."""
    t = np.linspace(0, 1, len(pts))[:, None]
    k = rng.normal(0, smooth, (3, 2))
    phase = rng.uniform(0, 2 * np.pi, (3, 1))
    slow = sum(k[i] * np.sin((i + 1) * np.pi * t + phase[i]) for i in range(3))
    fast = np.cumsum(rng.normal(0, jitter, pts.shape), 0) * 0.3
    fast -= np.linspace(0, 1, len(pts))[:, None] * fast[-1:]  # the stroke still ends where it aimed
    return pts + slow + fast


def _pig_strokes(rng: np.random.Generator) -> list[np.ndarray]:
    """One pig (side view, facing right), dense polylines in a human drawing order (y down)."""
    bw, bh = rng.uniform(95, 125), rng.uniform(55, 75)
    strokes = [_ellipse(0, 0, bw, bh, rng, rng.uniform(1.0, 1.12), 110)]  # body
    hx, hy, hr = bw * rng.uniform(0.85, 1.0), -bh * rng.uniform(0.3, 0.55), rng.uniform(32, 44)
    strokes.append(_ellipse(hx, hy, hr, hr * rng.uniform(0.85, 1.05), rng, rng.uniform(1.0, 1.1), 70))  # head
    sx, sy = hx + hr * rng.uniform(0.8, 1.0), hy + hr * rng.uniform(0.05, 0.3)
    sr = rng.uniform(10, 15)
    strokes.append(_ellipse(sx, sy, sr * 0.6, sr, rng, 1.0, 36))  # snout
    if rng.random() < 0.5:  # nostrils
        for dy in (-0.4, 0.4):
            strokes.append(_ellipse(sx, sy + dy * sr, 2.2, 2.5, rng, 1.0, 10))
    for side in (-1, 1) if rng.random() < 0.6 else (1,):  # ears: a pointed flap each
        ex = hx + side * hr * rng.uniform(0.25, 0.5)
        base = hy - hr * rng.uniform(0.75, 0.95)
        tip = (ex + rng.uniform(-8, 12), base - rng.uniform(18, 32))
        strokes.append(_polyline([(ex - 10, base + 4), tip, (ex + 10, base + 2)], 10))
    strokes.append(_ellipse(hx + hr * 0.35, hy - hr * 0.25, 3.5, 4.0, rng, 1.0, 14))  # eye
    if rng.random() < 0.7:  # smile
        t = np.linspace(0.2 * np.pi, 0.8 * np.pi, 16)
        strokes.append(np.stack([sx - sr * 0.9 + 10 * np.cos(t), sy + sr * 0.9 + 5 * np.sin(t)], 1))
    leg_h = rng.uniform(28, 45)
    for lx in sorted(rng.uniform(-0.75, 0.75, 2).tolist()) + sorted(rng.uniform(-0.6, 0.85, 2).tolist()):
        x = lx * bw
        y0 = np.sqrt(max(0.0, 1 - lx**2)) * bh * 0.95
        w = rng.uniform(9, 14)
        strokes.append(_polyline([(x - w, y0), (x - w, y0 + leg_h), (x + w, y0 + leg_h), (x + w, y0)], 8))
    tx, ty = -bw * 0.98, -bh * rng.uniform(0.1, 0.4)  # curly tail: a small spiral out of the back
    t = np.linspace(0, 2 * np.pi * rng.uniform(1.5, 2.5), 50)
    rad = np.linspace(2, rng.uniform(9, 14), len(t))
    strokes.append(np.stack([tx - 12 - rad * np.cos(t), ty - rad * np.sin(t)], 1))
    for _ in range(int(rng.choice([0, 0, 1, 2, 3]))):  # mud spots
        strokes.append(_ellipse(rng.uniform(-0.5, 0.5) * bw, rng.uniform(-0.4, 0.3) * bh, rng.uniform(6, 14),
                                rng.uniform(5, 10), rng, 1.0, 24))
    if rng.random() < 0.4:  # some people shade the body with a zigzag scribble: many points in one stroke
        k = int(rng.integers(6, 75))
        xs = np.linspace(-0.6, 0.5, k) * bw + rng.normal(0, 3, k)
        ys = np.where(np.arange(k) % 2, 0.5, -0.3) * bh + rng.normal(0, 5, k)
        strokes.append(_polyline(np.stack([xs, ys], 1), 4))
    if rng.random() < 0.35:  # a ground line under the feet
        y = bh + leg_h + rng.uniform(3, 10)
        strokes.append(_polyline([(-bw * 1.2, y), (bw * 1.3, y)], 30))
    return strokes


def animal_sketches(n: int, rng: int = 0, epsilon: float = 1.25, messiness: float = 1.0) -> list[np.ndarray]:
    """``n`` long int16 stroke-3 drawings of one animal (a pig), prepared like Quick, Draw! data.

    ``epsilon``: RDP tolerance in units of the 255 canvas (Quick, Draw! used 2; 1.25 keeps ~1.6 times
    the points). ``messiness`` scales the hand tremor and jitter (0: clean curves). With the
    defaults a set has a median of ~120 points, ~12 strokes and a long tail to ~250 points.
    """
    g = np.random.default_rng(rng)
    out = []
    for _ in range(n):
        shaky = messiness * g.lognormal(-0.6, 0.55)  # some people draw with a far shakier hand
        strokes = [_tremor(s, g, messiness * g.uniform(0.5, 3.0), shaky) for s in _pig_strokes(g)]
        rot = g.normal(0, 0.06)
        c, s = np.cos(rot), np.sin(rot)
        stretch = np.array([g.uniform(0.85, 1.15), 1.0])
        out.append(polylines_to_stroke3([(st @ np.array([[c, s], [-s, c]])) * stretch for st in strokes],
                                        epsilon=epsilon))
    return out


def write_animals_npz(path: str | Path, n_train: int = 7400, n_valid: int = 300, n_test: int = 300,
                      rng: int = 11, **kwargs) -> Path:
    """A Sketch-RNN-layout ``.npz`` (``train``/``valid``/``test`` object arrays) of ``animal_sketches``."""
    sketches = animal_sketches(n_train + n_valid + n_test, rng, **kwargs)
    arrays, start = {}, 0
    for name, count in (("train", n_train), ("valid", n_valid), ("test", n_test)):
        arr = np.empty(count, dtype=object)
        for i, s in enumerate(sketches[start : start + count]):
            arr[i] = s
        arrays[name], start = arr, start + count
    with atomic_path(path, True) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    return Path(path)


# --- a second class as SVG files: fish drawn with cubic Beziers ---------------------------------


def _fish_paths(rng: np.random.Generator) -> list[str]:
    """SVG path data of one fish (body, tail, eye, gill, spiky fin, tail rays, fin, scales, bubbles), in order."""
    L, H = rng.uniform(140, 190), rng.uniform(55, 85)
    x0, y0 = 40.0, 120.0
    nose, back = (x0 + L, y0), (x0, y0)
    c = rng.uniform(0.7, 1.1)

    def pt(p):
        return f"{p[0] + rng.normal(0, 1.5):.1f},{p[1] + rng.normal(0, 1.5):.1f}"

    paths = [  # body: two curves nose -> back on top, back -> nose below
        f"M {pt(nose)} C {pt((x0 + L * 0.7, y0 - H * c))} {pt((x0 + L * 0.25, y0 - H * 0.9))} {pt(back)} "
        f"C {pt((x0 + L * 0.25, y0 + H * 0.9))} {pt((x0 + L * 0.7, y0 + H * c))} {pt(nose)}"]
    tw = rng.uniform(35, 60)
    paths.append(f"M {pt(back)} Q {pt((x0 - tw * 0.5, y0 - 20))} {pt((x0 - tw, y0 - tw * 0.7))} "
                 f"Q {pt((x0 - tw * 0.6, y0))} {pt((x0 - tw, y0 + tw * 0.7))} Q {pt((x0 - tw * 0.5, y0 + 20))} "
                 f"{pt(back)}")  # tail
    ex, ey, er = x0 + L * 0.8, y0 - H * 0.2, rng.uniform(4, 8)
    paths.append(f"M {ex - er:.1f},{ey:.1f} C {ex - er:.1f},{ey - er * 1.3:.1f} {ex + er:.1f},{ey - er * 1.3:.1f} "
                 f"{ex + er:.1f},{ey:.1f} C {ex + er:.1f},{ey + er * 1.3:.1f} {ex - er:.1f},{ey + er * 1.3:.1f} "
                 f"{ex - er:.1f},{ey:.1f}")  # eye
    gx = x0 + L * rng.uniform(0.6, 0.68)
    paths.append(f"M {pt((gx, y0 - H * 0.55))} Q {pt((gx - 18, y0))} {pt((gx, y0 + H * 0.55))}")  # gill
    fx = x0 + L * rng.uniform(0.35, 0.5)
    k = int(rng.integers(10, 22))  # a spiky dorsal fin along the back: one zigzag stroke
    xs = np.linspace(x0 + L * 0.22, x0 + L * 0.68, 2 * k + 1)
    top = y0 - H * 0.72 * np.sqrt(np.clip(1 - ((xs - x0 - L * 0.5) / (L * 0.55)) ** 2, 0.2, 1))
    ys = top - np.where(np.arange(2 * k + 1) % 2, rng.uniform(12, 24), 0)
    paths.append("M " + " L ".join(pt(p) for p in zip(xs, ys, strict=True)))
    rays = int(rng.integers(2, 7))  # fin rays across the tail: another zigzag
    ty = np.linspace(y0 - tw * 0.45, y0 + tw * 0.45, 2 * rays)
    tx = np.where(np.arange(2 * rays) % 2, x0 - tw * 0.75, x0 - 6)
    paths.append("M " + " L ".join(pt(p) for p in zip(tx, ty, strict=True)))
    paths.append(f"M {pt((fx - 10, y0 + H * 0.6))} Q {pt((fx + 5, y0 + H * 1.05))} {pt((fx + 20, y0 + H * 0.62))}")
    for i in range(int(rng.integers(2, 5))):  # scales: little arcs
        sx, sy = x0 + L * (0.3 + 0.09 * i), y0 + rng.uniform(-12, 12)
        paths.append(f"M {pt((sx, sy - 8))} Q {pt((sx + 10, sy))} {pt((sx, sy + 8))}")
    for j in range(int(rng.choice([0, 1, 2]))):  # bubbles
        bx, by, br = x0 + L + 15 + 8 * j, y0 - H * 0.6 - 20 * j, rng.uniform(3, 6)
        paths.append(f"M {bx - br:.1f},{by:.1f} C {bx - br:.1f},{by - br * 1.3:.1f} {bx + br:.1f},{by - br * 1.3:.1f} "
                     f"{bx + br:.1f},{by:.1f} C {bx + br:.1f},{by + br * 1.3:.1f} {bx - br:.1f},"
                     f"{by + br * 1.3:.1f} {bx - br:.1f},{by:.1f}")
    return paths


def _traced(d: str, rng: np.random.Generator, jitter: float) -> str:
    """Path data ``d`` as a tracer would hand it over: a dense, slightly jagged polyline (``M x,y L ...``)."""
    from .svg import path_to_polylines

    out = []
    for line in path_to_polylines(d, Path("fish.svg")):
        dense = np.concatenate([line[:1], *(np.linspace(a, b, 5)[1:] for a, b in itertools.pairwise(line))])
        pts = _tremor(dense, rng, 0.8, jitter)
        out.append("M " + " L ".join(f"{x:.1f},{y:.1f}" for x, y in pts))
    return " ".join(out)


def animal_svgs(folder: str | Path, n: int = 400, rng: int = 5) -> Path:
    """Write ``n`` fish drawings as one SVG file each into ``folder``: outlines as dense traced polylines
    (jagged, low simplification), the eye and the bubbles as cubic Beziers."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    g = np.random.default_rng(rng)
    for i in range(n):
        jitter = g.lognormal(0.95, 0.35)
        paths = [d if i_path == 2 or (" C " in d and "Q" not in d and i_path > 5) else _traced(d, g, jitter)
                 for i_path, d in enumerate(_fish_paths(g))]
        body = "\n".join(f'  <path d="{d}" fill="none" stroke="black"/>' for d in paths)
        text = f'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="260">\n{body}\n</svg>\n'
        with atomic_path(folder / f"fish_{i:04d}.svg", True) as tmp:
            tmp.write_text(text)
    return folder
