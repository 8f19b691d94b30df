"""Controls that say why they are greyed out.

A disabled button with no tooltip leaves a person guessing; every control the studio disables
goes through :func:`explain`, which puts the reason (and what to do) in its tooltip, and the
usual tip back when it is enabled again. Qt shows tooltips on disabled widgets too.
"""

from __future__ import annotations

from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QWidget


def explain(control: QWidget | QAction, why_not: str | None, tip: str = "") -> None:
    """Enable ``control`` when ``why_not`` is None (tooltip ``tip``); else disable it, saying why."""
    control.setEnabled(why_not is None)
    control.setToolTip(tip if why_not is None else why_not)
    if isinstance(control, QAction):
        control.setStatusTip(tip if why_not is None else why_not)
