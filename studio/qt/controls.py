"""Generation controls: the knobs of the next take, written straight through to the ``Session``.

Every widget writes its value with a session setter (which validates) and
follows the session's change events, so the notebook, the CLI-like scripting
console or another view can change a knob and this panel shows it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.core.errors import ChoreoError
from engine.session import Session

from .bridge import SessionBridge

STEPS = 1000


class LogSlider(QWidget):
    """A log-scaled slider with a numeric readout that can also be typed into (0 allowed there)."""

    value_changed = pyqtSignal(float)

    def __init__(self, lo: float, hi: float, value: float, decimals: int = 2, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lo, self.hi = lo, hi
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, STEPS)
        self.spin = QDoubleSpinBox()
        self.spin.setRange(0.0, hi)
        self.spin.setDecimals(decimals)
        self.spin.setSingleStep(0.05)
        self.spin.setKeyboardTracking(False)
        self.spin.setFixedWidth(72)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.spin)
        self._quiet = False
        self.set_value(value)
        self.slider.valueChanged.connect(self._from_slider)
        self.spin.valueChanged.connect(self._from_spin)

    def _pos(self, v: float) -> int:
        v = min(max(v, self.lo), self.hi)
        return round(STEPS * math.log(v / self.lo) / math.log(self.hi / self.lo))

    def _val(self, pos: int) -> float:
        return self.lo * (self.hi / self.lo) ** (pos / STEPS)

    def value(self) -> float:
        """Current value."""
        return float(self.spin.value())

    def set_value(self, v: float) -> None:
        """Show ``v`` without emitting."""
        self._quiet = True
        try:
            self.slider.setValue(self._pos(v))
            self.spin.setValue(v)
        finally:
            self._quiet = False

    def _from_slider(self, pos: int) -> None:
        if self._quiet:
            return
        v = float(f"{self._val(pos):.{self.spin.decimals()}f}")
        self._quiet = True
        try:
            self.spin.setValue(v)
        finally:
            self._quiet = False
        self.value_changed.emit(v)

    def _from_spin(self, v: float) -> None:
        if self._quiet:
            return
        self._quiet = True
        try:
            self.slider.setValue(self._pos(v))
        finally:
            self._quiet = False
        self.value_changed.emit(float(v))

    def setToolTip(self, text: str) -> None:
        """Tooltip on the slider and the readout."""
        super().setToolTip(text)
        self.slider.setToolTip(text)
        self.spin.setToolTip(text)


TIPS = {
    "temperature": "How adventurous the choice of movement is: low = the most typical next move "
                   "(calm, repetitive), high = rarer moves more often (surprising, can get wild). 0 = always "
                   "the most likely kind of move.",
    "sigma_temperature": "How much the chosen move is varied: low = clean, precise, a bit robotic; "
                         "1 = the spread the model learned; higher = looser and jittery.",
    "mixture": "Which of the model's movement modes to draw from: auto samples a mode every frame, "
               "'most likely' always takes the likeliest, a number locks one mode (a movement 'flavour').",
    "look_back": "How many frames of the clip the model watches before it dances on: short = it "
                 "forgets the phrase quickly, long = it keeps the phrase's momentum.",
    "rng_seed": "Random seed: the same seed and settings give the same dance again.",
    "frames": "Length of the take in frames.",
    "variations": "How many different continuations to dance side by side (one colour each).",
    "continue_from_playhead": "Dance on from the pose under the playhead instead of the start of the clip.",
    "live": "Regenerate as soon as a knob moves (the take updates while you drag).",
}


class GenerationControls(QWidget):
    """Temperature, sigma temperature, mixture, look-back, seed, frames, variations, playhead, live, Generate."""

    error = pyqtSignal(str)

    def __init__(self, session: Session, bridge: SessionBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        s = session
        self.temperature = LogSlider(0.05, 5.0, s.temperature)
        self.sigma_temperature = LogSlider(0.05, 5.0, s.sigma_temperature)
        self.mixture = QComboBox()
        self.look_back = QSpinBox()
        self.look_back.setRange(1, 2000)
        self.rng_seed = QSpinBox()
        self.rng_seed.setRange(0, 2**31 - 1)
        self.frames = QSpinBox()
        self.frames.setRange(1, 100_000)
        self.frames.setSingleStep(30)
        self.variations = QSpinBox()
        self.variations.setRange(1, 8)
        self.continue_from_playhead = QCheckBox("Continue from playhead")
        self.live = QCheckBox("Live: regenerate while knobs move")
        for w in (self.look_back, self.rng_seed, self.frames, self.variations):
            w.setKeyboardTracking(False)
        self.generate_btn = QPushButton("Generate")
        self.generate_btn.setToolTip("Dance a new take with these settings (Ctrl+G)")
        self.stop_btn = QPushButton("Stop")
        self.stop_btn.setToolTip("Stop the take being generated (keeps what is done)")
        self.takes = QComboBox()
        self.takes.setToolTip("Takes made so far: pick one to show and export")

        form = QFormLayout()
        form.addRow("Temperature", self.temperature)
        form.addRow("Sigma temperature", self.sigma_temperature)
        form.addRow("Mixture", self.mixture)
        form.addRow("Look-back", self.look_back)
        form.addRow("Seed", self.rng_seed)
        form.addRow("Frames", self.frames)
        form.addRow("Variations", self.variations)
        for name, tip in TIPS.items():
            getattr(self, name).setToolTip(tip)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_btn, 1)
        buttons.addWidget(self.stop_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.continue_from_playhead)
        lay.addWidget(self.live)
        lay.addLayout(buttons)
        form2 = QFormLayout()
        form2.addRow("Take", self.takes)
        lay.addLayout(form2)
        lay.addStretch(1)

        # view -> session
        self.temperature.value_changed.connect(lambda v: self._write("temperature", v))
        self.sigma_temperature.value_changed.connect(lambda v: self._write("sigma_temperature", v))
        self.mixture.activated.connect(lambda _i: self._write("mixture", self.mixture.currentData()))
        self.look_back.valueChanged.connect(lambda v: self._write("look_back", v))
        self.rng_seed.valueChanged.connect(lambda v: self._write("rng_seed", v))
        self.frames.valueChanged.connect(lambda v: self._write("frames", v))
        self.variations.valueChanged.connect(lambda v: self._write("variations", v))
        self.continue_from_playhead.toggled.connect(lambda v: self._write("continue_from_playhead", v))
        self.live.toggled.connect(lambda v: self._write("live", v))
        self.generate_btn.clicked.connect(self.generate)
        self.stop_btn.clicked.connect(session.cancel_generation)
        self.takes.activated.connect(self._pick_take)

        # session -> view
        ev = session.events
        bridge.connect(ev.temperature, self.temperature.set_value)
        bridge.connect(ev.sigma_temperature, self.sigma_temperature.set_value)
        bridge.connect(ev.mixture, self._show_mixture)
        for name in ("look_back", "rng_seed", "frames", "variations"):
            bridge.connect(getattr(ev, name), self._setter(getattr(self, name).setValue, getattr(self, name)))
        bridge.connect(ev.continue_from_playhead,
                       self._setter(self.continue_from_playhead.setChecked, self.continue_from_playhead))
        bridge.connect(ev.live, self._setter(self.live.setChecked, self.live))
        bridge.connect(ev.model, lambda _m: self._refresh_mixtures())
        bridge.connect(ev.takes, lambda _t: self._refresh_takes())
        bridge.connect(ev.current_take, lambda _i: self._refresh_takes())
        bridge.connect(ev.generation_status, self._show_generation_status)
        self.refresh()

    @staticmethod
    def _setter(fn: Callable[[Any], None], widget: QWidget) -> Callable[[Any], None]:
        def set_quietly(value: Any) -> None:
            old = widget.blockSignals(True)
            try:
                fn(value)
            finally:
                widget.blockSignals(old)
        return set_quietly

    def _write(self, name: str, value: Any) -> None:
        try:
            setattr(self.session, name, value)
        except ChoreoError as err:
            self.error.emit(str(err))
            self.refresh()

    def refresh(self) -> None:
        """Show every value of the session."""
        s = self.session
        self.temperature.set_value(s.temperature)
        self.sigma_temperature.set_value(s.sigma_temperature)
        for name in ("look_back", "rng_seed", "frames", "variations"):
            self._setter(getattr(self, name).setValue, getattr(self, name))(getattr(s, name))
        self._setter(self.continue_from_playhead.setChecked, self.continue_from_playhead)(s.continue_from_playhead)
        self._setter(self.live.setChecked, self.live)(s.live)
        self._refresh_mixtures()
        self._refresh_takes()
        self._show_generation_status(s.generation_status)

    def _refresh_mixtures(self) -> None:
        cfg = self.session.model_config
        self.mixture.clear()
        self.mixture.addItem("auto (sample a mode)", "auto")
        self.mixture.addItem("most likely", "argmax")
        for k in range(cfg.mixtures if cfg is not None else 0):
            self.mixture.addItem(f"mode {k}", k)
        self._show_mixture(self.session.mixture)
        has_model = self.session.model is not None
        self.generate_btn.setEnabled(has_model)
        self.generate_btn.setToolTip("Dance a new take with these settings (Ctrl+G)" if has_model else
                                     "Train a model (Training tab) or load one (File ▸ Load model) first")

    def _show_mixture(self, value: Any) -> None:
        i = self.mixture.findData(value)
        self.mixture.setCurrentIndex(max(i, 0))

    def _refresh_takes(self) -> None:
        takes = self.session.takes
        self.takes.clear()
        for t in takes:
            p = t.params
            self.takes.addItem(f"take {t.id}: T={p.temperature:g} σ={p.sigma_temperature:g} "
                               f"×{p.variations}{' (live)' if t.live else ''}")
        if takes and self.session.current_take >= 0:
            self.takes.setCurrentIndex(self.session.current_take)

    def _pick_take(self, index: int) -> None:
        try:
            self.session.select_take(index)
        except ChoreoError as err:
            self.error.emit(str(err))

    def _show_generation_status(self, status: str) -> None:
        self.stop_btn.setEnabled(status == "generating")

    def generate(self) -> None:
        """Start a take (errors become a message, never an exception)."""
        try:
            self.session.generate()
        except ChoreoError as err:
            self.error.emit(str(err))
