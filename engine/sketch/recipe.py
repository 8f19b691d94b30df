"""How to train on a given set of drawings: budget, length limit and simplification, chosen from the data.

People bring long drawings (crowd animals: a median of ~120 points, a tail to 250; their own
SVGs). A training step costs time in proportion to the points in the batch, so a long set gets
fewer steps per minute, and a decoder that must carry a stroke over 120 points learns its ends
and lifts later. ``plan_training`` looks at the set and decides, saying why in ``plan.notes``:

* **simplification**: when the median drawing is longer than ``TARGET_MEDIAN_POINTS``, every
  drawing is re-simplified with Ramer-Douglas-Peucker (as Quick, Draw! prepared its data,
  stroke by stroke: strokes, their ends and the drawing's size are kept) at the smallest
  tolerance, from a short ladder, that brings the median to the target; the tolerance is
  capped at ``MAX_EPSILON_FRACTION`` of the median drawing's size so the shape stays the same.
* **length limit**: drawings still longer than ``max_points`` are simplified harder, one by one,
  until they fit (never cut mid-stroke); those that cannot be brought under it are dropped.
* **budget**: minutes grow with the median length (steps cost in proportion to it) and
  slowly with the number of drawings, from ``MIN_MINUTES`` to ``MAX_MINUTES``; ``--minutes``
  overrides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .quality import sketch_size
from .simplify import simplify_stroke3

TARGET_MEDIAN_POINTS = 72  # longer sets are re-simplified towards this median (kanji: 40; crowd animals: ~120)
MAX_EPSILON_FRACTION = 0.02  # RDP tolerance at most this share of the median drawing's diagonal
EPSILON_LADDER = (0.0025, 0.004, 0.006, 0.008, 0.011, 0.015, 0.02)  # tolerances tried (share of the diagonal)
MIN_MINUTES, MAX_MINUTES = 4.0, 12.0
REFERENCE_POINTS, REFERENCE_DRAWINGS = 40.0, 10_000  # the kanji set, where MIN_MINUTES was measured to be enough


@dataclass
class TrainingPlan:
    """What ``plan_training`` decided for a set of drawings (``notes`` says it in words)."""

    minutes: float  # training budget
    epsilon: float  # RDP tolerance applied to every drawing (data units; 0 = none)
    max_points: int  # longest drawing trained on (longer ones simplified further, else dropped)
    median_points: float  # of the data as given
    median_points_after: float  # after simplification
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for a progress bar or a status panel."""
        return "; ".join(self.notes)


def budget_minutes(n_drawings: int, median_points: float) -> float:
    """Training minutes for ``n_drawings`` of ``median_points`` (after simplification).

    A step costs time in proportion to the points in it, and a model needs about as many steps
    on a long set as on a short one, so the budget grows with the median length; it grows
    slowly (fourth root) with the number of drawings. 10,000 kanji of 40 points (where 4 minutes
    were measured to be enough) give ``MIN_MINUTES``; the result is kept within
    ``MIN_MINUTES .. MAX_MINUTES``.
    """
    minutes = MIN_MINUTES * (median_points / REFERENCE_POINTS) * (n_drawings / REFERENCE_DRAWINGS) ** 0.25
    return float(np.clip(round(minutes * 2) / 2, MIN_MINUTES, MAX_MINUTES))


def _median_length(sketches: Sequence[np.ndarray]) -> float:
    return float(np.median([len(s) for s in sketches])) if len(sketches) else 0.0


def plan_training(sketches: Sequence[np.ndarray], max_points: int = 250, minutes: float | None = None,
                  simplify: bool = True, sample: int = 400) -> TrainingPlan:
    """Decide budget, simplification and length limit for ``sketches`` (stroke-3, data units).

    ``minutes`` given: kept as the budget. ``simplify=False``: drawings are trained as they are
    (longer than ``max_points``: dropped). The tolerance is found on up to ``sample`` drawings.
    """
    n = len(sketches)
    median = _median_length(sketches)
    pick = np.random.default_rng(0).permutation(n)[:sample]
    probe = [sketches[i] for i in pick]
    epsilon, after = 0.0, median
    notes = [f"{n} training drawings, median {median:.0f} points"]
    if simplify and median > TARGET_MEDIAN_POINTS:
        diag = float(np.median([sketch_size(s) for s in probe])) or 1.0
        for frac in EPSILON_LADDER:
            if frac > MAX_EPSILON_FRACTION:
                break
            epsilon = frac * diag
            after = _median_length([simplify_stroke3(s, epsilon) for s in probe])
            if after <= TARGET_MEDIAN_POINTS:
                break
        notes.append(f"simplified to median {after:.0f} points (RDP tolerance {epsilon:.3g} units, "
                     f"{100 * epsilon / diag:.1f} % of a drawing's size)")
    longest = max((len(s) for s in sketches), default=0)
    if longest > max_points:
        notes.append(f"drawings over {max_points} points simplified further to fit" if simplify
                     else f"drawings over {max_points} points left out")
    budget = budget_minutes(n, after) if minutes is None else float(minutes)
    notes.append(f"{budget:g} minutes" + (" (from the data's size and length; --minutes overrides)"
                                          if minutes is None else " (as asked)"))
    return TrainingPlan(budget, epsilon, max_points, median, after, notes)


def fit_to_length(sketch: np.ndarray, max_points: int, epsilon: float) -> np.ndarray | None:
    """``sketch`` simplified at ``epsilon``, then harder until it has at most ``max_points`` (None: cannot)."""
    s = simplify_stroke3(sketch, epsilon) if epsilon > 0 else np.asarray(sketch)
    eps = max(epsilon, 0.5)
    for _ in range(12):
        if len(s) <= max_points:
            return s
        eps *= 1.5
        s = simplify_stroke3(s, eps)
    return s if len(s) <= max_points else None


def prepare(sketches: Sequence[np.ndarray], plan: TrainingPlan, simplify: bool = True) -> list[np.ndarray]:
    """The drawings as ``plan`` trains them: simplified, over-long ones fitted (or dropped)."""
    out = []
    for s in sketches:
        if not simplify:
            if len(s) <= plan.max_points:
                out.append(np.asarray(s))
            continue
        fitted = fit_to_length(s, plan.max_points, plan.epsilon)
        if fitted is not None:
            out.append(fitted)
    return out
