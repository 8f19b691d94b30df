"""Generation controls: the knobs of the next take, written straight through to the ``Session``.

Every editor is built from the knob's one definition (``engine.dance.knobs.GENERATION``), writes
its value with a session setter (which validates) and follows the session's change events, so the
notebook, a script or another view can change a knob and this panel shows it.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from engine.core.errors import ChoreoError
from engine.dance.knobs import GENERATION, mixture_choices
from engine.session import Session

from .bridge import SessionBridge
from .knobs import KnobEditor

NUMBERS = ("temperature", "sigma_temperature", "mixture", "look_back", "duration", "rng", "variations")
SWITCHES = ("continue_from_playhead", "live")


class GenerationControls(QWidget):
    """Temperature, sigma temperature, mixture, look-back, length, seed, variations, playhead, live, Generate."""

    error = pyqtSignal(str)

    def __init__(self, session: Session, bridge: SessionBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.editors: dict[str, KnobEditor] = {name: KnobEditor(GENERATION[name]) for name in NUMBERS + SWITCHES}
        for name, editor in self.editors.items():
            setattr(self, name, editor)
        self.generate_btn = QPushButton("Generate")
        self.stop_btn = QPushButton("Stop")
        self.stop_btn.setToolTip("Stop the take being generated (keeps what is done)")
        self.takes = QComboBox()
        self.takes.setToolTip("Takes made so far: pick one to show and export")

        form = QFormLayout()
        for name in NUMBERS:
            form.addRow(GENERATION[name].label, self.editors[name])
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_btn, 1)
        buttons.addWidget(self.stop_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        for name in SWITCHES:
            lay.addWidget(self.editors[name])
        lay.addLayout(buttons)
        form2 = QFormLayout()
        form2.addRow("Take", self.takes)
        lay.addLayout(form2)
        lay.addStretch(1)

        # view -> session
        for name, editor in self.editors.items():
            editor.value_changed.connect(lambda v, name=name: self._write(name, v))
        self.generate_btn.clicked.connect(self.generate)
        self.stop_btn.clicked.connect(session.cancel_generation)
        self.takes.activated.connect(self._pick_take)

        # session -> view
        ev = session.events
        for name, editor in self.editors.items():
            bridge.connect(getattr(ev, name), editor.set_value)
        for sig in (ev.duration, ev.look_back, ev.motion, ev.model):
            bridge.connect(sig, lambda *_: self._show_frames())
        bridge.connect(ev.model, lambda _m: self._refresh_mixtures())
        bridge.connect(ev.takes, lambda _t: self._refresh_takes())
        bridge.connect(ev.current_take, lambda _i: self._refresh_takes())
        bridge.connect(ev.generation_status, self._show_generation_status)
        self.refresh()

    def _write(self, name: str, value: Any) -> None:
        try:
            setattr(self.session, name, value)
        except ChoreoError as err:
            self.error.emit(str(err))
            self.editors[name].set_value(getattr(self.session, name))

    def commit(self) -> None:
        """Take values typed but not confirmed yet (before Generate, or any action that uses them)."""
        for editor in self.editors.values():
            editor.commit()

    def refresh(self) -> None:
        """Show every value of the session."""
        for name, editor in self.editors.items():
            editor.set_value(getattr(self.session, name))
        self._refresh_mixtures()
        self._refresh_takes()
        self._show_frames()
        self._show_generation_status(self.session.generation_status)

    def _show_frames(self) -> None:
        """Frames beside the durations: what a number of seconds means for this clip."""
        s = self.session
        fps = s.fps
        self.editors["duration"].note.setText(f"{s.frames} frames")
        self.editors["look_back"].note.setText(f"{max(1, round(s.look_back * fps))} frames")

    def _refresh_mixtures(self) -> None:
        cfg = self.session.model_config
        self.editors["mixture"].set_choices(mixture_choices(cfg.mixtures if cfg is not None else 0))
        self.editors["mixture"].set_value(self.session.mixture)
        has_model = self.session.model is not None
        self.generate_btn.setEnabled(has_model)
        self.generate_btn.setToolTip("Dance a new take with these settings (Ctrl+G)" if has_model else
                                     "No model yet: train one (Training tab) or load one (File ▸ Load model)")

    def _refresh_takes(self) -> None:
        takes = self.session.takes
        labels = [f"{'★ ' if t.favourite else ''}{t.title}: {t.params.frames / self.session.fps:.1f} s, "
                  f"T={t.params.temperature:g} "
                  f"σ={t.params.sigma_temperature:g} ×{t.params.variations}{' (live)' if t.live else ''}"
                  for t in takes]
        if labels != [self.takes.itemText(i) for i in range(self.takes.count())]:
            self.takes.clear()
            self.takes.addItems(labels)
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
        """Start a take with every typed value (errors become a message, never an exception)."""
        self.commit()
        try:
            self.session.generate()
        except ChoreoError as err:
            self.error.emit(str(err))
