"""The song, heard in sync with the dancer: Qt Multimedia (``QMediaPlayer`` + ``QAudioOutput``).

The song starts on the timeline where the take starts (the frame the take continues from). While
the timeline plays, the player plays the matching stretch of the song at the timeline's speed, and
the *audio is the master clock*: :meth:`SongPlayer.clock` gives the timeline the frame the song is
at, so the dancer follows what is heard. Scrubbing seeks; a scrub while paused plays a short
snippet, so a choreographer can find a beat by ear.

``QMediaPlayer.position()`` advances in steps of one audio buffer (about 85 ms with Qt's FFmpeg
backend), so the clock is estimated between steps: wall time plus an offset fitted to the recent
steps (the largest recent offset: a step is reported *after* it happened, never before), never
behind the reported position. If the song stops advancing (no audio backend, a stalled decoder),
the clock says ``None`` and the timeline keeps time on its own.

On a machine with no audio device Qt's FFmpeg backend still plays (silently), with the system clock
driving the position; if the backend is missing altogether, every method here is a quiet no-op.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

from PyQt6.QtCore import QObject, QTimer, QUrl, pyqtSignal

SNIPPET_MS = 160  # a scrub while paused plays this much of the song
STALL_S = 0.35  # a playing song whose position has not moved for this long has stalled
OFFSETS = 12  # recent position steps the clock is fitted to


class SongPlayer(QObject):
    """Plays a song file against the timeline. ``start_frame``: the timeline frame where the song begins."""

    failed = pyqtSignal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.available = False
        self.path: Path | None = None
        self.fps = 30.0
        self.start_frame = 0
        self.rate = 1.0
        self.duration_ms = 0.0
        self._snippet = QTimer(self)
        self._snippet.setSingleShot(True)
        self._snippet.timeout.connect(self._end_snippet)
        self._offsets: deque[float] = deque(maxlen=OFFSETS)
        self._last_pos = -1
        self._last_move = 0.0
        try:
            from PyQt6.QtMultimedia import QAudioOutput, QMediaPlayer
        except ImportError:  # Qt built without multimedia: the studio stays silent
            return
        self._state_playing = QMediaPlayer.PlaybackState.PlayingState
        self.player = QMediaPlayer(self)
        self.output = QAudioOutput(self)
        self.player.setAudioOutput(self.output)
        self.player.errorOccurred.connect(lambda _e, text: self.failed.emit(text or "audio playback failed"))
        self.available = True

    # -- what to play ------------------------------------------------------------------

    def set_song(self, path: str | Path | None, duration_s: float = 0.0) -> None:
        """Play ``path`` from now on (None: no song)."""
        self.path = None if path is None else Path(path)
        self.duration_ms = 1000.0 * duration_s
        if self.available:
            self.player.stop()
            self.player.setSource(QUrl() if path is None else QUrl.fromLocalFile(str(Path(path).resolve())))
        self._reset_clock()

    def place(self, start_frame: int, fps: float) -> None:
        """The song begins at timeline frame ``start_frame``; the timeline runs at ``fps``."""
        self.start_frame, self.fps = int(start_frame), float(fps) if fps > 0 else 30.0

    def song_ms(self, frame: float) -> float:
        """Where in the song (ms) timeline frame ``frame`` is (negative: before the song starts)."""
        return (frame - self.start_frame) * 1000.0 / self.fps

    @property
    def playing(self) -> bool:
        return self.available and self.player.playbackState() == self._state_playing

    # -- following the timeline ----------------------------------------------------------

    def follow(self, frame: int, timeline_playing: bool, rate: float = 1.0) -> None:
        """The timeline moved to ``frame`` (playback tick or scrub): start, stop or keep the song going."""
        if not self.available or self.path is None:
            return
        ms = self.song_ms(frame)
        inside = 0.0 <= ms < self.duration_ms
        if timeline_playing and inside:
            if rate != self.rate:
                self.rate = rate
                self.player.setPlaybackRate(rate)
                self._reset_clock()
            if not self.playing or self._snippet.isActive():
                self._snippet.stop()
                self.seek(ms)
                self.player.play()
        elif self.playing and not self._snippet.isActive():
            self.player.pause()
            self._reset_clock()

    def seek(self, ms: float) -> None:
        """Jump to ``ms`` into the song."""
        if self.available:
            self.player.setPosition(max(0, round(ms)))
            self._reset_clock()

    def scrubbed(self, frame: int, timeline_playing: bool) -> None:
        """The user moved the playhead: seek; while paused, let a short snippet be heard."""
        if not self.available or self.path is None:
            return
        ms = self.song_ms(frame)
        if not 0.0 <= ms < self.duration_ms:
            if self.playing:
                self.player.pause()
            return
        self.seek(ms)
        if not timeline_playing:
            self.player.play()
            self._snippet.start(SNIPPET_MS)

    def stop(self) -> None:
        """Pause the song (timeline paused)."""
        self._snippet.stop()
        if self.playing:
            self.player.pause()
        self._reset_clock()

    def _end_snippet(self) -> None:
        if self.playing:
            self.player.pause()

    # -- the clock -------------------------------------------------------------------------

    def _reset_clock(self) -> None:
        self._offsets.clear()
        self._last_pos = -1
        self._last_move = time.perf_counter()

    def position_ms(self) -> float | None:
        """The song's position now (ms), estimated between the player's steps; None when not playing
        or stalled (the timeline then keeps its own time)."""
        if not self.playing or self._snippet.isActive():
            return None
        now = time.perf_counter()
        pos = self.player.position()
        if pos != self._last_pos:
            if self._last_pos >= 0:  # the first value after a seek is where we put it, not a step
                self._offsets.append(pos - now * 1000.0 * self.rate)
            self._last_pos, self._last_move = pos, now
        elif now - self._last_move > STALL_S / max(self.rate, 0.25):
            return None
        if not self._offsets:
            return float(pos)
        return max(float(pos), now * 1000.0 * self.rate + max(self._offsets))

    def clock(self) -> float | None:
        """The timeline frame the song is at (float), or None (no song playing: the timeline's own clock)."""
        ms = self.position_ms()
        return None if ms is None else self.start_frame + ms * self.fps / 1000.0
