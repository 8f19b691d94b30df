"""Training panel: model settings, Train / Cancel / Resume / Save / Load, progress with ETA, loss curves.

Training runs on the session's worker thread; this panel only starts it,
follows ``training_progress`` / ``loss_history`` / ``training_status`` events
and redraws two pyqtgraph curves.
"""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.core.errors import ChoreoError
from engine.core.training import NEGATIVE_LOSS_NOTE, TrainConfig, TrainResult, format_eta
from engine.dance.knobs import TRAINING
from engine.dance.model import DanceConfig
from engine.session import LossHistory, Session, TrainingProgress
from engine.session.showing import clip_name

from .knobs import KnobEditor
from .reasons import explain

SETTINGS = ("minutes", "hidden", "layers", "mixtures", "batch", "seq_len")
TRAIN_RGB, VAL_RGB = (240, 110, 80), (80, 160, 245)
STOPPED = {"budget": "Finished its time budget", "early-stopping": "Stopped improving (early stop)",
           "cancelled": "Cancelled", "numerical-trouble": "Stopped: the numbers blew up"}


class TrainingPanel(QWidget):
    """Settings, buttons, progress and live loss curves over a :class:`Session`."""

    error = pyqtSignal(str)
    message = pyqtSignal(str)

    def __init__(self, session: Session, bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.editors = {name: KnobEditor(TRAINING[name]) for name in SETTINGS}
        for name, editor in self.editors.items():
            setattr(self, name, editor)
        settings = QGroupBox("Model and budget")
        grid = QGridLayout(settings)
        for i, name in enumerate(SETTINGS):
            grid.addWidget(QLabel(TRAINING[name].label), i // 2, (i % 2) * 2)
            grid.addWidget(self.editors[name], i // 2, (i % 2) * 2 + 1)

        self.train_btn = QPushButton("Train")
        self.cancel_btn = QPushButton("Cancel")
        self.resume_btn = QPushButton("Resume")
        self.save_btn = QPushButton("Save…")
        self.load_btn = QPushButton("Load…")
        row = QHBoxLayout()
        for b in (self.train_btn, self.cancel_btn, self.resume_btn, self.save_btn, self.load_btn):
            row.addWidget(b)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)  # a bar at its reset value (-1) shows no text at all
        self.progress.setFormat("not started")
        self.progress.setTextVisible(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.warning = QLabel()  # e.g. overfitting
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #b9770e;")
        self.warning.hide()

        self.plot = pg.PlotWidget(background="#16181e")
        self.plot.setMinimumHeight(160)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "loss (NLL)")
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)  # never "loss (x0.001)": the numbers are the loss
        self.train_curve = self.plot.plot([], [], pen=pg.mkPen(TRAIN_RGB, width=2), name="train")
        self.val_curve = self.plot.plot([], [], pen=pg.mkPen(VAL_RGB, width=2), name="validation",
                                        symbol="o", symbolSize=5, symbolBrush=VAL_RGB)
        zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen((120, 120, 130), style=pg.QtCore.Qt.PenStyle.DashLine))
        self.plot.addItem(zero, ignoreBounds=True)
        self.empty_note = pg.TextItem("the loss curves appear here while training", color=(138, 144, 160),
                                      anchor=(0.5, 0.5))
        self.plot.addItem(self.empty_note, ignoreBounds=True)
        self._empty_plot()
        # the key sits above the plot, so it never covers the curves
        self.key = QLabel(f'<span style="color: rgb{TRAIN_RGB}">━━</span> training loss   '
                          f'<span style="color: rgb{VAL_RGB}">━●━</span> validation loss (held-out frames)')
        self.key.setStyleSheet("font-size: 11px;")
        note = QLabel(NEGATIVE_LOSS_NOTE)
        note.setWordWrap(True)
        note.setStyleSheet("color: #7a8090; font-size: 11px;")

        lay = QVBoxLayout(self)
        lay.addWidget(settings)
        lay.addLayout(row)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.warning)
        lay.addWidget(self.key)
        lay.addWidget(self.plot, 1)
        lay.addWidget(note)

        self.train_btn.clicked.connect(lambda: self.start(resume=False))
        self._status_text = ""
        self.resume_btn.clicked.connect(lambda: self.start(resume=True))
        self.cancel_btn.clicked.connect(session.cancel_training)
        self.save_btn.clicked.connect(self.save_dialog)
        self.load_btn.clicked.connect(self.load_dialog)
        ev = session.events
        bridge.connect(ev.training_status, self._show_status)
        bridge.connect(ev.training_progress, self._show_progress)
        bridge.connect(ev.loss_history, self._show_losses)
        bridge.connect(ev.training_finished, self._finished)
        bridge.connect(ev.model, lambda _m: self._sync_model())
        bridge.connect(ev.motions, lambda _m: self._show_status(self.session.training_status))
        bridge.connect(ev.fit, lambda _f: self._show_status(self.session.training_status))
        self._sync_model()
        self._show_status(session.training_status)

    def _sync_model(self) -> None:
        cfg = self.session.model_config
        if cfg is not None and self.session.training_status == "idle":
            for name in ("hidden", "layers", "mixtures"):
                self.editors[name].set_value(getattr(cfg, name))
        self._show_status(self.session.training_status)

    def model_config(self) -> DanceConfig:
        """The model shape chosen in the panel."""
        return DanceConfig(hidden=self.hidden.value(), layers=self.layers.value(), mixtures=self.mixtures.value())

    def train_config(self) -> TrainConfig:
        """The training settings chosen in the panel."""
        return TrainConfig(minutes=self.minutes.value(), batch=self.batch.value(), seq_len=self.seq_len.value())

    def commit(self) -> None:
        """Take values typed but not confirmed yet."""
        for editor in self.editors.values():
            editor.commit()

    def start(self, resume: bool = False) -> None:
        """Start (or resume) training with every typed value; problems become a message."""
        self.commit()
        try:
            self.session.start_training(config=self.train_config(),
                                        model_config=None if resume else self.model_config(),
                                        resume=True if resume else None)
        except ChoreoError as err:
            self.error.emit(str(err))

    def _show_status(self, status: str) -> None:
        s = self.session
        busy = status != "idle"
        motions = s.motions
        no_data = None if motions else "Load a clip first (File ▸ Open, or File ▸ Demo): training learns from it"
        running = "Training is running: press Cancel to stop it first" if busy else None
        explain(self.train_btn, running or no_data, "Train a new model on the loaded clips, in the background "
                                                    "(Ctrl+T)")
        explain(self.resume_btn, running or no_data or (
            None if s.last_training is not None else "Nothing to resume yet: no training run in this session"),
            "Continue the last run of this session from its last checkpoint")
        explain(self.cancel_btn, None if status == "training" else
                "Stopping after this step…" if status == "cancelling" else "Training is not running",
                "Stop after the current step; the model keeps its best weights so far")
        explain(self.save_btn, running or (None if s.model_checkpoint is not None else
                                           "No model to save yet: train one, or load one"),
                "Save the current model's checkpoint")
        explain(self.load_btn, running, "Load a dance model checkpoint (.pt)")
        for editor in self.editors.values():
            editor.setEnabled(not busy)
            editor.setToolTip(f"Locked while training runs. {editor.knob.tip}" if busy else editor.knob.tip)
        if status == "cancelling":
            self.progress.setFormat("stopping after this step…")
        if busy:
            return
        if not motions:
            text = "Load a clip (File ▸ Open, or File ▸ Demo) to train on it."
        elif s.last_training is None:
            seconds = sum(m.duration for m in motions)
            what = f"{len(motions)} clips" if len(motions) > 1 else clip_name(motions[0])
            text = (f"Ready to train on {what} ({seconds:.1f} s, {motions[0].n_joints} joints). "
                    "Press Train: a few minutes give a first dance.")
        else:
            return  # the finished run's summary stays
        self.status.setText(text)

    def _show_progress(self, p: TrainingProgress) -> None:
        self.progress.setValue(int(1000 * min(max(p.fraction, 0.0), 1.0)))
        if self.session.training_status == "training":
            eta = format_eta(p.eta_s)
            self.progress.setFormat(f"{100 * p.fraction:.0f}%  step {p.step}" + (f"  ·  {eta}" if eta else ""))
        self.status.setText("   ·   ".join(p.describe()) or "starting…")

    def _empty_plot(self) -> None:
        self.empty_note.setVisible(True)
        self.plot.setXRange(0, 100, padding=0)
        self.plot.setYRange(-1, 1, padding=0)
        self.empty_note.setPos(50, 0.3)

    def _show_losses(self, h: LossHistory) -> None:
        self.train_curve.setData(list(h.train_steps), list(h.train))
        self.val_curve.setData(list(h.val_steps), list(h.val))
        if not h.train and not h.val:
            self._empty_plot()
        else:
            self.empty_note.setVisible(False)
            self.plot.enableAutoRange()
        over = h.overfitting()
        self.warning.setVisible(over)
        if over:
            self.warning.setText("⚠ Validation loss is rising while training loss falls: the model is starting to "
                                 "memorise the training frames instead of learning the movement (overfitting). "
                                 "The best model so far is kept; stopping now is fine. More or longer clips, or "
                                 "fewer hidden units, help.")

    def _finished(self, result: TrainResult) -> None:
        best = f", best validation {result.best_val_loss:.3f}" if result.best_val_loss is not None else ""
        self.message.emit(f"Training finished ({result.stopped}) after {result.steps} steps{best}")
        fraction = self.session.training_progress.fraction
        if result.stopped == "cancelled":
            self.progress.setFormat(f"cancelled at {100 * fraction:.0f}%  ·  step {result.steps}")
        else:
            self.progress.setFormat(f"done ({result.stopped})  ·  step {result.steps}")
        self.progress.setValue(int(1000 * min(max(fraction, 0.0), 1.0)))
        kept = "the best weights so far are kept" if result.model is not None and result.steps else "no model made"
        self.status.setText(f"{STOPPED.get(result.stopped, result.stopped)} after {result.steps} steps{best}: "
                            f"{kept}.")
        self._show_status(self.session.training_status)

    def save_dialog(self) -> None:
        """Ask where to save the model checkpoint, then copy it there."""
        path, _ = QFileDialog.getSaveFileName(self, "Save model", "dance_model.pt", "Dance model (*.pt)")
        if path:
            try:
                self.session.save_model(path)
                self.message.emit(f"Saved model to {path}")
            except ChoreoError as err:
                self.error.emit(str(err))

    def load_dialog(self) -> None:
        """Ask for a checkpoint and load it."""
        path, _ = QFileDialog.getOpenFileName(self, "Load model", "", "Dance model (*.pt)")
        if path:
            try:
                self.session.load_model(path)
                self.message.emit(f"Loaded model {path}")
            except ChoreoError as err:
                self.error.emit(str(err))
