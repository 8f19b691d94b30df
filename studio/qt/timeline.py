"""Timeline: scrub slider over what the stage shows (regions marked), transport and readout.

Playback runs on a ``QTimer`` ticking at the motion's frame rate (capped at
~60 Hz); the frame shown follows the wall clock, so playback keeps real time
even when drawing is slow (frames are skipped, never slowed down).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PyQt6.QtCore import QPoint, QRect, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QMouseEvent, QPainter
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0)
MIN_TICK_MS = 16
SOURCE_COLOR = QColor(95, 110, 140)
TAKE_COLOR = QColor(240, 110, 80)
PENDING_COLOR = QColor(120, 70, 60)


class RegionSlider(QSlider):
    """A horizontal slider that paints the shown regions under its groove and jumps to a click.

    ``source`` marks the clip (or a take's lead-in), ``take`` the take (dim where not made yet).
    A click on the groove jumps straight to that position (Qt's default pages by 10 frames).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.source_frames = 0
        self.take_start = 0
        self.take_frames = 0
        self.take_ready = 0
        self.setMinimumHeight(26)
        self.setMinimumWidth(240)

    def set_regions(self, source_frames: int, take_start: int, take_frames: int, take_ready: int) -> None:
        """Positions ``0..source_frames`` show the clip; ``take_start..+take_frames`` the take (``take_ready`` made)."""
        self.source_frames, self.take_start = source_frames, take_start
        self.take_frames, self.take_ready = take_frames, take_ready
        self.update()

    def _groove(self) -> QRect:
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        return self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                           QStyle.SubControl.SC_SliderGroove, self)

    def _x(self, frame: float, groove: QRect) -> int:
        span = max(self.maximum() - self.minimum(), 1)
        return int(groove.left() + (groove.width() - 1) * (frame - self.minimum()) / span)

    def value_at(self, x: float) -> int:
        """The position under pixel column ``x``."""
        groove = self._groove()
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                             QStyle.SubControl.SC_SliderHandle, self)
        left = groove.left() + handle.width() // 2
        width = max(groove.width() - handle.width(), 1)
        return QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), int(x) - left, width)

    def mousePressEvent(self, e: QMouseEvent) -> None:
        """A click away from the handle jumps there (then dragging goes on from there)."""
        if e.button() == Qt.MouseButton.LeftButton and self.maximum() > self.minimum():
            opt = QStyleOptionSlider()
            self.initStyleOption(opt)
            hit = self.style().hitTestComplexControl(QStyle.ComplexControl.CC_Slider, opt,
                                                     e.position().toPoint(), self)
            if hit != QStyle.SubControl.SC_SliderHandle:
                self.setValue(self.value_at(e.position().x()))
        super().mousePressEvent(e)

    def paintEvent(self, event) -> None:
        """Paint the regions, then the usual slider on top."""
        groove = self._groove()
        p = QPainter(self)
        y, h = self.height() - 7, 5
        if self.source_frames:
            x0, x1 = self._x(0, groove), self._x(self.source_frames - 1, groove)
            p.fillRect(x0, y, max(x1 - x0, 1), h, SOURCE_COLOR)
        if self.take_frames:
            x0 = self._x(self.take_start, groove)
            xr = self._x(self.take_start + max(self.take_ready - 1, 0), groove)
            x1 = self._x(self.take_start + self.take_frames - 1, groove)
            p.fillRect(x0, y - 6, max(x1 - x0, 1), h, PENDING_COLOR)
            if self.take_ready:
                p.fillRect(x0, y - 6, max(xr - x0, 1), h, TAKE_COLOR)
        p.end()
        super().paintEvent(event)


