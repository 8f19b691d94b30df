"""Sanity figures for sampled sketches.

*Size* of a drawing is the diagonal of the bounding box of its drawn points
(absolute positions, the starting origin excluded), in the data's units.
*Strokes* is the number of pen-down runs (polylines).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .render import strokes_to_polylines
from .sampling import MAX_POINTS


def sketch_size(sketch: np.ndarray) -> float:
    """Bounding-box diagonal of the drawn points."""
    lines = strokes_to_polylines(sketch)
    if not lines:
        return 0.0
    pts = np.concatenate(lines)
    return float(np.linalg.norm(pts.max(0) - pts.min(0)))


def stroke_count(sketch: np.ndarray) -> int:
    """Number of strokes (pen-down runs)."""
    return len(strokes_to_polylines(sketch))


def sketch_quality(samples: Sequence[np.ndarray], data: Sequence[np.ndarray],
                   ended: Sequence[bool] | None = None, max_points: int = MAX_POINTS) -> dict[str, Any]:
    """Check samples against the data: finite, well-formed, ended, strokes and size within 5-95 %.

    ``ended`` (from ``sample(..., return_ended=True)``) says whether the model emitted
    end-of-sketch; without it a sample counts as ended when it is shorter than
    ``max_points``. A sample "ends with the pen lifted" when it ended and its last point
    has pen state 1.
    """
    n = len(samples)
    finite = [bool(np.isfinite(np.asarray(s, np.float64)).all()) for s in samples]
    formed = [np.asarray(s).ndim == 2 and np.asarray(s).shape[1] == 3 and len(s) > 0
              and bool(np.isin(np.asarray(s)[:, 2], (0, 1)).all()) for s in samples]
    if ended is None:
        ended = [len(s) < max_points for s in samples]
    lifted = [bool(e) and len(s) > 0 and len(s) < max_points and int(s[-1, 2]) == 1
              for s, e in zip(samples, ended, strict=True)]
    d_strokes = np.array([stroke_count(s) for s in data])
    d_size = np.array([sketch_size(s) for s in data])
    s_strokes = np.array([stroke_count(s) for s in samples if len(s)])
    s_size = np.array([sketch_size(s) for s in samples if len(s)])
    band_strokes = [float(v) for v in np.percentile(d_strokes, [5, 95])]
    band_size = [float(v) for v in np.percentile(d_size, [5, 95])]
    med_strokes = float(np.median(s_strokes)) if len(s_strokes) else 0.0
    med_size = float(np.median(s_size)) if len(s_size) else 0.0
    out = {
        "samples": n,
        "all_finite": all(finite),
        "all_well_formed": all(formed),
        "ended_pen_lifted_fraction": float(np.mean(lifted)) if n else 0.0,
        "median_points": float(np.median([len(s) for s in samples])) if n else 0.0,
        "median_strokes": med_strokes,
        "data_strokes_p5_p95": band_strokes,
        "data_median_strokes": float(np.median(d_strokes)),
        "median_size": med_size,
        "data_size_p5_p95": band_size,
        "data_median_size": float(np.median(d_size)),
    }
    out["strokes_in_band"] = band_strokes[0] <= med_strokes <= band_strokes[1]
    out["size_in_band"] = band_size[0] <= med_size <= band_size[1]
    out["passed"] = bool(out["all_finite"] and out["all_well_formed"]
                         and out["ended_pen_lifted_fraction"] >= 0.9
                         and out["strokes_in_band"] and out["size_in_band"])
    return out
