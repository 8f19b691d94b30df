"""``StudioWidget``: ipywidgets over one :class:`engine.session.Session` (see the package docstring)."""

from __future__ import annotations

import asyncio
import html
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import ipywidgets as W
import psygnal

from engine.core.errors import ChoreoError
from engine.core.training import NEGATIVE_LOSS_NOTE, TrainConfig, TrainResult
from engine.dance.knobs import GENERATION, TRAINING, mixture_choices
from engine.dance.model import DanceConfig
from engine.session import LossHistory, Session, TakeFrames, TrainingProgress
from engine.session.worker import WorkerError

from .directing import DirectPanel
from .images import loss_plot_png
from .knobs import STYLE, knob_widget
from .music import MusicPanel
from .stage import NotebookStage

log = logging.getLogger(__name__)

VIEW_SIZE = (480, 360)  # pixels of the 3D view
LOSS_REDRAW_S = 0.5  # redraw the loss plot at most this often while training
_LEVEL_COLOURS = {"info": "#3a6ea5", "error": "#b3261e", "ok": "#2e7d32"}


class StudioWidget(W.VBox):
    """Sliders, timeline, 3D view, training panel and export over one :class:`Session`.

    session:      the evented state to show and drive (not closed by the widget).
    model_config: shape of the model the Train button trains (default: the loaded model's, else
                  ``DanceConfig()``).
    train_config: how the Train button trains (batch, crop length, budget ...). The "minutes"
                  box overrides its budget when above 0.
    train_minutes: initial value of the "minutes" box (0: use ``train_config``'s budget).
    export_dir:   folder that relative export and save paths are resolved against.
    view_size:    (width, height) of the 3D view in pixels.
    """

    def __init__(self, session: Session, *, model_config: DanceConfig | None = None,
                 train_config: TrainConfig | None = None, train_minutes: float = 2.0,
                 export_dir: str | Path = ".", view_size: tuple[int, int] = VIEW_SIZE) -> None:
        self.session = session
        self.model_config = model_config
        self.train_config = train_config or TrainConfig()
        self.export_dir = Path(export_dir)
        self.view_size = (int(view_size[0]), int(view_size[1]))
        self.messages: list[tuple[str, str]] = []  # (level, text), newest last
        self._syncing = False
        self._closed = False
        self._loss_time = 0.0
        self._build(train_minutes)
        super().__init__(children=self._layout())
        self.add_class("choreo-studio")
        for name in self._knobs:
            self._pull(name)
        self._on_model(session.model)
        self._on_motion(session.motion)
        self._on_takes(session.takes)
        self._on_training_status(session.training_status)
        self._on_progress(session.training_progress)
        self._draw_loss(force=True)
        session.events.all.connect(self._on_event, thread="main")
        self._pump = self._start_pump()

    # -- building -----------------------------------------------------------------------

    def _build(self, train_minutes: float) -> None:
        self._knobs: dict[str, W.ValueWidget] = {
            name: knob_widget(knob, getattr(self.session, name)) for name, knob in GENERATION.items()}
        for name, w in self._knobs.items():
            setattr(self, name, w)
        self.duration_frames = W.HTML()
        for name, w in self._knobs.items():
            w.observe(lambda change, name=name: self._push(name, change["new"]), "value")

        self.generate_button = W.Button(description="Generate", icon="play", button_style="primary")
        self.stop_button = W.Button(description="Stop", icon="stop")
        self.generate_button.on_click(lambda _: self._call(self.session.generate))
        self.stop_button.on_click(lambda _: self.session.cancel_generation())
        self.takes = W.Dropdown(options=[], description="take", style=STYLE)
        self.takes.observe(self._on_take_chosen, "value")
        self.model_label = W.HTML()

        self.stage = NotebookStage(self.session, self.view_size, self._push)

        budget = TRAINING["minutes"]
        self.minutes = W.BoundedFloatText(value=train_minutes, min=0.0, max=budget.hi, step=0.5,
                                          description="minutes", tooltip=budget.tip + " (0: the "
                                          "train_config's own budget)", style={"description_width": "60px"},
                                          layout=W.Layout(width="150px"))
        self.train_button = W.Button(description="Train", icon="graduation-cap", button_style="success")
        self.resume_button = W.Button(description="Resume", icon="redo")
        self.cancel_button = W.Button(description="Cancel", icon="times", button_style="warning")
        self.train_button.on_click(lambda _: self._train(resume=False))
        self.resume_button.on_click(lambda _: self._train(resume=True))
        self.cancel_button.on_click(lambda _: self.session.cancel_training())
        self.progress = W.FloatProgress(min=0.0, max=1.0, value=0.0, description="idle",
                                        layout=W.Layout(width="360px"))
        self.train_status = W.HTML()
        self.loss_plot = W.Image(format="png", width=420, height=220)

        self.export_path = W.Text(value="take.gif", description="file", style={"description_width": "40px"},
                                  placeholder="take.gif | .mp4 | .npy | .csv | .json",
                                  layout=W.Layout(width="240px"))
        self.export_what = W.Dropdown(options=["take", "motion"], value="take", layout=W.Layout(width="90px"))
        self.overwrite = W.Checkbox(value=True, description="overwrite", indent=False,
                                    layout=W.Layout(width="100px"))
        self.export_button = W.Button(description="Export", icon="download")
        self.model_path = W.Text(value="model.pt", description="model", style={"description_width": "45px"},
                                 layout=W.Layout(width="200px"))
        self.save_button = W.Button(description="Save model", icon="save")
        self.export_button.on_click(lambda _: self.export())
        self.save_button.on_click(lambda _: self.save_model())
        self.message = W.HTML()
        self.music = MusicPanel(self.session, self._call, self._resolve)
        self.direct = DirectPanel(self.session, self._call, self._resolve)

    def _layout(self) -> list[W.Widget]:
        stage = self.stage.box
        knobs = W.VBox([self.model_label, *(self._knobs[k] for k in self._knobs if k not in
                        ("continue_from_playhead", "live")), self.duration_frames,
                        self.continue_from_playhead, self.live,
                        W.HBox([self.generate_button, self.stop_button]), self.takes],
                       layout=W.Layout(padding="0 0 0 12px"))
        training = W.VBox([W.HTML("<b>Training</b>"),
                           W.HBox([self.minutes, self.train_button, self.resume_button, self.cancel_button]),
                           self.progress, self.train_status,
                           W.HTML(f'<div style="font-size:11px;line-height:1.3">{html.escape(NEGATIVE_LOSS_NOTE)}'
                                  "</div>", layout=W.Layout(width="420px"))])
        export = W.HBox([self.export_path, self.export_what, self.overwrite, self.export_button,
                         self.model_path, self.save_button])
        return [W.HBox([stage, knobs]), self.music, self.direct, W.HBox([training, self.loss_plot]), export,
                self.message]

    def _start_pump(self) -> asyncio.Task | None:
        """Drain queued events from the kernel's asyncio loop, when one runs (Jupyter)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return None
        return self.session.pump_in_asyncio()

    # -- public ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Apply events queued by worker threads now (scripts and tests; Jupyter does it by itself)."""
        psygnal.emit_queued()

    def wait(self, timeout: float = 300.0) -> bool:
        """Block until training and generation finish, then update the widget. False on timeout."""
        ok = self.session.wait_idle(timeout)
        self.flush()
        return ok

    def show_message(self, text: str, level: str = "info") -> None:
        """Show one line in the message area (``level``: info | ok | error)."""
        self.messages.append((level, text))
        colour = _LEVEL_COLOURS.get(level, "#333")
        self.message.value = f'<span style="color:{colour}">{html.escape(text)}</span>'

    def export(self, path: str | Path | None = None) -> Path | list[Path] | None:
        """Export the current take (or the clip) to ``path`` (default: the file box); errors become messages."""
        target = self._resolve(path or self.export_path.value)
        self.show_message(f"exporting {target} ...")
        out = self._call(self.session.export, target, what=self.export_what.value, overwrite=self.overwrite.value)
        if out is not None:
            self.show_message(f"wrote {out}", "ok")
        return out

    def save_model(self, path: str | Path | None = None) -> Path | None:
        """Save the current model's checkpoint (default: the model box); errors become messages."""
        out = self._call(self.session.save_model, self._resolve(path or self.model_path.value),
                         overwrite=self.overwrite.value)
        if out is not None:
            self.show_message(f"saved model to {out}", "ok")
        return out

    def close(self) -> None:
        """Stop listening to the session and close the widgets (the session stays open)."""
        if not self._closed:
            self._closed = True
            self.session.events.all.disconnect(self._on_event, missing_ok=True)
            for w in [*self._all_widgets(), *self.stage.widgets()]:
                w.close()
        super().close()

    # -- helpers --------------------------------------------------------------------------

    def _all_widgets(self) -> list[W.Widget]:
        return [v for v in vars(self).values() if isinstance(v, W.Widget) and v is not self]

    def _resolve(self, path: str | Path) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.export_dir / p

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a session action; a ChoreoError (anything a user can cause) becomes a message."""
        try:
            return fn(*args, **kwargs)
        except ChoreoError as err:
            self.show_message(str(err), "error")
        except Exception as err:  # never a traceback in the widget
            log.exception("studio widget action failed")
            self.show_message(f"Unexpected error: {type(err).__name__}: {err}", "error")
        return None

    def _push(self, name: str, value: Any) -> None:
        """Widget → session; a refused value is reported and the widget reverts."""
        if self._syncing:
            return
        try:
            setattr(self.session, name, value)
        except ChoreoError as err:
            self.show_message(str(err), "error")
            if name in self._knobs:
                self._pull(name)
            else:
                self.stage.retarget()

    def _pull(self, name: str) -> None:
        """Session → widget, without echoing back."""
        w, value = self._knobs[name], getattr(self.session, name)
        self._syncing = True
        try:
            if isinstance(w, W.Dropdown) and value not in [v for _, v in w.options]:
                w.options = [*w.options, (str(value), value)]
            if isinstance(w, W.FloatLogSlider):
                value = max(value, w.base**w.min)  # 0 (always the likeliest) shows at the slider's floor
            w.value = value
        finally:
            self._syncing = False
        self._show_frames()

    def _show_frames(self) -> None:
        """Frames beside the durations: what the seconds mean for the clip takes continue."""
        s = self.session
        self.duration_frames.value = (f'<span style="color:#777">length {s.frames} frames · look-back '
                                      f"{max(1, round(s.look_back * s.fps))} frames at {s.fps:g} fps</span>")

    def _train(self, resume: bool) -> None:
        config = self.train_config
        if self.minutes.value > 0:
            config = replace(config, minutes=float(self.minutes.value), epochs=None)
        self._call(self.session.start_training, config=config, model_config=self.model_config,
                   resume=True if resume else None)

    # -- session events (main thread) -------------------------------------------------------

    def _on_event(self, info: Any) -> None:
        """One slot for every session signal; a display problem becomes a message, never a traceback."""
        if self._closed:
            return
        name, args = info.signal.name, info.args
        try:
            if name in self._knobs:
                self._pull(name)
                if name == "continue_from_playhead":
                    self.stage.update_readout()
            else:
                handler = getattr(self, f"_on_{name}", None)
                if handler is not None:
                    handler(*args)
        except Exception as err:
            log.exception("studio widget could not show %s", name)
            self.show_message(f"display error ({name}): {type(err).__name__}: {err}", "error")

    def _on_model(self, model: Any) -> None:
        self._syncing = True
        try:
            self.mixture.options = mixture_choices(0 if model is None else model.config.mixtures)
            self.mixture.value = self.session.mixture
        finally:
            self._syncing = False
        if model is None:
            self.model_label.value = "<b>model</b>: none yet (train one, or <code>session.load_model(path)</code>)"
        else:
            c = model.config
            self.model_label.value = (f"<b>model</b>: LSTM {c.hidden} × {c.layers} layer(s), "
                                      f"{c.mixtures} mixtures, {c.n_joints} joints")
        self._show_frames()

    def _on_motion(self, motion: Any) -> None:
        self._show_frames()
        self.stage.on_motion(motion)

    def _on_playhead(self, playhead: int) -> None:
        self.stage.on_playhead(playhead)

    def _on_takes(self, _takes: tuple) -> None:
        # the latest takes, not the event's: events queued from the worker can arrive after a newer edit
        # made (and delivered) in this thread
        takes = self.session.takes
        options = [(f"{'★ ' if t.favourite else ''}{t.title}: {t.params.frames} frames × {t.params.variations}"
                    f"{' (live)' if t.live else ''}", i) for i, t in enumerate(takes)]
        self._syncing = True
        try:
            self.takes.options = options
            cur = self.session.current_take
            self.takes.value = cur if 0 <= cur < len(options) else None
        finally:
            self._syncing = False

    def _on_current_take(self, index: int) -> None:
        self._syncing = True
        try:
            self.takes.value = index if 0 <= index < len(self.takes.options) else None
        finally:
            self._syncing = False
        self.stage.on_current_take(index)

    def _on_take_chosen(self, change: dict) -> None:
        if not self._syncing and change["new"] is not None:
            self._call(self.session.select_take, change["new"])

    def _on_take_frames(self, chunk: TakeFrames) -> None:
        self.stage.on_take_frames(chunk)

    def _on_generation_status(self, status: str) -> None:
        self.generate_button.disabled = False
        self.stop_button.disabled = status != "generating"
        if status == "idle":
            self.stage.on_generation_done()

    def _on_training_status(self, status: str) -> None:
        self.train_button.disabled = self.resume_button.disabled = status != "idle"
        self.cancel_button.disabled = status != "training"
        self.progress.description = status
        self.progress.bar_style = "info" if status != "idle" else ""

    def _on_training_progress(self, p: TrainingProgress) -> None:
        self._on_progress(p)

    def _on_progress(self, p: TrainingProgress) -> None:
        self.progress.value = min(max(float(p.fraction), 0.0), 1.0)
        parts = [f"step {p.step}" + (f"/{p.total_steps}" if p.total_steps else ""), *p.describe()]
        if p.eta_s:
            parts.append(f"ETA {int(p.eta_s) // 60}:{int(p.eta_s) % 60:02d}")
        self.train_status.value = " · ".join(parts)

    def _on_loss_history(self, history: LossHistory) -> None:
        self._draw_loss()

    def _on_training_finished(self, result: TrainResult) -> None:
        self._draw_loss(force=True)
        val = f", validation loss {result.best_val_loss:.3f}" if result.best_val_loss is not None else ""
        self.show_message(f"training stopped ({result.stopped}) after {result.steps} steps, "
                          f"{result.seconds:.0f} s{val}", "ok")

    def _on_error(self, err: WorkerError) -> None:
        self.show_message(f"{err.job}: {err.message}", "error")

    def _draw_loss(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._loss_time >= LOSS_REDRAW_S:
            self._loss_time = now
            self.loss_plot.value = loss_plot_png(self.session.loss_history)
