"""Undo and redo in the studio: Qt's ``QUndoStack`` over session edits.

Two kinds of step, both going through the session's own setters and methods (so the notebook and
scripts see the same events):

* **Field changes** (the generation knobs, ``engine.session.keeping.SETTINGS``). The history
  watches the session's change events, so an edit from any panel is recorded without the panel
  knowing about undo. It records only what a person did on the GUI thread: changes made by a
  worker thread (a model finishing training) are skipped, and so are changes that come in the same
  event-loop turn as a new model or clip (loading a model resets the look-back: a consequence, not an
  edit) or while :meth:`UndoHistory.suspended` (opening a project). Consecutive changes of one knob
  within :data:`MERGE_SECONDS` merge into one step (``QUndoCommand.mergeWith``): a slider drag is one
  undo, and a drag back to where it started leaves no step at all.
* **Edits** pushed by the views: rename, favourite and delete a take (:meth:`rename_take`...),
  or anything else with :meth:`push_edit`.

For new kinds of edit: a session field with a change event is one :meth:`track` call (or an entry in
``SETTINGS``, which projects keep too); an operation that is not a field set is one :meth:`push_edit`
with its do and undo; a session method that sets some fields (issue 16's keyframes, kept joints, floor
path, part temperatures: discrete edits that must not merge like a slider drag) is one
:meth:`edit_fields`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from PyQt6.QtCore import QCoreApplication, QObject, QThread, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack
from PyQt6.QtWidgets import QMenu, QMenuBar

from engine.core.errors import ChoreoError
from engine.dance.knobs import GENERATION
from engine.session import Session
from engine.session.keeping import SETTINGS

MERGE_SECONDS = 1.0  # changes of one knob closer together than this are one undo step
_FIELD_ID = 0x5E7  # merge ids: one per tracked field, counted from here


def _label(name: str) -> str:
    knob = GENERATION.get(name)
    return knob.label.lower() if knob is not None else name.replace("_", " ")


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class FieldChange(QUndoCommand):
    """``session.<name>`` from ``old`` to ``new``; already applied when pushed."""

    def __init__(self, history: UndoHistory, name: str, old: Any, new: Any) -> None:
        super().__init__()
        self.history, self.name, self.old, self.new = history, name, old, new
        self.when = time.monotonic()
        self._applied = True  # the session already holds ``new``: the first redo (from push) is a no-op
        self._text()

    def _text(self) -> None:
        self.setText(f"{_label(self.name)} {_shown(self.old)} → {_shown(self.new)}")

    def id(self) -> int:
        return self.history.field_id(self.name)

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, FieldChange) or other.name != self.name or other.when - self.when > MERGE_SECONDS:
            return False
        self.new, self.when = other.new, other.when
        self._text()
        if self.new == self.old:
            self.setObsolete(True)  # dragged back to where it was: no step
        return True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.history.apply(self.name, self.new)

    def undo(self) -> None:
        self.history.apply(self.name, self.old)


class Edit(QUndoCommand):
    """Any edit given as two callables (errors become a message, never an exception in Qt's stack)."""

    def __init__(self, history: UndoHistory, text: str, do: Callable[[], Any], undo: Callable[[], Any]) -> None:
        super().__init__(text)
        self.history, self._do, self._undo = history, do, undo

    def redo(self) -> None:
        self.history.run(self._do)

    def undo(self) -> None:
        self.history.run(self._undo)


class DeleteTake(QUndoCommand):
    """Remove a take; undo puts the very same take back where it was."""

    def __init__(self, history: UndoHistory, number: int, title: str) -> None:
        super().__init__(f"delete {title}")
        self.history, self.number = history, number
        self.removed: tuple[int, Any] | None = None

    def redo(self) -> None:
        self.removed = self.history.run(lambda: self.history.session.delete_take(self.number))

    def undo(self) -> None:
        if self.removed is not None:
            index, take = self.removed
            self.history.run(lambda: self.history.session.restore_take(take, index))


class UndoHistory(QObject):
    """The studio's undo stack over one session (see the module docstring)."""

    error = pyqtSignal(str)

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.stack = QUndoStack(self)
        self._values: dict[str, Any] = {}
        self._ids: dict[str, int] = {}
        self._pending: list[tuple[str, Any, Any]] = []
        self._consequence = False  # a model or clip changed this turn
        self._flush_queued = False
        self._applying = 0
        self._suspended = 0
        self._slots: list[tuple[Any, Callable]] = []
        for name in SETTINGS:
            self.track(name)
        for signal in (session.events.model, session.events.motions):
            self._connect(signal, self._on_source)

    # -- recording ---------------------------------------------------------------------------

    def track(self, name: str) -> None:
        """Record changes of the session field ``name`` (it must have a change event of that name)."""
        self._values[name] = getattr(self.session, name)
        self._ids[name] = _FIELD_ID + len(self._ids)
        self._connect(getattr(self.session.events, name), lambda value, name=name: self._on_field(name, value))

    def field_id(self, name: str) -> int:
        return self._ids[name]

    def _connect(self, signal: Any, slot: Callable) -> None:
        signal.connect(slot, check_nargs=False)  # direct: runs in the thread that made the change
        self._slots.append((signal, slot))

    @staticmethod
    def _on_gui_thread() -> bool:
        app = QCoreApplication.instance()
        return app is not None and QThread.currentThread() == app.thread()

    def _on_field(self, name: str, value: Any) -> None:
        old, self._values[name] = self._values.get(name), value
        if self._applying or self._suspended or not self._on_gui_thread():
            return
        self._pending.append((name, old, value))
        self._flush_soon()

    def _on_source(self, *_: object) -> None:
        if self._on_gui_thread():
            self._consequence = True
            self._flush_soon()

    def _flush_soon(self) -> None:
        if not self._flush_queued:
            self._flush_queued = True
            QTimer.singleShot(0, self._flush)

    def _flush(self) -> None:
        self._flush_queued = False
        pending, self._pending = self._pending, []
        if not self._consequence:
            for name, old, new in pending:
                if old != new:
                    self.stack.push(FieldChange(self, name, old, new))
        self._consequence = False

    @contextlib.contextmanager
    def suspended(self) -> Iterator[None]:
        """Changes inside are not recorded (loading, opening a project)."""
        self._suspended += 1
        try:
            yield
        finally:
            self._suspended -= 1

    # -- applying ----------------------------------------------------------------------------

    def apply(self, name: str, value: Any) -> None:
        """Set a field from undo or redo (not recorded again)."""
        self.run(lambda: setattr(self.session, name, value))

    def run(self, fn: Callable[[], Any]) -> Any:
        """Call ``fn`` without recording what it changes; a ChoreoError becomes ``error``."""
        self._applying += 1
        try:
            return fn()
        except ChoreoError as err:
            self.error.emit(str(err))
            return None
        finally:
            self._applying -= 1

    # -- edits the views push --------------------------------------------------------------------

    def push_edit(self, text: str, do: Callable[[], Any], undo: Callable[[], Any]) -> None:
        """Do an edit now and keep it undoable."""
        self.stack.push(Edit(self, text, do, undo))

    def edit_fields(self, text: str, names: str | tuple[str, ...], change: Callable[[], Any]) -> bool:
        """Run ``change`` (a session method that sets the fields ``names``) and keep it undoable as one step
        that sets those fields back (issue 16's keyframes, kept joints, path and part temperatures).
        A ChoreoError becomes ``error`` (nothing recorded); returns True when the change ran."""
        s = self.session
        names = (names,) if isinstance(names, str) else names
        old = {n: getattr(s, n) for n in names}
        try:
            change()
        except ChoreoError as err:
            self.error.emit(str(err))
            return False
        new = {n: getattr(s, n) for n in names}
        if new != old:
            def put(values: dict[str, Any]) -> None:
                for n, v in values.items():
                    setattr(s, n, v)
            self.push_edit(text, lambda: put(new), lambda: put(old))
        return True

    def rename_take(self, number: int, name: str) -> None:
        """Rename take ``number`` (undoable)."""
        old = self.session.take(number).name
        name = " ".join(name.split())
        if name != old:
            s = self.session
            self.push_edit(f"rename take {number}", lambda: s.rename_take(number, name),
                           lambda: s.rename_take(number, old))

    def set_favourite(self, number: int, favourite: bool) -> None:
        """Mark take ``number`` a favourite or not (undoable)."""
        s = self.session
        if s.take(number).favourite != favourite:
            self.push_edit(f"{'favourite' if favourite else 'unfavourite'} take {number}",
                           lambda: s.set_favourite(number, favourite), lambda: s.set_favourite(number, not favourite))

    def delete_take(self, number: int) -> None:
        """Remove take ``number`` (undoable: it comes back with its frames, name and place)."""
        self.stack.push(DeleteTake(self, number, self.session.take(number).title))

    # -- the menu, and forgetting ------------------------------------------------------------------

    def add_menu(self, bar: QMenuBar, before: QAction | None = None) -> QMenu:
        """An Edit menu with Undo and Redo (their text names the step), before the menu of ``before``."""
        menu = QMenu("&Edit", bar)
        if before is None:
            bar.addMenu(menu)
        else:
            bar.insertMenu(before, menu)
        undo = self.stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        redo = self.stack.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence(QKeySequence.StandardKey.Redo))
        menu.addAction(undo)
        menu.addAction(redo)
        self.actions = (undo, redo)  # PyQt hands these to Python: keep them alive
        return menu

    def clear(self) -> None:
        """Forget every step (another project was opened); the values seen so far are the new start."""
        self.stack.clear()
        self._pending = []
        for name in self._values:
            self._values[name] = getattr(self.session, name)

    def close(self) -> None:
        """Stop watching the session (it may outlive the window)."""
        for signal, slot in self._slots:
            signal.disconnect(slot, missing_ok=True)
        self._slots.clear()
