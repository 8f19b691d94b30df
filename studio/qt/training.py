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

from .knobs import KnobEditor

SETTINGS = ("minutes", "hidden", "layers", "mixtures", "batch", "seq_len")


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
        self.train_btn.setToolTip("Train a new model on the loaded clips, in the background")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setToolTip("Stop after the current step; the model keeps its best weights so far")
        self.resume_btn = QPushButton("Resume")
        self.resume_btn.setToolTip("Continue the last run of this session from its last checkpoint")
        self.save_btn = QPushButton("Save…")
        self.save_btn.setToolTip("Save the current model's checkpoint")
        self.load_btn = QPushButton("Load…")
        self.load_btn.setToolTip("Load a dance model checkpoint (.pt)")
        row = QHBoxLayout()
        for b in (self.train_btn, self.cancel_btn, self.resume_btn, self.save_btn, self.load_btn):
            row.addWidget(b)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("idle")
        self.progress.setTextVisible(True)
        self.status = QLabel("Not trained yet: press Train (a few minutes give a first dance).")
        self.status.setWordWrap(True)

        self.plot = pg.PlotWidget(background="#16181e")
        self.plot.setMinimumHeight(180)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "loss (NLL)")
        self.plot.addLegend(offset=(-10, 10))
        self.train_curve = self.plot.plot([], [], pen=pg.mkPen((240, 110, 80), width=2), name="train")
        self.val_curve = self.plot.plot([], [], pen=pg.mkPen((80, 160, 245), width=2), name="validation",
                                        symbol="o", symbolSize=5, symbolBrush=(80, 160, 245))
        zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen((120, 120, 130), style=pg.QtCore.Qt.PenStyle.DashLine))
        self.plot.addItem(zero)
        note = QLabel(NEGATIVE_LOSS_NOTE)
        note.setWordWrap(True)
        note.setStyleSheet("color: #7a8090; font-size: 11px;")

        lay = QVBoxLayout(self)
        lay.addWidget(settings)
        lay.addLayout(row)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.plot, 1)
        lay.addWidget(note)

        self.train_btn.clicked.connect(lambda: self.start(resume=False))
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

    def start(self, resume: bool = False) -> None:
        """Start (or resume) training; problems become a message."""
        for editor in self.editors.values():
            editor.commit()
        try:
            self.session.start_training(config=self.train_config(),
                                        model_config=None if resume else self.model_config(),
                                        resume=True if resume else None)
        except ChoreoError as err:
            self.error.emit(str(err))

    def _show_status(self, status: str) -> None:
        busy = status != "idle"
        has_data = bool(self.session.motions)
        self.train_btn.setEnabled(not busy and has_data)
        self.resume_btn.setEnabled(not busy and has_data and self.session.last_training is not None)
        self.cancel_btn.setEnabled(status == "training")
        self.save_btn.setEnabled(not busy and self.session.model_checkpoint is not None)
        self.load_btn.setEnabled(not busy)
        for editor in self.editors.values():
            editor.setEnabled(not busy)
        if status == "cancelling":
            self.progress.setFormat("stopping after this step…")
        elif status == "idle" and not has_data:
            self.status.setText("Load a clip (or press Demo) to train on it.")

    def _show_progress(self, p: TrainingProgress) -> None:
        self.progress.setValue(int(1000 * min(max(p.fraction, 0.0), 1.0)))
        eta = format_eta(p.eta_s) if self.session.training_status == "training" else ""
        self.progress.setFormat(f"{100 * p.fraction:.0f}%  step {p.step}" + (f"  ·  {eta}" if eta else ""))
        self.status.setText("   ·   ".join(p.describe()) or "starting…")

    def _show_losses(self, h: LossHistory) -> None:
        self.train_curve.setData(list(h.train_steps), list(h.train))
        self.val_curve.setData(list(h.val_steps), list(h.val))

    def _finished(self, result: TrainResult) -> None:
        best = f", best validation {result.best_val_loss:.3f}" if result.best_val_loss is not None else ""
        self.message.emit(f"Training finished ({result.stopped}) after {result.steps} steps{best}")
        self.progress.setFormat(f"done ({result.stopped})  step {result.steps}")
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
