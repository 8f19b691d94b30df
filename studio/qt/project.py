"""Keeping the work in the studio: project files, autosave and recovery, the unsaved-changes mark, the
question before quitting.

* **Project files** (File ▸ Open project…, Save project, Save project as…, Save a copy with the files
  inside…) go through the engine (``session.save_project`` / ``load_project``); the window's view
  (panels, frame, camera) travels in the project's ``view``.
* **Autosave**: while there are unsaved changes, a side file is written every
  :data:`AUTOSAVE_SECONDS` (the first change starts the clock; a slider held for a minute is still
  saved every few seconds) on a background thread, atomically, with absolute paths. Autosaves live in
  one folder (``$CHOREO_AUTOSAVE_DIR``, else the user's app data folder), each beside a ``QLockFile``
  the running studio holds. A saved or cleanly closed project removes its autosave.
* **Recovery**: at start the studio looks for autosaves whose lock no live process holds (the studio
  crashed or was killed, even with SIGKILL: Qt's lock files know their owner's process id) and offers
  to recover each; recovered work opens as unsaved, attached to its project file when it had one.
* **Unsaved changes** show in the title bar (``[*]``, from ``session.modified``); quitting or opening
  another project asks to save them.

The app (``studio.app.create_window``) turns autosave and the quit question on with :meth:`enable`; a
bare ``MainWindow`` (tests, embedding) keeps files only when asked.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QLockFile, QObject, QStandardPaths, QTimer, pyqtSignal
from PyQt6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence
from PyQt6.QtWidgets import QMenu

from engine.core.errors import ChoreoError
from engine.session import OpenedProject, Problem, Session, write_project
from engine.session.keeping import CHANGES
from engine.session.project import SUFFIX
from engine.session.project_reader import read_header
from engine.session.showing import clip_name

from . import project_dialogs as dialogs
from .bridge import BackgroundJob, SessionBridge
from .menus import add_action
from .undo import UndoHistory

AUTOSAVE_SECONDS = float(os.environ.get("CHOREO_AUTOSAVE_SECONDS", "3"))  # at most this much work is lost


def autosave_dir() -> Path:
    """Where autosaves live: ``$CHOREO_AUTOSAVE_DIR``, else ``<app data>/autosave``."""
    env = os.environ.get("CHOREO_AUTOSAVE_DIR")
    base = Path(env) if env else Path(QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppDataLocation) or Path.home() / ".choreo-studio") / "autosave"
    return base


def _lock(path: Path) -> QLockFile:
    lock = QLockFile(str(path) + ".lock")
    lock.setStaleLockTime(0)  # a live studio's lock never goes stale by age; a dead one's does at once
    return lock


def find_orphans(folder: Path | None = None) -> list[dialogs.Orphan]:
    """Autosaves no running studio holds, newest first (damaged ones are skipped)."""
    folder = folder or autosave_dir()
    found = []
    for path in folder.glob(f"*{SUFFIX}") if folder.is_dir() else ():
        if path.name.startswith("."):  # a write cut short by the crash (atomic writes leave the last good file)
            continue
        lock = _lock(path)
        if not lock.tryLock(0):
            continue  # a running studio's
        lock.unlock()
        try:
            head = read_header(path)
        except ChoreoError:
            continue
        found.append(dialogs.Orphan(path, head["note"].get("autosave_of"), head["saved_at"], head["takes"]))
    return sorted(found, key=lambda o: o.path.stat().st_mtime, reverse=True)


def discard_autosave(path: Path) -> None:
    """Remove an autosave and its lock file."""
    path.unlink(missing_ok=True)
    Path(str(path) + ".lock").unlink(missing_ok=True)


class ProjectKeeper(QObject):
    """Project files, autosave, recovery and the unsaved mark of one window (see the module docstring)."""

    message = pyqtSignal(str)
    error = pyqtSignal(str)

    def __init__(self, window: Any, session: Session, history: UndoHistory, bridge: SessionBridge) -> None:
        super().__init__(window)
        self.window, self.session, self.history = window, session, history
        self.autosave_enabled = False
        self.ask_on_close = False
        self.autosave_path: Path | None = None
        self._lock: QLockFile | None = None
        self._writer: BackgroundJob | None = None
        self._autosaved: int | None = None  # session revision the autosave holds
        self.problems_dialog: dialogs.ProblemsDialog | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.autosave)
        for name in CHANGES:
            bridge.connect(getattr(session.events, name), self._changed)
        bridge.connect(session.events.motion, lambda _m: self.update_title())
        self.update_title()

    def enable(self, autosave: bool = True, ask_on_close: bool = True) -> None:
        """Turn on autosave and the question before quitting (the app does; tests choose)."""
        self.autosave_enabled, self.ask_on_close = autosave, ask_on_close
        self._changed()

    # -- menu and title ----------------------------------------------------------------------------

    def add_menus(self, menus: dict[str, QMenu]) -> None:
        """The project entries of the File menu (before Export), and an Edit menu with Undo and Redo."""
        file = menus["File"]
        before = next((a for a in file.actions() if a.text().startswith("&Export")), None)
        for text, slot, key, tip in (
                ("Open &project…", self.open_dialog, "Ctrl+Shift+O", f"Open a Choreo Studio project ({SUFFIX})"),
                ("&Save project", self.save, QKeySequence.StandardKey.Save,
                 "Save clips, models, every take with its recipe, names and favourites"),
                ("Save project &as…", self.save_as, None, "Save the project under a new name"),
                ("Save a copy with the &files inside…", self.save_copy_embedded, None,
                 "One self-contained file: clips and models stored inside (to send or archive)")):
            action = add_action(self.window, file, text, slot, key, tip)  # commits typed values first
            if before is not None:
                file.removeAction(action)
                file.insertAction(before, action)
        if before is not None:
            file.insertSeparator(before)
        menus["Edit"] = self.history.add_menu(self.window.menuBar(), before=menus["View"].menuAction())

    def drag_enter(self, e: QDragEnterEvent) -> bool:
        """Accept a dragged project; False when it is not one (the window's opener looks then)."""
        if any(Path(u.toLocalFile()).suffix.lower() == SUFFIX for u in e.mimeData().urls()):
            e.acceptProposedAction()
            return True
        return False

    def drop(self, e: QDropEvent) -> bool:
        """Open a dropped project; False when none was dropped."""
        projects = [Path(u.toLocalFile()) for u in e.mimeData().urls() if u.toLocalFile().lower().endswith(SUFFIX)]
        if not projects:
            return False
        e.acceptProposedAction()
        self.open(projects[0])
        return True

    def name(self) -> str:
        """What the title bar calls the work: the project file, else the clip, else "untitled"."""
        s = self.session
        if s.project_path is not None:
            return s.project_path.name
        return clip_name(s.motion) if s.motion is not None else "untitled"

    def update_title(self) -> None:
        """``name[*] — Choreo Studio``; Qt shows ``*`` while there are unsaved changes."""
        self.window.setWindowTitle(f"{self.name()}[*] — Choreo Studio")
        self.window.setWindowModified(self.session.modified)

    def _changed(self, *_: object) -> None:
        self.update_title()
        if self.autosave_enabled and self.session.modified and not self._timer.isActive():
            self._timer.start(int(AUTOSAVE_SECONDS * 1000))

    # -- view --------------------------------------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """The window's own state a project keeps: tabs, panel, frame, camera."""
        w = self.window
        cam = w.stage.stage.view.camera
        return {"tab": w.tabs.currentIndex(), "panel": w.panels.currentIndex(), "frame": w.timeline.frame,
                "camera": {"azimuth": float(cam.azimuth), "elevation": float(cam.elevation),
                           "distance": None if cam.distance is None else float(cam.distance),
                           "center": [float(c) for c in cam.center]}}

    def apply_view(self, view: Any) -> None:
        """Restore :meth:`view`'s output (anything odd in it is ignored: it came from a file)."""
        w = self.window
        try:
            w.tabs.setCurrentIndex(int(view.get("tab", 0)))
            w.panels.setCurrentIndex(int(view.get("panel", 0)))
            w.timeline.set_frame(int(view.get("frame", 0)))
            cam, c = w.stage.stage.view.camera, view.get("camera") or {}
            cam.azimuth, cam.elevation = float(c["azimuth"]), float(c["elevation"])
            if c.get("distance") is not None:
                cam.distance = float(c["distance"])
            cam.center = tuple(float(v) for v in c["center"][:3])
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            pass

    # -- saving ------------------------------------------------------------------------------------

    def save(self) -> bool:
        """Save to the project file (asks where the first time); True when saved."""
        if self.session.project_path is None:
            return self.save_as()
        return self._save(self.session.project_path)

    def save_as(self) -> bool:
        """Ask where, then save there; True when saved."""
        default = self.session.project_path or Path.home() / f"{Path(self.name()).stem or 'piece'}{SUFFIX}"
        path = self._ask_path("Save project", str(default))
        return self._save(path) if path is not None else False

    def _ask_path(self, title: str, default: str) -> Path | None:
        path = dialogs.ask_project_path(self.window, title, default)
        if not path:
            return None
        path = Path(path)
        return path if path.suffix.lower() == SUFFIX else path.with_name(path.name + SUFFIX)

    def save_copy_embedded(self) -> bool:
        """Save a self-contained copy (clips and models inside); the open project stays where it is."""
        path = self._ask_path("Save a copy with the files inside", "piece-complete" + SUFFIX)
        if path is None:
            return False
        try:
            write_project(self.session.project_snapshot(self.view()), path, embed=True)
        except ChoreoError as err:
            self.error.emit(str(err))
            return False
        self.message.emit(f"Saved a self-contained copy to {path}")
        return True

    def _save(self, path: Path) -> bool:
        try:
            self.session.save_project(path, view=self.view())
        except ChoreoError as err:
            self.error.emit(str(err))
            return False
        self._drop_autosave()
        self.update_title()
        self.message.emit(f"Saved {path}")
        return True

    # -- opening -----------------------------------------------------------------------------------

    def open_dialog(self) -> None:
        """Ask for a project, then open it."""
        path = dialogs.ask_open_project(self.window)
        if path:
            self.open(path)

    def confirm_discard(self) -> bool:
        """Before the work is replaced or the window closes: True to go on (saved, or changes discarded)."""
        if not self.ask_on_close or not self.session.modified:
            return True
        choice = dialogs.ask_save_changes(self.window, self.name())
        return self.save() if choice == "save" else choice == "discard"

    def open(self, path: str | Path, *, ask: bool = True) -> OpenedProject | None:
        """Open a project (asking first about unsaved changes); problems are shown with "Locate…"."""
        if ask and not self.confirm_discard():
            return None
        try:
            with self.history.suspended():
                opened = self.session.load_project(path)
        except ChoreoError as err:
            self.error.emit(str(err))
            return None
        self._after_open(opened)
        takes = len(self.session.takes)
        self.message.emit(f"Opened {Path(path).name}: {takes} take(s)"
                          + (f"; {len(opened.problems)} file(s) missing" if opened.problems else ""))
        return opened

    def _after_open(self, opened: OpenedProject) -> None:
        self.history.clear()
        self._drop_autosave()
        self.apply_view(opened.view)
        self.update_title()
        if opened.problems:
            self.problems_dialog = dialogs.show_problems(self.window, opened.problems, self.locate)

    def locate(self, problem: Problem, path: str | Path) -> str | None:
        """Find a missing clip or model at ``path``; returns None when found, else the reason."""
        try:
            with self.history.suspended():
                self.session.locate(problem.id, path)
        except ChoreoError as err:
            return str(err)
        self.message.emit(f"Found {problem.name} at {path}")
        return None

    # -- autosave ----------------------------------------------------------------------------------

    def autosave(self) -> BackgroundJob | None:
        """Write the autosave side file now (on a background thread); None when nothing is unsaved."""
        s = self.session
        if not s.modified or self._autosaved == s.revision:
            return None
        if self._writer is not None and self._writer.running:
            self._timer.start(200)  # the previous write is still going: soon
            return None
        if self.autosave_path is None:
            folder = autosave_dir()
            folder.mkdir(parents=True, exist_ok=True)
            stem = Path(self.name()).stem.replace(":", "-") or "untitled"
            self.autosave_path = folder / f"{stem}-{_dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}{SUFFIX}"
        if self._lock is None:
            self._lock = _lock(self.autosave_path)
            self._lock.tryLock(0)
        revision = s.revision
        snapshot = s.project_snapshot(self.view())
        note = {"autosave_of": None if s.project_path is None else str(s.project_path.resolve()),
                "pid": os.getpid()}
        path = self.autosave_path
        job = BackgroundJob(lambda: write_project(snapshot, path, relative_paths=False, note=note),
                            name="choreo-autosave", parent=self)
        job.done.connect(lambda _p: self._autosave_done(revision))
        job.failed.connect(lambda err: self.error.emit(f"Autosave failed: {err}"))
        self._writer = job
        return job.start()

    def _autosave_done(self, revision: int) -> None:
        self._autosaved = revision
        if self.autosave_enabled and self.session.modified and self.session.revision != revision:
            self._timer.start(int(AUTOSAVE_SECONDS * 1000))  # changed while writing

    def _drop_autosave(self) -> None:
        self._timer.stop()
        if self._writer is not None:
            self._writer.wait(60)
        if self.autosave_path is not None:
            self.autosave_path.unlink(missing_ok=True)
        self._autosaved = None

    # -- recovery ----------------------------------------------------------------------------------

    def offer_recovery(self) -> bool:
        """Offer each autosave a crashed or killed studio left behind; True when one was recovered."""
        for orphan in find_orphans():
            choice = dialogs.ask_recover(self.window, orphan)
            if choice == "discard":
                discard_autosave(orphan.path)
            elif choice == "recover":
                return self.recover(orphan)
        return False

    def recover(self, orphan: dialogs.Orphan) -> bool:
        """Open an orphaned autosave as unsaved work; it becomes this studio's autosave."""
        opened = self.open(orphan.path, ask=False)
        if opened is None:
            return False
        self.session.project_path = Path(orphan.of) if orphan.of else None
        self.session.mark_saved(False)
        self._release()
        self.autosave_path, self._lock = orphan.path, _lock(orphan.path)  # kept until this work is saved
        self._lock.tryLock(0)
        self.update_title()
        self._changed()
        self.message.emit(f"Recovered unsaved work from {orphan.saved_at.replace('T', ' ')}: save it to keep it")
        return True

    # -- closing -----------------------------------------------------------------------------------

    def _release(self) -> None:
        """Remove this studio's autosave and give up its lock."""
        self._drop_autosave()
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
        if self.autosave_path is not None:
            discard_autosave(self.autosave_path)
            self.autosave_path = None

    def close(self) -> None:
        """The window closes (its changes saved or discarded): remove the autosave and its lock."""
        self._release()
        if self.problems_dialog is not None:
            self.problems_dialog.close()
