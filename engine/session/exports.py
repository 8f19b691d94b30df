"""Files out of a session: exports whose videos are what the stage shows, and model checkpoints."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import ChoreoError
from ..core.fileio import atomic_path
from ..dance.export import VIDEO_FORMATS, export_motion
from ..dance.motion import Motion
from .showing import Showing

if TYPE_CHECKING:
    from .session import Session


def export_take(what: Motion | list[Motion], showing: Showing, path: str | Path, overwrite: bool,
                options: dict[str, Any]) -> Path | list[Path]:
    """Write a take's variations (or a clip) ``what`` to ``path``.

    Videos render ``showing`` (so they are what the stage plays); data formats hold ``what`` itself,
    one file per variation (``export_motion``'s rules).
    """
    if Path(path).suffix.lower() in VIDEO_FORMATS:
        return showing.export_video(path, overwrite=overwrite, **options)
    return export_motion(what, path, overwrite=overwrite, **options)


def copy_checkpoint(src: Path | None, path: str | Path, overwrite: bool) -> Path:
    """Copy a model checkpoint file to ``path`` (atomic; refuses to replace unless ``overwrite``)."""
    if src is None or not src.exists():
        raise ChoreoError("this model has no checkpoint to save (it was not trained or loaded here)")
    path = Path(path)
    if path.exists() and not overwrite:
        raise ChoreoError("exists (pass overwrite=True to replace it)", path)
    with atomic_path(path, overwrite) as tmp:
        shutil.copyfile(src, tmp)
    return path


class Exporting:
    """The session's files out: takes and clips as data or video, and the model's checkpoint."""

    def take_motion(self: Session, index: int | None = None, variation: int = 0) -> Motion:
        """A take (default: the current one) as a Motion standing like the clip it continues (its fps, names,
        bones, layout, up axis)."""
        return self.shelf.motion(self.current_take if index is None else index, variation, self.seed_clip())

    def export(self: Session, path: str | Path, *, what: str = "take", overwrite: bool = False, **options: Any) -> Any:
        """Write the current take (all its variations; ``what="motion"``: the shown clip) to ``path``.

        Videos (.mp4, .gif) show exactly what the stage shows (``showing()``: same span, ghost
        alignment, lead-in, figures and colours); data files hold the take's own frames. Other
        options go to ``engine.dance.export.export_motion`` (layout, size...).
        """
        if what == "motion":
            if self.motion is None:
                raise ChoreoError("no motion loaded")
            return export_take(self.motion, Showing.of_clip(self.motion, self.skeleton), path, overwrite, options)
        if what != "take":
            raise ChoreoError(f"export what= must be take or motion, got {what!r}")
        take = self.shelf.current()
        if take is None:
            raise ChoreoError("no take to export: generate one first")
        motions = [self.take_motion(self.current_take, v) for v in range(take.positions.shape[0])]
        showing = self.showing()
        if take.params.song and Path(path).suffix.lower() == ".mp4" and Path(take.params.song).is_file():
            # the video carries the song the take dances to, starting with the take (after any lead-in)
            options.setdefault("song", take.params.song)
            options.setdefault("song_offset", -showing.lead_in / showing.fps)
        return export_take(motions if len(motions) > 1 else motions[0], showing, path, overwrite, options)

    def save_model(self: Session, path: str | Path, overwrite: bool = True) -> Path:
        """Copy the current model's checkpoint (weights, optimizer, configs, statistics) to ``path``."""
        if self.model is None:
            raise ChoreoError("no model to save")
        if self.model_checkpoint is None or not self.model_checkpoint.exists():  # e.g. kept inside a project
            if Path(path).exists() and not overwrite:
                raise ChoreoError("exists (pass overwrite=True to replace it)", path)
            return self.model.save(path)  # a ready-to-generate checkpoint
        return copy_checkpoint(self.model_checkpoint, path, overwrite)
