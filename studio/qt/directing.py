"""The Direct tab: keyframes, body parts to keep or to temper, and a floor path (issue 16).

A thin view over the session's directing fields (``session.keyframes``, ``keep``, ``path``,
``part_temperatures``; ``engine.session.directing``): every button calls a session method through
the undo history (:meth:`UndoHistory.edit_fields`: one undo step each), and the lists, the
timeline's keyframe marks (``keyframes``) and the stage's rings and path (``stage_direct``) follow
the session's change events, so the notebook or a project can change them too. In live mode the
session makes the take again on every change; variations all follow the same direction.

:func:`add_directing` puts it in the window: the tab, the keyframe strip over the timeline, the
stage overlay, and Dance menu entries (K: keyframe at the playhead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine.core.errors import ChoreoError
from engine.session import Session
from engine.session.directing import TAKE_SOURCE

from .bridge import SessionBridge
from .keyframes import POSE_SOURCES, KeyframeTrack
from .menus import add_action
from .reasons import explain
from .stage_direct import StageDirecting
from .undo import UndoHistory

if TYPE_CHECKING:
    from .window import MainWindow

PICKED = "__picked__"  # the part combo's entry for the joints picked on the stage
NO_MODEL = "No model yet: directing shapes the takes a model dances. Train one (Train tab) or load one"
NO_TAKE = "No take on stage: generate one first (Generate tab), then keep from it"


class DirectPanel(QWidget):
    """Keyframes, kept parts, part temperatures and the floor path of the next takes."""

    error = pyqtSignal(str)
    message = pyqtSignal(str)

    def __init__(self, session: Session, bridge: SessionBridge, history: UndoHistory, track: KeyframeTrack,
                 overlay: StageDirecting, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.history, self.track, self.overlay = session, history, track, overlay
        self._parts_of: object = None  # the clip whose groups the part menu lists
        # keyframes
        self.add_key_btn = QPushButton("Keyframe at the playhead  (K)")
        self.pose_from = QComboBox()
        for key, text in POSE_SOURCES.items():
            self.pose_from.addItem(text, key)
        self.pose_from.setToolTip("Whose pose a new keyframe holds: the clip's (the ghost's) at that moment, or the "
                                  "take's as shown (to keep a moment you like when the take is made again)")
        self.key_list = QListWidget()
        self.remove_key_btn = QPushButton("Remove")
        # body parts
        self.part = QComboBox()
        self.part.setToolTip("The part the buttons below act on: a group of the body, or joints picked on the stage")
        self.pick_btn = QPushButton("Pick joints on the stage")
        self.pick_btn.setCheckable(True)
        self.keep_clip_btn = QPushButton("Keep from clip")
        self.keep_take_btn = QPushButton("Keep from take")
        self.keep_list = QListWidget()
        self.remove_keep_btn = QPushButton("Remove")
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 10.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(1.5)
        self.temperature.setToolTip("Above 1: the part moves more freely; below 1: calmer; 1: as learned")
        self.set_temp_btn = QPushButton("Set for the part")
        self.temp_list = QListWidget()
        self.remove_temp_btn = QPushButton("Remove")
        # path
        self.draw_btn = QPushButton("Draw path")
        self.draw_btn.setCheckable(True)
        self.load_path_btn = QPushButton("Load path…")
        self.clear_path_btn = QPushButton("Clear path")
        self.path_label = QLabel()
        self.path_label.setStyleSheet("color: #8a90a0;")
        self.clear_btn = QPushButton("Clear all direction")
        for lst in (self.key_list, self.keep_list, self.temp_list):
            lst.setMaximumHeight(76)
        self._lay_out()

        self.add_key_btn.clicked.connect(track.add_at_playhead)
        self.pose_from.currentIndexChanged.connect(lambda _i: setattr(track, "pose_from", self.pose_from.currentData()))
        self.remove_key_btn.clicked.connect(lambda: track.delete(self.key_list.currentRow()))
        self.key_list.itemDoubleClicked.connect(lambda _i: track.go(self.key_list.currentRow()))
        self.part.currentIndexChanged.connect(lambda _i: self._show_marks())
        self.pick_btn.toggled.connect(overlay.set_picking)
        overlay.picked.connect(self._on_picked)
        self.keep_clip_btn.clicked.connect(lambda: self.keep("clip"))
        self.keep_take_btn.clicked.connect(lambda: self.keep("take"))
        self.remove_keep_btn.clicked.connect(lambda: self.remove_keep(self.keep_list.currentRow()))
        self.set_temp_btn.clicked.connect(lambda: self.set_temperature(self.temperature.value()))
        self.remove_temp_btn.clicked.connect(lambda: self.remove_temperature(self.temp_list.currentRow()))
        self.draw_btn.toggled.connect(self._on_draw_toggled)
        overlay.path_drawn.connect(self.draw_path)
        self.load_path_btn.clicked.connect(self.load_path_dialog)
        self.clear_path_btn.clicked.connect(self.clear_path)
        self.clear_btn.clicked.connect(self.clear_all)
        ev = session.events
        for sig in (ev.keyframes, ev.keep, ev.path, ev.part_temperatures, ev.model, ev.motion, ev.takes,
                    ev.current_take):
            bridge.connect(sig, lambda *_: self.refresh())
        self.refresh()

    def _lay_out(self) -> None:
        def row(*widgets: QWidget) -> QHBoxLayout:
            r = QHBoxLayout()
            for w in widgets:
                r.addWidget(w, 1 if isinstance(w, (QComboBox, QDoubleSpinBox)) else 0)
            return r

        def group(title: str, *rows: QHBoxLayout | QWidget) -> QGroupBox:
            box = QGroupBox(title)
            lay = QVBoxLayout(box)
            for r in rows:
                lay.addLayout(r) if isinstance(r, QHBoxLayout) else lay.addWidget(r)
            return box

        keys = group("Keyframes: be in this pose at this moment", self.add_key_btn,
                     row(QLabel("Pose of"), self.pose_from), self.key_list, row(self.remove_key_btn))
        parts = group("Body parts", row(QLabel("Part"), self.part), self.pick_btn,
                      row(self.keep_clip_btn, self.keep_take_btn), self.keep_list, row(self.remove_keep_btn),
                      row(QLabel("Temperature"), self.temperature, self.set_temp_btn), self.temp_list,
                      row(self.remove_temp_btn))
        path = group("Floor path for the body's centre", row(self.draw_btn, self.load_path_btn, self.clear_path_btn),
                     self.path_label)
        lay = QVBoxLayout(self)
        for w in (keys, parts, path):
            lay.addWidget(w)
        lay.addWidget(self.clear_btn)
        lay.addStretch(1)

    # -- the part --------------------------------------------------------------------

    def part_spec(self) -> str | tuple[int, ...]:
        """What the part menu names: a group name, or the picked joints (ChoreoError when none are picked)."""
        key = self.part.currentData()
        if key == PICKED:
            if not self.overlay.selection:
                raise ChoreoError("No joints picked: Shift+click joints on the stage (or turn on Pick joints)")
            return self.overlay.selection
        if not key:
            raise ChoreoError("No body part to act on: load a model first")
        return str(key)

    def part_joints(self) -> tuple[int, ...]:
        """The joints of the part chosen now (empty when none)."""
        try:
            spec = self.part_spec()
            return self.session.body_parts().resolve(spec) if isinstance(spec, str) else spec
        except ChoreoError:
            return ()

    def _refresh_parts(self) -> None:
        s = self.session
        clip = s.seed_clip()
        if clip is self._parts_of and self.part.count():
            return
        self._parts_of = clip
        current = self.part.currentData()
        self.part.blockSignals(True)
        self.part.clear()
        if clip is not None:
            for name, joints in s.body_parts().groups.items():
                if joints:
                    self.part.addItem(f"{name.replace('_', ' ')}  ({len(joints)} joints)", name)
        self.part.addItem(self._picked_text(), PICKED)
        i = self.part.findData(current)
        self.part.setCurrentIndex(max(i, 0))
        self.part.blockSignals(False)
        self.overlay.selection = ()

    def _picked_text(self) -> str:
        n = len(self.overlay.selection)
        return f"picked on the stage ({n} joint{'s' if n != 1 else ''})"

    def _on_picked(self, joints: tuple) -> None:
        i = self.part.findData(PICKED)
        self.part.setItemText(i, self._picked_text())
        self.part.setCurrentIndex(i)
        self._show_marks()

    def _show_marks(self) -> None:
        s = self.session
        kept = sorted({j for k in s.keep for j in k.joints})
        self.overlay.set_marks(chosen=self.part_joints(), kept=kept, path=s.path)

    # -- edits -----------------------------------------------------------------------

    def keep(self, source: str) -> bool:
        """Keep the chosen part from ``source`` ("clip" or "take"); undoable."""
        try:
            spec = self.part_spec()
        except ChoreoError as err:
            self.error.emit(str(err))
            return False
        label = spec if isinstance(spec, str) else self.session.body_parts().describe(spec)
        return self.history.edit_fields(f"keep {label} from the {source}", "keep",
                                        lambda: self.session.keep_joints(spec, source))

    def remove_keep(self, index: int) -> bool:
        """Stop keeping entry ``index``; undoable."""
        keep = self.session.keep
        if not 0 <= index < len(keep):
            return False
        rest = keep[:index] + keep[index + 1:]
        return self.history.edit_fields(f"stop keeping {keep[index].label}", "keep",
                                        lambda: setattr(self.session, "keep", rest))

    def set_temperature(self, value: float) -> bool:
        """The chosen part's temperature (1 removes it); undoable."""
        try:
            spec = self.part_spec()
        except ChoreoError as err:
            self.error.emit(str(err))
            return False
        return self.history.edit_fields(f"part temperature {value:g}", "part_temperatures",
                                        lambda: self.session.set_part_temperature(spec, value))

    def remove_temperature(self, index: int) -> bool:
        """Remove part temperature ``index``; undoable."""
        parts = self.session.part_temperatures
        if not 0 <= index < len(parts):
            return False
        rest = parts[:index] + parts[index + 1:]
        return self.history.edit_fields(f"remove the {parts[index].label} temperature", "part_temperatures",
                                        lambda: setattr(self.session, "part_temperatures", rest))

    def _on_draw_toggled(self, on: bool) -> None:
        self.overlay.set_drawing(on)
        self.draw_btn.setText("Drawing… (drag on the floor)" if on else "Draw path")
        if on:
            self.message.emit("Seen from above: drag on the floor to draw the path the dancer's centre follows")

    def draw_path(self, points: object) -> bool:
        """A path drawn on the floor (clip floor coordinates), walked at the data's typical speed; undoable."""
        ok = self.history.edit_fields("draw a floor path", "path", lambda: self.session.draw_path(points))
        self.draw_btn.setChecked(False)  # back to the camera as it was, to see the path
        return ok

    def load_path(self, path: str) -> bool:
        """A floor path from a .npy or .svg file; undoable."""
        return self.history.edit_fields("load a floor path", "path", lambda: self.session.load_path(path))

    def load_path_dialog(self) -> None:
        """Ask for a .npy or .svg floor path and load it."""
        path, _ = QFileDialog.getOpenFileName(self, "Load a floor path", "",
                                              "Floor paths (*.npy *.svg);;All files (*)")
        if path:
            self.load_path(path)

    def clear_path(self) -> bool:
        """No floor path; undoable."""
        return self.history.edit_fields("clear the floor path", "path", lambda: setattr(self.session, "path", ()))

    def clear_all(self) -> bool:
        """No keyframes, kept parts, path or part temperatures; undoable."""
        return self.history.edit_fields("clear the direction", ("keyframes", "keep", "path", "part_temperatures"),
                                        self.session.clear_direction)

    # -- session -> view -------------------------------------------------------------

    def _source_name(self, source: str) -> str:
        if not source:
            return "the clip"
        if source.startswith(TAKE_SOURCE):
            try:
                return self.session.take_by_id(int(source[len(TAKE_SOURCE):])).title
            except (ChoreoError, KeyError, ValueError):
                return "a take"
        return source

    def refresh(self) -> None:
        """Show the session's direction, and what can be done now."""
        s = self.session
        self._refresh_parts()
        self.key_list.clear()
        self.key_list.addItems([self.track.describe(k) for k in s.keyframes])
        self.keep_list.clear()
        self.keep_list.addItems([f"{k.label}: follows {self._source_name(k.source)}" for k in s.keep])
        self.temp_list.clear()
        self.temp_list.addItems([f"{p.label}: temperature {p.temperature:g}" for p in s.part_temperatures])
        self.path_label.setText(f"path: {len(s.path)} frames ({len(s.path) / s.fps:.1f} s)" if s.path else
                                "no path: the model decides where the dancer goes")
        no_model = None if s.model is not None else NO_MODEL
        take = s.shelf.current()
        no_take = no_model or (None if take is not None and take.frames_ready else NO_TAKE)
        explain(self.add_key_btn, no_model, "A keyframe at the take frame under the playhead, in the pose chosen "
                                            "below (K). Drag its mark above the timeline to move it")
        explain(self.pose_from, no_model, self.pose_from.toolTip() if no_model is None else "")
        explain(self.part, no_model, "The part the buttons below act on: a group of the body, or joints picked "
                                     "on the stage (Shift+click, or Pick joints)")
        explain(self.pick_btn, no_model, "While on, clicks on the stage pick joints (or take them out) and the "
                                         "camera holds still; Shift+click picks at any time")
        explain(self.keep_clip_btn, no_model, "The part follows the clip the take continues; the model invents "
                                              "the rest of the body around it")
        explain(self.keep_take_btn, no_take, "The part follows the take shown; the model invents the rest")
        explain(self.set_temp_btn, no_model, "Give the part its own temperature (1 removes it)")
        explain(self.draw_btn, no_model, "Look down on the floor and drag the path the dancer's centre follows")
        explain(self.load_path_btn, no_model, "A floor path from a .npy (one point per take frame) or an .svg")
        for btn, lst, what in ((self.remove_key_btn, s.keyframes, "keyframe"), (self.remove_keep_btn, s.keep,
                               "kept part"), (self.remove_temp_btn, s.part_temperatures, "part temperature")):
            explain(btn, None if lst else f"No {what} to remove", f"Remove the selected {what} (undoable)")
        explain(self.clear_path_btn, None if s.path else "No floor path to clear", "Forget the floor path")
        explain(self.clear_btn, None if s.params.direction or s.keyframes else "Nothing is directed yet",
                "No keyframes, kept parts, path or part temperatures: the model alone decides again")
        self._show_marks()


class Directing(QObject):
    """The directing parts of a window: ``track`` (keyframe marks), ``overlay`` (stage), ``panel`` (the tab)."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        s = win.session
        self.track = KeyframeTrack(s, win.bridge, win.stage, win.timeline, win.history, self)
        self.overlay = StageDirecting(win.stage, self)
        self.panel = DirectPanel(s, win.bridge, win.history, self.track, self.overlay)
        scroll = QScrollArea()  # the tab is taller than a small window: it scrolls rather than squeezing the stage
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        win.add_panel(scroll, "Direct")
        for w in (self.track, self.panel):
            w.error.connect(win.show_error)
            w.message.connect(win.show_message)
        m = win.menus["Dance"]
        m.addSeparator()
        self.key_action = add_action(win, m, "&Keyframe at the playhead", self.track.add_at_playhead, "K",
                                     "Be in the pose under the playhead at this moment of the take (Direct tab)")
        add_action(win, m, "Clear the &direction", self.panel.clear_all, None,
                   "No keyframes, kept parts, path or part temperatures")


def add_directing(win: MainWindow) -> Directing:
    """Put the Direct tab, the keyframe marks and the stage's directing into ``win``."""
    return Directing(win)
