"""Stroke-3 drawings painted in Qt: one :class:`SketchView`, or a :class:`SketchGrid` of them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QPainter, QPen
from PyQt6.QtWidgets import QGridLayout, QWidget

from engine.dance.render import PALETTE


def palette_colour(i: int) -> QColor:
    """The studio's i-th take colour."""
    return QColor(*PALETTE[i % len(PALETTE)])


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


class SketchGrid(QWidget):
    """``count`` small :class:`SketchView` s in ``cols`` columns, filled from a list of drawings."""

    def __init__(self, count: int, cols: int, min_size: int = 110, colour: QColor | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views = [SketchView(colour or palette_colour(i)) for i in range(count)]
        grid = QGridLayout(self)
        grid.setSpacing(4)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, v in enumerate(self.views):
            v.setMinimumSize(min_size, min_size)
            grid.addWidget(v, i // cols, i % cols)

    def set_sketches(self, sketches: Sequence[np.ndarray], prefix_len: int = 0) -> None:
        """Show the first ``len(views)`` drawings; the views left over are emptied."""
        for i, v in enumerate(self.views):
            v.set_sketch(sketches[i] if i < len(sketches) else None, prefix_len)
