"""Help: the keyboard shortcuts (read from the menus themselves, so the list is always true),
a quick tour of the studio, and About."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PyQt6.QtGui import QKeySequence
from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QMenu, QMessageBox, QTextBrowser, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from .window import MainWindow

TOUR = [
    ("Open a clip", "Drop a mocap file (.bvh, .npy, .npz, .csv) on the window, or File ▸ Open. File ▸ Demo "
                    "loads a synthetic dancer and a small model that can already dance."),
    ("Watch and scrub", "Space plays and pauses, ←/→ step one frame, a click on the timeline jumps there. "
                        "Drag on the stage to turn the camera, scroll to zoom, F frames the dance again."),
    ("Train", "In the Train tab, press Train: the model learns the movement in the background while the clip "
              "keeps playing. The curves show how well it predicts the next frame (lower is better; below zero "
              "is normal). Cancel keeps the best model so far."),
    ("Generate", "In the Generate tab, set the length (seconds), temperature and variations, then Generate "
                 "(Ctrl+G). The take dances on from the clip; the grey ghost beside it shows what the real dancer "
                 "did next. Tick 'Continue from playhead' to start from the moment under the playhead."),
    ("Compare", "The Show menu in the Generate tab switches between the clip and every take you made. "
                "View ▸ Lead-in plays the moment the take continues from before it."),
    ("Export", "File ▸ Export writes what the stage shows as MP4 or GIF, or the take's frames as data for "
               "Blender or the web (.npy, .csv, .npz, .json)."),
    ("Sketch", "The Sketch tab: draw the start of a shape and let a Sketch-RNN finish it several ways."),
]


def shortcuts(win: MainWindow) -> list[tuple[str, str]]:
    """``(keys, what)`` for every menu action with a shortcut, then the timeline keys."""
    from .menus import TRANSPORT

    out = []
    for name, menu in win.menus.items():
        for act in menu.actions():
            if not act.shortcut().isEmpty():
                keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                out.append((keys, f"{name} ▸ {act.text().replace('&', '')}"))
    out += [(QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText), what)
            for key, (what, _) in TRANSPORT.items()]
    return out


def _page(parent: QWidget, title: str, body: str) -> QDialog:
    dlg = QDialog(parent)
    dlg.setWindowTitle(title)
    text = QTextBrowser()
    text.setHtml(body)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dlg.reject)
    lay = QVBoxLayout(dlg)
    lay.addWidget(text)
    lay.addWidget(buttons)
    dlg.resize(560, 460)
    dlg.text = text  # type: ignore[attr-defined]  # tests read what it says
    return dlg


def shortcuts_dialog(win: MainWindow) -> QDialog:
    """The keyboard shortcuts, as a table."""
    rows = "".join(f"<tr><td style='padding-right:18px'><b>{html.escape(k)}</b></td><td>{html.escape(w)}</td></tr>"
                   for k, w in shortcuts(win))
    return _page(win, "Keyboard shortcuts", f"<table>{rows}</table>")


def tour_dialog(win: MainWindow) -> QDialog:
    """A few steps through the studio."""
    steps = "".join(f"<li><b>{html.escape(t)}.</b> {html.escape(d)}</li>" for t, d in TOUR)
    return _page(win, "Quick tour", f"<h3>Choreo Studio in seven steps</h3><ol>{steps}</ol>")


def build_help_menu(win: MainWindow) -> QMenu:
    """Help ▸ Keyboard shortcuts, Quick tour, About."""
    from .menus import add_action

    menu = win.menuBar().addMenu("&Help")
    add_action(win, menu, "&Keyboard shortcuts", lambda: shortcuts_dialog(win).exec(), "F1",
               "Every key the studio answers to")
    add_action(win, menu, "Quick &tour", lambda: tour_dialog(win).exec(), None, "Seven steps through the studio")
    add_action(win, menu, "&About Choreo Studio", lambda: QMessageBox.about(
        win, "About Choreo Studio", "Choreo Studio: learn a dancer's movement with an LSTM + mixture density "
        "network and dance on, live. The same engine finishes sketches (Sketch-RNN)."))
    return menu
