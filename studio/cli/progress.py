"""Terminal progress for long engine work (tqdm on stderr)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from tqdm import tqdm

from engine.core.training import NEGATIVE_LOSS_NOTE, TrainEvent

__all__ = ["NEGATIVE_LOSS_NOTE", "count_bar", "training_bar"]


def training_bar(enabled: bool = True) -> tuple[Callable[[TrainEvent], None], Callable[[], None]]:
    """An ``on_event`` callback drawing a bar over the training budget, and a closer."""
    bar = tqdm(total=1000, unit="‰", file=sys.stderr, disable=not enabled, dynamic_ncols=True,
               bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}")
    state = {"done": 0}

    def on_event(e: TrainEvent) -> None:
        if e.kind in ("progress", "validation", "done"):
            target = int(1000 * min(1.0, e.fraction))
            if target > state["done"]:
                bar.update(target - state["done"])
                state["done"] = target
            post = {"step": e.step}
            if e.train_loss is not None:
                post["loss"] = f"{e.train_loss:.3f}"
            if e.val_loss is not None:
                post["val"] = f"{e.val_loss:.3f}"
            if e.frames_per_s:
                post["frames/s"] = f"{e.frames_per_s:,.0f}"
            bar.set_postfix(post, refresh=False)
        elif e.kind == "warning":
            bar.write(f"warning: {e.message}", file=sys.stderr)

    return on_event, bar.close


def count_bar(total: int, desc: str, enabled: bool = True) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A ``progress(done, total)`` callback for counted work such as video frames."""
    bar = tqdm(total=total, desc=desc, file=sys.stderr, disable=not enabled, dynamic_ncols=True, leave=False)

    def progress(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    return progress, bar.close
