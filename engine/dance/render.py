"""A fast software stick-figure renderer (NumPy + Pillow), used by the video exporters.

``FigureRenderer`` frames a whole take once (one steady camera over all frames
and all figures: nothing is ever clipped and the camera never jumps), draws a
floor grid, bones as thick lines shaded by depth, joints as dots, a head,
several figures side by side in distinct colours, an optional faint ghost and
a frame counter. ``render(i)`` returns an ``(H, W, 3)`` uint8 RGB image.

Lines are drawn at twice the resolution and box-filtered down, which gives
smooth, antialiased-looking edges at a few milliseconds per frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .axes import guess_up_axis, known_up_axis
from .motion import Motion

BACKGROUND = (22, 24, 30)
FLOOR = (38, 42, 52)
GRID = (62, 68, 84)
TEXT = (170, 176, 190)
GHOST = (105, 110, 126)
PALETTE: list[tuple[int, int, int]] = [
    (240, 110, 80),   # coral
    (80, 160, 245),   # blue
    (110, 205, 110),  # green
    (215, 135, 235),  # violet
    (245, 195, 70),   # amber
    (60, 205, 200),   # teal
    (240, 120, 170),  # pink
    (180, 180, 100),  # olive
]

# data axes -> world axes (Y up); each is a proper rotation, so handedness is kept
_TO_WORLD = {
    "y": np.eye(3),
    "-y": np.diag([1.0, -1.0, -1.0]),
    "z": np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]]),
    "-z": np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]),
    "x": np.array([[0, -1.0, 0], [1.0, 0, 0], [0, 0, 1.0]]),
    "-x": np.array([[0, 1.0, 0], [-1.0, 0, 0], [0, 0, 1.0]]),
}

Figure = Motion | np.ndarray


def _normalise_up(up: str) -> str:
    up = up.strip().lower().lstrip("+")
    if up not in _TO_WORLD:
        raise ValueError(f"up_axis must be one of x, y, z, -x, -y, -z, got {up!r}")
    return up


def _side(name: str) -> int:
    """+1 for a left-side joint, -1 for a right-side one, 0 otherwise (by name)."""
    low = name.lower()
    if low.startswith(("left", "l_", "l.")) or (len(name) > 1 and name[0] == "L" and name[1].isupper()):
        return 1
    if low.startswith(("right", "r_", "r.")) or (len(name) > 1 and name[0] == "R" and name[1].isupper()):
        return -1
    return 0


def _smooth(x: np.ndarray, window: int) -> np.ndarray:
    """Moving average along axis 0 with edge padding."""
    if window <= 1 or len(x) < 2:
        return x
    pad = window // 2
    xp = np.concatenate([np.repeat(x[:1], pad, 0), x, np.repeat(x[-1:], window - 1 - pad, 0)])
    c = np.cumsum(np.concatenate([np.zeros_like(x[:1]), xp]), axis=0)
    return (c[window:] - c[:-window]) / window


def _fill_hidden(r: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """``r`` with every hidden frame replaced by the nearest shown one (zeros when none is shown)."""
    if shown.all():
        return r
    if not shown.any():
        return np.zeros_like(r)
    idx = np.flatnonzero(shown)
    nearest = idx[np.clip(np.searchsorted(idx, np.arange(len(r))), 0, len(idx) - 1)]
    before = idx[np.clip(np.searchsorted(idx, np.arange(len(r))) - 1, 0, len(idx) - 1)]
    pick = np.where(np.abs(before - np.arange(len(r))) < np.abs(nearest - np.arange(len(r))), before, nearest)
    return r[pick]


def _nice_step(length: float) -> float:
    """A round grid spacing (1, 2 or 5 times a power of ten) near ``length``."""
    p = 10 ** np.floor(np.log10(max(length, 1e-9)))
    for m in (1.0, 2.0, 5.0, 10.0):
        if length <= m * p * 1.5:
            return float(m * p)
    return float(10 * p)


class FigureRenderer:
    """Draw one or several takes with one steady camera that frames every frame of every take.

    motions:     a Motion or a ``(frames, joints, 3)`` array, or a list of them (variations,
                 drawn side by side in distinct colours). Bare arrays and Motions without bones
                 are drawn as dots.
    size:        (width, height) in pixels.
    colors:      one RGB colour per figure (default: a built-in palette).
    up_axis:     "y", "-z", ... (default: "y" for BVH sources, else ``guess_up_axis``).
    ghost:       an optional take drawn faintly (e.g. the source beside a generated take).
    ghost_beside: place the ghost in its own slot to the left (True) or overlay it (False).
    in_place:    remove each figure's slow travel (smoothed centre) so it dances on the spot;
                 default: only when there are several figures, so they stay large.
    perspective: perspective (True) or orthographic (False) projection.
    counter:     draw a "frame / time" counter in the corner.

    A frame whose positions are all NaN is a frame where that figure is not on stage: it is
    not drawn (a ghost whose clip has ended, a take that has not started yet).
    """

    def __init__(
        self,
        motions: Figure | Sequence[Figure],
        size: tuple[int, int] = (640, 480),
        colors: Sequence[tuple[int, int, int]] | None = None,
        up_axis: str | None = None,
        *,
        ghost: Figure | None = None,
        ghost_beside: bool = True,
        in_place: bool | None = None,
        perspective: bool = True,
        azimuth: float = 35.0,
        elevation: float = 15.0,
        counter: bool = True,
        fps: float | None = None,
    ) -> None:
        figs = [motions] if isinstance(motions, (Motion, np.ndarray)) else list(motions)
        if not figs:
            raise ValueError("nothing to draw: no motions given")
        self.width, self.height = int(size[0]), int(size[1])
        self.ss = 2  # supersampling factor
        self.counter = counter
        colors = list(colors) if colors else PALETTE
        entries = [(f, tuple(colors[i % len(colors)]), False) for i, f in enumerate(figs)]
        if ghost is not None:
            g = (ghost, GHOST, True)
            entries = [g, *entries] if ghost_beside else [*entries, g]
        first = next((f for f in figs if isinstance(f, Motion)), None)
        self.fps = float(fps or (first.fps if first else 30.0))
        if in_place is None:
            in_place = len(figs) > 1

        raw = [np.asarray(f.positions if isinstance(f, Motion) else f, dtype=np.float64)
               for f, _, _ in entries]
        for r in raw:
            if r.ndim != 3 or r.shape[2] != 3:
                raise ValueError(f"positions must be (frames, joints, 3), got {r.shape}")
        if up_axis is None:
            same = [r for r in raw if r.shape[1] == raw[0].shape[1]]
            up_axis = (known_up_axis(first) if first is not None else None) or guess_up_axis(np.concatenate(same))
        self.up_axis = _normalise_up(up_axis)
        to_world = _TO_WORLD[self.up_axis]

        # camera orientation: slightly elevated three-quarter view
        az, el = np.radians(azimuth), np.radians(elevation)
        back = np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])
        right = np.cross([0.0, 1.0, 0.0], back)
        right /= np.linalg.norm(right)
        cam_up = np.cross(back, right)
        self._rot = np.stack([right, cam_up, back])  # world -> camera (camera looks along -back)

        # a frame that is all NaN is a frame where that figure is not on stage (e.g. a ghost whose clip
        # ended): it is not drawn, and the framing below uses the nearest frame where it is
        self._shown = [~np.isnan(r).all(axis=(1, 2)) for r in raw]
        raw = [_fill_hidden(r, shown) for r, shown in zip(raw, self._shown, strict=True)]

        # world positions: feet on the floor (y = 0), figures side by side along the camera's right
        world = []
        for (f, _, _), r in zip(entries, raw, strict=True):
            w = np.nan_to_num(r @ to_world.T)
            w[:, :, 1] -= np.min(w[:, :, 1])
            if in_place and len(w) > 1:
                fps_f = f.fps if isinstance(f, Motion) else self.fps
                centre = _smooth(w.mean(axis=1)[:, [0, 2]], max(1, int(2 * fps_f)))
                w[:, :, [0, 2]] -= centre[:, None, :]
            world.append(w)
        heights = [float(np.median(w[:, :, 1].max(axis=1))) for w in world]
        body = max(max(heights), 1e-6)
        gap = 0.12 * body
        cursor = 0.0
        overlay = ghost is not None and not ghost_beside
        shifts = []
        for k, w in enumerate(world):
            if overlay and entries[k][2]:
                shifts.append(shifts[0])  # the overlaid ghost shares the first figure's place
                continue
            # percentiles, not min/max: a rare wide gesture may brush the neighbour, figures stay large
            lo_l, hi_l = np.percentile(w.reshape(-1, 3) @ right, [2, 98]) if len(world) > 1 else (
                np.min(w.reshape(-1, 3) @ right), np.max(w.reshape(-1, 3) @ right))
            shifts.append(cursor - float(lo_l))
            cursor += float(hi_l - lo_l) + gap
        centre = (cursor - gap) / 2
        for w, shift in zip(world, shifts, strict=True):
            w += (shift - centre) * right
        self._world = world
        self._colors = [c for _, c, _ in entries]
        self._ghost = [g for _, _, g in entries]
        self._bones = [
            f.bones if isinstance(f, Motion) and len(f.bones) else np.zeros((0, 2), np.int64)
            for f, _, _ in entries
        ]
        names = [f.joint_names if isinstance(f, Motion) else [] for f, _, _ in entries]
        self._sides = [np.array([_side(n) for n in nm]) if nm else np.zeros(w.shape[1]) for nm, w in
                       zip(names, world, strict=True)]
        self._heads = [
            [i for i, n in enumerate(nm) if n.lower() in ("head", "head_end", "headend", "head_top")][:1]
            for nm in names
        ]
        self.n_frames = max(len(w) for w in world)

        # one steady camera: perspective from a distance, then fit every projected point into the image
        pts = np.concatenate([w.reshape(-1, 3) for w in world])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        self._target = (lo + hi) / 2
        radius = float(np.linalg.norm(hi - lo) / 2) + 1e-6
        self._perspective = perspective
        self._distance = 3.0 * radius
        uv = self._project_norm(pts)[0]
        ulo, uhi = uv.min(axis=0), uv.max(axis=0)
        margin = 0.07
        avail = np.array([self.width, self.height]) * (1 - 2 * margin)
        self._scale = float(np.min(avail / np.maximum(uhi - ulo, 1e-9)))
        self._offset = np.array([self.width, self.height]) / 2 - self._scale * (ulo + uhi) / 2
        self._body_px = self._scale * body / (self._distance if perspective else 1.0)
        self._line = max(2.0, self._body_px * 0.028) * self.ss
        self._dot = max(2.0, self._body_px * 0.022) * self.ss
        self._head_r = max(3.0, self._body_px * 0.06) * self.ss
        self._background = self._draw_floor(lo, hi, body)
        try:
            self._font = ImageFont.load_default(size=max(10, self.height // 32))
        except TypeError:  # very old Pillow without sized default fonts
            self._font = ImageFont.load_default()

    # -- projection -----------------------------------------------------------
    def _project_norm(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Normalised image coordinates (u right, v down) and depth for (..., 3) world points."""
        cam = (pts - self._target) @ self._rot.T
        depth = self._distance - cam[..., 2]  # distance in front of the camera
        if self._perspective:
            d = np.maximum(depth, 1e-6)
            uv = np.stack([cam[..., 0] / d, -cam[..., 1] / d], axis=-1)
        else:
            uv = np.stack([cam[..., 0], -cam[..., 1]], axis=-1)
        return uv, depth

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (..., 2) and depth (...) of world points (Y up, after placement)."""
        uv, depth = self._project_norm(pts)
        return uv * self._scale + self._offset, depth

    # -- drawing ----------------------------------------------------------------
    def _draw_floor(self, lo: np.ndarray, hi: np.ndarray, body: float) -> Image.Image:
        ss = self.ss
        img = Image.new("RGB", (self.width * ss, self.height * ss), BACKGROUND)
        draw = ImageDraw.Draw(img)
        step = _nice_step(body / 3.5)
        pad = 0.5 * body
        x0, x1 = np.floor((lo[0] - pad) / step) * step, np.ceil((hi[0] + pad) / step) * step
        z0, z1 = np.floor((lo[2] - pad) / step) * step, np.ceil((hi[2] + pad) / step) * step
        corners = np.array([[x0, 0, z0], [x1, 0, z0], [x1, 0, z1], [x0, 0, z1]])
        px, depth = self.project(corners)
        if np.all(depth > 0):
            draw.polygon([tuple(p) for p in px * ss], fill=FLOOR)
            width = max(1, ss)
            for x in np.arange(x0, x1 + step / 2, step):
                ends, _ = self.project(np.array([[x, 0, z0], [x, 0, z1]]))
                draw.line([tuple(p) for p in ends * ss], fill=GRID, width=width)
            for z in np.arange(z0, z1 + step / 2, step):
                ends, _ = self.project(np.array([[x0, 0, z], [x1, 0, z]]))
                draw.line([tuple(p) for p in ends * ss], fill=GRID, width=width)
        return img

    def render(self, frame_index: int) -> np.ndarray:
        """The image of frame ``frame_index`` as a uint8 ``(height, width, 3)`` RGB array.

        Takes shorter than the longest one hold their last pose.
        """
        ss = self.ss
        img = self._background.copy()
        draw = ImageDraw.Draw(img)
        items: list[tuple[float, int, tuple, tuple[int, int, int], float]] = []
        for k, w in enumerate(self._world):
            f = min(max(int(frame_index), 0), len(w) - 1)
            if not self._shown[k][f]:
                continue
            px, depth = self.project(w[f])
            px = px * ss
            dmin, dmax = float(depth.min()), float(depth.max())
            shade = 1.0 - 0.35 * (depth - dmin) / max(dmax - dmin, 1e-9)  # far side darker
            base = np.array(self._colors[k], dtype=np.float64)
            sides = self._sides[k]
            bones = self._bones[k]
            for a, b in bones:
                s = shade[[a, b]].mean() * (1.0 + 0.12 * (sides[b] if len(sides) > b else 0))
                col = tuple(int(c) for c in np.clip(base * s, 0, 255))
                items.append((float(depth[a] + depth[b]) / 2, 0, (*px[a], *px[b]), col, self._line))
            dot = self._dot if len(bones) else self._dot * 1.3
            for j in range(len(px)):
                col = tuple(int(c) for c in np.clip(base * shade[j] * 1.15 + 10, 0, 255))
                items.append((float(depth[j]) - 1e-4, 1, tuple(px[j]), col, dot))
            for h in self._heads[k]:
                col = tuple(int(c) for c in np.clip(base * shade[h], 0, 255))
                r = self._head_r * (self._distance / depth[h] if self._perspective else 1.0)
                items.append((float(depth[h]) - 2e-4, 2, tuple(px[h]), col, r))
        items.sort(key=lambda it: -it[0])  # far to near
        for _, kind, xy, col, size in items:
            if kind == 0:
                draw.line(xy, fill=col, width=round(size))
            else:
                r = size / 2 if kind == 1 else size
                x, y = xy
                draw.ellipse((x - r, y - r, x + r, y + r), fill=col)
        out = img.reduce(ss)
        if self.counter:
            t = min(frame_index, self.n_frames - 1) / self.fps
            label = f"{min(frame_index, self.n_frames - 1) + 1}/{self.n_frames}   {t:6.2f} s"
            ImageDraw.Draw(out).text((8, 6), label, fill=TEXT, font=self._font)
        return np.asarray(out)
