"""The main window: stage + timeline on the left, Generate / Train panels on the right, a Sketch tab.

Everything the window does goes through the engine's ``Session``; session events arrive on the
Qt thread through :class:`SessionBridge`. The window only assembles the parts, each in its own
module: menus and keys (``menus``, ``helpmenu``), what the stage shows (``onstage``), opening
files (``opening``), export and screenshots (``exporting``), the fit notice (``notices``).

Extension points for other features: ``win.menus[name]`` with :func:`menus.add_action` for a
menu entry, :meth:`MainWindow.add_dock` for a dock, :meth:`MainWindow.add_panel` for a tab
beside Generate and Train. Keeping the work (project files, autosave, recovery, undo, the Takes
panel) lives in ``project``, ``undo`` and ``takelist``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeyEvent
from PyQt6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.core.errors import ChoreoError
from engine.session import Session
from engine.session.project import SUFFIX as PROJECT_SUFFIX
from engine.session.worker import WorkerError

from . import files
from .bridge import BackgroundJob, SessionBridge
from .controls import GenerationControls
from .devices import add_device_menu
from .directing import add_directing
from .exporting import Exporter
from .menus import build_menus
from .music import MusicBar, add_music_menu
from .notices import FitNotice
from .onstage import StageDirector
from .opening import FileOpener
from .osc import OscStreamToggle
from .project import ProjectKeeper
from .quality import QualityLine
from .sketch import SketchTab
from .stage import StageView
from .takelist import TakeList
from .timeline import Timeline
from .training import TrainingPanel
from .undo import UndoHistory


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
        self.last_message = ""

        self.stage = StageView()
        self.timeline = Timeline()
        self.fit_notice = FitNotice()
        self.controls = GenerationControls(self.session, self.bridge)
        self.training = TrainingPanel(self.session, self.bridge)
        self.sketch = SketchTab(self.bridge)
        self._build_layout()
        self._build_status()
        self.opener = FileOpener(self)
        self.exporter = Exporter(self)
        self.director = StageDirector(self.session, self.bridge, self.stage, self.timeline, self.fps_label, self)
        self.transport: dict[Qt.Key, Callable[[], Any]] = {}  # timeline keys, filled by build_menus
        self.menus = build_menus(self)  # also sets self.lead_in_action (View ▸ Lead-in)
        self.osc = OscStreamToggle(self, self.session, lambda: self.stage.showing)  # Dance ▸ Stream to…
        self.menus["Dance"].addSeparator()
        self.menus["Dance"].addAction(self.osc.action)
        add_music_menu(self, self.music)
        self.device_menu = add_device_menu(self, self.session, self.bridge)
        # keeping the work (issue 17): undo history, the Takes panel, project files and autosave
        self.history = UndoHistory(self.session, self)
        self.takelist = TakeList(self.session, self.bridge, self.history)
        self.add_panel(self.takelist, "Takes")
        self.project = ProjectKeeper(self, self.session, self.history, self.bridge)
        self.project.add_menus(self.menus)  # File ▸ Open/Save project…, Edit ▸ Undo/Redo
        self.directing = add_directing(self)  # directing the dancer (issue 16): the Direct tab, keyframe marks

        for w in (self.controls, self.training, self.sketch, self.osc, self.music, self.history, self.takelist,
                  self.project):
            w.error.connect(self.show_error)
        for w in (self.training, self.sketch, self.osc, self.music, self.project):
            w.message.connect(self.show_message)
        self.timeline.position_changed.connect(self.osc.send_frame)
        self.sketch.message.connect(lambda _m: self.show_models())
        self.stage.open_requested.connect(self.open_dialog)
        self.stage.demo_requested.connect(self.load_demo)
        self.fit_notice.train_requested.connect(lambda: self.panels.setCurrentWidget(self.training))
        self.fit_notice.load_requested.connect(self.training.load_dialog)
        self.tabs.currentChanged.connect(lambda _i: self.show_models())
        ev = self.session.events
        b = self.bridge
        b.connect(ev.motion, lambda _m: self._show_title())
        b.connect(ev.model, lambda _m: self.show_models())
        b.connect(ev.device, lambda _d: self.show_models())
        b.connect(ev.fit, self.fit_notice.show_fit)
        b.connect(ev.lead_in, lambda on: self.lead_in_action.setChecked(bool(on)))
        b.connect(ev.error, self._on_worker_error)
        b.connect(ev.training_status, self._on_training_status)
        self.fit_notice.show_fit(self.session.fit)
        self._show_title()
        self.show_models()
        self.resize(1280, 800)

    # -- building --------------------------------------------------------------------

    def _build_layout(self) -> None:
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.setSpacing(0)
        ll.addWidget(self.fit_notice)
        ll.addWidget(self.stage, 1)
        ll.addWidget(self.timeline)
        self.quality = QualityLine(self.session, self.bridge, self.keep_job)  # the judge's verdict on the take
        ll.addWidget(self.quality)
        self.music = MusicBar(self.session, self.bridge, self.timeline, self._song_start)  # the song under it
        ll.addWidget(self.music)
        self.panels = QTabWidget()
        self.panels.addTab(self.controls, "Generate")
        self.panels.addTab(self.training, "Train")
        self.panels.setMinimumWidth(390)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(self.panels)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 1)
        self.split.setChildrenCollapsible(False)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.split, "Dance")
        self.tabs.addTab(self.sketch, "Sketch")
        self.setCentralWidget(self.tabs)

    def _song_start(self) -> int | None:
        """Timeline position where the shown take starts (after its lead-in): the song starts there."""
        showing = self.stage.showing
        return None if showing.take is None else int(showing.lead_in)

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.device_label = QLabel()
        self.model_label = QLabel()
        self.fps_label = QLabel("generation: –")
        for w in (self.device_label, self.model_label, self.fps_label):
            w.setStyleSheet("padding: 0 8px; color: #555a66;")
            sb.addPermanentWidget(w)

    def add_dock(self, widget: QWidget, title: str,
                 area: Qt.DockWidgetArea = Qt.DockWidgetArea.BottomDockWidgetArea) -> QDockWidget:
        """Add a dockable panel (e.g. streaming, music); its View menu entry shows and hides it."""
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.menus["View"].addAction(dock.toggleViewAction())
        return dock

    def add_panel(self, widget: QWidget, title: str) -> int:
        """Add a tab beside Generate and Train; returns its index."""
        return self.panels.addTab(widget, title)

    def keep_job(self, job: BackgroundJob) -> None:
        """Keep a background job until it ends (the window waits for it when closing)."""
        self._jobs = [j for j in self._jobs if j.running] + [job]

    def keyPressEvent(self, e: QKeyEvent) -> None:
        """Transport keys also when no shortcut fired (e.g. the window is not active)."""
        slot = self.transport.get(Qt.Key(e.key())) if e.modifiers() == Qt.KeyboardModifier.NoModifier else None
        if slot is not None:
            slot()
            e.accept()
        else:
            super().keyPressEvent(e)

    # -- actions (the menus call these) ------------------------------------------------

    def open_dialog(self) -> None:
        """Ask for a file and open it."""
        self.opener.open_dialog()

    def open_path(self, path: str | Path, play: bool = True) -> BackgroundJob | None:
        """Open a clip (on a background thread), a model checkpoint or a project; errors become messages."""
        if Path(path).suffix.lower() == PROJECT_SUFFIX:
            self.project.open(path)
            return None
        return self.opener.open_path(path, play)

    def load_demo(self) -> None:
        """The built-in dancer and demo model (asking before replacing a model of the user's)."""
        self.opener.load_demo()

    def export_dialog(self) -> BackgroundJob | None:
        """Ask what and where, then export on a background thread."""
        return self.exporter.export_dialog()

    def save_screenshot(self, path: str | Path) -> Path:
        """Save a PNG of the whole window."""
        return self.exporter.save_screenshot(path)

    def train(self) -> None:
        """Bring the Train tab forward and start training with its settings."""
        self.panels.setCurrentWidget(self.training)
        self.tabs.setCurrentIndex(0)
        self.training.start(False)

    def set_lead_in(self, on: bool) -> None:
        """Play the take's lead-in before it (stage and videos)."""
        self.session.lead_in = bool(on)

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

    def _show_title(self) -> None:
        self.project.update_title()  # the project or clip, and the unsaved-changes mark

    def show_models(self) -> None:
        """The status bar's device and model: the sketch model on the Sketch tab, the dance model elsewhere."""
        s = self.session
        self.device_label.setText(f"device: {s.device.upper()}")
        on_sketch = self.tabs.currentWidget() is self.sketch
        self.fps_label.setVisible(not on_sketch)  # the dance generation rate means nothing there
        if on_sketch:
            d = self.sketch.drawing
            self.model_label.setText(f"sketch model: {d.source}" if d.ready else "no sketch model")
            return
        cfg = s.model_config
        if s.model is None or cfg is None:
            self.model_label.setText("no dance model")
            return
        n = getattr(s.model, "n_parameters", 0)
        n = n() if callable(n) else int(n)
        size = f"{n / 1e6:.2f} M" if n >= 1e5 else f"{n / 1e3:.0f} k"
        self.model_label.setText(f"model: {size} params ({cfg.layers}×{cfg.hidden}, {cfg.mixtures} modes)")

    # -- files (dropped) -----------------------------------------------------------------

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:
        """Accept clips, checkpoints and projects."""
        if not self.project.drag_enter(e):
            self.opener.drag_enter(e)

    def dropEvent(self, e: QDropEvent) -> None:
        """Open the dropped files (a project; else models first, then the first clip)."""
        if not self.project.drop(e):
            self.opener.drop(e)

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
        if not self.project.confirm_discard():  # unsaved changes: save, discard or stay
            e.ignore()
            return
        self.project.close()
        self.history.close()
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
