"""The take on stage: keeps the stage, the timeline and the session's playhead showing one thing.

What is shown comes from the session (``session.showing()``: the clip alone, or the current take
with its ghost and lead-in); this object hands it to the stage and the timeline whenever the
clip, the takes, the chosen take or the lead-in change, starts a new take from its beginning,
and translates between timeline positions and frames of the clip (the session's playhead).
"""

from __future__ import annotations

from PyQt6.QtCore import QObject
from PyQt6.QtWidgets import QLabel

from engine.session import Session, TakeFrames
from engine.session.showing import Showing

from .bridge import SessionBridge
from .stage import StageView
from .timeline import Timeline


class StageDirector(QObject):
    """Feeds ``session.showing()`` to ``stage`` and ``timeline``; ``fps_label`` shows the generation rate."""

    def __init__(self, session: Session, bridge: SessionBridge, stage: StageView, timeline: Timeline,
                 fps_label: QLabel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.stage, self.timeline, self.fps_label = session, stage, timeline, fps_label
        self._autoplay = False  # play the new take from its start once its first frames arrive
        self._gen_clock: dict[int, tuple[float, int]] = {}
        ev = session.events
        for sig in (ev.motion, ev.skeleton, ev.takes, ev.current_take, ev.lead_in):
            bridge.connect(sig, lambda *_: self.refresh())
        bridge.connect(ev.take_frames, self._on_take_frames)
        bridge.connect(ev.playhead, self._on_playhead)
        timeline.position_changed.connect(stage.show_frame)
        timeline.scrubbed.connect(self._write_playhead)
        timeline.playing_changed.connect(lambda playing: None if playing else self._write_playhead(timeline.frame))
        self.refresh()

    @property
    def showing(self) -> Showing:
        """What the stage shows now."""
        return self.stage.showing

    def refresh(self) -> None:
        """Show what the session says is shown (a growing take only extends the timeline)."""
        old, new = self.stage.showing, self.session.showing()
        tl = self.timeline
        self.stage.set_showing(new)
        tl.setEnabled(bool(new.figures))
        tl.set_length(new.length, new.fps)
        start, frames, made = new.take_region
        tl.set_regions(new.length if new.take is None else new.lead_in, start, frames, made)
        tl.set_limit(start + made if new.generating else None)
        tl.set_describe(new.readout)
        same = new.take is not None and old.take is not None and new.take.id == old.take.id
        if new.take is not None and not same:
            if new.take.frames_ready == 0 and not new.take.live:
                self._autoplay = True  # from its start, once its first frames are there
                tl.pause()
            tl.set_frame(0 if not new.take.live else tl.frame)
        elif new.take is None and (old.take is not None or new.clip is not old.clip):
            tl.set_frame(self.session.playhead if new.clip is not None and new.clip is self.session.motion else 0)
        self.stage.show_frame(tl.frame)

    def _on_take_frames(self, tf: TakeFrames) -> None:
        first = self._gen_clock.setdefault(tf.take_id, (tf.t, tf.start))
        done = tf.start + tf.frames.shape[1]
        if done - first[1] > 8 and tf.t > first[0]:
            self.fps_label.setText(f"generation: {(done - first[1] - 1) / (tf.t - first[0]):,.0f} frames/s")
        take = self.showing.take
        if self._autoplay and take is not None and take.id == tf.take_id and take.frames_ready:
            self._autoplay = False
            self.timeline.set_frame(0)
            self.timeline.play()

    def _tracks_the_clip(self) -> bool:
        """True when timeline positions are moments of the session's clip (its playhead)."""
        show, motion = self.showing, self.session.motion
        return motion is not None and (show.clip is motion if show.take is None else show.reference is motion)

    def _on_playhead(self, frame: int) -> None:
        if self.timeline.playing or not self._tracks_the_clip():
            return
        t = self.showing.position_of_source_frame(frame)
        if t is not None and t != self.timeline.frame:
            self.timeline.set_frame(t)

    def _write_playhead(self, t: int) -> None:
        if not self._tracks_the_clip():
            return
        frame = self.showing.source_frame(t)
        if frame is not None:
            self.session.playhead = frame
