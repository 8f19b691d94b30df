"""Stroke-3 sketches to SVG and PNG, one at a time or as a grid.

A point's pen state says whether the pen lifts *after* it: the next point then
starts a new stroke (a move, not a line). The y axis points down, as in the
Sketch-RNN datasets (screen coordinates).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..core.errors import ChoreoError
from ..core.fileio import atomic_path


def strokes_to_polylines(sketch: np.ndarray) -> list[np.ndarray]:
    """Absolute ``(k, 2)`` point lists, one per stroke (the first point moves from the origin)."""
    s = np.asarray(sketch, np.float64)
    if len(s) == 0:
        return []
    pos = np.cumsum(s[:, :2], axis=0)
    lines, start = [], 0
    for i in [*np.flatnonzero(s[:, 2] > 0.5).tolist(), len(s) - 1]:
        if i >= start:
            lines.append(pos[start : i + 1])
            start = i + 1
    return [ln for ln in lines if len(ln)]


def _bbox(sketches: Sequence[np.ndarray]) -> list[tuple[float, float, float, float]]:
    boxes = []
    for s in sketches:
        pts = np.concatenate(strokes_to_polylines(s)) if len(s) else np.zeros((1, 2))
        boxes.append((*pts.min(0), *pts.max(0)))
    return boxes


def _grid_layout(n: int, cols: int | None) -> tuple[int, int]:
    cols = cols or max(1, int(np.ceil(np.sqrt(n))))
    return cols, max(1, int(np.ceil(n / cols)))


def sketches_to_svg(sketches: Sequence[np.ndarray], cell: float = 128.0, cols: int | None = None,
                    stroke_width: float = 2.0) -> str:
    """An SVG document with the sketches on a grid, each scaled to fit its ``cell``."""
    cols, rows = _grid_layout(len(sketches), cols)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{cols * cell:g}" height="{rows * cell:g}" '
             f'viewBox="0 0 {cols * cell:g} {rows * cell:g}">',
             '<rect width="100%" height="100%" fill="white"/>']
    for k, (s, (x0, y0, x1, y1)) in enumerate(zip(sketches, _bbox(sketches), strict=True)):
        scale = 0.85 * cell / max(x1 - x0, y1 - y0, 1e-9)
        ox = (k % cols) * cell + cell / 2 - scale * (x0 + x1) / 2
        oy = (k // cols) * cell + cell / 2 - scale * (y0 + y1) / 2
        parts.append('<g class="sketch">')  # one drawing per group: ``svg.read_svg`` reads them back apart
        for line in strokes_to_polylines(s):
            pts = " ".join(f"{ox + scale * x:.2f},{oy + scale * y:.2f}" for x, y in line)
            parts.append(f'<polyline points="{pts}" fill="none" stroke="black" '
                         f'stroke-width="{stroke_width:g}" stroke-linecap="round" stroke-linejoin="round"/>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def render_png(sketches: Sequence[np.ndarray], cell: int = 128, cols: int | None = None,
               line_width: int = 2) -> Image.Image:
    """A white RGB image with the sketches on a grid (thin grey cell borders)."""
    cols, rows = _grid_layout(len(sketches), cols)
    img = Image.new("RGB", (cols * cell, rows * cell), "white")
    draw = ImageDraw.Draw(img)
    for k, (s, (x0, y0, x1, y1)) in enumerate(zip(sketches, _bbox(sketches), strict=True)):
        cx, cy = (k % cols) * cell, (k // cols) * cell
        if len(sketches) > 1:
            draw.rectangle([cx, cy, cx + cell - 1, cy + cell - 1], outline=(220, 220, 220))
        scale = 0.85 * cell / max(x1 - x0, y1 - y0, 1e-9)
        ox, oy = cx + cell / 2 - scale * (x0 + x1) / 2, cy + cell / 2 - scale * (y0 + y1) / 2
        for line in strokes_to_polylines(s):
            pts = [(ox + scale * x, oy + scale * y) for x, y in line]
            if len(pts) == 1:
                draw.point(pts, fill="black")
            else:
                draw.line(pts, fill="black", width=line_width, joint="curve")
    return img


def save_sketches(path: str | Path, sketches: Sequence[np.ndarray], cell: int = 128, cols: int | None = None,
                  overwrite: bool = True) -> Path:
    """Write sketches as ``.svg``, ``.png`` or pickle-free ``.npz`` (see ``strokes.save_strokes``)."""
    path = Path(path)
    if not sketches:
        raise ChoreoError("no sketches to write", path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        from .strokes import save_strokes

        return save_strokes(path, sketches, overwrite)
    if suffix == ".svg":
        text = sketches_to_svg(sketches, cell, cols)
        with atomic_path(path, overwrite) as tmp:
            tmp.write_text(text)
        return path
    if suffix == ".png":
        img = render_png(sketches, cell, cols)
        with atomic_path(path, overwrite) as tmp:
            img.save(tmp, format="PNG")
        return path
    raise ChoreoError("unknown sketch output type (use .npz, .svg or .png)", path)
