"""Find files shipped in ``assets/`` (editable install, plain install or a source tree)."""

from __future__ import annotations

import contextlib
from importlib import resources
from pathlib import Path

from .errors import ChoreoError


def asset_path(name: str) -> Path:
    """Path of a shipped asset such as ``"demo_dance.pt"``."""
    candidates = [Path(__file__).resolve().parent.parent / "assets" / name]
    with contextlib.suppress(ModuleNotFoundError):
        candidates.append(Path(str(resources.files("choreo_assets") / name)))
    for path in candidates:
        if path.is_file():
            return path
    raise ChoreoError("shipped asset is missing; rebuild with `python assets/build_assets.py`", name)
