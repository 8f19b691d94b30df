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
from engine.session import Session, Take
from engine.session.showing import clip_name

from .bridge import SessionBridge
from .knobs import KnobEditor
from .reasons import explain

NUMBERS = ("temperature", "sigma_temperature", "mixture", "look_back", "duration", "rng", "variations")
SWITCHES = ("continue_from_playhead", "live")


def take_label(index: int, take: Take, fps: float) -> str:
    """How a take is named in the menu: its name (or number), favourite star, length in seconds and recipe."""
    p = take.params
    seconds = p.frames / (take.seed.fps if take.seed is not None else fps)
    status = "" if take.status in ("done", "generating") else f" ({take.status})"
    return (f"{'★ ' if take.favourite else ''}{take.title}: {seconds:.1f} s, T={p.temperature:g} "
            f"σ={p.sigma_temperature:g} ×{p.variations}"
            f"{' (live)' if take.live else ''}{status}")


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
        self.takes = QComboBox()
        self.takes.setToolTip("What the stage shows (and Export writes): the clip on its own, or one of the "
                              "takes made so far")

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
        form2.addRow("Show", self.takes)
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
        bridge.connect(ev.fit, lambda _f: self._refresh_mixtures())
        bridge.connect(ev.motion, lambda _m: self._refresh_takes())
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
        s = self.session
        cfg = s.model_config
        self.editors["mixture"].set_choices(mixture_choices(cfg.mixtures if cfg is not None else 0))
        self.editors["mixture"].set_value(s.mixture)
        tip = "Dance a new take with these settings (Ctrl+G)"
        if s.model is not None and not s.fit.ok:
            tip += ". This model does not fit the clip on stage: the take continues the model's own clip"
        explain(self.generate_btn, None if s.model is not None else
                "No model yet: train one (Train tab) or load one (File ▸ Load model)", tip)

    def _refresh_takes(self) -> None:
        s = self.session
        takes = s.takes
        clip = f"the clip on its own: {clip_name(s.motion)}" if s.motion is not None else "the clip on its own"
        labels = [clip] + [take_label(i, t, s.fps) for i, t in enumerate(takes)]
        if labels != [self.takes.itemText(i) for i in range(self.takes.count())]:
            self.takes.clear()
            self.takes.addItems(labels)
        self.takes.setCurrentIndex(s.current_take + 1 if 0 <= s.current_take < len(takes) else 0)

    def _pick_take(self, index: int) -> None:
        try:
            if index <= 0:
                self.session.show_clip()
            else:
                self.session.select_take(index - 1)
        except ChoreoError as err:
            self.error.emit(str(err))

    def _show_generation_status(self, status: str) -> None:
        explain(self.stop_btn, None if status == "generating" else "Nothing is being generated right now",
                "Stop the take being generated (keeps what is done)")

    def generate(self) -> None:
        """Start a take with every typed value (errors become a message, never an exception)."""
        self.commit()
        try:
            self.session.generate()
        except ChoreoError as err:
            self.error.emit(str(err))
