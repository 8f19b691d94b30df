"""The 3D stage: a vispy ``SceneCanvas`` showing the source clip and generated takes.

All figures (the source, or the source as a faint ghost beside the take's
variations) share three persistent visuals: one ``Markers`` for the joints,
one ``Line`` for the bones (``connect`` = bone pairs offset per figure) and one
``Line`` for the onion-skin trail of recent frames. Showing a frame only calls
``set_data`` on those three; the floor grid and the camera change only when
the content does.

Coordinates: data are rotated so that the guessed up axis points up (``+z``),
moved so that the floor is at ``z = 0`` under the dance's centre, and scaled
so that the body is about one unit tall (whatever the file's units).
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStackedLayout, QVBoxLayout, QWidget
from vispy import scene

from engine.dance.axes import guess_up_axis
from engine.dance.render import PALETTE

BACKGROUND = (22 / 255, 24 / 255, 30 / 255, 1.0)
GRID_COLOR = (62 / 255, 68 / 255, 84 / 255, 1.0)
GHOST_RGBA = (0.62, 0.65, 0.74, 0.45)
TRAIL_FRAMES = 4  # onion-skin copies behind each figure
TRAIL_STEP = 3  # frames between two onion-skin copies
JOINT_SIZE = 7.0
SPACING = 1.0  # distance between figures side by side (body heights)
BONE_WIDTH = 3.0

# data axes -> z-up world axes; each a proper rotation (keeps handedness)
_UP_TO_Z = {
    "z": np.eye(3),
    "-z": np.diag([1.0, -1.0, -1.0]),
    "y": np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]),
    "-y": np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]]),
    "x": np.array([[0, 0, -1.0], [0, 1.0, 0], [1.0, 0, 0]]),
    "-x": np.array([[0, 0, 1.0], [0, 1.0, 0], [-1.0, 0, 0]]),
}


def figure_color(index: int) -> tuple[float, float, float, float]:
    """RGBA (0..1) of take variation ``index`` (the export palette, so videos match the stage)."""
    r, g, b = PALETTE[index % len(PALETTE)]
    return (r / 255, g / 255, b / 255, 1.0)


class WorldFrame:
    """Maps data coordinates to the stage: up axis to +z, floor at 0, body about 1 unit tall."""

    def __init__(self, positions: np.ndarray, up: str | None = None) -> None:
        pos = np.asarray(positions, np.float64)
        sub = pos[:: max(1, len(pos) // 400)]
        self.up = up or guess_up_axis(sub)
        self.rot = _UP_TO_Z[self.up]
        w = sub @ self.rot.T
        w = w[np.isfinite(w).all(axis=(1, 2))] if np.isfinite(w).any() else np.zeros((1, 1, 3))
        height = float(np.median(w[:, :, 2].max(axis=1) - w[:, :, 2].min(axis=1))) if len(w) else 1.0
        self.scale = 1.0 / height if height > 1e-9 else 1.0
        floor = float(np.percentile(w[:, :, 2].min(axis=1), 2)) if len(w) else 0.0
        centre = w[:, :, :2].reshape(-1, 2).mean(axis=0) if len(w) else np.zeros(2)
        self.origin = np.array([centre[0], centre[1], floor])
        world = (w - self.origin) * self.scale
        self.travel_lo = world[:, :, :2].reshape(-1, 2).min(axis=0) if len(world) else np.full(2, -0.3)
        self.travel_hi = world[:, :, :2].reshape(-1, 2).max(axis=0) if len(world) else np.full(2, 0.3)

    def apply(self, positions: np.ndarray) -> np.ndarray:
        """``(..., 3)`` data coordinates to stage coordinates (float32)."""
        p = np.asarray(positions, np.float64)
        return ((p @ self.rot.T - self.origin) * self.scale).astype(np.float32)


class StageCanvas:
    """The vispy scene: grid, trail, bones and joints of several figures; no Qt layout logic."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.canvas = scene.SceneCanvas(keys=None, bgcolor=BACKGROUND, parent=parent, show=False)
        self.view = self.canvas.central_widget.add_view()
        self.view.camera = scene.TurntableCamera(up="+z", fov=35.0, elevation=12.0, azimuth=0.0)
        self.grid = scene.visuals.Line(pos=np.zeros((2, 3), np.float32), color=GRID_COLOR, connect="segments",
                                       parent=self.view.scene, antialias=False)
        self.trail = scene.visuals.Line(pos=np.zeros((2, 3), np.float32), width=1.5, connect="segments",
                                        parent=self.view.scene)
        self.bones_vis = scene.visuals.Line(pos=np.zeros((2, 3), np.float32), width=BONE_WIDTH,
                                            connect="segments", parent=self.view.scene)
        self.joints = scene.visuals.Markers(parent=self.view.scene)
        self.joints.set_data(np.zeros((1, 3), np.float32), size=JOINT_SIZE)
        self.trail.set_gl_state("translucent", depth_test=False)
        self.bones_vis.set_gl_state("translucent", depth_test=True)
        self._bones = np.zeros((0, 2), np.int64)
        self._layout_key: tuple | None = None
        self._colors: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.show_trail = True
        self.set_visible(False)

    def set_visible(self, on: bool) -> None:
        """Show or hide the figures (the grid stays)."""
        for v in (self.trail, self.bones_vis, self.joints):
            v.visible = on
        self.trail.visible = on and self.show_trail

    def set_bones(self, bones: np.ndarray) -> None:
        """Bone pairs shared by every figure."""
        self._bones = np.asarray(bones, np.int64).reshape(-1, 2)
        self._layout_key = None

    def frame_camera(self, width: float, centre: np.ndarray, floor_lo: np.ndarray, floor_hi: np.ndarray) -> None:
        """Aim at ``centre`` (x, y) so that a row of figures ``width`` wide and ~1 tall fills the view;
        draw the floor grid over ``floor_lo..floor_hi``."""
        cam = self.view.camera
        cam.center = (float(centre[0]), float(centre[1]), 0.5)
        fov = np.radians(cam.fov)
        aspect = max(self.canvas.size[0], 1) / max(self.canvas.size[1], 1)
        dist_h = 1.3 / (2 * np.tan(fov / 2))
        dist_w = (width + 0.5) / (2 * np.tan(fov / 2) * aspect)
        cam.distance = float(max(dist_h, dist_w))
        self._grid(floor_lo - 1.0, floor_hi + 1.0)

    def follow(self, centre: np.ndarray, rate: float = 0.08) -> None:
        """Glide the camera's aim towards ``centre`` (x, y) on the floor."""
        cam = self.view.camera
        c = np.asarray(cam.center, np.float64)
        c[:2] += rate * (np.asarray(centre[:2], np.float64) - c[:2])
        cam.center = tuple(float(x) for x in c)

    def _grid(self, lo: np.ndarray, hi: np.ndarray, step: float = 0.25) -> None:
        xs = np.arange(np.floor(lo[0] / step), np.ceil(hi[0] / step) + 1) * step
        ys = np.arange(np.floor(lo[1] / step), np.ceil(hi[1] / step) + 1) * step
        segs = [[(x, ys[0], 0), (x, ys[-1], 0)] for x in xs] + [[(xs[0], y, 0), (xs[-1], y, 0)] for y in ys]
        self.grid.set_data(pos=np.asarray(segs, np.float32).reshape(-1, 3), color=GRID_COLOR)

    def _colours(self, figure_colors: list[tuple[float, ...]], n_joints: int) -> tuple[np.ndarray, ...]:
        key = (tuple(figure_colors), n_joints, len(self._bones), self.show_trail)
        if self._layout_key != key or self._colors is None:
            fc = np.asarray(figure_colors, np.float32)
            joints = np.repeat(fc, n_joints, axis=0)
            trail = []
            for k in range(TRAIL_FRAMES):
                c = fc.copy()
                c[:, 3] *= 0.45 * (1.0 - k / TRAIL_FRAMES)
                trail.append(np.repeat(c, n_joints, axis=0))
            self._colors = (joints, joints, np.concatenate(trail) if trail else joints[:0])
            nb = len(self._bones)
            offs = (np.arange(len(fc)) * n_joints)[:, None, None]
            self._bone_idx = (self._bones[None] + offs).reshape(-1)  # vertex indices of bone ends
            offs_t = (np.arange(len(fc) * TRAIL_FRAMES) * n_joints)[:, None, None]
            self._trail_idx = (self._bones[None] + offs_t).reshape(-1)
            self._nb = nb
            self._layout_key = key
        return self._colors

    def show(self, figures: np.ndarray, trails: np.ndarray | None, colors: list[tuple[float, ...]]) -> None:
        """Draw ``figures`` ``(n, joints, 3)`` (stage coordinates) and their ``trails`` ``(TRAIL_FRAMES, n, J, 3)``."""
        n, nj = figures.shape[:2]
        if n == 0:
            self.set_visible(False)
            return
        jc, _, tc = self._colours(colors, nj)
        flat = figures.reshape(-1, 3)
        self.joints.set_data(flat, face_color=jc, edge_width=0, size=JOINT_SIZE)
        if self._nb:
            self.bones_vis.set_data(pos=flat[self._bone_idx], color=jc[self._bone_idx])
        if self.show_trail and trails is not None and self._nb:
            tflat = trails.reshape(-1, 3)
            self.trail.set_data(pos=tflat[self._trail_idx], color=tc[self._trail_idx])
        self.set_visible(True)
        self.bones_vis.visible = bool(self._nb)
        self.trail.visible = bool(self._nb) and self.show_trail and trails is not None


