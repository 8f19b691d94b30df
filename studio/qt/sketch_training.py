"""The Sketch tab's training panel: train a Sketch-RNN on a stroke file, an SVG folder or the demo shapes,
with its plan, a progress bar that says how many sampled drawings are finished, the loss curves
(pyqtgraph, like the dance Train tab) and a live grid of drawings that improves as it trains.

Training runs on an engine ``Worker`` (``train_fn=train_sketch``). The drawings in the grid are
sampled by the trainer itself every few seconds, between two steps on the training thread, from
the weights as they are then (``engine.sketch.progress``); this panel only paints the arrays it
receives, so the UI thread never samples or waits.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import (
    QDoubleSpinBox,
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
from engine.core.training import NEGATIVE_LOSS_NOTE, TrainEvent, TrainResult, format_eta

from .bridge import SessionBridge
from .sketch_view import SketchGrid

GRID = 8  # drawings in the live grid (the trainer samples this many)
DEMO_MINUTES = 2.0


class SketchTrainingPanel(QWidget):
    """Train buttons, budget, plan, progress, loss curves and the live sample grid.

    ``on_model(model, source)`` receives the trained model when a run ends with steps made.
    """

    error = pyqtSignal(str)
    message = pyqtSignal(str)

    def __init__(self, bridge: SessionBridge, on_model: Callable[[Any, str], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge, self.on_model = bridge, on_model
        self._worker: Any = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._source = ""
        self.samples: Any = None  # the last SketchSamples event
        self.history: dict[str, list[float]] = {"step": [], "train": [], "val_step": [], "val": []}

        self.file_btn = QPushButton("Train on drawings…")
        self.file_btn.setToolTip("Train on a stroke file (.npz/.npy, e.g. a Quick, Draw! class) or one .svg")
        self.folder_btn = QPushButton("Train on SVG folder…")
        self.folder_btn.setToolTip("Train on every .svg drawing in a folder (sub-folders too)")
        self.demo_btn = QPushButton("Train demo shapes")
        self.demo_btn.setToolTip(f"Train a small model on procedural shapes (~{DEMO_MINUTES:g} min)")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setToolTip("Stop after the current step; the model keeps its best weights so far")
        self.minutes = QDoubleSpinBox()
        self.minutes.setRange(0.0, 120.0)
        self.minutes.setSingleStep(0.5)
        self.minutes.setSpecialValueText("auto")
        self.minutes.setSuffix(" min")
        self.minutes.setToolTip("Training budget; auto: chosen from the data's size and length (4-12 min)")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("idle")
        self.plan = QLabel("Train a model on your drawings: a Quick, Draw! .npz, a stroke file or SVGs.")
        self.plan.setWordWrap(True)
        self.plan.setStyleSheet("color: #5a6070;")

        self.plot = pg.PlotWidget(background="#16181e")
        self.plot.setMinimumSize(220, 150)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "loss")
        self.plot.setToolTip(NEGATIVE_LOSS_NOTE)
        self.plot.addLegend(offset=(-10, 10))
        self.train_curve = self.plot.plot([], [], pen=pg.mkPen((240, 110, 80), width=2), name="train")
        self.val_curve = self.plot.plot([], [], pen=pg.mkPen((80, 160, 245), width=2), name="validation",
                                        symbol="o", symbolSize=5, symbolBrush=(80, 160, 245))
        self.grid = SketchGrid(GRID, 4, min_size=70, colour=QColor(30, 30, 36))
        self.grid_label = QLabel("Drawings while it trains")
        self.grid_label.setStyleSheet("color: #8a90a0;")

        box = QGroupBox("Train a sketch model")
        controls = QGridLayout()
        controls.addWidget(self.file_btn, 0, 0)
        controls.addWidget(self.folder_btn, 0, 1)
        controls.addWidget(self.demo_btn, 1, 0)
        controls.addWidget(self.cancel_btn, 1, 1)
        controls.addWidget(QLabel("Budget"), 2, 0)
        controls.addWidget(self.minutes, 2, 1)
        left = QVBoxLayout()
        left.addLayout(controls)
        left.addWidget(self.progress)
        left.addWidget(self.plan, 1)
        right = QVBoxLayout()
        right.addWidget(self.grid_label)
        right.addWidget(self.grid, 1)
        lay = QHBoxLayout(box)
        lay.addLayout(left, 2)
        lay.addWidget(self.plot, 3)
        lay.addLayout(right, 3)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(box)

        self.file_btn.clicked.connect(self.file_dialog)
        self.folder_btn.clicked.connect(self.folder_dialog)
        self.demo_btn.clicked.connect(lambda: self.train_demo())
        self.cancel_btn.clicked.connect(self.cancel)
        self._sync()

    # -- state ---------------------------------------------------------------------

    @property
    def training(self) -> bool:
        """True while a training job runs."""
        return self._worker is not None and self._worker.training_active

    def _sync(self) -> None:
        busy = self.training
        for b in (self.file_btn, self.folder_btn, self.demo_btn):
            b.setEnabled(not busy)
        self.minutes.setEnabled(not busy)
        self.cancel_btn.setEnabled(busy)

    # -- starting ------------------------------------------------------------------

    def file_dialog(self) -> None:
        """Ask for a stroke file or one SVG, then train on it."""
        path, _ = QFileDialog.getOpenFileName(self, "Train on drawings", "",
                                              "Drawings (*.npz *.npy *.svg);;All files (*)")
        if path:
            self.train(path)

    def folder_dialog(self) -> None:
        """Ask for a folder of SVG drawings, then train on it."""
        path = QFileDialog.getExistingDirectory(self, "Train on a folder of SVG drawings")
        if path:
            self.train(path)

    def train_demo(self, minutes: float = DEMO_MINUTES) -> None:
        """Train a small model on the procedural demo shapes."""
        from engine.sketch import SketchConfig, synthetic_sketches

        self.train(synthetic_sketches(2000, rng=0), source="demo shapes", minutes=minutes,
                   model_config=SketchConfig(enc_hidden=64, dec_hidden=128, z_size=32, mixtures=10), batch=32)

    def train(self, data: Any, source: str | None = None, minutes: float | None = None,
              model_config: Any = None, batch: int | None = None, sample_every_s: float | None = None) -> None:
        """Train on ``data`` (a path, an SVG folder or a list of stroke-3 drawings) in the background.

        ``minutes`` None: the budget box (auto: chosen from the data). Problems become a message.
        """
        from engine.session.worker import Worker
        from engine.sketch.progress import SAMPLE_EVERY_S
        from engine.sketch.task import sketch_train_config, train_sketch

        if self.training:
            self.error.emit("A sketch model is already training: cancel it first")
            return
        if self._worker is None:
            self._worker = Worker(device="cpu")
            self.bridge.connect(self._worker.training, self._event)
            self.bridge.connect(self._worker.training_finished, self._done)
            self.bridge.connect(self._worker.error, self._failed)
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="choreo-sketch-")
        if minutes is None:
            minutes = self.minutes.value() or None
        tc: dict[str, Any] = {"minutes": minutes}
        if batch:
            tc["batch"] = batch
        self._source = source or Path(str(data)).name
        self.history = {"step": [], "train": [], "val_step": [], "val": []}
        self.train_curve.setData([], [])
        self.val_curve.setData([], [])
        self.grid.set_sketches([])
        every = SAMPLE_EVERY_S if sample_every_s is None else sample_every_s

        def run(d, **kw):
            return train_sketch(d, sample_every_s=every, **kw)

        try:
            self._worker.start_training(data, model_config=model_config, config=sketch_train_config(**tc),
                                        out=Path(self._tmp.name) / "sketch.pt", train_fn=run)
        except ChoreoError as err:
            self.error.emit(str(err))
            return
        self.progress.setValue(0)
        self.progress.setFormat("reading the drawings…")
        self.plan.setText(f"Training on {self._source}…")
        self.grid_label.setText("Drawings while it trains (the first after ~20 s)")
        self._sync()

    def cancel(self) -> None:
        """Stop after the current step (the best weights so far are kept)."""
        if self._worker is not None:
            self._worker.cancel_training()
            self.progress.setFormat("stopping after this step…")

    # -- following ------------------------------------------------------------------

    def _finished_text(self) -> str:
        s = self.samples
        return f"  ·  finished {sum(s.finished)}/{len(s.finished)}" if s is not None else ""

    def _event(self, ev: TrainEvent) -> None:
        if ev.kind == "plan":
            self.plan.setText(f"Plan: {ev.message}")
        elif ev.kind == "samples":
            self.samples = ev
            self.grid.set_sketches(ev.sketches)
            self.grid_label.setText(f"Step {ev.step}: {sum(ev.finished)} of {len(ev.finished)} drawings finished "
                                    "(pen lifted at the end)")
        elif ev.kind in ("progress", "validation"):
            if ev.kind == "progress" and ev.train_loss is not None:
                self.history["step"].append(ev.step)
                self.history["train"].append(ev.train_loss)
                self.train_curve.setData(self.history["step"], self.history["train"])
            if ev.kind == "validation" and ev.val_loss is not None:
                self.history["val_step"].append(ev.step)
                self.history["val"].append(ev.val_loss)
                self.val_curve.setData(self.history["val_step"], self.history["val"])
            self.progress.setValue(int(1000 * min(max(ev.fraction, 0.0), 1.0)))
            eta = format_eta(ev.eta_s) if ev.kind == "progress" else ""
            self.progress.setFormat(f"{100 * ev.fraction:.0f}%  step {ev.step}{self._finished_text()}"
                                    + (f"  ·  {eta}" if eta else ""))
        elif ev.kind == "warning":
            self.message.emit(ev.message)
        self._sync()

    def _done(self, result: TrainResult) -> None:
        self.progress.setValue(1000)
        self.progress.setFormat(f"done ({result.stopped})  step {result.steps}{self._finished_text()}")
        if result.model is not None and result.steps > 0:
            self.on_model(result.model, f"{self._source}, trained here ({result.steps} steps)")
            self.message.emit(f"Sketch model trained ({result.stopped}, {result.steps} steps)")
        self._sync()

    def _failed(self, err: Any) -> None:
        self.error.emit(err.message)
        self.progress.setFormat("failed")
        self._sync()

    def close(self) -> bool:
        """Stop the training thread and remove temporary files."""
        if self._worker is not None:
            self._worker.shutdown()
            self._worker = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        return super().close()
