"""The takes of a session: made by the worker, published as immutable values.

A take being generated is written into a private buffer; after every chunk of frames the shelf
publishes a new :class:`Take` (same ``id``) whose ``positions`` is a read-only view of the frames
made so far, so a published take never changes under a reader. ``takes`` fires whenever the
tuple changes; ``take_frames`` carries just the new frames for views that draw as they arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..core.errors import ChoreoError
from ..dance.motion import Motion
from .recipe import Recipe
from .state import Take, TakeFrames
from .store import StateStore
from .worker import FrameChunk


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

    def start(self, take_id: int, recipe: Recipe, n_joints: int, live: bool,
              seed: Motion | None = None) -> Take:
        """Publish an empty take about to be generated (continuing ``seed``) and make it current.

        A take still generating is published as cancelled. A live take replaces the current
        live take (and keeps its number) instead of adding one.
        """
        params = recipe.params
        buffer = np.zeros((params.variations, params.frames, n_joints, 3), np.float32)
        with self.store.lock:
            takes = [replace(t, status="cancelled") if t.status == "generating" else t for t in self.takes]
            self._buffers = {take_id: buffer}  # only the newest take is still being written
            cur = self.store["current_take"]
            replacing = live and 0 <= cur < len(takes) and takes[cur].live
            number = takes[cur].number if replacing else self.store["next_take"]
            take = Take(take_id, _frozen(buffer[:, :0]), recipe, live=live, seed=seed, number=number)
            if replacing:
                takes[cur] = take
                index = cur
            else:
                takes.append(take)
                index = len(takes) - 1
                self.store.assign("next_take", number + 1)
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
        positions, name = take.positions[variation], take.title
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

    # -- edits (each publishes new takes; undo stacks and notebooks drive them) -------------------

    def by_number(self, number: int) -> tuple[int, Take]:
        """(index, take) of take ``number``; ChoreoError when there is none."""
        for i, t in enumerate(self.takes):
            if t.number == number:
                return i, t
        numbers = ", ".join(str(t.number) for t in self.takes) or "none yet"
        raise ChoreoError(f"there is no take {number!r} (takes: {numbers})")

    def edit(self, number: int, **changes: object) -> Take:
        """Publish take ``number`` with ``changes`` (name, favourite); returns the new value."""
        with self.store.lock:
            index, take = self.by_number(number)
            if all(getattr(take, k) == v for k, v in changes.items()):
                return take
            new = replace(take, **changes)
            self._publish(index, new)
        return new

    def delete(self, number: int) -> tuple[int, Take]:
        """Remove take ``number``; returns (index, take) so it can be put back. The shown take stays
        shown (or the one after it, when it is the one removed)."""
        with self.store.lock:
            index, take = self.by_number(number)
            if take.status == "generating":
                self._buffers.pop(take.id, None)
                take = replace(take, status="cancelled")
            takes = self.takes[:index] + self.takes[index + 1:]
            cur = self.store["current_take"]
            self.store.assign("takes", takes)
            if cur > index or cur >= len(takes):
                self.store.assign("current_take", cur - 1)
        if cur == index and cur < len(takes):  # the same index now shows the next take: announce it
            self.store.events.current_take.emit(cur)
        return index, take

    def insert(self, index: int, take: Take) -> None:
        """Put a removed take back at ``index`` (its number must be free) and show it."""
        with self.store.lock:
            if any(t.number == take.number for t in self.takes):
                raise ChoreoError(f"take {take.number} already exists")
            index = max(0, min(index, len(self.takes)))
            self.store.assign("takes", (*self.takes[:index], take, *self.takes[index:]))
            self.store.assign("next_take", max(self.store["next_take"], take.number + 1))
            self.store.assign("current_take", index)

    def reseed(self, seed_of: Callable[[Take], Motion | None]) -> None:
        """Give takes that do not know the clip they continue the one ``seed_of`` finds (a project's clip
        was located)."""
        with self.store.lock:
            takes = tuple(replace(t, seed=seed_of(t)) if t.seed is None else t for t in self.takes)
            if any(a.seed is not b.seed for a, b in zip(takes, self.takes, strict=True)):
                self.store.assign("takes", takes)

    def replace_all(self, takes: tuple[Take, ...], current: int, next_number: int) -> None:
        """Take these takes (opening a project): ``current`` index shown, numbers go on from ``next_number``."""
        with self.store.lock:
            self._buffers = {}
            self.store.assign("takes", tuple(takes))
            self.store.assign("next_take", max(next_number, 1 + max((t.number for t in takes), default=0)))
            self.store.assign("current_take", current if 0 <= current < len(takes) else len(takes) - 1)
