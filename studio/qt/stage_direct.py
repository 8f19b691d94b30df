"""Directing on the stage: picking joints, drawing a floor path, and showing both.

Three vispy visuals over :class:`~studio.qt.stage.StageView`'s scene: rings around the chosen
joints (gold) and the kept joints (teal) of the dancing figures (the take's variations, or the clip
alone; never the ghost), the floor path under each of them, and the stroke being drawn.

* **Picking**: a click with Shift, or any click while ``picking`` is on (the camera then holds
  still), takes the joint whose projection on the screen is nearest the click (within
  :data:`PICK_PX`) and adds it to the selection or takes it out; ``picked(joints)`` says so.
* **Drawing**: while ``drawing`` is on the camera looks straight down and holds still; a drag draws
  on the floor (the mouse ray meets the floor plane, ``z = 0`` on stage: the clip's floor height
  along the up axis the stage knows), and the release sends ``path_drawn(points)``, ``(n, 2)`` in
  the clip's own floor coordinates (the two floor axes in axis order), ready for
  ``Session.draw_path``.

Mouse handling is in :meth:`press`, :meth:`move` and :meth:`release` (canvas pixels), which the
canvas's events call and tests may call directly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal
from vispy import scene
from vispy.util import keys

from engine.dance.direction import floor_axes

from .stage import StageView

PICK_PX = 24.0  # a click this close to a joint's image picks it
CHOSEN = (1.0, 0.82, 0.25, 1.0)
KEPT = (0.3, 0.85, 0.8, 1.0)
PATH = (0.98, 0.55, 0.3, 0.9)
LIFT = 0.005  # the path floats this far over the floor so the grid does not hide it


class StageDirecting(QObject):
    """Picking and path drawing on ``stage`` (see the module docstring)."""

    picked = pyqtSignal(tuple)  # the selection, joint indices
    path_drawn = pyqtSignal(object)  # (n, 2) floor points in the clip's coordinates

    def __init__(self, stage: StageView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stage = stage
        view = stage.stage.view
        self.chosen_vis = scene.visuals.Markers(parent=view.scene)
        self.kept_vis = scene.visuals.Markers(parent=view.scene)
        self.path_vis = scene.visuals.Line(pos=np.zeros((2, 3), np.float32), color=PATH, width=3.0,
                                           connect="strip", parent=view.scene)
        self.stroke_vis = scene.visuals.Line(pos=np.zeros((2, 3), np.float32), color=CHOSEN, width=3.0,
                                             connect="strip", parent=view.scene)
        for v in (self.chosen_vis, self.kept_vis, self.path_vis, self.stroke_vis):
            v.set_gl_state("translucent", depth_test=False)
            v.visible = False
        self.selection: tuple[int, ...] = ()  # joints picked on the stage
        self.chosen: tuple[int, ...] = ()  # joints ringed in gold (the part the panel acts on)
        self.kept: tuple[int, ...] = ()  # joints ringed in teal (kept from a clip or take)
        self.path = np.zeros((0, 2))  # the session's floor path (clip coordinates)
        self.picking = False
        self.drawing = False
        self._stroke: list[np.ndarray] = []  # stage floor points (x, y) of the stroke being drawn
        self._stroke_offset = np.zeros(3, np.float32)
        self._camera: tuple[float, float, bool] | None = None  # elevation, azimuth, follow before drawing
        canvas = stage.canvas
        canvas.events.mouse_press.connect(lambda e: self.press(e.pos, e.modifiers) and setattr(e, "handled", True))
        canvas.events.mouse_move.connect(lambda e: self.move(e.pos) if e.is_dragging else None)
        canvas.events.mouse_release.connect(lambda e: self.release(e.pos))
        stage.frame_shown.connect(self.refresh)

    # -- what is shown ---------------------------------------------------------------

    def set_marks(self, chosen: Sequence[int] | None = None, kept: Sequence[int] | None = None,
                  path: Sequence[Sequence[float]] | None = None) -> None:
        """Ring these joints and lay this floor path (None leaves one as it is)."""
        if chosen is not None:
            self.chosen = tuple(int(j) for j in chosen)
        if kept is not None:
            self.kept = tuple(int(j) for j in kept)
        if path is not None:
            self.path = np.asarray(path, np.float64).reshape(-1, 2)
        self.refresh()

    def dancers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(pose, offset)`` on stage of each figure directing applies to (takes, or the clip alone)."""
        return [(pose, off) for fig, pose, off in self.stage.placed(self.stage.frame) if fig.role != "ghost"]

    def refresh(self, *_: object) -> None:
        """Redraw the rings and the path for the frame on stage."""
        dancers = self.dancers()
        for vis, joints, color, size in ((self.chosen_vis, self.chosen, CHOSEN, 17.0),
                                         (self.kept_vis, self.kept, KEPT, 13.0)):
            pts = [pose[[j for j in joints if j < len(pose)]] for pose, _ in dancers]
            pts = np.concatenate(pts) if pts else np.zeros((0, 3), np.float32)
            vis.visible = len(pts) > 0
            if len(pts):
                vis.set_data(pts.astype(np.float32), face_color=(0, 0, 0, 0), edge_color=color, edge_width=2.0,
                             size=size)
        stage_path = self.floor_to_stage(self.path)
        self.path_vis.visible = stage_path is not None and len(dancers) > 0
        if self.path_vis.visible:
            lines = [np.vstack([stage_path + off, np.full((1, 3), np.nan, np.float32)]) for _, off in dancers]
            self.path_vis.set_data(pos=np.concatenate(lines)[:-1], color=PATH)
        self.stage.canvas.update()

    # -- coordinates -----------------------------------------------------------------

    def _floor_axes(self) -> tuple[int, int, int] | None:
        w = self.stage.world
        if w is None:
            return None
        up = "xyz".index(w.up[-1])
        return (up, *floor_axes(up))

    def floor_to_stage(self, points: np.ndarray) -> np.ndarray | None:
        """Floor points ``(n, 2)`` in clip coordinates to stage points ``(n, 3)`` just over the floor."""
        axes, w = self._floor_axes(), self.stage.world
        if axes is None or w is None or len(points) < 2:
            return None
        data = np.zeros((len(points), 3))
        data[:, list(axes[1:])] = points
        data[:, axes[0]] = w.unapply(np.zeros(3))[axes[0]]  # the floor's height
        out = w.apply(data)
        out[:, 2] = LIFT
        return out

    def stage_to_floor(self, points: np.ndarray) -> np.ndarray:
        """Stage floor points ``(n, 2 or 3)`` to floor points ``(n, 2)`` in clip coordinates."""
        axes, w = self._floor_axes(), self.stage.world
        assert axes is not None and w is not None
        p = np.zeros((len(points), 3))
        p[:, :2] = np.asarray(points)[:, :2]
        return w.unapply(p)[:, list(axes[1:])]

    def _transform(self):
        return self.chosen_vis.get_transform("visual", "canvas")

    def to_screen(self, points: np.ndarray) -> np.ndarray:
        """Stage points ``(n, 3)`` to canvas pixels ``(n, 2)``."""
        h = self._transform().map(np.asarray(points, np.float64).reshape(-1, 3))
        return h[:, :2] / h[:, 3:4]

    def floor_at(self, xy: Sequence[float]) -> np.ndarray | None:
        """Where the ray under canvas pixel ``xy`` meets the stage floor ``(x, y, 0)`` (None: above the horizon)."""
        tr = self._transform()
        a, b = (tr.imap(np.array([xy[0], xy[1], z, 1.0])) for z in (0.0, 1.0))
        a, b = a[:3] / a[3], b[:3] / b[3]
        d = b - a
        if abs(d[2]) < 1e-12:
            return None
        s = -a[2] / d[2]
        return None if not np.isfinite(s) else a + s * d

    # -- picking ---------------------------------------------------------------------

    def joint_at(self, xy: Sequence[float]) -> int | None:
        """The joint whose image on the screen is nearest canvas pixel ``xy`` (within :data:`PICK_PX`)."""
        best: tuple[float, int] | None = None
        for pose, _ in self.dancers():
            d = np.linalg.norm(self.to_screen(pose) - np.asarray(xy, np.float64)[:2], axis=1)
            j = int(np.argmin(d))
            if d[j] <= PICK_PX and (best is None or d[j] < best[0]):
                best = (float(d[j]), j)
        return None if best is None else best[1]

    def pick(self, xy: Sequence[float]) -> int | None:
        """Add the joint under ``xy`` to the selection, or take it out; returns it (None: no joint there)."""
        j = self.joint_at(xy)
        if j is not None:
            self.selection = tuple(sorted(set(self.selection) ^ {j}))
            self.picked.emit(self.selection)
        return j

    def clear_selection(self) -> None:
        """Pick nothing."""
        self.selection = ()
        self.picked.emit(())

    def set_picking(self, on: bool) -> None:
        """Clicks pick joints (the camera holds still) or turn the camera again."""
        self.picking = bool(on)
        self._hold_camera()

    # -- drawing ---------------------------------------------------------------------

    def set_drawing(self, on: bool) -> None:
        """Look straight down on the floor and draw with the mouse; off: the camera as it was."""
        cam = self.stage.stage.view.camera
        if on and not self.drawing:
            self._camera = (cam.elevation, cam.azimuth, self.stage.follow)
            self.stage.follow = False
            cam.elevation, cam.azimuth = 90.0, 0.0
        elif not on and self.drawing and self._camera is not None:
            cam.elevation, cam.azimuth, self.stage.follow = self._camera
            self._camera = None
        self.drawing = bool(on)
        self._stroke = []
        self.stroke_vis.visible = False
        self._hold_camera()
        self.stage.canvas.update()

    def _hold_camera(self) -> None:
        self.stage.stage.view.camera.interactive = not (self.picking or self.drawing)

    def press(self, xy: Sequence[float], modifiers: Sequence = ()) -> bool:
        """A press at canvas pixel ``xy``: starts a stroke, or picks a joint; True when it was used."""
        if self.drawing:
            dancers = self.dancers()
            self._stroke_offset = dancers[0][1] if dancers else np.zeros(3, np.float32)
            self._stroke = []
            self.move(xy)
            return True
        if self.picking or keys.SHIFT in modifiers:
            return self.pick(xy) is not None or self.picking
        return False

    def move(self, xy: Sequence[float]) -> None:
        """The hand moved to ``xy`` while pressed: extend the stroke."""
        if not self.drawing:
            return
        p = self.floor_at(xy)
        if p is None:
            return
        self._stroke.append(p[:2] - self._stroke_offset[:2])
        if len(self._stroke) > 1:
            pts = np.c_[np.asarray(self._stroke) + self._stroke_offset[:2], np.full(len(self._stroke), LIFT)]
            self.stroke_vis.set_data(pos=pts.astype(np.float32), color=CHOSEN)
            self.stroke_vis.visible = True
            self.stage.canvas.update()

    def release(self, xy: Sequence[float]) -> None:
        """The hand let go: a stroke of two points or more becomes ``path_drawn``."""
        if not self.drawing or not self._stroke:
            return
        self.move(xy)
        stroke, self._stroke = np.asarray(self._stroke), []
        self.stroke_vis.visible = False
        keep = np.r_[True, np.linalg.norm(np.diff(stroke, axis=0), axis=1) > 1e-6]  # drop repeated points
        if keep.sum() >= 2:
            self.path_drawn.emit(self.stage_to_floor(stroke[keep]))
