"""The window's menus and keys: :func:`build_menus` makes File, View, Dance and Help.

Every action first commits the values typed in the panels (``knobs.commit_all``), so a number
typed but not confirmed with Enter is never lost, whichever way the action is started.
Other features add their own entries with :func:`add_action` on ``win.menus[name]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence, QShortcut
from PyQt6.QtWidgets import QMenu

from . import helpmenu
from .knobs import commit_all

if TYPE_CHECKING:
    from .window import MainWindow

TRANSPORT = {  # key -> (what it does, timeline method)
    Qt.Key.Key_Space: ("Play / pause", "toggle"),
    Qt.Key.Key_Left: ("One frame back", "back"),
    Qt.Key.Key_Right: ("One frame on", "forward"),
    Qt.Key.Key_Home: ("First frame", "home"),
    Qt.Key.Key_End: ("Last frame", "end"),
}


def add_action(win: MainWindow, menu: QMenu, text: str, slot: Callable[..., Any],
               shortcut: str | QKeySequence.StandardKey | None = None, tip: str = "",
               checkable: bool = False, checked: bool = False) -> QAction:
    """Add an action to ``menu`` that commits typed values, then calls ``slot`` (with the new state
    when ``checkable``)."""
    act = QAction(text, win)
    if shortcut is not None:
        act.setShortcut(QKeySequence(shortcut))
    if tip:
        act.setStatusTip(tip)
        act.setToolTip(tip)
    if checkable:
        act.setCheckable(True)
        act.setChecked(checked)

    def run(on: bool = False) -> None:
        commit_all(win)
        slot(on) if checkable else slot()

    act.triggered.connect(run)
    menu.addAction(act)
    return act


def build_menus(win: MainWindow) -> dict[str, QMenu]:
    """File, View, Dance and Help menus of ``win``, by name (without the ``&``)."""
    bar = win.menuBar()
    menus: dict[str, QMenu] = {}
    for name in ("File", "View", "Dance"):
        menus[name] = bar.addMenu(f"&{name}")
        menus[name].setToolTipsVisible(True)
    m = menus["File"]
    add_action(win, m, "&Open…", win.open_dialog, QKeySequence.StandardKey.Open, "Open a mocap clip or a model")
    add_action(win, m, "&Demo", win.load_demo, "Ctrl+D", "The built-in synthetic dancer and demo model")
    add_action(win, m, "Load &model…", win.training.load_dialog, None, "Load a dance model checkpoint")
    add_action(win, m, "&Save model…", win.training.save_dialog, None, "Save the current model")  # Ctrl+S: project
    m.addSeparator()
    add_action(win, m, "&Export…", win.export_dialog, "Ctrl+E",
               "Export what the stage shows (MP4, GIF), or the take's data (NPY, CSV, NPZ, JSON)")
    add_action(win, m, "Screens&hot…", win.exporter.screenshot_dialog, "Ctrl+Shift+S", "Save a PNG of the window")
    m.addSeparator()
    add_action(win, m, "&Quit", win.close, QKeySequence.StandardKey.Quit)

    v = menus["View"]
    add_action(win, v, "&Frame the dance", win.stage.reframe, "F", "Reset the camera")
    add_action(win, v, "Onion-skin &trail", win.stage.set_trail, "T", "Show recent frames faintly",
               checkable=True, checked=True)
    add_action(win, v, "F&ollow the dancers", lambda on: setattr(win.stage, "follow", on), None,
               "The camera glides after the dancers", checkable=True, checked=True)
    win.proportions_action = add_action(
        win, v, "Restore the body's &proportions", win.opener.set_proportions, None,
        "A clip stored with every axis scaled to the same range (many published dance files) is shown, trained "
        "and generated with its body's proportions restored; exports keep the file's own units. Off: the values "
        "as stored", checkable=True, checked=win.opener.proportions == "auto")
    win.lead_in_action = add_action(win, v, "&Lead-in before the take", win.set_lead_in, "L",
                                    "Play the moment the take continues from (what the model watched) before "
                                    "the take, on the stage and in exported videos", checkable=True,
                                    checked=bool(win.session.lead_in))

    g = menus["Dance"]
    add_action(win, g, "&Generate", win.controls.generate, "Ctrl+G", "Dance a new take with the Generate settings")
    add_action(win, g, "&Train", win.train, "Ctrl+T", "Train a model on the loaded clips (opens the Train tab)")
    add_action(win, g, "&Cancel training", win.session.cancel_training, None, "Stop training after this step")
    add_action(win, g, "Show the &clip on its own", win.session.show_clip, None,
               "Show the clip without a take (the takes stay in the Show menu of the Generate tab)")

    menus["Help"] = helpmenu.build_help_menu(win)
    _transport_keys(win)
    return menus


def _transport_keys(win: MainWindow) -> None:
    tl = win.timeline
    slots = {"toggle": tl.toggle, "back": lambda: tl.step(-1), "forward": lambda: tl.step(1),
             "home": tl.home, "end": tl.end}
    win.transport.update({key: slots[name] for key, (_, name) in TRANSPORT.items()})
    for key, slot in win.transport.items():
        QShortcut(QKeySequence(key), win).activated.connect(slot)
