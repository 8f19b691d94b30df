"""The notebook's stage: a 3D view drawn by the engine's stick-figure renderer, and a play/scrub
control over either the clip (it is the session's playhead) or the current take."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from engine.dance.render import FigureRenderer
from engine.session import Session, Take, TakeFrames

from .images import blank_png, png_bytes

STREAM_REFRAME_S = 0.25  # while frames stream in, re-frame the take at most this often


class NotebookStage:
    """View, play control, scrub slider, clip/take toggle and readout; ``box`` lays them out.

    ``write(name, value)`` writes a session field and reports a refusal (the playhead, here).
    """

    def __init__(self, session: Session, view_size: tuple[int, int], write: Callable[[str, Any], None]) -> None:
        self.session, self.view_size, self._write = session, view_size, write
        w, h = view_size
        self.view = W.Image(format="png", width=w, height=h, value=blank_png(view_size, "load a motion"))
        self.play = W.Play(min=0, max=0, step=1, interval=33, description="play", show_repeat=True)
        self.frame = W.IntSlider(min=0, max=0, description="frame", continuous_update=True,
                                 layout=W.Layout(width=f"{max(200, w - 120)}px"))
        self.play_link = W.jslink((self.play, "value"), (self.frame, "value"))  # smooth without kernel round trips
        self.show = W.ToggleButtons(options=["clip", "take"], value="clip", style={"button_width": "60px"})
        self.readout = W.HTML()
        self.box = W.VBox([self.view, W.HBox([self.play, self.frame]), W.HBox([self.show, self.readout])])
        self._syncing = False
        self._clip_r: FigureRenderer | None = None
        self._take_r: FigureRenderer | None = None
        self._take_r_key: tuple[int, int] | None = None  # (take id, frames) the take renderer shows
        self._take_r_time = 0.0
        self._take_frame = 0
        self.frame.observe(self._on_frame_slider, "value")
        self.show.observe(lambda _: self.retarget(), "value")

    def widgets(self) -> list[W.Widget]:
        return [self.view, self.play, self.frame, self.show, self.readout, self.box]

    # -- session events -------------------------------------------------------------------

    def on_motion(self, motion: Any) -> None:
        self._clip_r = None if motion is None else FigureRenderer(motion, size=self.view_size)
        self.retarget()

    def on_playhead(self, playhead: int) -> None:
        if self.show.value == "clip":
            self._set_frame(playhead)
            self.redraw()
        elif self.session.continue_from_playhead:
            self.update_readout()

    def on_current_take(self, index: int) -> None:
        self._take_r, self._take_r_key, self._take_frame = None, None, 0
        if index >= 0:
            if self.show.value != "take":
                self.show.value = "take"  # retargets the timeline
            else:
                self.retarget()

    def on_take_frames(self, chunk: TakeFrames) -> None:
        if chunk.index != self.session.current_take or self.show.value != "take":
            return
        ready = chunk.start + chunk.frames.shape[1]
        self._set_range(ready)
        if not getattr(self.play, "playing", False):  # follow the newest frame unless the user is playing it back
            self._set_frame(ready - 1)
        self.redraw()

    def on_generation_done(self) -> None:
        if self.show.value == "take":
            self.retarget()

    # -- timeline and drawing ---------------------------------------------------------------

    def current_take(self) -> Take | None:
        takes, i = self.session.takes, self.session.current_take
        return takes[i] if 0 <= i < len(takes) else None

    def _set_range(self, n_frames: int) -> None:
        top = max(0, n_frames - 1)
        if self.frame.max != top or self.play.max != top:
            self._syncing = True
            try:
                self.frame.max = self.play.max = top
            finally:
                self._syncing = False

    def _set_frame(self, value: int) -> None:
        self._syncing = True
        try:
            self.frame.value = self.play.value = int(min(max(value, 0), self.frame.max))
        finally:
            self._syncing = False
        if self.show.value == "take":
            self._take_frame = self.frame.value

    def retarget(self) -> None:
        """Point the play/scrub control at the clip (session playhead) or at the current take."""
        if self.show.value == "clip":
            m = self.session.motion
            self._set_range(m.n_frames if m is not None else 1)
            self.play.interval = int(1000 / (m.fps if m is not None else 30.0))
            self._set_frame(self.session.playhead)
        else:
            take = self.current_take()
            self._set_range(take.frames_ready if take is not None else 1)
            self._set_frame(self._take_frame)
        self.redraw()

    def _on_frame_slider(self, change: dict) -> None:
        if self._syncing:
            return
        if self.show.value == "clip":
            self._write("playhead", change["new"])
        else:
            self._take_frame = int(change["new"])
            self.redraw()

    def _take_renderer(self, take: Take, index: int) -> FigureRenderer | None:
        n = take.frames_ready
        if n == 0:
            return None
        key = (take.id, n)
        stale = self._take_r_key is None or self._take_r_key[0] != take.id
        due = time.monotonic() - self._take_r_time >= STREAM_REFRAME_S or take.status != "generating"
        if self._take_r is None or stale or (key != self._take_r_key and due):
            motions = [self.session.take_motion(index, v) for v in range(take.positions.shape[0])]
            self._take_r = FigureRenderer(motions, size=self.view_size)  # takes carry their source's up axis
            self._take_r_key, self._take_r_time = key, time.monotonic()
        return self._take_r

    def redraw(self) -> None:
        """Draw the frame under the playhead (clip) or the scrubbed frame of the current take."""
        if self.show.value == "clip":
            r, i = self._clip_r, self.session.playhead
            empty = "load a motion: session.load(path) or session.load_demo()"
        else:
            take = self.current_take()
            r = self._take_renderer(take, self.session.current_take) if take is not None else None
            i = self._take_frame
            empty = "no take yet: press Generate" if take is None else "generating ..."
        self.view.value = png_bytes(r.render(i)) if r is not None else blank_png(self.view_size, empty)
        self.update_readout()

    def update_readout(self) -> None:
        if self.show.value == "clip":
            m = self.session.motion
            if m is None:
                self.readout.value = ""
                return
            i = self.session.playhead
            note = " · generation continues from here" if self.session.continue_from_playhead else ""
            self.readout.value = f"clip frame {i + 1}/{m.n_frames} · {i / m.fps:.2f} s{note}"
        else:
            take = self.current_take()
            if take is None:
                self.readout.value = "no take"
                return
            v = take.positions.shape[0]
            self.readout.value = (f"{html.escape(take.title)} · frame {self._take_frame + 1}/"
                                  f"{take.frames_ready} of {take.params.frames} · {v} variation(s) · "
                                  f"{take.status}{self._directions(take)}")

    def _directions(self, take: Take) -> str:
        """The take's keyframes (its recipe's, as frames the scrub slider shows) and whether it walks a path."""
        p = take.params
        keys = [k.frame for k in p.keyframes]
        text = ""
        if keys:
            here = " · <b>◆ on a keyframe</b>" if self._take_frame in keys else ""
            text += f"<br>keyframes at slider frames {', '.join(str(f) for f in keys)}{here}"
        if p.path:
            text += ("<br>" if not keys else " · ") + f"walks a floor path of {len(p.path)} frames"
        return text
