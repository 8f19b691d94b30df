"""File dialogs: open, the layout chooser for ambiguous arrays, export, overwrite confirmation.

Each dialog is a module-level function so that tests (and other front ends)
can replace it (``monkeypatch.setattr(files, "ask_export", ...)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.dance.export import DATA_FORMATS
from engine.dance.motion import LOADABLE, detect_layout

MODEL_SUFFIXES = (".pt",)
OPENABLE = (*LOADABLE, *MODEL_SUFFIXES)
AMBIGUOUS_RATIO = 1.5  # below this, the frames/joints axes are not clearly told apart
EXPORT_FORMATS = {
    "MP4 video": ".mp4",
    "GIF animation": ".gif",
    "NumPy array (.npy)": ".npy",
    "CSV table": ".csv",
    "NumPy archive with names, bones, fps (.npz)": ".npz",
    "JSON for web viewers": ".json",
    "BVH with joint rotations (Blender, Maya, MotionBuilder)": ".bvh",
    "glTF binary, animated skeleton (three.js, Blender, Unity)": ".glb",
}
DATA_SUFFIXES = DATA_FORMATS  # written one file per variation


def open_filter() -> str:
    """Name filter of the open dialog."""
    pats = " ".join(f"*{s}" for s in OPENABLE)
    return f"Mocap clips and models ({pats});;Mocap clips ({' '.join('*' + s for s in LOADABLE)});;" \
           "Dance models (*.pt);;All files (*)"


def ask_open(parent: QWidget | None) -> str | None:
    """Ask for a clip or model to open; None when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open clip or model", "", open_filter())
    return path or None


def layout_ambiguity(path: str | Path) -> tuple[str, str] | None:
    """``(detected layout, note)`` when a ``.npy`` array's layout is not clear-cut, else None."""
    path = Path(path)
    if path.suffix.lower() != ".npy":
        return None
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return None
    if arr.ndim != 3 or arr.shape[2] != 3 or min(arr.shape[:2]) < 2:
        return None
    layout, note = detect_layout(arr)
    m = re.search(r"steps ([0-9.e+]+|inf)x", note)
    ratio = float(m.group(1)) if m else float("inf")
    return (layout, note) if ratio < AMBIGUOUS_RATIO else None


def ask_layout(parent: QWidget | None, path: str | Path, detected: str, note: str) -> str | None:
    """Let the user say how an ambiguous array is stored; None when cancelled."""
    shape = tuple(np.load(path, mmap_mode="r").shape)
    options = [f"frames-first: {shape[0]} frames of {shape[1]} joints",
               f"joints-first: {shape[1]} frames of {shape[0]} joints"]
    current = 0 if detected == "frames-first" else 1
    choice, ok = QInputDialog.getItem(
        parent, "How is this clip stored?",
        f"{Path(path).name} has shape {shape}; the layout could not be told apart with confidence.\n"
        f"Best guess: {note}.\nHow is it stored?", options, current, False)
    if not ok:
        return None
    return "frames-first" if choice == options[0] else "joints-first"


@dataclass(frozen=True)
class ExportChoice:
    """What the export dialog returned."""

    path: Path
    what: str  # "take" | "motion"


