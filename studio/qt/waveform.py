"""The song under the timeline: its waveform, a tick on every beat, the take's accents and the playhead.

Frames map to x exactly as on the timeline's slider (the same groove), so a beat tick sits under
the moment of the take it belongs to. The song starts at the frame where the take starts. Clicking
or dragging scrubs the timeline. Drawing uses a min/max envelope computed once per width
(``engine.dance.music.waveform_envelope``), never the samples themselves.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPoint, QPointF, QRect, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QMouseEvent, QPainter, QPen
from PyQt6.QtWidgets import QSlider, QStyle, QStyleOptionSlider, QWidget

from engine.dance.music import Song, waveform_envelope

BACKGROUND = QColor(36, 39, 46)
WAVE = QColor(120, 150, 200)
BEAT = QColor(250, 200, 80)
ACCENT_HIT = QColor(120, 220, 130)
ACCENT_MISS = QColor(240, 110, 80)
PLAYHEAD = QColor(255, 255, 255)
HIT_S = 0.05  # an accent this close to a beat is drawn as a hit (the Beat Align Score's sigma)


class WaveformView(QWidget):
    """Paints the song against the timeline; ``scrub(frame)`` when clicked or dragged."""

    scrub = pyqtSignal(int)

    def __init__(self, slider: QSlider, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = slider
        self.song: Song | None = None
        self.start_frame = 0
        self.fps = 30.0
        self.frame = 0
        self.accents = np.zeros(0)  # the take's motion beats, song seconds
        self._env: np.ndarray | None = None
        self._env_key: tuple = ()
        self.setMinimumHeight(64)
        self.setToolTip("The song: waveform, a yellow tick on every beat, the take's accents as dots "
                        "(green on a beat, orange off it). Click to scrub.")

    def set_song(self, song: Song | None) -> None:
        self.song, self._env = song, None
        self.update()

    def place(self, start_frame: int, fps: float) -> None:
        """The song begins at timeline frame ``start_frame``; the timeline runs at ``fps``."""
        self.start_frame, self.fps = int(start_frame), float(fps) if fps > 0 else 30.0
        self._env = None
        self.update()

    def set_accents(self, seconds: np.ndarray) -> None:
        """The shown take's motion beats, in song seconds."""
        self.accents = np.asarray(seconds, np.float64)
        self.update()

    def set_frame(self, frame: int) -> None:
        if frame != self.frame:
            self.frame = frame
            self.update()

    # -- geometry: the slider's groove, in this widget's coordinates ---------------------------

    def _groove(self) -> tuple[float, float]:
        opt = QStyleOptionSlider()
        self.slider.initStyleOption(opt)
        g: QRect = self.slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                                      QStyle.SubControl.SC_SliderGroove, self.slider)
        left = self.mapFromGlobal(self.slider.mapToGlobal(QPoint(g.left(), 0))).x()
        return float(left), float(max(g.width() - 1, 1))

    def x_of(self, frame: float) -> float:
        """x of timeline frame ``frame`` (as on the slider)."""
        left, width = self._groove()
        span = max(self.slider.maximum() - self.slider.minimum(), 1)
        return left + width * (frame - self.slider.minimum()) / span

    def frame_at(self, x: float) -> int:
        left, width = self._groove()
        span = max(self.slider.maximum() - self.slider.minimum(), 1)
        return round(self.slider.minimum() + (x - left) / width * span)

    # -- painting -----------------------------------------------------------------------------

    def _envelope(self, x0: int, x1: int) -> np.ndarray:
        key = (x0, x1, id(self.song), self.start_frame, self.slider.maximum())
        if self._env is None or key != self._env_key:
            song = self.song
            assert song is not None
            # seconds of song under x0..x1
            t0 = (self.frame_at(x0) - self.start_frame) / self.fps
            t1 = (self.frame_at(x1) - self.start_frame) / self.fps
            self._env = waveform_envelope(song, max(1, x1 - x0), max(0.0, t0), min(song.duration, t1))
            self._env_key = key
        return self._env

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), BACKGROUND)
        song = self.song
        h = self.height()
        mid = h * 0.45
        if song is None:
            p.setPen(QColor(150, 155, 165))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No song: Music ▸ Load song… (wav, flac, ogg, mp3)")
            p.end()
            return
        end_frame = self.start_frame + song.duration * self.fps
        x0 = int(max(0, self.x_of(self.start_frame)))
        x1 = int(min(self.width(), self.x_of(end_frame)))
        if x1 > x0:
            env = self._envelope(x0, x1)
            scale = 0.9 * mid / max(float(np.abs(song.samples).max()), 1e-6)
            p.setPen(WAVE)
            for i, (lo, hi) in enumerate(env):
                x = x0 + i
                p.drawLine(x, int(mid - hi * scale), x, int(mid - lo * scale) + 1)
        p.setPen(QPen(BEAT, 1))
        for b in song.beats:
            x = self.x_of(self.start_frame + b * self.fps)
            if 0 <= x <= self.width():
                p.drawLine(QPointF(x, 2), QPointF(x, h * 0.9 - 2))
        beats = np.asarray(song.beats)
        p.setPen(Qt.PenStyle.NoPen)
        for a in self.accents:
            x = self.x_of(self.start_frame + a * self.fps)
            hit = len(beats) and np.abs(beats - a).min() <= HIT_S
            p.setBrush(ACCENT_HIT if hit else ACCENT_MISS)
            p.drawEllipse(QPointF(x, h * 0.9), 3.0, 3.0)
        p.setPen(QPen(PLAYHEAD, 1))
        x = self.x_of(self.frame)
        p.drawLine(QPointF(x, 0), QPointF(x, h))
        p.end()

    def mousePressEvent(self, e: QMouseEvent) -> None:
        self.scrub.emit(self.frame_at(e.position().x()))

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        if e.buttons() & Qt.MouseButton.LeftButton:
            self.scrub.emit(self.frame_at(e.position().x()))
