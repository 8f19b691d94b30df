"""The 3D stage: a vispy ``SceneCanvas`` showing the source clip and generated takes.

What stands on stage is decided by the engine's ``Showing`` (the clip alone, or a take with
its ghost and lead-in; a video export renders the same). All figures share three persistent
visuals: one ``Markers`` for the joints, one ``Line`` for the bones (``connect`` = each
figure's own bone pairs, offset to its vertices) and one ``Line`` for the onion-skin trail of
recent frames. Showing a frame only calls ``set_data`` on those three; the floor grid and the
camera change only when the content does.

Coordinates: data are rotated so that the guessed up axis points up (``+z``),
moved so that the floor is at ``z = 0`` under the dance's centre, and scaled
so that the body is about one unit tall (whatever the file's units).
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QStackedLayout, QVBoxLayout, QWidget
from vispy import scene

from engine.dance.axes import guess_up_axis
from engine.session.showing import Figure, Showing

BACKGROUND = (22 / 255, 24 / 255, 30 / 255, 1.0)
GRID_COLOR = (62 / 255, 68 / 255, 84 / 255, 1.0)
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


def figure_rgba(figure: Figure) -> tuple[float, float, float, float]:
    """RGBA (0..1) of a figure: the colour its video export uses, so videos match the stage."""
    r, g, b = figure.color
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

    def unapply(self, points: np.ndarray) -> np.ndarray:
        """``(..., 3)`` stage coordinates back to data coordinates (float64; the inverse of :meth:`apply`)."""
        return (np.asarray(points, np.float64) / self.scale + self.origin) @ self.rot


class StageCanvas:
    """The vispy scene: grid, trail, bones and joints of several figures; no Qt layout logic.

    Each figure brings its own body (joint count and bones), so a take of one skeleton can stand
    beside a clip of another; the index arrays are rebuilt only when the figures change.
    """

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
        self._layout_key: tuple | None = None
        self._framed = 0.0  # camera distance that frames the figures' row (follow never comes closer)
        self.show_trail = True
        self.set_visible(False)

    def set_visible(self, on: bool) -> None:
        """Show or hide the figures (the grid stays)."""
        for v in (self.trail, self.bones_vis, self.joints):
            v.visible = on
        self.trail.visible = on and self.show_trail

    def frame_camera(self, width: float, centre: np.ndarray, floor_lo: np.ndarray, floor_hi: np.ndarray) -> None:
        """Aim at ``centre`` (x, y) so that a row of figures ``width`` wide and ~1 tall fills the view;
        draw the floor grid over ``floor_lo..floor_hi``."""
        cam = self.view.camera
        cam.center = (float(centre[0]), float(centre[1]), 0.5)
        fov = np.radians(cam.fov)
        aspect = max(self.canvas.size[0], 1) / max(self.canvas.size[1], 1)
        dist_h = 1.3 / (2 * np.tan(fov / 2))
        dist_w = (width + 0.5) / (2 * np.tan(fov / 2) * aspect)
        cam.distance = self._framed = float(max(dist_h, dist_w))
        self._grid(floor_lo - 1.0, floor_hi + 1.0)

    def follow(self, points: np.ndarray, rate: float = 0.08) -> None:
        """Glide the camera's aim towards the middle of ``points`` ``(n, 3)`` on the floor, and back off
        when the figures spread wider than the view (takes wander away from their ghost)."""
        cam = self.view.camera
        lo, hi = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
        c = np.asarray(cam.center, np.float64)
        c[:2] += rate * ((lo + hi) / 2 - c[:2])
        cam.center = tuple(float(x) for x in c)
        # the camera may have been turned: take the larger floor extent as the width to fit
        spread = float(max(hi - lo)) + 0.6
        fov = np.radians(cam.fov)
        aspect = max(self.canvas.size[0], 1) / max(self.canvas.size[1], 1)
        need = max(self._framed, (spread + 0.5) / (2 * np.tan(fov / 2) * aspect) + spread / 2)
        cam.distance = float(cam.distance + rate * (need - cam.distance))

    def _grid(self, lo: np.ndarray, hi: np.ndarray, step: float = 0.25) -> None:
        xs = np.arange(np.floor(lo[0] / step), np.ceil(hi[0] / step) + 1) * step
        ys = np.arange(np.floor(lo[1] / step), np.ceil(hi[1] / step) + 1) * step
        segs = [[(x, ys[0], 0), (x, ys[-1], 0)] for x in xs] + [[(xs[0], y, 0), (xs[-1], y, 0)] for y in ys]
        self.grid.set_data(pos=np.asarray(segs, np.float32).reshape(-1, 3), color=GRID_COLOR)

    def _layout(self, bodies: list[tuple[int, np.ndarray]], colors: list[tuple[float, ...]]) -> None:
        """Colours and vertex indices of bone ends for these figures (``(joints, bones)`` each)."""
        key = (tuple((j, id(b), len(b)) for j, b in bodies), tuple(colors), self.show_trail)
        if self._layout_key == key:
            return
        starts = np.concatenate([[0], np.cumsum([j for j, _ in bodies])]).astype(np.int64)
        total = int(starts[-1])
        fc = np.asarray(colors, np.float32).reshape(-1, 4)
        self._joint_colors = np.repeat(fc, [j for j, _ in bodies], axis=0)
        self._bone_idx = np.concatenate([np.asarray(b, np.int64).reshape(-1) + s0 for (_, b), s0 in
                                         zip(bodies, starts[:-1], strict=True)] or [np.zeros(0, np.int64)])
        # trail copies k = 1..TRAIL_FRAMES stacked after each other, fading
        self._trail_idx = np.concatenate([self._bone_idx + k * total for k in range(TRAIL_FRAMES)])
        fades = []
        for k in range(TRAIL_FRAMES):
            c = self._joint_colors.copy()
            c[:, 3] *= 0.45 * (1.0 - k / TRAIL_FRAMES)
            fades.append(c)
        self._trail_colors = np.concatenate(fades)
        self._layout_key = key

    def show(self, figures: list[np.ndarray], trails: list[np.ndarray] | None, bones: list[np.ndarray],
             colors: list[tuple[float, ...]]) -> None:
        """Draw ``figures`` (each ``(joints, 3)``, stage coordinates) with their ``bones`` and ``colors``;
        ``trails``: each figure's ``(TRAIL_FRAMES, joints, 3)`` recent poses."""
        if not figures:
            self.set_visible(False)
            return
        self._layout([(len(f), b) for f, b in zip(figures, bones, strict=True)], colors)
        flat = np.concatenate(figures).astype(np.float32)
        self.joints.set_data(flat, face_color=self._joint_colors, edge_width=0, size=JOINT_SIZE)
        has_bones = len(self._bone_idx) > 0
        if has_bones:
            self.bones_vis.set_data(pos=flat[self._bone_idx], color=self._joint_colors[self._bone_idx])
        if self.show_trail and trails is not None and has_bones:
            tflat = np.concatenate([np.concatenate([t[k] for t in trails]) for k in range(TRAIL_FRAMES)])
            self.trail.set_data(pos=tflat[self._trail_idx], color=self._trail_colors[self._trail_idx])
        self.set_visible(True)
        self.bones_vis.visible = has_bones
        self.trail.visible = has_bones and self.show_trail and trails is not None


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
    """The stage widget: empty state or canvas + legend; call :meth:`set_showing` then :meth:`show_frame`.

    What stands on stage at each timeline position is decided by an engine
    :class:`~engine.session.showing.Showing` (the same one a video export renders); this widget
    only maps its poses into stage space, places the figures side by side and draws them.
    """

    open_requested = pyqtSignal()
    demo_requested = pyqtSignal()
    frame_shown = pyqtSignal(int)  # after a position is drawn (overlays such as the directing marks follow it)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty = EmptyStage()
        self.empty.open_requested.connect(self.open_requested)
        self.empty.demo_requested.connect(self.demo_requested)
        self.stage = StageCanvas()
        self.canvas = self.stage.canvas
        self.legend = QLabel()
        self.legend.setStyleSheet("background: #16181e; color: #c8ccd8; padding: 3px 8px;")
        self.legend.setWordWrap(True)  # a long legend wraps instead of widening the window
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
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
        self.showing: Showing = Showing.nothing()
        self._world: WorldFrame | None = None
        self._world_of: Any = None  # the clip the world frame was made from
        self._layout_key: tuple | None = None
        self._offsets = np.zeros((0, 3), np.float32)
        self._legend_text = ""
        self.frame = 0
        self.follow = True  # the camera's aim glides after the dancers

    # -- content -----------------------------------------------------------------

    @property
    def has_content(self) -> bool:
        """True when there is something to show."""
        return bool(self.showing.figures)

    def set_showing(self, showing: Showing) -> None:
        """Show ``showing`` from now on (a growing take only refreshes; new figures re-frame the camera)."""
        self.showing = showing
        if not showing.figures:
            self._world, self._world_of, self._layout_key = None, None, None
            self._stack.setCurrentIndex(0)
            self.stage.set_visible(False)
            return
        ref = showing.reference
        if self._world is None or ref is not self._world_of:
            base = ref.positions if ref is not None else showing.take.positions[0]
            self._world = WorldFrame(base, showing.up_axis or None)
            self._world_of = ref
            self._layout_key = None
        self._stack.setCurrentIndex(1)
        # the camera re-frames when other figures come on stage, not when a (live) take is made again
        key = (id(ref), tuple((f.name, f.n_joints) for f in showing.figures))
        if key != self._layout_key:
            self._layout_key = key
            self._relayout()
        else:
            self.show_frame(self.frame)

    def _relayout(self) -> None:
        w = self._world
        if w is None:
            return
        n = max(len(self.showing.figures), 1)
        xs = (np.arange(n) - (n - 1) / 2) * SPACING
        self._offsets = np.zeros((n, 3), np.float32)
        self._offsets[:, 0] = xs
        figs, _, _, _ = self.figures_at(self.frame)
        centre = np.concatenate(figs).mean(axis=0) if figs else np.zeros(3)
        self.stage.frame_camera(float(xs[-1] - xs[0]) + 0.6, centre,
                                np.array([w.travel_lo[0] + xs[0], w.travel_lo[1]]),
                                np.array([w.travel_hi[0] + xs[-1], w.travel_hi[1]]))
        self.show_frame(self.frame)

    def reframe(self) -> None:
        """Reset the camera to frame the whole dance."""
        self._relayout()

    @property
    def world(self) -> WorldFrame | None:
        """How data coordinates map to the stage (None when nothing is shown)."""
        return self._world

    def placed(self, t: int) -> list[tuple[Figure, np.ndarray, np.ndarray]]:
        """``(figure, pose in stage coordinates, its offset on stage)`` of each figure standing there at ``t``."""
        w, show = self._world, self.showing
        if w is None or not show.figures:
            return []
        out = []
        for i, (fig, pose) in enumerate(zip(show.figures, show.poses(t), strict=True)):
            if pose is not None:
                off = self._offsets[i] if i < len(self._offsets) else np.zeros(3, np.float32)
                out.append((fig, w.apply(pose) + off, off))
        return out

    @property
    def total_frames(self) -> int:
        """Positions on the timeline."""
        return self.showing.length

    # -- drawing -----------------------------------------------------------------

    def figures_at(self, t: int) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[tuple]]:
        """The figures on stage at ``t``: poses ``(J, 3)`` in stage coordinates (placed side by side),
        trails ``(TRAIL_FRAMES, J, 3)``, bones and RGBA colours (figures not on stage are left out)."""
        w, show = self._world, self.showing
        if w is None or not show.figures:
            return [], [], [], []
        now = show.poses(t)
        past = [show.poses(t - k * TRAIL_STEP) for k in range(1, TRAIL_FRAMES + 1)]
        figs, trails, bones, colors = [], [], [], []
        for i, (fig, pose) in enumerate(zip(show.figures, now, strict=True)):
            if pose is None:
                continue
            off = self._offsets[i] if i < len(self._offsets) else np.zeros(3, np.float32)
            figs.append(w.apply(pose) + off)
            trail = [w.apply(p[i] if p[i] is not None else pose) + off for p in past]
            trails.append(np.stack(trail))
            bones.append(fig.bones)
            colors.append(figure_rgba(fig))
        return figs, trails, bones, colors

    def show_frame(self, t: int) -> None:
        """Show timeline position ``t`` (set_data on the persistent visuals, the legend, one redraw)."""
        jump = abs(int(t) - self.frame) > 2 * TRAIL_STEP  # a scrub or a click, not playback
        self.frame = int(t)
        if not self.has_content:
            return
        figs, trails, bones, colors = self.figures_at(self.frame)
        self.stage.show(figs, trails, bones, colors)
        if self.follow and figs:
            self.stage.follow(np.concatenate(figs), rate=1.0 if jump else 0.08)
        self._set_legend(self.showing.legend(self.frame))
        self.frame_shown.emit(self.frame)
        self.canvas.update()

    def _set_legend(self, entries: list[tuple[str, tuple[int, int, int]]]) -> None:
        text = "   ".join(f'<span style="color: rgb({c[0]},{c[1]},{c[2]}); font-size: 16px;">●</span> {html.escape(n)}'
                           for n, c in entries)
        if text != self._legend_text:  # the legend changes a few times per take, not every frame
            self._legend_text = text
            self.legend.setText(text)

    def set_trail(self, on: bool) -> None:
        """Show or hide the onion-skin trail."""
        self.stage.show_trail = bool(on)
        self.stage._layout_key = None
        self.show_frame(self.frame)

    def render_pixels(self) -> np.ndarray:
        """The canvas as an RGBA array (tests, screenshots)."""
        return self.canvas.render()
