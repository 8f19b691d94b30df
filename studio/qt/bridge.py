"""Deliver session events on the Qt thread, and run short blocking jobs off it.

psygnal signals fire in the thread that made the change (often a worker
thread). Every slot is connected with ``thread="main"``; a ``QTimer`` drains
psygnal's queue (``psygnal.emit_queued``) every ~15 ms from the Qt loop, so
slots always run on the GUI thread and the worker never waits for the UI.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import psygnal
from PyQt6.QtCore import QObject, QTimer, pyqtSignal

PUMP_MS = 15


class SessionBridge(QObject):
    """Owns the queue pump and the psygnal connections of the views (disconnected on :meth:`close`)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = PUMP_MS) -> None:
        super().__init__(parent)
        self._connections: list[tuple[Any, Callable]] = []
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.pump)
        self._timer.start()

    def pump(self) -> None:
        """Run the slots queued for the GUI thread."""
        psygnal.emit_queued()

    def connect(self, signal: Any, slot: Callable) -> None:
        """Connect a psygnal ``signal`` to ``slot`` so that the slot runs on the Qt thread."""
        signal.connect(slot, thread="main", check_nargs=False)
        self._connections.append((signal, slot))

    def close(self) -> None:
        """Stop the pump and disconnect every slot."""
        self._timer.stop()
        for sig, slot in self._connections:
            sig.disconnect(slot, missing_ok=True)
        self._connections.clear()
        psygnal.emit_queued()


class BackgroundJob(QObject):
    """Run ``fn()`` on a named thread; ``done(result)`` or ``failed(exception)`` arrive on the Qt thread.

    For short blocking calls that are not training or dance generation (exports, sketch
    sampling): keeps the UI responsive. :meth:`wait` joins the thread (shutdown, tests).
    """

    done = pyqtSignal(object)
    failed = pyqtSignal(object)

    def __init__(self, fn: Callable[[], Any], name: str = "choreo-job", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> BackgroundJob:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """True while the job's thread is alive."""
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the thread; False on timeout."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            result = self._fn()
        except BaseException as err:  # reported on the Qt thread, never raised in the worker
            self.failed.emit(err)
            return
        self.done.emit(result)
