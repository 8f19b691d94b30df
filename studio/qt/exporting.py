"""Export and screenshots: the export dialog (remembering its folder and format), overwrite checks,
writing on a background thread, and PNGs of the window.

Videos are written from the session's ``showing()``, the same description the stage draws, so
an exported take is what was watched (see ``engine.session.showing``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.core.errors import ChoreoError
from engine.dance.export import gif_rate
from engine.session.showing import clip_name

from . import files
from .bridge import BackgroundJob

if TYPE_CHECKING:
    from .window import MainWindow


class Exporter:
    """File > Export and File > Screenshot for the window; remembers where the last export went."""

    def __init__(self, win: MainWindow) -> None:
        self.win = win
        self.folder = Path.home()  # where the next export is proposed
        self.suffix = ".mp4"

    def default_path(self) -> Path:
        """The file the dialog proposes: the last folder and format, named after the take or the clip."""
        s = self.win.session
        if s.takes and s.current_take >= 0:
            stem = f"take{s.takes[s.current_take].number}"
        else:
            stem = Path(clip_name(s.motion) or "clip").stem.replace(" ", "_") or "clip"
        return self.folder / f"{stem}{self.suffix}"

    def export_dialog(self) -> BackgroundJob | None:
        """Ask what and where, confirm before replacing files, export on a background thread."""
        win, s = self.win, self.win.session
        if s.motion is None and not s.takes:
            win.show_error("Nothing to export yet: open a clip or press Demo")
            return None
        take = s.takes[s.current_take] if s.takes and s.current_take >= 0 else None
        v = take.positions.shape[0] if take is not None else 1
        choice = files.ask_export(win, take is not None, v, self.default_path())
        if choice is None:
            return None
        self.folder, self.suffix = choice.path.parent, choice.path.suffix.lower()
        targets = files.export_targets(choice.path, v if choice.what == "take" else 1)
        existing = [p for p in targets if p.exists()]
        overwrite = False
        if existing:
            if not files.confirm_overwrite(win, existing):
                win.show_message("Export cancelled: nothing was replaced")
                return None
            overwrite = True
        note = self._rate_note(choice.path, s.showing().fps if choice.what == "take" else
                               (s.motion.fps if s.motion is not None else 30.0))
        win.show_message(f"Exporting {choice.path.name}…")
        job = BackgroundJob(lambda: s.export(choice.path, what=choice.what, overwrite=overwrite),
                            name="choreo-export", parent=win)
        job.done.connect(lambda _out: win.show_message(f"Exported {choice.path}{note}"))
        job.failed.connect(lambda err: win.show_error(str(err) if isinstance(err, ChoreoError)
                                                      else f"Export failed: {err}"))
        win.keep_job(job)
        return job.start()

    @staticmethod
    def _rate_note(path: Path, fps: float) -> str:
        """What a GIF of a fast clip does to its frame rate, said plainly."""
        if path.suffix.lower() != ".gif":
            return ""
        rate, step = gif_rate(fps)
        if step == 1:
            return ""
        nth = {2: "2nd", 3: "3rd"}.get(step, f"{step}th")
        return (f" ({rate:g} fps: every {nth} frame of the {fps:g} fps clip, because GIF frames cannot be "
                f"shorter than 20 ms; it lasts as long as the clip)")

    def save_screenshot(self, path: str | Path) -> Path:
        """Save a PNG of the whole window."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.win.grab().save(str(path), "PNG"):
            raise ChoreoError("could not write the screenshot", path)
        return path

    def screenshot_dialog(self) -> None:
        """Ask where, then save a PNG of the window."""
        path = files.ask_save_path(self.win, "Save screenshot", "choreo-studio.png", "PNG image (*.png)")
        if path:
            try:
                self.win.show_message(f"Saved {self.save_screenshot(path)}")
            except ChoreoError as err:
                self.win.show_error(str(err))
