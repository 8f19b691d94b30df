"""A drawing in progress and what a Sketch-RNN makes of it: the state the studio's Sketch tab and
the notebook share.

Front ends record mouse (or pen, or code) strokes as absolute points with :meth:`SketchDrawing.add_stroke`
/ :meth:`extend`; :meth:`prefix` turns them into stroke-3 rows in the model's units;
:meth:`finish` and :meth:`from_scratch` return drawings (stroke-3, data units). Computing is
stateless: a front end may run :meth:`finish` on a background thread and keep the results itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core.assets import asset_path
from ..core.errors import ChoreoError
from .model import SketchRNN, load_sketch_model
from .render import save_sketches
from .sampling import complete, sample

DRAWING_SIZE = 200.0  # bounding-box diagonal (data units) a user drawing is scaled to, when the model cannot say
# A drawing to finish is only the start of one (issue 14): scaled to a whole drawing's size, it fills the box the
# model is told to draw in (size input) and every ending closes the shape the same way. At this fraction of a
# whole drawing the endings differ: mean pairwise distance of the endings 0.067 -> 0.124 of the drawing size
# (demo model, temperature 0.4, four prefixes x three seeds).
PARTIAL_SIZE = 0.6

Stroke = list[tuple[float, float]]


def points_to_stroke3(strokes: Sequence[Sequence[tuple[float, float]]], step: float, size: float = DRAWING_SIZE,
                      integer: bool = True) -> np.ndarray:
    """Strokes of absolute points to stroke-3 rows: resampled every ``step`` units, scaled to ``size``.

    The drawing is scaled so its bounding-box diagonal is ``size``; the first row starts from
    the drawing's centre. ``integer`` rounds to whole units (as Quick, Draw!-style data is).
    """
    arrays = [np.asarray(s, np.float64).reshape(-1, 2) for s in strokes if len(s)]
    if not arrays:
        return np.zeros((0, 3), np.int16 if integer else np.float32)
    allp = np.concatenate(arrays)
    diag = float(np.linalg.norm(allp.max(0) - allp.min(0))) or 1.0
    k = size / diag
    rows, last = [], allp.min(0) * k + (allp.max(0) - allp.min(0)) * k / 2  # origin: drawing centre
    for s in arrays:
        s = s * k
        pts = [s[0]]
        for p in s[1:]:
            if np.linalg.norm(p - pts[-1]) >= step:
                pts.append(p)
        if len(s) > 1 and np.linalg.norm(s[-1] - pts[-1]) > step / 3:
            pts.append(s[-1])
        for i, p in enumerate(pts):
            q = np.round(p) if integer else p
            rows.append([q[0] - last[0], q[1] - last[1], 1.0 if i == len(pts) - 1 else 0.0])
            last = q
    out = np.asarray(rows)
    return out.astype(np.int16) if integer else out.astype(np.float32)


class SketchDrawing:
    """The user's strokes and the sketch model that finishes them."""

    def __init__(self, model: SketchRNN | None = None, source: str = "") -> None:
        self.model = model
        self.source = source  # where the model came from, for a status line
        self.strokes: list[Stroke] = []

    @property
    def ready(self) -> bool:
        """True when a model is loaded."""
        return self.model is not None

    # -- the model -------------------------------------------------------------------

    def load(self, path: str | Path) -> None:
        """Load a sketch checkpoint (raises ChoreoError)."""
        self.model = load_sketch_model(path)
        self.source = Path(path).name

    def load_shipped(self) -> bool:
        """Load the shipped demo model (``assets/demo_sketch.pt``); False when it is missing."""
        try:
            self.load(asset_path("demo_sketch.pt"))
        except ChoreoError:
            return False
        return True

    def use(self, model: SketchRNN, source: str) -> None:
        """Draw with ``model`` from now on (e.g. one just trained)."""
        self.model, self.source = model.eval(), source

    # -- the drawing -----------------------------------------------------------------

    def add_stroke(self, points: Sequence[tuple[float, float]] = ()) -> None:
        """Start a new stroke (pen down), optionally with its first points."""
        self.strokes.append([(float(x), float(y)) for x, y in points])

    def extend(self, x: float, y: float) -> None:
        """Add a point to the current stroke."""
        if not self.strokes:
            self.add_stroke()
        self.strokes[-1].append((float(x), float(y)))

    def clear(self) -> None:
        """Erase the drawing."""
        self.strokes = []

    @property
    def empty(self) -> bool:
        return not any(self.strokes)

    def step(self) -> float:
        """Resampling step for user drawings, in data units (the data's offset spread)."""
        return float(getattr(self.model, "scale", 30.0)) * 0.9

    def drawing_size(self) -> float:
        """Bounding-box diagonal (data units) of a typical training drawing: user drawings are scaled to it."""
        model = self.model
        sizes = getattr(model, "sizes", None)
        if model is None or sizes is None or not getattr(model.config, "size_input", False):
            return DRAWING_SIZE
        return float(np.median(np.hypot(*(sizes.numpy() * model.scale).T)))

    def prefix(self) -> np.ndarray:
        """The drawing as stroke-3 rows in the model's data units (the start of a drawing: ``PARTIAL_SIZE``)."""
        integer = bool(getattr(self.model, "integer_units", True))
        return points_to_stroke3(self.strokes, self.step() * PARTIAL_SIZE, self.drawing_size() * PARTIAL_SIZE,
                                 integer)

    # -- what the model makes of it --------------------------------------------------------

    def _model(self) -> SketchRNN:
        if self.model is None:
            raise ChoreoError("no sketch model loaded: load one or train one first")
        return self.model

    def finish(self, n: int, temperature: float, rng: int | None = 0) -> list[np.ndarray]:
        """``n`` endings of the drawing (each begins with the drawing itself, kept exactly)."""
        model = self._model()
        prefix = self.prefix()
        if len(prefix) == 0:
            raise ChoreoError("draw something first (or draw from scratch)")
        prefix[-1, 2] = 0  # the pen is still down: the model continues the last stroke
        return complete(model, prefix, n=n, temperature=temperature, rng=rng)

    def from_scratch(self, n: int, temperature: float, rng: int | None = 0) -> list[np.ndarray]:
        """``n`` new drawings with no prefix."""
        return sample(self._model(), n, temperature=temperature, rng=rng)

    @staticmethod
    def export(path: str | Path, sketches: Sequence[np.ndarray], overwrite: bool = False) -> Path:
        """Write drawings as an SVG or PNG grid (atomic; refuses to replace unless ``overwrite``)."""
        return save_sketches(path, list(sketches), overwrite=overwrite)
