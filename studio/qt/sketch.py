"""Sketch tab: draw with the mouse, let a Sketch-RNN finish the drawing several ways, export SVG/PNG.

The drawing and the model live in an engine :class:`SketchDrawing` (the notebook uses the
same one); this tab only records the mouse into it and shows what comes back. Sampling runs
on a background thread, training on an engine ``Worker`` with ``train_fn=train_sketch``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QMouseEvent, QPainter, QPainterPath, QPen
from PyQt6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.core.errors import ChoreoError
from engine.dance.render import PALETTE
from engine.sketch.drawing import SketchDrawing
from engine.sketch.knobs import DRAWING

from .bridge import BackgroundJob, SessionBridge
from .knobs import KnobEditor

SIDE_WIDTH = 290  # the controls column of the Sketch tab


def _qcolor(i: int) -> QColor:
    return QColor(*PALETTE[i % len(PALETTE)])


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
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Draw the start of a shape here\n"
                       "(a circle, square, star, house…)")
        p.setPen(QPen(QColor(20, 20, 25), 3, cap=Qt.PenCapStyle.RoundCap, join=Qt.PenJoinStyle.RoundJoin))
        for s in self.strokes:
            if len(s) == 1:
                p.drawPoint(QPointF(*s[0]))
            path = QPainterPath(QPointF(*s[0]))
            for pt in s[1:]:
                path.lineTo(QPointF(*pt))
            p.drawPath(path)
        p.end()


class SketchView(QWidget):
    """One finished drawing: the user's part in black, the model's part in colour, fitted to the box."""

    def __init__(self, colour: QColor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colour = colour
        self.sketch: np.ndarray | None = None
        self.prefix_len = 0
        self.setMinimumSize(110, 110)

    def set_sketch(self, sketch: np.ndarray | None, prefix_len: int = 0) -> None:
        """Show ``sketch`` (stroke-3); its first ``prefix_len`` rows are the user's."""
        self.sketch, self.prefix_len = sketch, prefix_len
        self.update()

    def paintEvent(self, _e) -> None:
        """Draw the sketch scaled into the widget."""
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        p.setPen(QPen(QColor(215, 215, 222), 1))
        p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        s = self.sketch
        if s is None or len(s) == 0:
            p.end()
            return
        pos = np.cumsum(np.asarray(s[:, :2], np.float64), axis=0)
        lo, hi = pos.min(0), pos.max(0)
        box = QRectF(self.rect()).adjusted(10, 10, -10, -10)
        k = min(box.width(), box.height()) / max(float((hi - lo).max()), 1e-9)
        off = np.array([box.center().x(), box.center().y()]) - k * (lo + hi) / 2
        pen_user = QPen(QColor(25, 25, 30), 2.5, cap=Qt.PenCapStyle.RoundCap, join=Qt.PenJoinStyle.RoundJoin)
        pen_model = QPen(self.colour, 2.5, cap=Qt.PenCapStyle.RoundCap, join=Qt.PenJoinStyle.RoundJoin)
        lift = np.concatenate([[1.0], s[:-1, 2]])  # a move (pen up) before row i
        for i in range(1, len(s)):
            if lift[i] > 0.5:
                continue
            p.setPen(pen_user if i < self.prefix_len else pen_model)
            a, b = off + k * pos[i - 1], off + k * pos[i]
            p.drawLine(QPointF(*a), QPointF(*b))
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
        self._worker: Any = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._jobs: list[BackgroundJob] = []
        self.results: list[np.ndarray] = []
        self.pad = SketchPad(self.drawing)
        self.temperature, self.endings, self.rng = (KnobEditor(DRAWING[n]) for n in ("temperature", "endings", "rng"))
        self.finish_btn = QPushButton("Finish my drawing")
        self.scratch_btn = QPushButton("Draw from scratch")
        self.clear_btn = QPushButton("Clear")
        self.export_btn = QPushButton("Export SVG/PNG…")
        self.load_btn = QPushButton("Load sketch model…")
        self.train_btn = QPushButton("Train demo model (shapes)")
        self.train_btn.setToolTip("Train a small Sketch-RNN on procedural shapes in the background (~2 min)")
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.train_progress = QProgressBar()
        self.train_progress.setRange(0, 1000)
        self.train_progress.hide()
        self.views = [SketchView(_qcolor(i)) for i in range(self.MAX_ENDINGS)]
        grid_w = QWidget()
        grid = QGridLayout(grid_w)
        grid.setSpacing(6)
        for i, v in enumerate(self.views):
            grid.addWidget(v, i // 3, i % 3)
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
        side.addWidget(self.train_btn)
        side.addWidget(self.train_progress)
        side.addLayout(form)
        for b in (self.finish_btn, self.scratch_btn, self.clear_btn, self.export_btn):
            side.addWidget(b)
        side.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(QLabel("Your drawing"))
        left.addWidget(self.pad, 1)
        right = QVBoxLayout()
        right.addWidget(self.results_label)
        right.addWidget(grid_w, 1)
        lay = QHBoxLayout(self)
        lay.addWidget(side_w)
        lay.addLayout(left, 3)
        lay.addLayout(right, 4)

        self.finish_btn.clicked.connect(self.finish)
        self.scratch_btn.clicked.connect(self.from_scratch)
        self.clear_btn.clicked.connect(self.pad.clear)
        self.export_btn.clicked.connect(self.export_dialog)
        self.load_btn.clicked.connect(self.load_dialog)
        self.train_btn.clicked.connect(self.train_demo)
        self.drawing.load_shipped()
        self._sync()

    # -- state ---------------------------------------------------------------------

    def _sync(self) -> None:
        ready = self.drawing.ready
        training = self._worker is not None and self._worker.training_active
        self.model_label.setText(f"Model: {self.drawing.source}" if ready else
                                 "No sketch model yet: load one, or train the demo model on shapes.")
        for b in (self.finish_btn, self.scratch_btn):
            b.setEnabled(ready and not self.busy)
        self.train_btn.setEnabled(not training)
        self.train_btn.setText("Training…" if training else "Train demo model (shapes)")
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
        for i, v in enumerate(self.views):
            v.set_sketch(sketches[i] if i < len(sketches) else None, prefix_len)
        self.results_label.setText(f"{len(sketches)} endings (black: yours, colour: the model's)" if prefix_len
                                   else f"{len(sketches)} drawings from scratch")
        self._sync()

    # -- training ------------------------------------------------------------------

    def train_demo(self, minutes: float = 2.0) -> None:
        """Train a small sketch model on the demo shapes in the background."""
        from engine.session.worker import Worker
        from engine.sketch import SketchConfig, sketch_train_config, synthetic_sketches, train_sketch

        if self._worker is None:
            self._worker = Worker(device="cpu")
            self.bridge.connect(self._worker.training, self._train_event)
            self.bridge.connect(self._worker.training_finished, self._train_done)
            self.bridge.connect(self._worker.error, lambda e: (self.error.emit(e.message), self._sync()))
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="choreo-sketch-")
        try:
            self._worker.start_training(
                synthetic_sketches(2000, rng=0),
                model_config=SketchConfig(enc_hidden=64, dec_hidden=128, z_size=32, mixtures=10),
                config=sketch_train_config(minutes=minutes, batch=32), out=Path(self._tmp.name) / "sketch.pt",
                train_fn=train_sketch)
        except ChoreoError as err:
            self.error.emit(str(err))
        self.train_progress.setValue(0)
        self.train_progress.show()
        self._sync()

    def _train_event(self, ev: Any) -> None:
        if ev.fraction:
            self.train_progress.setValue(int(1000 * ev.fraction))
        if ev.train_loss is not None:
            self.train_progress.setFormat(f"%p%  loss {ev.train_loss:.2f}")

    def _train_done(self, result: Any) -> None:
        self.train_progress.hide()
        if result.model is not None and result.steps > 0:
            self.drawing.use(result.model, f"demo shapes, trained here ({result.steps} steps)")
            self.message.emit(f"Sketch model trained ({result.stopped}, {result.steps} steps)")
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
        if self._worker is not None:
            self._worker.shutdown()
            self._worker = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        return super().close()
