"""Terminal progress for long engine work (tqdm on stderr)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from tqdm import tqdm

from engine.core.training import NEGATIVE_LOSS_NOTE, TrainEvent

__all__ = ["NEGATIVE_LOSS_NOTE", "count_bar", "sketch_training_bar", "training_bar"]


def training_bar(enabled: bool = True, extra: Callable[[], dict] | None = None
                 ) -> tuple[Callable[[TrainEvent], None], Callable[[], None]]:
    """An ``on_event`` callback drawing a bar over the training budget, and a closer.

    ``extra()`` adds fields to the bar's postfix (e.g. the sketch trainer's finished share).
    """
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
            if extra is not None:
                post.update(extra())
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


def sketch_training_bar(enabled: bool = True) -> tuple[Callable[[TrainEvent], None], Callable[[], None]]:
    """``training_bar`` for Sketch-RNN: prints the training plan, and shows in the bar how many of the
    drawings sampled while it trains are finished ("finished 6/8": ended with the pen lifted)."""
    state: dict = {}
    on_event, close = training_bar(enabled, extra=lambda: {"finished": state["finished"]} if state else {})

    def on_sketch_event(e: TrainEvent) -> None:
        if e.kind == "plan" and enabled:
            tqdm.write(f"plan: {e.message}", file=sys.stderr)
        elif e.kind == "samples":
            state["finished"] = e.message.removesuffix(" finished")
        on_event(e)

    return on_sketch_event, close
