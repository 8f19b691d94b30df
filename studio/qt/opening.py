"""Opening things: clips (read on a background thread), models (dance or sketch), dropped files, the demo.

Problems become one-line messages in the window; nothing here raises into Qt.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6.QtGui import QDragEnterEvent, QDropEvent

from engine.core.errors import ChoreoError
from engine.dance.axes import looks_axis_normalised
from engine.dance.motion import LOADABLE, Motion, load_motion

from . import files
from .bridge import BackgroundJob

if TYPE_CHECKING:
    from .window import MainWindow


class FileOpener:
    """The window's File > Open, drag and drop, and File > Demo."""

    proportions = "auto"  # restore per-axis-normalised clips (View ▸ Restore proportions), or "file"

    def __init__(self, win: MainWindow) -> None:
        self.win = win

    def load_demo(self) -> None:
        """The built-in dancer, and the demo model (asking first when a model of the user's is loaded)."""
        win, s = self.win, self.win.session
        with_model = True
        if s.model is not None and not s.model_is_demo:
            choice = files.ask_demo_model(win)
            if choice == "cancel":
                return
            with_model = choice == "both"
        try:
            s.load_demo(model=with_model)
        except ChoreoError as err:
            win.show_error(str(err))
            return
        win.timeline.set_frame(0)
        win.timeline.play()
        if s.model is not None and s.fit.ok:
            win.controls.generate()
            win.show_message("Demo: the synthetic dancer (grey ghost) and the model dancing on (colour). "
                             "Try the knobs, then Generate.")
        elif s.model is not None:
            win.show_message("Demo dancer loaded; your model was kept (it dances another body, see the notice).")
        else:
            win.show_message("Demo: a synthetic dancer. Train a model on it in the Train tab.")

    def open_dialog(self) -> None:
        """Ask for a file and open it."""
        path = files.ask_open(self.win)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path, play: bool = True, layout: str | None = None) -> BackgroundJob | None:
        """Open a clip (read on a background thread) or a model checkpoint; errors become messages.

        Per-axis-normalised clips get their proportions back unless View ▸ Restore proportions is off
        (``self.proportions``).
        """
        win = self.win
        path = Path(path)
        if path.suffix.lower() in files.MODEL_SUFFIXES:
            self.open_model(path)
            return None
        if layout is None:
            layout = "auto"
            amb = files.layout_ambiguity(path)
            if amb is not None:
                chosen = files.ask_layout(win, path, *amb)
                if chosen is None:
                    return None
                layout = chosen
        win.show_message(f"Opening {path.name}…")
        proportions = self.proportions
        job = BackgroundJob(lambda: load_motion(path, layout=layout, proportions=proportions), name="choreo-open",
                            parent=win)
        job.done.connect(lambda motion: self._opened(motion, play))
        job.failed.connect(lambda err: win.show_error(str(err) if isinstance(err, ChoreoError)
                                                      else f"{path.name}: could not open ({err})"))
        win.keep_job(job)
        return job.start()

    def _opened(self, motion: Motion, play: bool) -> None:
        win = self.win
        try:
            win.session.load(motion)
        except ChoreoError as err:
            win.show_error(str(err))
            return
        win.timeline.set_frame(0)
        if play:
            win.timeline.play()
        win.show_message(f"{Path(motion.source).name}: {motion.n_frames} frames, {motion.n_joints} joints, "
                         f"{motion.fps:g} fps — {motion.scale_note or motion.layout_note}")

    def set_proportions(self, restore: bool) -> BackgroundJob | None:
        """Restore per-axis-normalised clips' proportions (or not) and reopen the clip on stage that way."""
        self.proportions = "auto" if restore else "file"
        m = self.win.session.motion
        if m is None or not Path(m.source).is_file() or not (m.restored or looks_axis_normalised(m.positions)):
            return None
        return self.open_path(m.source, play=False, layout=m.layout)

    def open_model(self, path: Path) -> None:
        """Load a dance model, or else a sketch model (then the Sketch tab comes forward)."""
        win = self.win
        try:
            win.session.load_model(path)
            win.show_message(f"Loaded dance model {path.name}")
        except ChoreoError as err:
            try:  # maybe a sketch model
                win.sketch.drawing.load(path)
            except ChoreoError:
                win.show_error(str(err))
                return
            win.sketch._sync()
            win.tabs.setCurrentWidget(win.sketch)
            win.show_message(f"Loaded sketch model {path.name}")
        win.show_models()

    def drag_enter(self, e: QDragEnterEvent) -> None:
        """Accept clips and checkpoints."""
        if any(Path(u.toLocalFile()).suffix.lower() in files.OPENABLE for u in e.mimeData().urls()):
            e.acceptProposedAction()
        else:
            e.ignore()

    def drop(self, e: QDropEvent) -> None:
        """Open the dropped files (models first, then the first clip)."""
        paths = [Path(u.toLocalFile()) for u in e.mimeData().urls()]
        for p in paths:
            if p.suffix.lower() in files.MODEL_SUFFIXES:
                self.open_model(p)
        clips = [p for p in paths if p.suffix.lower() in LOADABLE]
        if clips:
            self.open_path(clips[0])
        e.acceptProposedAction()
