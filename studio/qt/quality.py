"""A one-line verdict under the timeline: is the take on stage this dancer's body, and is it new?

The figures are the team judge's (``engine.dance.quality``): pose ratio per third (1 = as close to
the dancer's repertoire as their own unseen movement), window ratio (0 = a replay of the clip),
bones, speed, frozen and off-stage frames. They are computed on a background thread when a take
is finished, against the clip it continued; the tooltip explains each number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from PyQt6.QtWidgets import QLabel, QWidget

from engine.dance.quality import BAR, failures, take_quality
from engine.session import Session

from .bridge import BackgroundJob, SessionBridge

if TYPE_CHECKING:
    from engine.session import Take

MIN_DATA_FRAMES = 10  # a clip this short holds nothing back to compare with

EXPLAIN = (
    "How the take on stage compares with the clip it continued (the team's judge):\n"
    f"poses: distance of its poses to the nearest pose of the clip, over that of the clip's own unseen last "
    f"fifth; ~1 = as plausible as the dancer's own new movement, per third of the take (bar {BAR.pose_ratio:g})\n"
    f"novelty: the same for one-second stretches; ~0 = it replays the clip (bar {BAR.window_ratio:g})\n"
    "bones: how much its bones stretch, against the clip's own; speed: its pace against the clip's;\n"
    "frozen / off stage: share of frames standing still or beyond the clip's floor area"
)


class QualityLine(QLabel):
    """The verdict for the current take (empty when none is shown or it is still being made)."""

    def __init__(self, session: Session, bridge: SessionBridge,
                 keep_job: Callable[[BackgroundJob], None] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._keep_job = keep_job or (lambda _job: None)  # the window waits for kept jobs when it closes
        self.setToolTip(EXPLAIN)
        self.setStyleSheet("QLabel { padding: 2px 8px; color: #8a90a0; }")
        self.figures: dict[str, Any] | None = None  # the last figures shown (tests read them)
        self._judged: tuple[int, int] | None = None  # (take id, frames) judged or being judged
        self._job: BackgroundJob | None = None
        bridge.connect(session.events.takes, lambda _t: self.refresh())
        bridge.connect(session.events.current_take, lambda _i: self.refresh())
        self.hide()

    def refresh(self) -> None:
        """Judge the current take once it is finished (a new take clears the line)."""
        take: Take | None = self.session.shelf.current()
        if take is None or take.status != "done":
            self._judged = None
            self.setText("")
            self.hide()
            return
        key = (take.id, take.frames_ready)
        data = take.seed.positions if take.seed is not None else None
        if key == self._judged or data is None or len(data) < MIN_DATA_FRAMES or take.frames_ready < 2:
            return
        self._judged = key
        self.setText(f"take {self.session.current_take + 1}: judging…")
        self.show()
        positions = np.array(take.positions[0])
        job = BackgroundJob(lambda: take_quality(data, positions), name="choreo-quality", parent=self)
        job.done.connect(lambda q, key=key: self._show(key, q))
        self._job = job.start()
        self._keep_job(job)

    def _show(self, key: tuple[int, int], q: dict[str, Any]) -> None:
        if key != self._judged:  # another take came on stage meanwhile
            return
        self.figures = q
        missed = failures(q)
        thirds = " / ".join(f"{v:.2f}" for v in q.get("pose_ratio_thirds", []))
        bones = q.get("bone_dev_median_take", 0) / max(q.get("bone_dev_median_data", 0), 1e-12)
        colour = "#6fbf73" if not missed else "#e0a040"
        verdict = "plausible and new" if not missed else missed[0]
        self.setText(f'<span style="color:{colour}">●</span> poses {thirds} · novelty '
                     f"{q.get('window_ratio', float('nan')):.2f} · bones {bones:.2f}× · speed "
                     f"{q.get('speed_ratio', float('nan')):.2f}× · frozen {100 * q.get('frozen_frac', 0):.0f}% · "
                     f"off stage {100 * q.get('outside_frac', 0):.0f}% — {verdict}")
        self.show()

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait for the judging thread (tests, closing)."""
        return self._job is None or self._job.wait(timeout)