class EmptyStage(QWidget):
    """What the stage shows before anything is loaded."""

    open_requested = pyqtSignal()
    demo_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAutoFillBackground(True)
        self.setStyleSheet("background: #16181e; color: #c8ccd8;")
        title = QLabel("Drop a mocap file here, or press Demo")
        title.setStyleSheet("font-size: 20px; font-weight: 600;")
        hint = QLabel(".npy  .npz  .bvh  .csv  clips, or a trained model (.pt)")
        hint.setStyleSheet("color: #8a90a0;")
        open_btn, demo_btn = QPushButton("Open…"), QPushButton("Demo")
        open_btn.clicked.connect(self.open_requested)
        demo_btn.clicked.connect(self.demo_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(open_btn)
        buttons.addWidget(demo_btn)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        for w in (title, hint):
            w.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lay.addWidget(w)
        lay.addLayout(buttons)
        lay.addStretch(1)


class StageView(QWidget):
    """The stage widget: empty state or canvas + legend; call :meth:`set_content` then :meth:`show_frame`.

    Timeline positions: before ``take_start`` the source dances alone; from there on the
    take's variations dance (in palette colours) with the source as a faint ghost beside
    them (the source's real continuation, while it has frames).
    """

    open_requested = pyqtSignal()
    demo_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty = EmptyStage()
        self.empty.open_requested.connect(self.open_requested)
        self.empty.demo_requested.connect(self.demo_requested)
        self.stage = StageCanvas()
        self.canvas = self.stage.canvas
        self.legend = QLabel()
        self.legend.setStyleSheet("background: #16181e; color: #c8ccd8; padding: 3px 8px;")
        page = QWidget()
        pl = QVBoxLayout(page)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.setSpacing(0)
        pl.addWidget(self.canvas.native, 1)
        pl.addWidget(self.legend)
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self.empty)
        self._stack.addWidget(page)
        self.setMinimumSize(320, 240)
        self._world: WorldFrame | None = None
        self._source: np.ndarray | None = None  # (N, J, 3) stage coordinates
        self._take_raw: np.ndarray | None = None  # (V, F, J, 3) data coordinates (grows while streaming)
        self._take_ready = 0
        self._take_start = 0
        self._take_world_cache: dict[int, np.ndarray] = {}
        self._offsets = np.zeros((0, 3), np.float32)
        self.frame = 0
        self.follow = True  # the camera's aim glides after the dancers

    # -- content -----------------------------------------------------------------

    @property
    def has_content(self) -> bool:
        """True when there is something to show."""
        return self._source is not None or self._take_raw is not None

    def set_source(self, positions: np.ndarray | None, bones: np.ndarray, up: str | None = None) -> None:
        """The shown clip ``(frames, joints, 3)`` (data coordinates), its bones and up axis (default:
        guessed); None clears."""
        self._take_raw = None
        self._take_world_cache.clear()
        if positions is None:
            self._source = None
            self._world = None
            self._stack.setCurrentIndex(0)
            self.stage.set_visible(False)
            return
        self._world = WorldFrame(positions, up)
        self._source = self._world.apply(positions)
        self.stage.set_bones(bones)
        self._stack.setCurrentIndex(1)
        self._relayout()

    def set_take(self, positions: np.ndarray | None, frames_ready: int, start: int) -> None:
        """The take ``(variations, frames, joints, 3)`` (filled up to ``frames_ready``) starting at ``start``."""
        changed = (positions is None) != (self._take_raw is None) or (
            positions is not None and self._take_raw is not None and positions.shape[0] != self._take_raw.shape[0])
        if positions is not None and self._take_raw is not positions:
            self._take_world_cache.clear()
        self._take_raw, self._take_ready, self._take_start = positions, int(frames_ready), int(start)
        if positions is not None and self._world is None:
            self._world = WorldFrame(positions[0, : max(frames_ready, 1)])
            self._stack.setCurrentIndex(1)
            changed = True
        if changed:
            self._relayout()

    def update_take_ready(self, frames_ready: int) -> None:
        """More frames of the current take have arrived."""
        self._take_ready = int(frames_ready)

    def _n_figures(self) -> tuple[int, bool]:
        """(variations, ghost shown)."""
        v = 0 if self._take_raw is None else self._take_raw.shape[0]
        return v, self._source is not None

    def _relayout(self) -> None:
        w = self._world
        if w is None:
            return
        v, ghost = self._n_figures()
        n = v + (1 if ghost and v else 0) or 1
        spacing = SPACING
        xs = (np.arange(n) - (n - 1) / 2) * spacing
        self._offsets = np.zeros((n, 3), np.float32)
        self._offsets[:, 0] = xs
        figs, _, _ = self.figures_at(self.frame)
        centre = figs.reshape(-1, 3).mean(axis=0) if figs.size else np.zeros(3)
        self.stage.frame_camera(float(xs[-1] - xs[0]) + 0.6, centre,
                                np.array([w.travel_lo[0] + xs[0], w.travel_lo[1]]),
                                np.array([w.travel_hi[0] + xs[-1], w.travel_hi[1]]))
        names = []
        if v:
            if ghost:
                names.append(("source (ghost)", GHOST_RGBA))
            names += [(f"take {i + 1}", figure_color(i)) for i in range(v)]
        self.legend.setText("   ".join(
            f'<span style="color: rgb({int(c[0] * 255)},{int(c[1] * 255)},{int(c[2] * 255)}); font-size: 16px;">'
            f"●</span> {name}" for name, c in names) if names else "source clip")
        self.show_frame(self.frame)

    def reframe(self) -> None:
        """Reset the camera to frame the whole dance."""
        self._relayout()

    @property
    def total_frames(self) -> int:
        """Frames on the timeline: the source, and the take from its start."""
        n = 0 if self._source is None else len(self._source)
        if self._take_raw is not None:
            n = max(n, self._take_start + self._take_raw.shape[1])
        return n

    # -- drawing -----------------------------------------------------------------

    def _take_frame(self, f: int) -> np.ndarray:
        """Stage coordinates of take frame ``f`` (all variations), cached."""
        got = self._take_world_cache.get(f)
        if got is None:
            assert self._world is not None and self._take_raw is not None
            got = self._world.apply(self._take_raw[:, f])
            if f < self._take_ready:
                if len(self._take_world_cache) > 256:
                    self._take_world_cache.clear()
                self._take_world_cache[f] = got
        return got

    def figures_at(self, t: int) -> tuple[np.ndarray, np.ndarray | None, list[tuple[float, ...]]]:
        """Figures ``(n, J, 3)``, trails ``(TRAIL_FRAMES, n, J, 3)`` and colours at timeline position ``t``.

        With a take, every variation starts as the source (before ``take_start``) and the
        source goes on as a ghost beside them.
        """
        src = self._source
        v = 0 if self._take_raw is None or self._take_ready == 0 else self._take_raw.shape[0]
        if v and self._source is not None and t >= self._take_start + self._take_raw.shape[1]:
            v = 0  # past the take's end: the clip alone again
        if v and src is not None and src.shape[1] != self._take_raw.shape[2]:
            src = None  # the take continues the model's own seed (another skeleton)
        frames_for = [t - k * TRAIL_STEP for k in range(TRAIL_FRAMES + 1)]
        figs, colors = [], []
        if v:
            if src is not None:
                colors.append(GHOST_RGBA)
                figs.append([src[min(max(f, 0), len(src) - 1)] for f in frames_for])
            per_frame = []
            for f in frames_for:
                k = f - self._take_start
                if k < 0 and src is not None:
                    per_frame.append(np.broadcast_to(src[min(max(f, 0), len(src) - 1)], (v, *src.shape[1:])))
                else:
                    per_frame.append(self._take_frame(min(max(k, 0), self._take_ready - 1)))
            for i in range(v):
                figs.append([pf[i] for pf in per_frame])
                colors.append(figure_color(i))
        elif src is not None:
            figs.append([src[min(max(f, 0), len(src) - 1)] for f in frames_for])
            colors.append(figure_color(0))
        else:
            return np.zeros((0, 1, 3), np.float32), None, []
        arr = np.asarray(figs, np.float32)  # (n, 1 + TRAIL_FRAMES, J, 3)
        n = len(arr)
        off = self._offsets[-n:] if len(self._offsets) >= n and n > 1 else np.zeros((n, 3), np.float32)
        arr += off[:, None, None, :]
        return arr[:, 0], np.ascontiguousarray(arr[:, 1:].transpose(1, 0, 2, 3)), colors

    def show_frame(self, t: int) -> None:
        """Show timeline position ``t`` (set_data on the persistent visuals, then one redraw)."""
        self.frame = int(t)
        if not self.has_content:
            return
        figs, trails, colors = self.figures_at(self.frame)
        self.stage.show(figs, trails, colors)
        if self.follow and figs.size:
            self.stage.follow(figs.reshape(-1, 3).mean(axis=0))
        self.canvas.update()

    def set_trail(self, on: bool) -> None:
        """Show or hide the onion-skin trail."""
        self.stage.show_trail = bool(on)
        self.stage._layout_key = None
        self.show_frame(self.frame)

    def render_pixels(self) -> np.ndarray:
        """The canvas as an RGBA array (tests, screenshots)."""
        return self.canvas.render()
