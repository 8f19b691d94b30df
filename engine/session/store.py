"""The session's values and how a change is announced.

One dict of values, one lock, one psygnal ``SignalGroup``: :meth:`StateStore.assign` stores a
value and emits ``events.<name>`` (outside the lock) only when it really changed. Values are
immutable (tuples, frozen dataclasses, read-only arrays), so any thread may read them.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import psygnal

from ..core.errors import ChoreoError
from .state import BY_VALUE, SessionEvents

if TYPE_CHECKING:
    from .session import Session


class StateStore:
    """Values by name, announced on change through ``events``."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.events = SessionEvents()
        self.lock = threading.RLock()
        self._values = dict(values)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def assign(self, name: str, value: Any) -> bool:
        """Store ``value``; emit ``events.<name>`` if it changed. True if it changed."""
        with self.lock:
            old = self._values[name]
            if isinstance(old, np.ndarray) or isinstance(value, np.ndarray):
                same = old is value or np.array_equal(old, value)
            elif isinstance(old, BY_VALUE) and type(old) is type(value):
                same = old == value
            else:  # motions, models, takes: a new object is a change
                same = old is value
            if same:
                return False
            self._values[name] = value
        getattr(self.events, name).emit(value)
        return True

    def event_queue(self) -> queue.SimpleQueue:
        """A queue receiving ``(signal_name, args)`` for every event (for polling front ends)."""
        q: queue.SimpleQueue = queue.SimpleQueue()

        def put(info: Any) -> None:
            q.put((info.signal.name, info.args))

        self.events.all.connect(put)
        self._keep_alive = [*getattr(self, "_keep_alive", []), put]  # psygnal holds slots weakly
        return q


def frame_index(name: str, value: Any, lo: int, hi: int | None) -> int:
    """``value`` as a frame number from ``lo`` to ``hi`` (inclusive; no upper bound when None), else ChoreoError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo or \
            (hi is not None and value > hi):
        raise ChoreoError(f"{name} must be a frame from {lo} to {hi if hi is not None else 'the clip end'}, "
                          f"got {value!r}")
    return int(value)


def pump_in_asyncio(is_closed: Callable[[], bool], interval: float = 0.03) -> asyncio.Task:
    """Drain psygnal's ``thread="main"`` queue from the running asyncio loop (Jupyter kernels)."""
    async def pump() -> None:
        while not is_closed():
            psygnal.emit_queued()
            await asyncio.sleep(interval)

    return asyncio.get_event_loop().create_task(pump())


class SessionField:
    """A session field set through a validating setter; a change of a generation knob regenerates
    the live take. ``check(session, value)`` returns the value to store or raises ChoreoError."""

    def __init__(self, check: Callable[[Session, Any], Any], regenerate: bool = True) -> None:
        self.check, self.regenerate = check, regenerate

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Session | None, owner: type) -> Any:
        return self if obj is None else obj.store[self.name]

    def __set__(self, obj: Session, value: Any) -> None:
        value = self.check(obj, value)
        regen = self.regenerate or (self.name == "playhead" and obj.continue_from_playhead)
        if obj.store.assign(self.name, value) and regen and obj.live:
            obj.regenerate_live()
