"""Qt widgets built from a knob's one definition (``engine.core.knobs.Knob``).

Every editor has the same small surface: ``value()``, ``set_value(v)`` (shows a value without
emitting), a ``value_changed`` signal and ``commit()``, which takes whatever is typed in a field
that has not been confirmed with Enter yet (actions call it first, so a typed value is never lost).
"""

from __future__ import annotations

import math
from typing import Any

from PyQt6.QtCore import QSignalBlocker, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QWidget,
)

from engine.core.knobs import Knob

STEPS = 1000


class KnobEditor(QWidget):
    """A knob's editor: a spin box (with a log or linear slider for float knobs), a check box or a menu."""

    value_changed = pyqtSignal(object)

    def __init__(self, knob: Knob, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.knob = knob
        self.slider: QSlider | None = None
        self.spin: QAbstractSpinBox | None = None
        self.check: QCheckBox | None = None
        self.menu: QComboBox | None = None
        self.note = QLabel()  # e.g. "300 frames" beside a duration
        self.note.setStyleSheet("color: #8a90a0;")
        self.note.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)  # never squeezed
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        if knob.kind == "bool":
            self.check = QCheckBox(knob.label)
            self.check.toggled.connect(lambda v: self.value_changed.emit(bool(v)))
            lay.addWidget(self.check)
        elif knob.kind == "choice":
            self.menu = QComboBox()
            for c in knob.choices:
                self.menu.addItem(str(c), c)
            self.menu.activated.connect(lambda _i: self.value_changed.emit(self.menu.currentData()))
            lay.addWidget(self.menu, 1)
        else:
            self.spin = self._make_spin(knob)
            self.spin.valueChanged.connect(self._from_spin)
            if knob.kind == "float":
                self.slider = QSlider(Qt.Orientation.Horizontal)
                self.slider.setRange(0, STEPS)
                self.slider.setMinimumWidth(70)
                self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
                self.slider.valueChanged.connect(self._from_slider)
                lay.addWidget(self.slider, 1)
            lay.addWidget(self.spin)
        lay.addWidget(self.note)
        self.set_value(knob.default)
        self.setToolTip(knob.tip)

    @staticmethod
    def _make_spin(knob: Knob) -> QAbstractSpinBox:
        if knob.kind == "int":
            spin: QAbstractSpinBox = QSpinBox()
            spin.setRange(int(knob.lo), int(min(knob.hi, 2**31 - 1)))
            spin.setSingleStep(int(knob.step))
        else:
            spin = QDoubleSpinBox()
            spin.setDecimals(knob.decimals)
            spin.setRange(float(knob.lo), float(knob.hi))
            spin.setSingleStep(knob.step if knob.scale == "linear" else 0.05)
            spin.setMinimumWidth(76)
        if knob.unit:
            spin.setSuffix(f" {knob.unit}")
        spin.setKeyboardTracking(False)  # typing "12" is not two changes; commit() takes unconfirmed text
        spin.setAccelerated(True)
        return spin

    # -- value ---------------------------------------------------------------------

    def value(self) -> Any:
        """The value shown."""
        if self.check is not None:
            return self.check.isChecked()
        if self.menu is not None:
            return self.menu.currentData()
        assert self.spin is not None
        return self.spin.value()

    def set_value(self, value: Any) -> None:
        """Show ``value`` without emitting ``value_changed``."""
        blockers = [QSignalBlocker(w) for w in (self.check, self.menu, self.spin, self.slider) if w is not None]
        try:
            if self.check is not None:
                self.check.setChecked(bool(value))
            elif self.menu is not None:
                i = self.menu.findData(value)
                self.menu.setCurrentIndex(max(i, 0))
            else:
                assert self.spin is not None
                self.spin.setValue(value)
                if self.slider is not None:
                    self.slider.setValue(self._pos(float(value)))
        finally:
            del blockers

    def set_choices(self, items: list[tuple[str, Any]]) -> None:
        """Replace a menu's entries (e.g. the mixture components of a new model), keeping the value."""
        assert self.menu is not None
        current = self.menu.currentData()
        with QSignalBlocker(self.menu):
            self.menu.clear()
            for text, data in items:
                self.menu.addItem(text, data)
        self.set_value(current)

    def commit(self) -> None:
        """Take text typed but not yet confirmed (Enter or leaving the field do that too).

        Whether or not the field still has the focus: a menu shortcut, a button or a dialog may
        have taken it without the text being read.
        """
        if self.spin is not None and self.spin.isEnabled():
            self.spin.interpretText()

    def setToolTip(self, text: str) -> None:
        """Tooltip on every part of the editor."""
        super().setToolTip(text)
        for w in (self.slider, self.spin, self.check, self.menu):
            if w is not None:
                w.setToolTip(text)

    # -- slider <-> spin ---------------------------------------------------------------

    def _pos(self, v: float) -> int:
        k = self.knob
        lo, hi = k.slider_lo, float(k.hi)
        v = min(max(v, lo), hi)
        if k.scale == "log":
            return round(STEPS * math.log(v / lo) / math.log(hi / lo))
        return round(STEPS * (v - lo) / (hi - lo))

    def _val(self, pos: int) -> float:
        k = self.knob
        lo, hi = k.slider_lo, float(k.hi)
        v = lo * (hi / lo) ** (pos / STEPS) if k.scale == "log" else lo + (hi - lo) * pos / STEPS
        return float(f"{v:.{k.decimals}f}")

    def _from_slider(self, pos: int) -> None:
        assert self.spin is not None
        v = self._val(pos)
        with QSignalBlocker(self.spin):
            self.spin.setValue(v)
        self.value_changed.emit(v)

    def _from_spin(self, v: float) -> None:
        if self.slider is not None:
            with QSignalBlocker(self.slider):
                self.slider.setValue(self._pos(float(v)))
        self.value_changed.emit(v)


def commit_all(root: QWidget) -> None:
    """Commit every knob editor under ``root``: actions call this first, so no typed value is ever lost."""
    for editor in root.findChildren(KnobEditor):
        editor.commit()
