"""Read drawings from SVG files: polylines, lines, polygons and simple paths.

One ``.svg`` file is one drawing, unless it groups its strokes in
``<g class="sketch">`` elements (as Choreo's own SVG grids do): then each group
is one drawing. Strokes are taken in document order; curves are flattened.
Every drawing is then prepared like the Quick, Draw! data (``simplify``).
The SVG shapes themselves are read by ``engine.core.svgpath`` (through defusedxml, so entity
bombs and external entities in an untrusted file are refused), which the dance floor paths share.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import ChoreoError
from ..core.svgpath import local_name, path_to_polylines, read_svg_root, tree_polylines
from .simplify import polylines_to_stroke3

__all__ = ["path_to_polylines", "read_svg", "read_svg_folder"]


def read_svg(path: str | Path) -> list[np.ndarray]:
    """The drawings in one SVG file, as int16 stroke-3 arrays (see the module docstring)."""
    path = Path(path)
    root = read_svg_root(path)
    groups = [g for g in root.iter() if local_name(g.tag) == "g" and "sketch" in (g.get("class") or "").split()]
    drawings = [tree_polylines(g, path) for g in groups] if groups else [tree_polylines(root, path)]
    sketches = [polylines_to_stroke3(lines) for lines in drawings if lines]
    if not sketches:
        raise ChoreoError("holds no lines, polylines, polygons or paths", path)
    return sketches


def read_svg_folder(folder: str | Path) -> list[np.ndarray]:
    """Every drawing in the ``.svg`` files under ``folder`` (sorted by path, sub-folders included)."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".svg" and p.is_file())
    if not files:
        raise ChoreoError("holds no .svg files", folder)
    return [s for f in files for s in read_svg(f)]
