"""The main window: stage + timeline on the left, Generate / Train panels on the right, a Sketch tab.

Everything the window does goes through the engine's ``Session``; session
events arrive on the Qt thread through :class:`SessionBridge`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeyEvent, QKeySequence, QShortcut
from PyQt6.QtWidgets import QLabel, QMainWindow, QMessageBox, QSplitter, QTabWidget, QVBoxLayout, QWidget

from engine.core.errors import ChoreoError
from engine.dance.axes import motion_up_axis
from engine.dance.motion import LOADABLE, Motion, load_motion
from engine.session import Session, TakeFrames
from engine.session.worker import WorkerError

from . import files
from .bridge import BackgroundJob, SessionBridge
from .controls import GenerationControls
from .devices import add_device_menu
from .osc import OscStreamToggle
from .sketch import SketchTab
from .stage import StageView
from .timeline import Timeline
from .training import TrainingPanel


class MainWindow(QMainWindow):
    """Choreo Studio's window over one :class:`Session` (created here unless given; closed with the window
    when created here)."""

    def __init__(self, session: Session | None = None) -> None:
        super().__init__()
        self._owns_session = session is None
        self.session = session or Session()
        self.bridge = SessionBridge(self)
        self.setWindowTitle("Choreo Studio")
        self.setAcceptDrops(True)
        self._jobs: list[BackgroundJob] = []
        self._close_choice: str | None = None
        self._gen_clock: dict[int, tuple[float, int]] = {}
        self._autoplay_take = False
        self._shown_take: Any = None  # the Take on the stage (its latest published value)
        self._take_buffer: np.ndarray | None = None  # the stage draws from this, filled as frames arrive

        self.stage = StageView()
        self.timeline = Timeline()
        self.controls = GenerationControls(self.session, self.bridge)
        self.training = TrainingPanel(self.session, self.bridge)
        self.sketch = SketchTab(self.bridge)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.setSpacing(0)
        ll.addWidget(self.stage, 1)
        ll.addWidget(self.timeline)
        self.panels = QTabWidget()
        self.panels.addTab(self.controls, "Generate")
        self.panels.addTab(self.training, "Train")
        self.panels.setMinimumWidth(340)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.panels)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(split, "Dance")
        self.tabs.addTab(self.sketch, "Sketch")
        self.setCentralWidget(self.tabs)
        self.osc = OscStreamToggle(self, self.session, self._take_start)
        self._build_status()
        self._build_menus()

        for w in (self.controls, self.training, self.sketch):
            w.error.connect(self.show_error)
        for w in (self.training, self.sketch, self.osc):
            w.message.connect(self.show_message)
        self.osc.error.connect(self.show_error)
        self.timeline.position_changed.connect(self.osc.send_frame)
        self.stage.open_requested.connect(self.open_dialog)
        self.stage.demo_requested.connect(self.load_demo)
        self.timeline.position_changed.connect(self.stage.show_frame)
        self.timeline.scrubbed.connect(self._write_playhead)
        self.timeline.playing_changed.connect(lambda playing: None if playing else
                                              self._write_playhead(self.timeline.frame))
        ev = self.session.events
        b = self.bridge
        b.connect(ev.motion, lambda _m: self._show_motion())
        b.connect(ev.skeleton, lambda _s: self._show_motion())
        b.connect(ev.takes, lambda _t: self._show_take())
        b.connect(ev.current_take, lambda _i: self._show_take())
        b.connect(ev.take_frames, self._on_take_frames)
        b.connect(ev.model, lambda _m: self._show_model())
        b.connect(ev.device, lambda _d: self._show_model())
        b.connect(ev.error, self._on_worker_error)
        b.connect(ev.playhead, self._on_playhead)
        b.connect(ev.training_status, self._on_training_status)
        self._show_motion()
        self._show_model()
        self.resize(1280, 800)

    # -- building --------------------------------------------------------------------

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.device_label = QLabel()
        self.model_label = QLabel()
        self.fps_label = QLabel("generation: –")
        for w in (self.device_label, self.model_label, self.fps_label):
            w.setStyleSheet("padding: 0 8px; color: #555a66;")
            sb.addPermanentWidget(w)

    def _action(self, menu: Any, text: str, slot: Any, shortcut: str | QKeySequence.StandardKey | None = None,
                tip: str = "") -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        if tip:
            act.setStatusTip(tip)
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        m = self.menuBar().addMenu("&File")
        self._action(m, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open, "Open a mocap clip or a model")
        self._action(m, "&Demo", self.load_demo, "Ctrl+D", "The built-in synthetic dancer and demo model")
        self._action(m, "Load &model…", self.training.load_dialog, None, "Load a dance model checkpoint")
        self._action(m, "&Save model…", self.training.save_dialog, "Ctrl+S", "Save the current model")
        m.addSeparator()
        self._action(m, "&Export…", self.export_dialog, "Ctrl+E",
                     "Export the take or the clip (MP4, GIF, BVH, glTF, NPY, CSV)")
        self._action(m, "Screens&hot…", self.screenshot_dialog, "Ctrl+Shift+S", "Save a PNG of the window")
        m.addSeparator()
        self._action(m, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        v = self.menuBar().addMenu("&View")
        self._action(v, "&Frame the dance", self.stage.reframe, "F", "Reset the camera")
        trail = self._action(v, "Onion-skin &trail", self.stage.set_trail, "T", "Show recent frames faintly")
        trail.setCheckable(True)
        trail.setChecked(True)
        follow = self._action(v, "F&ollow the dancers", lambda on: setattr(self.stage, "follow", on), None,
                              "The camera glides after the dancers")
        follow.setCheckable(True)
        follow.setChecked(True)
        g = self.menuBar().addMenu("&Dance")
        self._action(g, "&Generate", self.controls.generate, "Ctrl+G")
        self._action(g, "&Train", lambda: self.training.start(False), "Ctrl+T")
        self._action(g, "&Cancel training", self.session.cancel_training)
        g.addSeparator()
        g.addAction(self.osc.action)
        self.device_menu = add_device_menu(self, self.session, self.bridge)
        self._keys = {Qt.Key.Key_Space: self.timeline.toggle, Qt.Key.Key_Left: lambda: self.timeline.step(-1),
                      Qt.Key.Key_Right: lambda: self.timeline.step(1), Qt.Key.Key_Home: self.timeline.home,
                      Qt.Key.Key_End: self.timeline.end}
        for key, slot in self._keys.items():
            sc = QShortcut(QKeySequence(key), self)
            sc.activated.connect(slot)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        """Transport keys also when no shortcut fired (e.g. the window is not active)."""
        slot = self._keys.get(Qt.Key(e.key())) if e.modifiers() == Qt.KeyboardModifier.NoModifier else None
        if slot is not None:
            slot()
            e.accept()
        else:
            super().keyPressEvent(e)

    # -- messages --------------------------------------------------------------------

    def show_error(self, text: str) -> None:
        """Show a problem in the status bar (never raises, never blocks)."""
        self.statusBar().setStyleSheet("QStatusBar { color: #c0392b; }")
        self.statusBar().showMessage(text, 15000)
        self.last_message = text

    def show_message(self, text: str) -> None:
        """Show information in the status bar."""
        self.statusBar().setStyleSheet("")
        self.statusBar().showMessage(text, 8000)
        self.last_message = text

    def _on_worker_error(self, err: WorkerError) -> None:
        self.show_error(f"{err.job.capitalize()} failed: {err.message}")

    # -- session -> view -----------------------------------------------------------------

    def _show_motion(self) -> None:
        m = self.session.motion
        if m is None:
            self.stage.set_source(None, np.zeros((0, 2), np.int64))
            self.timeline.set_length(1, 30.0)
            self.timeline.setEnabled(False)
            return
        self.timeline.setEnabled(True)
        bones = np.asarray(self.session.skeleton).reshape(-1, 2)
        if len(bones) and bones.max() >= m.n_joints:  # the motion event comes before its skeleton's
            bones = m.bones
        self.stage.set_source(m.positions, bones, motion_up_axis(m))
        name = Path(m.source).name if m.source and not m.source.startswith("synthetic") else m.source or "clip"
        self.setWindowTitle(f"Choreo Studio — {name}")
        self._show_take()

    def _take_start(self) -> tuple[Any, int]:
        s = self.session
        takes, i = s.takes, s.current_take
        if not takes or not 0 <= i < len(takes):
            return None, 0
        take = takes[i]
        m = s.motion
        n = 0 if m is None else m.n_frames
        fits = m is not None and m.n_joints == take.positions.shape[2]
        if not fits:
            return take, n
        if take.seed_frame is not None:
            return take, int(take.seed_frame)
        return take, min(n, max(2, take.params.look_back + 1))

    def _show_take(self) -> None:
        """Show the current take; the same take republished with more frames only fills in frames."""
        take, start = self._take_start()
        m = self.session.motion
        shown = self._shown_take
        if take is not None and shown is not None and take.id == shown.id:
            self._shown_take = take
            self._take_buffer[:, : take.frames_ready] = take.positions
            self.stage.update_take_ready(take.frames_ready)
            return
        self._shown_take = take
        if take is None:
            self._take_buffer = None
            self.stage.set_take(None, 0, 0)
        else:
            # the stage draws from a buffer of the take's full length, filled in as frames arrive
            self._take_buffer = np.zeros((take.params.variations, take.params.frames, *take.positions.shape[2:]),
                                         np.float32)
            self._take_buffer[:, : take.frames_ready] = take.positions
            self.stage.set_take(self._take_buffer, take.frames_ready, start)
            self._autoplay_take = not take.live and take.frames_ready == 0
        self._update_timeline()
        if take is not None and self._autoplay_take and take.frames_ready == 0:
            fps = m.fps if m is not None else 30.0
            self.timeline.set_frame(max(0, start - int(fps)))
        self.stage.show_frame(self.timeline.frame)

    def _update_timeline(self) -> None:
        take, start = self._take_start()
        m = self.session.motion
        n = 0 if m is None else m.n_frames
        fps = m.fps if m is not None else 30.0
        self.timeline.set_length(max(self.stage.total_frames, 1), fps)
        if take is None:
            self.timeline.set_regions(n, 0, 0, 0)
        else:
            self.timeline.set_regions(n, start, take.params.frames, take.frames_ready)

    def _on_take_frames(self, tf: TakeFrames) -> None:
        first = self._gen_clock.setdefault(tf.take_id, (tf.t, tf.start))
        done = tf.start + tf.frames.shape[1]
        if done - first[1] > 8 and tf.t > first[0]:
            self.fps_label.setText(f"generation: {(done - first[1] - 1) / (tf.t - first[0]):,.0f} frames/s")
        takes = self.session.takes
        if tf.index != self.session.current_take or not 0 <= tf.index < len(takes):
            return
        take = takes[tf.index]
        if take.id != tf.take_id:
            return
        self.stage.update_take_ready(take.frames_ready)
        _, start = self._take_start()
        self.timeline.set_regions(self.session.motion.n_frames if self.session.motion else 0, start,
                                  take.params.frames, take.frames_ready)
        if self._autoplay_take and not self.timeline.playing:
            self._autoplay_take = False
            self.timeline.play()
        if start + tf.start - TRAIL_SLACK <= self.timeline.frame:
            self.stage.show_frame(self.timeline.frame)

    def _show_model(self) -> None:
        s = self.session
        self.device_label.setText(f"device: {s.device.upper()}")
        cfg = s.model_config
        if s.model is None or cfg is None:
            self.model_label.setText("no model")
            return
        n = getattr(s.model, "n_parameters", 0)
        n = n() if callable(n) else int(n)
        size = f"{n / 1e6:.2f} M" if n >= 1e5 else f"{n / 1e3:.0f} k"
        self.model_label.setText(f"model: {size} params ({cfg.layers}×{cfg.hidden}, {cfg.mixtures} modes)")

    def _on_playhead(self, value: int) -> None:
        if not self.timeline.playing and self.timeline.frame != value and self.session.motion is not None \
                and self.timeline.frame < self.session.motion.n_frames:
            self.timeline.set_frame(value)

    def _write_playhead(self, frame: int) -> None:
        m = self.session.motion
        if m is None:
            return
        try:
            self.session.playhead = int(min(frame, m.n_frames - 1))
        except ChoreoError as err:
            self.show_error(str(err))

    # -- files -------------------------------------------------------------------------

    def load_demo(self) -> None:
        """The built-in dancer (and the demo model when shipped), dancing."""
        try:
            self.session.load_demo()
        except ChoreoError as err:
            self.show_error(str(err))
            return
        self.timeline.set_frame(0)
        self.timeline.play()
        if self.session.model is not None:
            self.controls.generate()
            self.show_message("Demo: the synthetic dancer (grey ghost) and the demo model dancing on (colour). "
                              "Try the knobs, then Generate.")
        else:
            self.show_message("Demo: a synthetic dancer. Train a model on it in the Train tab.")

    def open_dialog(self) -> None:
        """Ask for a file and open it."""
        path = files.ask_open(self)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path, play: bool = True) -> BackgroundJob | None:
        """Open a clip (read on a background thread) or a model checkpoint; errors become messages."""
        path = Path(path)
        if path.suffix.lower() in files.MODEL_SUFFIXES:
            self._open_model(path)
            return None
        layout = "auto"
        amb = files.layout_ambiguity(path)
        if amb is not None:
            chosen = files.ask_layout(self, path, *amb)
            if chosen is None:
                return None
            layout = chosen
        self.show_message(f"Opening {path.name}…")
        job = BackgroundJob(lambda: load_motion(path, layout=layout), name="choreo-open", parent=self)
        job.done.connect(lambda motion: self._opened(motion, play))
        job.failed.connect(lambda err: self.show_error(str(err) if isinstance(err, ChoreoError)
                                                       else f"{path.name}: could not open ({err})"))
        self._jobs = [j for j in self._jobs if j.running] + [job]
        return job.start()

    def _opened(self, motion: Motion, play: bool) -> None:
        try:
            self.session.load(motion)
        except ChoreoError as err:
            self.show_error(str(err))
            return
        self.timeline.set_frame(0)
        if play:
            self.timeline.play()
        self.show_message(f"{Path(motion.source).name}: {motion.n_frames} frames, {motion.n_joints} joints, "
                          f"{motion.fps:g} fps — {motion.layout_note}")

    def _open_model(self, path: Path) -> None:
        try:
            self.session.load_model(path)
            self.show_message(f"Loaded dance model {path.name}")
        except ChoreoError as err:
            try:  # maybe a sketch model
                self.sketch.drawing.load(path)
            except ChoreoError:
                self.show_error(str(err))
                return
            self.sketch._sync()
            self.tabs.setCurrentWidget(self.sketch)
            self.show_message(f"Loaded sketch model {path.name}")

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:
        """Accept clips and checkpoints."""
        if any(Path(u.toLocalFile()).suffix.lower() in files.OPENABLE for u in e.mimeData().urls()):
            e.acceptProposedAction()
        else:
            e.ignore()

    def dropEvent(self, e: QDropEvent) -> None:
        """Open the dropped files (models first, then the first clip)."""
        paths = [Path(u.toLocalFile()) for u in e.mimeData().urls()]
        for p in paths:
            if p.suffix.lower() in files.MODEL_SUFFIXES:
                self._open_model(p)
        clips = [p for p in paths if p.suffix.lower() in LOADABLE]
        if clips:
            self.open_path(clips[0])
        e.acceptProposedAction()

    # -- export and screenshots ----------------------------------------------------------

    def export_dialog(self) -> BackgroundJob | None:
        """Ask what and where, confirm before replacing files, export on a background thread."""
        s = self.session
        if s.motion is None and not s.takes:
            self.show_error("Nothing to export yet: open a clip or press Demo")
            return None
        take = s.takes[s.current_take] if s.takes and s.current_take >= 0 else None
        v = take.positions.shape[0] if take is not None else 1
        choice = files.ask_export(self, take is not None, v)
        if choice is None:
            return None
        targets = files.export_targets(choice.path, v if choice.what == "take" else 1)
        existing = [p for p in targets if p.exists()]
        overwrite = False
        if existing:
            if not files.confirm_overwrite(self, existing):
                self.show_message("Export cancelled: nothing was replaced")
                return None
            overwrite = True
        ghost = s.motion if choice.what == "take" and choice.path.suffix.lower() in (".mp4", ".gif") \
            and s.motion is not None and take is not None and s.motion.n_joints == take.positions.shape[2] else None
        opts = {"ghost": ghost} if ghost is not None else {}
        self.show_message(f"Exporting {choice.path.name}…")
        job = BackgroundJob(lambda: s.export(choice.path, what=choice.what, overwrite=overwrite, **opts),
                            name="choreo-export", parent=self)
        job.done.connect(lambda out: self.show_message(f"Exported {choice.path}"))
        job.failed.connect(lambda err: self.show_error(str(err) if isinstance(err, ChoreoError)
                                                       else f"Export failed: {err}"))
        self._jobs = [j for j in self._jobs if j.running] + [job]
        return job.start()

    def save_screenshot(self, path: str | Path) -> Path:
        """Save a PNG of the whole window."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.grab().save(str(path), "PNG"):
            raise ChoreoError("could not write the screenshot", path)
        return path

    def screenshot_dialog(self) -> None:
        """Ask where, then save a PNG of the window."""
        path = files.ask_save_path(self, "Save screenshot", "choreo-studio.png", "PNG image (*.png)")
        if path:
            try:
                self.show_message(f"Saved {self.save_screenshot(path)}")
            except ChoreoError as err:
                self.show_error(str(err))

    # -- closing -------------------------------------------------------------------------

    def _on_training_status(self, status: str) -> None:
        if status == "idle" and self._close_choice is not None:
            if self._close_choice == "keep" and self.session.model_checkpoint is not None:
                path = files.ask_save_path(self, "Keep the trained model", "dance_model.pt", "Dance model (*.pt)")
                if path:
                    try:
                        self.session.save_model(path)
                    except ChoreoError as err:
                        QMessageBox.warning(self, "Could not save the model", str(err))
            self._close_choice = "closing"
            self.close()

    def closeEvent(self, e: QCloseEvent) -> None:
        """During training: ask, stop the worker cleanly, offer to keep the checkpoint; then shut down."""
        if self.session.training_status != "idle" and self._close_choice != "closing":
            if self._close_choice is None:
                choice = files.ask_training_close(self)
                if choice == "cancel":
                    e.ignore()
                    return
                self._close_choice = choice
                self.session.cancel_training()
                self.show_message("Stopping training…")
            e.ignore()
            return
        self.timeline.pause()
        self.osc.stop()
        self.sketch.close()
        for j in self._jobs:
            j.wait(60)
        self.bridge.close()
        if self._owns_session:
            self.session.close()
        self.stage.canvas.close()
        super().closeEvent(e)


TRAIL_SLACK = 16  # redraw when new take frames land this close before the shown frame
