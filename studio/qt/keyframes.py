"""Keyframes on the timeline: add one at the playhead, drag its marker, delete it (all undoable).

A keyframe sits at a *take frame*. On the timeline, take frame ``k`` is at position ``lead-in + k``
while a take is shown, and, while the clip is shown alone, at the clip frame the next take would
reach then (``seed frame + k``: where the ghost will be), so the marks stand where they will act.

"Keyframe at the playhead" (K) puts a keyframe at the take frame under the playhead, in the pose
of the clip there (the ghost's, or the clip's when shown alone) or of the take shown there
(:attr:`KeyframeTrack.pose_from`). Dragging a mark moves the keyframe (the pose stays).
"""

from __future__ import annotations

from PyQt6.QtCore import QObject, pyqtSignal

from engine.core.errors import ChoreoError
from engine.dance.direction import Keyframe
from engine.session import Session

from .bridge import SessionBridge
from .keyframe_strip import KeyframeStrip
from .stage import StageView
from .timeline import Timeline
from .undo import UndoHistory

POSE_SOURCES = {"clip": "the clip at the playhead (the ghost)", "take": "the take at the playhead"}


class KeyframeTrack(QObject):
    """Keeps the timeline's keyframe strip showing ``session.keyframes`` and turns its gestures into edits."""

    error = pyqtSignal(str)
    message = pyqtSignal(str)

    def __init__(self, session: Session, bridge: SessionBridge, stage: StageView, timeline: Timeline,
                 history: UndoHistory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.stage, self.timeline, self.history = session, stage, timeline, history
        self.pose_from = "clip"  # "clip" | "take": whose pose "Keyframe at the playhead" takes
        self.strip = KeyframeStrip(timeline)
        timeline.add_strip(self.strip)
        self.strip.moved.connect(self._move)
        self.strip.delete_requested.connect(self.delete)
        self.strip.go_requested.connect(self.go)
        ev = session.events
        for sig in (ev.keyframes, ev.takes, ev.current_take, ev.motion, ev.lead_in, ev.seed_frame,
                    ev.continue_from_playhead, ev.duration, ev.model):
            bridge.connect(sig, lambda *_: self.refresh())
        bridge.connect(ev.playhead, lambda *_: self.refresh() if session.continue_from_playhead else None)
        self.refresh()

    # -- positions <-> take frames ---------------------------------------------------

    def _seed_frame(self) -> int:
        return int(self.session.params.seed_frame or 0)

    def take_frame_at(self, position: int) -> int:
        """The take frame at timeline ``position`` (negative before the take starts)."""
        show = self.stage.showing
        if show.take is not None:
            return show.take_frame(position)
        return int(position) - self._seed_frame()

    def position_of(self, frame: int) -> int:
        """The timeline position of take frame ``frame``."""
        show = self.stage.showing
        return frame + (show.lead_in if show.take is not None else self._seed_frame())

    def describe(self, kf: Keyframe) -> str:
        """A keyframe in words: where it is and whose pose it holds."""
        fps = self.session.fps
        src = f"{kf.source or 'a pose'}" + (f" frame {kf.source_frame}" if kf.source_frame is not None else "")
        late = "  (after this take's end: a longer take reaches it)" if kf.frame >= self.session.frames else ""
        return f"take frame {kf.frame} ({kf.frame / fps:.2f} s): the pose of {src}{late}"

    def refresh(self) -> None:
        """Marks at the keyframes' positions."""
        shown = self.stage.showing.figures
        self.strip.set_marks([(self.position_of(k.frame), self.describe(k)) for k in self.session.keyframes]
                             if shown else [])

    # -- edits -----------------------------------------------------------------------

    def add_at_playhead(self) -> bool:
        """A keyframe at the take frame under the playhead (pose: :attr:`pose_from`); undoable."""
        s, show, t = self.session, self.stage.showing, self.timeline.frame
        if s.model is None:
            self.error.emit("No model yet: keyframes direct the takes a model dances (train or load one first)")
            return False
        if not show.figures:
            self.error.emit("Nothing on stage: open a clip first")
            return False
        k = self.take_frame_at(t)
        if k < 0:
            self.error.emit(f"The playhead is before the take starts (clip frame {self._seed_frame()}): "
                            "move it into the take")
            return False

        def add() -> None:
            if self.pose_from == "take":
                take = show.take
                if take is None or k >= take.frames_ready:
                    raise ChoreoError("No take frame under the playhead: show a take and move the playhead into it")
                s.add_keyframe(k, pose=take.positions[0, k], source=f"take {show.take_number}", source_frame=k)
                return
            clip = show.clip if show.take is None else show.reference
            f = show.source_frame(t)
            if clip is None or f is None:
                raise ChoreoError("The clip has ended under the playhead: take the take's pose instead")
            s.add_keyframe(k, pose=clip.positions[f], source="clip", source_frame=f)

        ok = self.history.edit_fields(f"add keyframe at take frame {k}", "keyframes", add)
        if ok:
            self.message.emit(f"Keyframe at take frame {k}" + ("  (live: the take is made again)" if s.live else ""))
        return ok

    def _move(self, index: int, position: int) -> None:
        frame = max(0, self.take_frame_at(position))
        self.move(index, frame)

    def move(self, index: int, frame: int) -> bool:
        """Move keyframe ``index`` (frame order) to take frame ``frame``; undoable."""
        return self.history.edit_fields(f"move keyframe to take frame {frame}", "keyframes",
                                        lambda: self.session.move_keyframe(index, frame))

    def delete(self, index: int) -> bool:
        """Remove keyframe ``index`` (frame order); undoable."""
        kfs = self.session.keyframes
        if not 0 <= index < len(kfs):
            return False
        return self.history.edit_fields(f"delete keyframe at take frame {kfs[index].frame}", "keyframes",
                                        lambda: self.session.remove_keyframe(index))

    def go(self, index: int) -> None:
        """Move the playhead to keyframe ``index``."""
        kfs = self.session.keyframes
        if 0 <= index < len(kfs):
            self.timeline.pause()
            self.timeline.set_frame(self.position_of(kfs[index].frame), user=True)
