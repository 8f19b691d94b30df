"""Files out of a session: a take as a Motion, and exports whose videos are what the stage shows."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..core.errors import ChoreoError
from ..core.fileio import atomic_path
from ..dance.axes import motion_up_axis
from ..dance.export import VIDEO_FORMATS, export_motion
from ..dance.motion import Motion
from .showing import Showing
from .state import Take


def take_motion(take: Take, variation: int = 0) -> Motion:
    """Variation ``variation`` of ``take`` as a Motion with its seed clip's fps, joint names, bones and up axis."""
    ref = take.seed
    kw: dict[str, Any] = {}
    if ref is not None and ref.n_joints == take.positions.shape[2]:
        kw = dict(fps=ref.fps, joint_names=list(ref.joint_names), bones=ref.bones, layout=ref.layout,
                  up_axis=motion_up_axis(ref))
    return Motion(take.positions[variation], source=f"take {take.id}", **kw)


def export_take(take: Take | None, showing: Showing, path: str | Path, overwrite: bool,
                options: dict[str, Any]) -> Path | list[Path]:
    """Write ``take`` (None: the clip ``showing`` shows) to ``path``.

    Videos render ``showing`` (so they are what the stage plays); data formats hold the take's own
    frames, one file per variation (``export_motion``'s rules).
    """
    if Path(path).suffix.lower() in VIDEO_FORMATS:
        return showing.export_video(path, overwrite=overwrite, **options)
    if take is None:
        if showing.clip is None:
            raise ChoreoError("no motion loaded")
        return export_motion(showing.clip, path, overwrite=overwrite, **options)
    motions = [take_motion(take, v) for v in range(take.positions.shape[0])]
    return export_motion(motions if len(motions) > 1 else motions[0], path, overwrite=overwrite, **options)


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
