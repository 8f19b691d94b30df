"""Keyframe markers: a thin strip right above the timeline's slider, one diamond per keyframe.

A view only: it draws the marks it is given (timeline positions) and says what the hand did with
them: ``moved(index, position)`` when a mark is dragged and let go elsewhere, ``delete_requested``
(Delete / Backspace on the selected mark, or its right-click menu) and ``go_requested`` (a double
click, or the menu). Which take frame a position is, and the undoable edit, belong to the caller
(``studio.qt.directing``).
"""

from __future__ import annotations

from PyQt6.QtCore import QPointF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QContextMenuEvent, QKeyEvent, QMouseEvent, QPainter, QPen, QPolygonF
from PyQt6.QtWidgets import QMenu, QToolTip, QWidget

from .timeline import Timeline

MARK_COLOR = QColor(250, 200, 70)
SELECTED_COLOR = QColor(255, 245, 200)
GRAB_PX = 8  # a press this close to a mark takes it
HEIGHT = 14


class KeyframeStrip(QWidget):
    """Keyframe diamonds over ``timeline``'s positions (see the module docstring)."""

    moved = pyqtSignal(int, int)  # keyframe index (frame order), new timeline position
    delete_requested = pyqtSignal(int)
    go_requested = pyqtSignal(int)

    def __init__(self, timeline: Timeline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline = timeline
        self.marks: list[tuple[int, str]] = []  # (timeline position, what it is) per keyframe, in frame order
        self.selected: int | None = None
        self._drag: tuple[int, int] | None = None  # (index, position under the hand)
        self.setFixedHeight(HEIGHT)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMouseTracking(True)
        self.setToolTip("Keyframes: drag one to move it, Delete or right-click to remove it, double-click to go "
                        "there. Add one at the playhead with K")

    def set_marks(self, marks: list[tuple[int, str]]) -> None:
        """Show these marks (a position outside the timeline is left out of sight, not lost)."""
        self.marks = list(marks)
        if self.selected is not None and self.selected >= len(self.marks):
            self.selected = None
        self._drag = None
        self.update()

    def x_of(self, position: float) -> int:
        """Pixel column of a timeline position in this strip."""
        return self.timeline.x_of(position, self)

    def mark_at(self, x: float) -> int | None:
        """The index of the mark nearest pixel column ``x``, within grabbing distance."""
        near = [(abs(self.x_of(p) - x), i) for i, (p, _) in enumerate(self.marks) if 0 <= p < self.timeline.total]
        best = min(near, default=None)
        return best[1] if best is not None and best[0] <= GRAB_PX else None

    # -- drawing ---------------------------------------------------------------------

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        h = self.height() / 2
        for i, (pos, _) in enumerate(self.marks):
            if self._drag is not None and self._drag[0] == i:
                pos = self._drag[1]
            if not 0 <= pos < self.timeline.total:
                continue
            x = self.x_of(pos)
            color = SELECTED_COLOR if i == self.selected else MARK_COLOR
            p.setPen(QPen(QColor(40, 30, 10), 1))
            p.setBrush(color)
            r = h - 1.5
            p.drawPolygon(QPolygonF([QPointF(x, h - r), QPointF(x + r, h), QPointF(x, h + r), QPointF(x - r, h)]))
        p.end()

    # -- the hand --------------------------------------------------------------------

    def mousePressEvent(self, e: QMouseEvent) -> None:
        i = self.mark_at(e.position().x())
        self.selected = i
        if i is not None and e.button() == Qt.MouseButton.LeftButton:
            self._drag = (i, self.marks[i][0])
        self.update()

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        if self._drag is not None:
            pos = max(0, min(self.timeline.position_at(e.position().x(), self), self.timeline.total - 1))
            self._drag = (self._drag[0], pos)
            self.update()
        else:
            i = self.mark_at(e.position().x())
            if i is not None:
                QToolTip.showText(e.globalPosition().toPoint(), self.marks[i][1], self)

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        drag, self._drag = self._drag, None
        if drag is not None and drag[1] != self.marks[drag[0]][0]:
            self.moved.emit(drag[0], drag[1])
        self.update()

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:
        i = self.mark_at(e.position().x())
        if i is not None:
            self.go_requested.emit(i)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selected is not None:
            self.delete_requested.emit(self.selected)
            e.accept()
        else:
            super().keyPressEvent(e)

    def contextMenuEvent(self, e: QContextMenuEvent) -> None:
        i = self.mark_at(e.pos().x())
        if i is None:
            return
        self.selected = i
        self.update()
        menu = QMenu(self)
        menu.addAction("Go to this keyframe", lambda: self.go_requested.emit(i))
        menu.addAction("Delete keyframe", lambda: self.delete_requested.emit(i))
        menu.exec(e.globalPos())
