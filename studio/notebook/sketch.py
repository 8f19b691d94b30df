"""``SketchTrainer``: train a Sketch-RNN from a notebook and watch it learn to draw.

```python
from studio.notebook import SketchTrainer

trainer = SketchTrainer("cats.npz")        # a stroke file, one .svg, a folder of SVGs, or a list of drawings
trainer                                    # plan, progress with finished share, loss plot, live sample grid
trainer.train()                            # runs in the background; the widget updates while it trains
trainer.wait(); trainer.drawing.from_scratch(8, temperature=0.4)
```

The same engine objects as the desktop Sketch tab: ``train_sketch`` on an engine ``Worker``,
the trainer's own sample grids (``engine.sketch.progress``: sampled on the training thread from
the weights between two steps), and a :class:`engine.sketch.drawing.SketchDrawing` that draws
with the trained model. Worker events are queued (psygnal ``thread="main"``) and applied from the
kernel's asyncio loop, as ``StudioWidget`` does; in scripts and tests :meth:`SketchTrainer.wait`
applies them. The loss plot and the grid are PNG images (matplotlib Agg, Pillow), so they also
survive a static export of the notebook.
"""

from __future__ import annotations

import asyncio
import html
import time
from pathlib import Path
from typing import Any

import ipywidgets as W
import numpy as np
import psygnal

from engine.core.errors import ChoreoError
from engine.core.training import TrainConfig, TrainEvent, TrainResult
from engine.session import LossHistory
from engine.session.store import pump_in_asyncio
from engine.session.worker import Worker, WorkerError
from engine.sketch.drawing import SketchDrawing
from engine.sketch.model import SketchConfig
from engine.sketch.progress import SAMPLE_EVERY_S
from engine.sketch.render import render_png
from engine.sketch.task import sketch_train_config, train_sketch

from .images import blank_png, loss_plot_png, png_bytes

GRID_CELL = 96  # pixels per drawing in the sample grid
LOSS_REDRAW_S = 0.5