class Timeline(QWidget):
    """Scrub slider over what the stage shows, play/pause, speed, loop, and a readout.

    The timeline spans exactly what is shown (the clip, or a take with its lead-in): playback
    stops or loops at its end. While a take is being made, playback waits at the last frame
    made (``set_limit``). ``position_changed(frame)`` fires for every new position (playback or
    scrub); ``scrubbed(frame)`` only for user moves (slider, keys).
    """

    position_changed = pyqtSignal(int)
    scrubbed = pyqtSignal(int)
    playing_changed = pyqtSignal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fps = 30.0
        self.limit: int | None = None  # positions playable now (None: all)
        self.clock: Callable[[], float | None] | None = None  # an outside clock (the song): position now, or None
        self._describe: Callable[[int], str] = self._frames_and_seconds
        self.play_btn = QToolButton()
        self._set_icon(False)
        self.play_btn.setToolTip("Play / pause (Space)")
        self.play_btn.setMinimumWidth(34)
        self.play_btn.clicked.connect(self.toggle)
        self.slider = RegionSlider()
        self.slider.setToolTip("Scrub through what the stage shows: the clip (grey-blue) or the take "
                               "(orange; dim while it is being made). Click to jump there. Keys: ←/→ one frame, "
                               "Home/End")
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._on_slider)
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Playback speed")
        self.speed.currentIndexChanged.connect(self._restart_clock)
        self.loop = QCheckBox("Loop")
        self.loop.setChecked(True)
        self.loop.setToolTip("Start again at the end of what is shown (the take, or the clip)")
        self.readout = QLabel()
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout.setStyleSheet("color: #555a66;")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.play_btn)
        self._column = QVBoxLayout()  # the slider, and strips above it that share its columns (keyframes)
        self._column.setContentsMargins(0, 0, 0, 0)
        self._column.setSpacing(0)
        self._column.addWidget(self.slider)
        top.addLayout(self._column, 1)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(40, 0, 0, 0)
        bottom.addWidget(self.readout, 1)
        bottom.addWidget(self.speed)
        bottom.addWidget(self.loop)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        lay.setSpacing(0)
        lay.addLayout(top)
        lay.addLayout(bottom)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._clock0 = 0.0
        self._frame0 = 0
        self._programmatic = False
        self._update_readout()

    # -- state ---------------------------------------------------------------------

    @property
    def frame(self) -> int:
        """Current position."""
        return self.slider.value()

    @property
    def total(self) -> int:
        """Positions on the timeline."""
        return self.slider.maximum() + 1

    @property
    def playing(self) -> bool:
        """True while playing."""
        return self._timer.isActive()

    def set_length(self, frames: int, fps: float) -> None:
        """Positions on the timeline and the rate they play at."""
        self.fps = float(fps) if fps > 0 else 30.0
        self._programmatic = True
        try:
            self.slider.setRange(0, max(frames - 1, 0))
        finally:
            self._programmatic = False
        self._timer.setInterval(max(MIN_TICK_MS, int(1000 / (self.fps * self.speed_factor))))
        self._update_readout()

    def add_strip(self, strip: QWidget) -> None:
        """Put ``strip`` right above the slider, as wide as it (marks at positions: :meth:`x_of`)."""
        self._column.insertWidget(self._column.count() - 1, strip)

    def x_of(self, frame: float, widget: QWidget) -> int:
        """Pixel column of position ``frame`` in ``widget``'s coordinates (lined up with the slider's handle)."""
        groove = self.slider._groove()
        opt = QStyleOptionSlider()
        self.slider.initStyleOption(opt)
        handle = self.slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                                    QStyle.SubControl.SC_SliderHandle, self.slider)
        left, width = groove.left() + handle.width() // 2, max(groove.width() - handle.width(), 1)
        span = max(self.slider.maximum() - self.slider.minimum(), 1)
        x = left + width * (frame - self.slider.minimum()) / span
        return widget.mapFrom(self, self.slider.mapTo(self, QPoint(round(x), 0))).x()

    def position_at(self, x: float, widget: QWidget) -> int:
        """The position under pixel column ``x`` of ``widget`` (inverse of :meth:`x_of`)."""
        return self.slider.value_at(self.slider.mapFrom(self, widget.mapTo(self, QPoint(int(x), 0))).x())

    def set_limit(self, playable: int | None) -> None:
        """Only the first ``playable`` positions exist yet (a take being made); None: all of them."""
        self.limit = None if playable is None else max(1, int(playable))

    def set_regions(self, source_frames: int, take_start: int, take_frames: int, take_ready: int) -> None:
        """Mark the clip (or lead-in) and the take on the slider."""
        self.slider.set_regions(source_frames, take_start, take_frames, take_ready)

    def set_describe(self, describe: Callable[[int], str] | None) -> None:
        """What the readout says at a position (default: frame and seconds)."""
        self._describe = describe or self._frames_and_seconds
        self._update_readout()

    @property
    def speed_factor(self) -> float:
        """Playback speed multiplier."""
        return float(self.speed.currentData() or 1.0)

    def set_frame(self, frame: int, user: bool = False) -> None:
        """Move to ``frame`` (clamped); ``user`` marks a scrub."""
        frame = max(0, min(int(frame), self.slider.maximum()))
        if frame == self.slider.value():
            if user:
                self.scrubbed.emit(frame)
            return
        self._programmatic = not user
        try:
            self.slider.setValue(frame)
        finally:
            self._programmatic = False
        if self.playing:
            self._restart_clock()

    def _on_slider(self, value: int) -> None:
        self._update_readout()
        self.position_changed.emit(value)
        if not self._programmatic:
            self.scrubbed.emit(value)
            if self.playing:
                self._restart_clock()

    def _frames_and_seconds(self, f: int) -> str:
        return f"frame {f} / {max(self.total - 1, 0)}   {f / self.fps:.2f} s"

    def _update_readout(self) -> None:
        self.readout.setText(self._describe(self.frame))

    # -- transport -------------------------------------------------------------------

    def play(self) -> None:
        """Start playback (from the start when at the end)."""
        if self.total <= 1:
            return
        if self.frame >= self.slider.maximum():
            self.set_frame(0)
        self._restart_clock()
        self._timer.setInterval(max(MIN_TICK_MS, int(1000 / (self.fps * self.speed_factor))))
        self._timer.start()
        self._set_icon(True)
        self.playing_changed.emit(True)

    def pause(self) -> None:
        """Stop playback."""
        if self._timer.isActive():
            self._timer.stop()
            self._set_icon(False)
            self.playing_changed.emit(False)

    def _set_icon(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_btn.setIcon(self.style().standardIcon(icon))

    def toggle(self) -> None:
        """Play or pause."""
        self.pause() if self.playing else self.play()

    def step(self, delta: int) -> None:
        """Move ``delta`` frames (a user action)."""
        self.pause()
        self.set_frame(self.frame + delta, user=True)

    def home(self) -> None:
        """First frame."""
        self.set_frame(0, user=True)

    def end(self) -> None:
        """Last frame."""
        self.pause()
        self.set_frame(self.slider.maximum(), user=True)

    def _restart_clock(self) -> None:
        self._clock0 = time.perf_counter()
        self._frame0 = self.frame
        self._timer.setInterval(max(MIN_TICK_MS, int(1000 / (self.fps * self.speed_factor))))

    def _tick(self) -> None:
        elapsed = time.perf_counter() - self._clock0
        target = self._frame0 + int(elapsed * self.fps * self.speed_factor)
        outside = self.clock() if self.clock is not None else None
        if outside is not None:  # follow the song; the own clock carries on from here when it stops
            target = int(outside)
            self._frame0, self._clock0 = target, time.perf_counter()
        last = self.slider.maximum()
        if self.limit is not None and self.limit - 1 < last and target > self.limit - 1:
            # the rest is still being made: wait at the last frame made (the clock restarts there)
            target = self.limit - 1
            self._frame0, self._clock0 = target, time.perf_counter()
        elif target > last:
            if self.loop.isChecked() and last > 0:
                self._frame0, self._clock0 = 0, time.perf_counter()
                target = 0
            else:
                target = last
                self.pause()
        self._programmatic = True
        try:
            self.slider.setValue(target)
        finally:
            self._programmatic = False
