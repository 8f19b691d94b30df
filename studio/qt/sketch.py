"""Sketch tab: draw with the mouse, let a Sketch-RNN finish the drawing several ways, export SVG/PNG.

The drawing and the model live in an engine :class:`SketchDrawing` (the notebook uses the
same one); this tab only records the mouse into it and shows what comes back. Sampling runs
on a background thread, training on an engine ``Worker`` with ``train_fn=train_sketch``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import QPointF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QMouseEvent, QPainter, QPainterPath, QPen
from PyQt6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.core.errors import ChoreoError
from engine.sketch.drawing import SketchDrawing
from engine.sketch.knobs import DRAWING

from .bridge import BackgroundJob, SessionBridge
from .knobs import KnobEditor
from .sketch_training import SketchTrainingPanel
from .sketch_view import SketchGrid, SketchView

__all__ = ["SketchPad", "SketchTab", "SketchView"]

SIDE_WIDTH = 290  # the controls column of the Sketch tab


class SketchPad(QWidget):
    """A white canvas recording mouse strokes into a :class:`SketchDrawing`."""

    changed = pyqtSignal()

    def __init__(self, drawing: SketchDrawing, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.drawing = drawing
        self.setMinimumSize(240, 240)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw here with the mouse (several strokes are fine), then press Finish")

    @property
    def strokes(self) -> list[list[tuple[float, float]]]:
        """The strokes drawn so far (absolute widget pixels)."""
        return self.drawing.strokes

    def clear(self) -> None:
        """Erase the drawing."""
        self.drawing.clear()
        self.update()
        self.changed.emit()

    def mousePressEvent(self, e: QMouseEvent) -> None:
        """Start a stroke."""
        if e.button() == Qt.MouseButton.LeftButton:
            self.drawing.add_stroke([(e.position().x(), e.position().y())])
            self.update()

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        """Extend the stroke."""
        if e.buttons() & Qt.MouseButton.LeftButton and self.strokes:
            self.drawing.extend(e.position().x(), e.position().y())
            self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        """End the stroke."""
        if e.button() == Qt.MouseButton.LeftButton:
            self.changed.emit()

    def paintEvent(self, _e) -> None:
        """White paper, black ink, a hint when empty."""
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        p.setPen(QPen(QColor(200, 200, 205), 1))
        p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        if not self.strokes:
            p.setPen(QColor(150, 150, 160))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Draw the start of a drawing here\n"
                       "(the model finishes it: a shape, an animal…)")
        p.setPen(QPen(QColor(20, 20, 25), 3, cap=Qt.PenCapStyle.RoundCap, join=Qt.PenJoinStyle.RoundJoin))
        for s in self.strokes:
            if len(s) == 1:
                p.drawPoint(QPointF(*s[0]))
            path = QPainterPath(QPointF(*s[0]))
            for pt in s[1:]:
                path.lineTo(QPointF(*pt))
            p.drawPath(path)
        p.end()


class SketchTab(QWidget):
    """Drawing pad, endings side by side, temperature, from-scratch sampling, export."""

    error = pyqtSignal(str)
    message = pyqtSignal(str)
    MAX_ENDINGS = int(DRAWING["endings"].hi)

    def __init__(self, bridge: SessionBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.drawing = SketchDrawing()
        self._jobs: list[BackgroundJob] = []
        self.results: list[np.ndarray] = []
        self.pad = SketchPad(self.drawing)
        self.temperature, self.endings, self.rng = (KnobEditor(DRAWING[n]) for n in ("temperature", "endings", "rng"))
        self.finish_btn = QPushButton("Finish my drawing")
        self.scratch_btn = QPushButton("Draw from scratch")
        self.clear_btn = QPushButton("Clear")
        self.export_btn = QPushButton("Export SVG/PNG…")
        self.load_btn = QPushButton("Load sketch model…")
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.trainer = SketchTrainingPanel(bridge, self._use_trained)
        self.trainer.error.connect(self.error)
        self.trainer.message.connect(self.message)
        self.endings_grid = SketchGrid(self.MAX_ENDINGS, 3)
        self.views = self.endings_grid.views
        self.results_label = QLabel("Endings appear here")
        self.results_label.setStyleSheet("color: #8a90a0;")

        form = QFormLayout()
        for editor in (self.temperature, self.endings, self.rng):
            form.addRow(editor.knob.label, editor)
        side_w = QWidget()  # a fixed column: at 1000 px the temperature slider keeps a usable length
        side_w.setFixedWidth(SIDE_WIDTH)
        side = QVBoxLayout(side_w)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.model_label)
        side.addWidget(self.load_btn)
        side.addLayout(form)
        for b in (self.finish_btn, self.scratch_btn, self.clear_btn, self.export_btn):
            side.addWidget(b)
        side.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(QLabel("Your drawing"))
        left.addWidget(self.pad, 1)
        right = QVBoxLayout()
        right.addWidget(self.results_label)
        right.addWidget(self.endings_grid, 1)
        top = QHBoxLayout()
        top.addWidget(side_w)
        top.addLayout(left, 3)
        top.addLayout(right, 4)
        lay = QVBoxLayout(self)
        lay.addLayout(top, 3)
        lay.addWidget(self.trainer, 2)

        self.finish_btn.clicked.connect(self.finish)
        self.scratch_btn.clicked.connect(self.from_scratch)
        self.clear_btn.clicked.connect(self.pad.clear)
        self.export_btn.clicked.connect(self.export_dialog)
        self.load_btn.clicked.connect(self.load_dialog)
        self.trainer.demo_btn.clicked.connect(self._sync)
        self.drawing.load_shipped()
        self._sync()

    # -- state ---------------------------------------------------------------------

    def _sync(self) -> None:
        ready = self.drawing.ready
        self.model_label.setText(f"Model: {self.drawing.source}" if ready else
                                 "No sketch model yet: load one, or train one below.")
        for b in (self.finish_btn, self.scratch_btn):
            b.setEnabled(ready and not self.busy)
        self.export_btn.setEnabled(bool(self.results) or bool(self.pad.strokes))

    @property
    def busy(self) -> bool:
        """True while a sampling job runs."""
        return any(j.running for j in self._jobs)

    def load_model(self, path: str | Path) -> None:
        """Load a sketch checkpoint; errors become a message."""
        try:
            self.drawing.load(path)
            self.message.emit(f"Loaded sketch model {path}")
        except ChoreoError as err:
            self.error.emit(str(err))
        self._sync()

    def load_dialog(self) -> None:
        """Ask for a sketch model checkpoint."""
        path, _ = QFileDialog.getOpenFileName(self, "Load sketch model", "", "Sketch model (*.pt)")
        if path:
            self.load_model(path)

    # -- drawing -------------------------------------------------------------------

    def _run(self, fn: Callable[[], list[np.ndarray]], prefix_len: int) -> BackgroundJob:
        job = BackgroundJob(fn, name="choreo-sketch", parent=self)
        job.done.connect(lambda res: self._show(res, prefix_len))
        job.failed.connect(lambda err: self.error.emit(str(err) if isinstance(err, ChoreoError)
                                                       else f"Sketch failed: {type(err).__name__}: {err}"))
        job.done.connect(lambda _r: self._sync())
        job.failed.connect(lambda _e: self._sync())
        self._jobs = [j for j in self._jobs if j.running] + [job]
        job.start()
        self._sync()
        return job

    def finish(self) -> BackgroundJob | None:
        """Let the model finish the drawing several ways."""
        if self.drawing.empty:
            self.error.emit("Draw something first (or press Draw from scratch)")
            return None
        n, t, rng = self.endings.value(), self.temperature.value(), self.rng.value()
        return self._run(lambda: self.drawing.finish(n, t, rng), len(self.drawing.prefix()))

    def from_scratch(self) -> BackgroundJob | None:
        """Draw new sketches with no prefix."""
        n, t, rng = self.endings.value(), self.temperature.value(), self.rng.value()
        return self._run(lambda: self.drawing.from_scratch(n, t, rng), 0)

    def _show(self, sketches: list[np.ndarray], prefix_len: int) -> None:
        self.results = list(sketches)
        self.endings_grid.set_sketches(self.results, prefix_len)
        self.results_label.setText(f"{len(sketches)} endings (black: yours, colour: the model's)" if prefix_len
                                   else f"{len(sketches)} drawings from scratch")
        self._sync()

    # -- training ------------------------------------------------------------------

    def train_demo(self, minutes: float = 2.0) -> None:
        """Train a small sketch model on the demo shapes in the background."""
        self.trainer.train_demo(minutes)

    def _use_trained(self, model: Any, source: str) -> None:
        self.drawing.use(model, source)
        self._sync()

    # -- export ------------------------------------------------------------------------

    def export_dialog(self) -> None:
        """Save the endings (or the drawing) as SVG or PNG; Qt's dialog asks before replacing."""
        sketches = self.results or ([self.drawing.prefix()] if not self.drawing.empty else [])
        if not sketches:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export sketches", "sketches.svg", "SVG (*.svg);;PNG (*.png)")
        if not path:
            return
        try:
            self.drawing.export(path, sketches, overwrite=True)
            self.message.emit(f"Exported {len(sketches)} sketches to {path}")
        except ChoreoError as err:
            self.error.emit(str(err))

    def close(self) -> bool:
        """Stop training and sampling threads, remove temporary files."""
        for j in self._jobs:
            j.wait(30)
        self.trainer.close()
        return super().close()
