"""The Device menu: where models train and dance (the CPU, a CUDA GPU, Apple's MPS).

The choices are the training knob's (``engine.dance.knobs.TRAINING["device"]``); one this machine
does not have is greyed out and says why. Choosing one sets ``session.device`` (the loaded model
moves there, the next training runs there); the tick follows the session's ``device`` event.
"""

from __future__ import annotations

import torch
from PyQt6.QtGui import QAction, QActionGroup
from PyQt6.QtWidgets import QMainWindow, QMenu

from engine.core.errors import ChoreoError
from engine.dance.knobs import TRAINING
from engine.session import Session

from .bridge import SessionBridge


def device_choices() -> list[tuple[str, str, bool]]:
    """``(value, label, available)`` for each device of the knob table, as this machine has them."""
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    names = {
        "auto": ("Automatic (a GPU when there is one)", True),
        "cpu": ("CPU", True),
        "cuda": (f"CUDA GPU: {torch.cuda.get_device_name(0)}" if cuda else "CUDA GPU (none found)", cuda),
        "mps": ("Apple GPU (MPS)" if mps else "Apple GPU (MPS, not available)", mps),
    }
    return [(v, *names.get(v, (v, False))) for v in TRAINING["device"].choices]


def add_device_menu(window: QMainWindow, session: Session, bridge: SessionBridge) -> QMenu:
    """Add the Device menu to ``window``'s menu bar (before Help, in ``window.menus``); problems go to
    ``window.show_error``."""
    menu = QMenu("De&vice", window)
    menus = getattr(window, "menus", {})
    if "Help" in menus:
        window.menuBar().insertMenu(menus["Help"].menuAction(), menu)  # before Help, as menus go
    else:
        window.menuBar().addMenu(menu)
    menus["Device"] = menu
    menu.setToolTipsVisible(True)
    group = QActionGroup(menu)
    actions: dict[str, QAction] = {}
    for value, label, available in device_choices():
        act = QAction(label, menu)
        act.setEnabled(available)
        act.setToolTip(TRAINING["device"].tip if available else "this machine has no such device")
        act.triggered.connect(lambda _=False, v=value: choose(v))
        menu.addAction(act)
        if value == "auto":  # an instruction, not a place: it picks one of the others
            menu.addSeparator()
            continue
        act.setCheckable(True)
        group.addAction(act)
        actions[value] = act

    def tick(device: str) -> None:
        act = actions.get(device.split(":")[0])
        if act is not None:
            act.setChecked(True)

    def choose(value: str) -> None:
        try:
            session.device = value
        except ChoreoError as err:
            window.show_error(str(err))  # type: ignore[attr-defined]
        tick(session.device)  # also when nothing changed (e.g. auto on a machine without a GPU)

    tick(session.device)
    bridge.connect(session.events.device, tick)
    return menu