class SketchTrainer(W.VBox):
    """Train button, budget, plan, progress, loss plot and a live grid of sampled drawings.

    data:          a stroke file / SVG / SVG folder path, or drawings (a list or a dict of splits).
    out:           checkpoint to write (default: none kept beyond the run).
    model_config:  model shape (default ``SketchConfig()``).
    train_config:  how to train (default ``sketch_train_config()``; its budget unless the minutes box is > 0).
    minutes:       initial value of the minutes box (0: auto, chosen from the data).
    sample_every_s: seconds between two sample grids.
    """

    def __init__(self, data: Any, *, out: str | Path | None = None, model_config: SketchConfig | None = None,
                 train_config: TrainConfig | None = None, minutes: float = 0.0,
                 sample_every_s: float = SAMPLE_EVERY_S) -> None:
        self.data, self.out = data, out
        self.model_config, self.train_config = model_config, train_config or sketch_train_config()
        self.sample_every_s = sample_every_s
        self.drawing = SketchDrawing()
        self.result: TrainResult | None = None
        self.samples: Any = None
        self.errors: list[str] = []
        self.history = LossHistory()
        self._loss_time = 0.0
        self._closed = False
        self._worker = Worker(device="cpu")
        for signal, slot in ((self._worker.training, self._on_event), (self._worker.training_finished, self._on_done),
                             (self._worker.error, self._on_error)):
            signal.connect(slot, thread="main", check_nargs=False)
        self.minutes = W.BoundedFloatText(value=minutes, min=0.0, max=120.0, step=0.5, description="minutes",
                                          tooltip="training budget; 0 = auto (from the data's size and length)",
                                          style={"description_width": "60px"}, layout=W.Layout(width="150px"))
        self.train_button = W.Button(description="Train", icon="graduation-cap", button_style="success")
        self.cancel_button = W.Button(description="Cancel", icon="stop", disabled=True)
        self.train_button.on_click(lambda _: self.train())
        self.cancel_button.on_click(lambda _: self.cancel())
        self.progress = W.FloatProgress(value=0.0, min=0.0, max=1.0, description="training",
                                        layout=W.Layout(width="320px"))
        self.status = W.HTML("idle")
        self.plan = W.HTML("")
        self.loss_plot = W.Image(value=loss_plot_png(self.history), format="png", width=420, height=220)
        self.grid = W.Image(value=blank_png((4 * GRID_CELL, 2 * GRID_CELL), "drawings appear while it trains"),
                            format="png")
        super().__init__(children=[
            W.HBox([self.minutes, self.train_button, self.cancel_button]),
            W.HBox([self.progress, self.status]), self.plan, W.HBox([self.loss_plot, self.grid])])
        self.add_class("choreo-sketch-trainer")
        self._pump = self._start_pump()

    # -- public ---------------------------------------------------------------------------

    @property
    def model(self) -> Any:
        """The trained model (None before a run ends)."""
        return self.drawing.model

    @property
    def training(self) -> bool:
        """True while the training thread runs."""
        return self._worker.training_active

    def train(self) -> None:
        """Start training in the background (a problem becomes the status line and ``errors``)."""
        if self.training:
            return
        config = self.train_config
        if self.minutes.value > 0:
            config = TrainConfig(**{**config.__dict__, "minutes": float(self.minutes.value), "epochs": None})
        every = self.sample_every_s

        def run(d, **kw):
            return train_sketch(d, sample_every_s=every, **kw)

        self.history, self.samples, self.result = LossHistory(), None, None
        try:
            self._worker.start_training(self.data, model_config=self.model_config, config=config, out=self.out,
                                        train_fn=run)
        except ChoreoError as err:
            self._on_error(WorkerError("training", str(err)))
            return
        self.train_button.disabled, self.cancel_button.disabled = True, False
        self.status.value = "reading the drawings…"

    def cancel(self) -> None:
        """Stop after the current step (the best weights so far are kept)."""
        self._worker.cancel_training()

    def wait(self, timeout: float = 600.0) -> bool:
        """Block until training ends, then update the widget (scripts, tests). False on timeout."""
        ok = self._worker.wait_training(timeout)
        psygnal.emit_queued()
        return ok

    def close(self) -> None:
        """Stop training, join the thread and close the widgets."""
        if not self._closed:
            self._closed = True
            self._worker.shutdown()
            for w in (self.minutes, self.train_button, self.cancel_button, self.progress, self.status, self.plan,
                      self.loss_plot, self.grid):
                w.close()
        super().close()

    # -- events (kernel thread) ----------------------------------------------------------

    def _start_pump(self) -> asyncio.Task | None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return None
        return pump_in_asyncio(lambda: self._closed)

    def _finished_text(self) -> str:
        s = self.samples
        return f" · finished {sum(s.finished)}/{len(s.finished)}" if s is not None else ""

    def _on_event(self, ev: TrainEvent) -> None:
        h = self.history
        if ev.kind == "plan":
            self.plan.value = f"<b>plan</b>: {html.escape(ev.message)}"
        elif ev.kind == "samples":
            self.samples = ev
            self.grid.value = png_bytes(_grid(ev.sketches))
        elif ev.kind == "progress" and ev.train_loss is not None:
            self.history = LossHistory((*h.train_steps, ev.step), (*h.train, ev.train_loss), h.val_steps, h.val)
        elif ev.kind == "validation" and ev.val_loss is not None:
            self.history = LossHistory(h.train_steps, h.train, (*h.val_steps, ev.step), (*h.val, ev.val_loss))
        if ev.kind in ("progress", "validation", "samples"):
            self.progress.value = min(1.0, ev.fraction)
            loss = f" · loss {ev.train_loss:.3f}" if ev.train_loss is not None else ""
            self.status.value = f"step {ev.step}{loss}{self._finished_text()}"
            self._draw_loss()

    def _on_done(self, result: TrainResult) -> None:
        self.result = result
        if result.model is not None and result.steps > 0:
            self.drawing.use(result.model, "trained in this notebook")
        self.progress.value = 1.0
        self.status.value = f"done ({result.stopped}) after {result.steps} steps{self._finished_text()}"
        self._draw_loss(force=True)
        self.train_button.disabled, self.cancel_button.disabled = False, True

    def _on_error(self, err: WorkerError) -> None:
        self.errors.append(err.message)
        self.status.value = f'<span style="color:#b3261e">{html.escape(err.message)}</span>'
        self.train_button.disabled, self.cancel_button.disabled = False, True

    def _draw_loss(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._loss_time >= LOSS_REDRAW_S:
            self._loss_time = now
            self.loss_plot.value = loss_plot_png(self.history)


def _grid(sketches: list) -> np.ndarray:
    return np.asarray(render_png(sketches, cell=GRID_CELL, cols=4))
