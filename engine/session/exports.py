"""Files out of a session: exports whose videos are what the stage shows, and model checkpoints."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..core.errors import ChoreoError
from ..core.fileio import atomic_path
from ..dance.export import VIDEO_FORMATS, export_motion
from ..dance.motion import Motion
from .showing import Showing


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
