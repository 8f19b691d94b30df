"""Dialogs of project keeping: save changes?, recover?, where to save, what is missing (and locate it).

Module-level functions so tests (and other front ends) can replace them, like ``files.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.session import Problem
from engine.session.project import SUFFIX

from . import files

PROJECT_FILTER = f"Choreo Studio project (*{SUFFIX})"


@dataclass(frozen=True)
class Orphan:
    """An autosave left behind by a studio that did not close (crashed or was killed)."""

    path: Path
    of: str | None  # the project it belongs to (None: never saved)
    saved_at: str
    takes: int


def ask_save_changes(parent: QWidget | None, name: str) -> str:
    """Closing or opening with unsaved changes: ``"save"``, ``"discard"`` or ``"cancel"``."""
    box = QMessageBox(parent)
    box.setWindowTitle("Unsaved changes")
    box.setText(f"Save the changes to {name}?")
    box.setInformativeText("Takes, names, favourites and settings made since the last save are lost otherwise.")
    save = box.addButton(QMessageBox.StandardButton.Save)
    discard = box.addButton(QMessageBox.StandardButton.Discard)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(save)
    box.exec()
    clicked = box.clickedButton()
    return "save" if clicked is save else "discard" if clicked is discard else "cancel"


def ask_recover(parent: QWidget | None, orphan: Orphan) -> str:
    """An autosave from a studio that did not close: ``"recover"``, ``"discard"`` or ``"later"``."""
    box = QMessageBox(parent)
    box.setWindowTitle("Recover unsaved work?")
    what = Path(orphan.of).name if orphan.of else "an unsaved project"
    box.setText(f"Choreo Studio did not close properly. Recover {what}?")
    box.setInformativeText(f"Autosaved {orphan.saved_at.replace('T', ' ')} with {orphan.takes} take(s). "
                           "Recovering opens it as unsaved work; save it to keep it.")
    recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard it", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(recover)
    box.exec()
    clicked = box.clickedButton()
    return "recover" if clicked is recover else "discard" if clicked is discard else "later"


def ask_project_path(parent: QWidget | None, title: str, default: str) -> str | None:
    """Where to save a project (Qt asks before replacing); None when cancelled."""
    return files.ask_save_path(parent, title, default, PROJECT_FILTER)


def ask_open_project(parent: QWidget | None) -> str | None:
    """A project to open; None when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open project", "", PROJECT_FILTER)
    return path or None


def ask_locate(parent: QWidget | None, problem: Problem) -> str | None:
    """Where a missing clip or model is now; None when cancelled."""
    pattern = "Dance model (*.pt)" if problem.what == "model" else "Mocap clips (*.npy *.npz *.bvh *.csv)"
    path, _ = QFileDialog.getOpenFileName(parent, f"Locate {problem.name}", problem.path or "", pattern)
    return path or None


class ProblemsDialog(QDialog):
    """What the opened project could not find, each with a "Locate…" button (non-blocking)."""

    def __init__(self, parent: QWidget | None, problems: tuple[Problem, ...],
                 locate: Callable[[Problem, str], str | None]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Some files are missing")
        self.locate = locate
        grid = QGridLayout()
        self.rows: dict[str, tuple[QLabel, QPushButton]] = {}
        for i, p in enumerate(problems):
            label = QLabel(p.message)
            label.setWordWrap(True)
            grid.addWidget(label, i, 0)
            if p.what in ("clip", "model"):  # a file to find (a setting out of range is only said)
                button = QPushButton("Locate…")
                button.clicked.connect(lambda _c=False, p=p: self._locate(p))
                grid.addWidget(button, i, 1)
                self.rows[p.id] = (label, button)
        note = QLabel("The takes play from their stored frames. Locate the files to make new takes or to "
                      "regenerate old ones; each is checked to be the very same clip or model.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(grid)
        lay.addWidget(note)
        lay.addWidget(buttons)
        self.resize(560, 120 + 40 * len(problems))

    def _locate(self, problem: Problem) -> None:
        path = ask_locate(self, problem)
        if path:
            self.mark(problem.id, self.locate(problem, path))

    def mark(self, problem_id: str, error: str | None) -> None:
        """Show the outcome of locating ``problem_id`` (``error`` None: found)."""
        label, button = self.rows[problem_id]
        if error is None:
            label.setText(f"✓ {label.text()} — found")
            button.setEnabled(False)
        else:
            label.setText(f"{label.text()}\n✗ {error}")


def show_problems(parent: QWidget | None, problems: tuple[Problem, ...],
                  locate: Callable[[Problem, str], str | None]) -> ProblemsDialog:
    """Show the problems of an opened project (window-modal, returns at once)."""
    dialog = ProblemsDialog(parent, problems, locate)
    dialog.open()
    return dialog
