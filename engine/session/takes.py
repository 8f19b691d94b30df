"""The takes of a session: made by the worker, published as immutable values.

A take being generated is written into a private buffer; after every chunk of frames the shelf
publishes a new :class:`Take` (same ``id``) whose ``positions`` is a read-only view of the frames
made so far, so a published take never changes under a reader. ``takes`` fires whenever the
tuple changes; ``take_frames`` carries just the new frames for views that draw as they arrive.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..core.errors import ChoreoError
from ..dance.motion import Motion
from .state import Take, TakeFrames
from .store import StateStore
from .worker import FrameChunk, GenerationParams


def _frozen(view: np.ndarray) -> np.ndarray:
    view = view.view()
    view.flags.writeable = False
    return view


class TakeShelf:
    """Adds, streams into, finishes and selects the session's takes."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self._buffers: dict[int, np.ndarray] = {}  # take id -> (variations, frames, joints, 3) being filled

    @property
    def takes(self) -> tuple[Take, ...]:
        return self.store["takes"]

    def find(self, take_id: int) -> tuple[int, Take | None]:
        """(index, take) of the take with ``take_id``; (-1, None) when it is gone."""
        for i, t in enumerate(self.takes):
            if t.id == take_id:
                return i, t
        return -1, None

    def current(self) -> Take | None:
        """The shown take, or None."""
        takes, i = self.takes, self.store["current_take"]
        return takes[i] if 0 <= i < len(takes) else None

    def start(self, take_id: int, params: GenerationParams, n_joints: int, live: bool,
              seed: Motion | None = None) -> Take:
        """Publish an empty take about to be generated (continuing ``seed``) and make it current.

        A take still generating is published as cancelled. A live take replaces the current
        live take instead of adding one.
        """
        buffer = np.zeros((params.variations, params.frames, n_joints, 3), np.float32)
        take = Take(take_id, _frozen(buffer[:, :0]), params, live=live, seed=seed)
        with self.store.lock:
            takes = [replace(t, status="cancelled") if t.status == "generating" else t for t in self.takes]
            self._buffers = {take_id: buffer}  # only the newest take is still being written
            cur = self.store["current_take"]
            if live and 0 <= cur < len(takes) and takes[cur].live:
                takes[cur] = take
                index = cur
            else:
                takes.append(take)
                index = len(takes) - 1
            self.store.assign("takes", tuple(takes))
            self.store.assign("current_take", index)
        return take

    def _publish(self, index: int, take: Take) -> None:
        takes = list(self.takes)
        takes[index] = take
        self.store.assign("takes", tuple(takes))

    def add_frames(self, chunk: FrameChunk) -> TakeFrames | None:
        """Store streamed frames and publish the longer take; None when the take is gone or superseded."""
        with self.store.lock:
            buffer = self._buffers.get(chunk.request_id)
            index, take = self.find(chunk.request_id)
            if buffer is None or take is None:
                return None
            buffer[:, chunk.start : chunk.stop] = chunk.frames
            self._publish(index, replace(take, positions=_frozen(buffer[:, : chunk.stop])))
        return TakeFrames(take.id, index, chunk.start, chunk.frames, chunk.params, chunk.t)

    def finish(self, take_id: int, status: str) -> None:
        """Publish the take's final status (done | cancelled | error)."""
        with self.store.lock:
            self._buffers.pop(take_id, None)
            index, take = self.find(take_id)
            if take is not None and take.status != status:
                self._publish(index, replace(take, status=status))

    def motion(self, index: int, variation: int, source: Motion | None) -> Motion:
        """Take ``index``'s ``variation`` as a Motion standing like the clip it continued (``take.seed``;
        ``source`` for a take that does not know it): that clip's fps, names, bones and layout."""
        takes = self.takes
        if not takes or not -len(takes) <= index < len(takes):
            raise ChoreoError("no take to export: generate one first")
        take = takes[index]
        positions, name = take.positions[variation], f"take {take.id}"
        source = take.seed if take.seed is not None else source
        if source is None or source.n_joints != positions.shape[1]:  # e.g. a clip of another body opened since
            return Motion(positions, source=name)
        return source.like(positions, name)

    def select(self, index: int) -> Take:
        """Show take ``index`` (negative counts from the end). Raises ChoreoError when out of range."""
        takes = self.takes
        if not takes:
            raise ChoreoError("no takes yet")
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -len(takes) <= index < len(takes):
            raise ChoreoError(f"take must be between {-len(takes)} and {len(takes) - 1}, got {index!r}")
        i = int(index) % len(takes)
        self.store.assign("current_take", i)
        return takes[i]
