"""The "Stream to…" toggle: every frame the stage shows goes out as an OSC message.

The timeline is the clock (it plays at the clip's fps), so what a show's TouchDesigner or Max
patch receives is what the studio shows (``engine.session.showing``): the clip, or the take's
first variation over the take's span (the clip during its lead-in); with live mode on, the take
follows the knobs as they move. Messages are the engine's
``/choreo/frame`` (``engine.dance.osc``): frame index, time in seconds, joints x 3 floats in the
source's coordinates.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QInputDialog, QWidget

from engine.core.errors import ChoreoError
from engine.dance.osc import ADDRESS, DEFAULT_HOST, DEFAULT_PORT, OscSender, parse_target
from engine.session import Session
from engine.session.showing import Showing


def ask_target(parent: QWidget | None, default: str) -> str | None:
    """Ask where to stream (``HOST:PORT``); None when cancelled. Replaceable in tests."""
    text, ok = QInputDialog.getText(parent, "Stream to…",
                                    f"Send every shown frame as OSC {ADDRESS} (index, seconds, joints × 3) to "
                                    "HOST:PORT:", text=default)
    return text if ok else None


class OscStreamToggle(QObject):
    """A checkable action; while on, :meth:`send_frame` (wired to the timeline) sends the shown pose."""

    error = pyqtSignal(str)
    message = pyqtSignal(str)

    def __init__(self, parent: QWidget, session: Session, showing: Callable[[], Showing]) -> None:
        super().__init__(parent)
        self._parent, self.session, self._showing = parent, session, showing
        self.target = f"{DEFAULT_HOST}:{DEFAULT_PORT}"
        self.sender: OscSender | None = None
        self.action = QAction("Stream to…", parent)
        self.action.setCheckable(True)
        self.action.setStatusTip(f"Send the dancer to TouchDesigner, Max… as OSC {ADDRESS}, frame by frame")
        self.action.toggled.connect(self._toggled)

    def _toggled(self, on: bool) -> None:
        if not on:
            self.stop()
            return
        if self.sender is not None:
            return
        target = ask_target(self._parent, self.target)
        try:
            if target is None:
                raise ChoreoError("")
            host, port = parse_target(target)
            self.sender = OscSender(host, port)
        except ChoreoError as err:
            self.action.setChecked(False)
            if str(err):
                self.error.emit(str(err))
            return
        self.target = self.sender.target
        self.message.emit(f"Streaming to {self.target} ({ADDRESS}): play, scrub or go live")

    def stop(self) -> None:
        """Stop streaming (the action unchecks)."""
        if self.sender is not None:
            self.sender.close()
            self.sender = None
            self.message.emit(f"Stopped streaming to {self.target}")
        self.action.setChecked(False)

    def pose_at(self, t: int) -> tuple[np.ndarray, float] | None:
        """The pose ``(joints, 3)`` shown at timeline position ``t`` (the take's first variation, else the
        clip, or the clip's lead-in before a take) and the fps, or None when nothing is shown."""
        show = self._showing()
        on_stage = [(f, p) for f, p in zip(show.figures, show.poses(t), strict=True) if p is not None]
        if not on_stage:
            return None
        pose = next((p for f, p in on_stage if f.role != "ghost"), on_stage[0][1])
        return pose, show.fps

    def send_frame(self, t: int) -> None:
        """Send timeline position ``t`` if streaming; a failure stops the stream with a message."""
        if self.sender is None:
            return
        got = self.pose_at(t)
        if got is None:
            return
        pose, fps = got
        try:
            self.sender.send(t, t / fps, pose)
        except ChoreoError as err:
            self.stop()
            self.error.emit(str(err))