class ExportDialog(QDialog):
    """Choose what to export (take or clip), the format and the file."""

    def __init__(self, parent: QWidget | None, has_take: bool, variations: int = 1,
                 default: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.what = QComboBox()
        if has_take:
            self.what.addItem(f"The take on stage ({variations} variation{'s' if variations > 1 else ''})", "take")
        self.what.addItem("The clip on its own", "motion")
        self.fmt = QComboBox()
        for label, suffix in EXPORT_FORMATS.items():
            self.fmt.addItem(label, suffix)
        default = default or Path.home() / "take.mp4"
        self.fmt.setCurrentIndex(max(0, self.fmt.findData(default.suffix.lower())))
        self.path = QLineEdit(str(default))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.fmt.currentIndexChanged.connect(self._fix_suffix)
        self.note = QLabel("Videos show exactly what the stage plays: the take (variations side by side), the "
                           "ghost of its clip, and the lead-in when it is on. Data files hold the take's frames "
                           "(_v0, _v1… per variation). An existing file is never replaced without asking.")
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Export", self.what)
        form.addRow("Format", self.fmt)
        form.addRow("File", row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.note)
        lay.addWidget(buttons)
        self.resize(520, 180)

    def _fix_suffix(self) -> None:
        p = Path(self.path.text() or "take")
        self.path.setText(str(p.with_suffix(self.fmt.currentData())))

    def _browse(self) -> None:
        suffix = self.fmt.currentData()
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text(), f"*{suffix}",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.path.setText(str(Path(path).with_suffix(suffix)) if not path.endswith(suffix) else path)

    def choice(self) -> ExportChoice:
        """The chosen file and content."""
        p = Path(self.path.text()).expanduser()
        if p.suffix.lower() != self.fmt.currentData():
            p = p.with_suffix(self.fmt.currentData())
        return ExportChoice(p, self.what.currentData())


def ask_export(parent: QWidget | None, has_take: bool, variations: int = 1,
               default: Path | None = None) -> ExportChoice | None:
    """Run the export dialog (``default``: the file it proposes); None when cancelled."""
    dlg = ExportDialog(parent, has_take, variations, default)
    return dlg.choice() if dlg.exec() == QDialog.DialogCode.Accepted else None


def export_targets(path: Path, variations: int) -> list[Path]:
    """Files an export will write (data formats write one file per variation)."""
    if variations > 1 and path.suffix.lower() in DATA_SUFFIXES:
        return [path.with_name(f"{path.stem}_v{i}{path.suffix}") for i in range(variations)]
    return [path]


def confirm_overwrite(parent: QWidget | None, paths: list[Path]) -> bool:
    """Ask before replacing existing files; True to replace."""
    names = "\n".join(str(p) for p in paths[:6]) + ("\n…" if len(paths) > 6 else "")
    answer = QMessageBox.question(parent, "Replace existing file?",
                                  f"These files already exist:\n{names}\n\nReplace them?",
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def ask_save_path(parent: QWidget | None, title: str, default: str, pattern: str) -> str | None:
    """A save dialog (Qt asks before replacing a file); None when cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, title, default, pattern)
    return path or None


def _choose(parent: QWidget | None, title: str, text: str, info: str, choices: list[tuple[str, str, Any]]) -> str:
    """A question with buttons ``(answer, label, role)`` (the first is the default); ``"cancel"`` otherwise."""
    box = QMessageBox(parent)
    box.setWindowTitle(title)
    box.setText(text)
    box.setInformativeText(info)
    buttons = {box.addButton(label, role): answer for answer, label, role in choices}
    box.setDefaultButton(next(iter(buttons)))
    box.exec()
    return buttons.get(box.clickedButton(), "cancel")


def ask_training_close(parent: QWidget | None) -> str:
    """Closing while training: ``"keep"`` (stop, then save the model), ``"discard"`` or ``"cancel"``."""
    role = QMessageBox.ButtonRole
    return _choose(parent, "Training is running", "A model is still training. Stop it and close?",
                   "The model keeps its best weights so far; you can save them before closing.",
                   [("keep", "Stop and keep the model…", role.AcceptRole),
                    ("discard", "Stop and discard", role.DestructiveRole),
                    ("cancel", "Keep training", role.RejectRole)])


def ask_demo_model(parent: QWidget | None) -> str:
    """File > Demo with a model of the user's loaded: ``"clip"`` (keep the model), ``"both"`` or ``"cancel"``."""
    role = QMessageBox.ButtonRole
    return _choose(parent, "Load the demo", "Load the demo dancer. Replace your model with the demo model too?",
                   "Your model is not saved in a file the studio knows about unless you saved it "
                   "(File ▸ Save model). Keeping it leaves it loaded beside the demo dancer.",
                   [("clip", "Demo dancer only (keep my model)", role.AcceptRole),
                    ("both", "Replace my model with the demo's", role.DestructiveRole),
                    ("cancel", "Cancel", role.RejectRole)])
