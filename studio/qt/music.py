"""The music bar under the timeline: load a song, see and hear it with the dance, fit a take to it.

One row of controls (the song, Load song…, the Beat align knob, Fit to song, the take's Beat Align
Score) over the :class:`~studio.qt.waveform.WaveformView`; a :class:`~studio.qt.audio.SongPlayer`
plays the song with the timeline and lends it its clock. The song is session state
(``session.load_song``), so the notebook and scripts see the same song; everything here writes
through the session and follows its events.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QMenu, QPushButton, QVBoxLayout, QWidget

from engine.core.errors import ChoreoError
from engine.dance.beats import motion_beats, take_beat_report
from engine.dance.knobs import GENERATION
from engine.dance.music import AUDIO_SUFFIXES
from engine.session import Session

from .audio import SongPlayer
from .bridge import BackgroundJob, SessionBridge
from .knobs import KnobEditor
from .menus import add_action
from .timeline import Timeline
from .waveform import WaveformView


class MusicBar(QWidget):
    """Song controls and waveform for ``timeline``.

    ``take_start()`` gives the timeline frame the shown take starts at (None: no take); the song starts there.
    """

    error = pyqtSignal(str)
    message = pyqtSignal(str)

    def __init__(self, session: Session, bridge: SessionBridge, timeline: Timeline,
                 take_start: Callable[[], int | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.timeline, self._take_start = session, timeline, take_start
        self._job: BackgroundJob | None = None
        self.score: dict[str, Any] | None = None  # the shown take's beat figures against the song
        self.player = SongPlayer(self)
        self.view = WaveformView(timeline.slider)
        self.label = QLabel("No song")
        self.label.setStyleSheet("color: #555a66;")
        self.load_btn = QPushButton("Load song…")
        self.load_btn.setToolTip("A song to dance to (.wav .flac .ogg .mp3): takes become as long as the song")
        self.beat_align = KnobEditor(GENERATION["beat_align"])
        self.fit_btn = QPushButton("Fit to song")
        self.fit_btn.setToolTip("Dance a take as long as the song with its accents on the beats")
        self.score_label = QLabel()
        self.score_label.setToolTip("Beat Align Score of the shown take: for each of its accents (velocity "
                                    "minima), exp(-d²/2σ²) with d its distance to the nearest beat, σ = 0.05 s; "
                                    "1 = every accent on a beat")
        row = QHBoxLayout()
        row.setContentsMargins(6, 0, 6, 0)
        for w in (self.load_btn, self.label):
            row.addWidget(w)
        row.addStretch(1)
        for w in (self.score_label, self.beat_align, self.fit_btn):
            row.addWidget(w)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 2, 0, 2)
        lay.setSpacing(2)
        lay.addLayout(row)
        lay.addWidget(self.view)

        self.load_btn.clicked.connect(self.load_dialog)
        self.fit_btn.clicked.connect(self.fit_to_song)
        self.beat_align.value_changed.connect(self._write_beat_align)
        self.view.scrub.connect(lambda f: timeline.set_frame(f, user=True))
        self.player.failed.connect(lambda text: self.error.emit(f"Audio: {text} (the dance plays on silently)"))
        timeline.position_changed.connect(self._on_position)
        timeline.scrubbed.connect(lambda f: self.player.scrubbed(f, timeline.playing))
        timeline.playing_changed.connect(self._on_playing)
        timeline.clock = self.player.clock
        ev = session.events
        bridge.connect(ev.song, lambda _s: self._show_song())
        bridge.connect(ev.beat_align, self.beat_align.set_value)
        for sig in (ev.takes, ev.current_take, ev.motion, ev.model, ev.lead_in):
            bridge.connect(sig, lambda *_: self._show_take())
        self.beat_align.set_value(session.beat_align)
        self._show_song()

    # -- actions -------------------------------------------------------------------------

    def load_dialog(self) -> None:
        """Ask for a song and load it."""
        pats = " ".join(f"*{s}" for s in AUDIO_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Load a song", "", f"Songs ({pats});;All files (*)")
        if path:
            self.load(path)

    def load(self, path: str | Path) -> BackgroundJob:
        """Read and analyse ``path`` on a background thread (a few seconds); errors become messages."""
        path = Path(path)
        self.message.emit(f"Listening to {path.name}…")
        job = BackgroundJob(lambda: self.session.load_song(path), name="choreo-song", parent=self)
        job.done.connect(lambda song: self.message.emit(f"Song: {song.describe()}. Takes are now as long as the "
                                                        "song; Fit to song puts their accents on its beats."))
        job.failed.connect(lambda err: self.error.emit(str(err) if isinstance(err, ChoreoError)
                                                       else f"{path.name}: could not load ({err})"))
        self._job = job
        return job.start()

    def wait(self, timeout: float = 60.0) -> bool:
        """Wait for a song still loading (tests, shutdown)."""
        return self._job is None or self._job.wait(timeout)

    def fit_to_song(self) -> None:
        """A take as long as the song, accents on its beats."""
        try:
            self.session.fit_to_song()
        except ChoreoError as err:
            self.error.emit(str(err))

    def _write_beat_align(self, value: Any) -> None:
        try:
            self.session.beat_align = value
        except ChoreoError as err:
            self.error.emit(str(err))

    # -- session -> view -----------------------------------------------------------------

    def _show_song(self) -> None:
        song = self.session.song
        self.view.set_song(song)
        self.player.set_song(None if song is None else song.path, 0.0 if song is None else song.duration)
        self.label.setText("No song" if song is None else song.describe())
        self.fit_btn.setEnabled(song is not None)
        self._show_take()

    def _show_take(self) -> None:
        """Place the song where the shown take starts and score the take against it."""
        start = self._take_start()
        fps = self.timeline.fps
        self.view.place(start or 0, fps)
        self.player.place(start or 0, fps)
        song, takes, i = self.session.song, self.session.takes, self.session.current_take
        take = takes[i] if takes and 0 <= i < len(takes) else None
        if song is None or take is None or take.status != "done" or take.frames_ready < 3:
            self.score = None
            self.view.set_accents(np.zeros(0))
            self.score_label.setText("")
            return
        positions = np.asarray(take.positions[0])
        take_fps = self.session.fps
        self.score = take_beat_report(positions, take_fps, song.beats)
        self.view.set_accents(motion_beats(positions, take_fps))
        self.score_label.setText(f"Beat Align {self.score['beat_align_score']:.2f}"
                                 + ("" if take.params.beat_align else " (not fitted)"))

    # -- timeline -> player ---------------------------------------------------------------

    def _on_position(self, frame: int) -> None:
        self.view.set_frame(frame)
        if self.timeline.fps != self.player.fps or (self._take_start() or 0) != self.player.start_frame:
            self._show_take()  # the stage moved the take (a new take, the lead-in on or off)
        self.player.follow(frame, self.timeline.playing, self.timeline.speed_factor)

    def _on_playing(self, playing: bool) -> None:
        if playing:
            self.player.follow(self.timeline.frame, True, self.timeline.speed_factor)
        else:
            self.player.stop()


def add_music_menu(win: Any, bar: MusicBar) -> None:
    """The window's Music menu: Load song, Fit to song, Clear song."""
    menu = QMenu("&Music", win)
    help_menu = win.menus.get("Help")
    if help_menu is not None:
        win.menuBar().insertMenu(help_menu.menuAction(), menu)  # before Help, as menus go
    else:
        win.menuBar().addMenu(menu)
    menu.setToolTipsVisible(True)
    win.menus["Music"] = menu
    add_action(win, menu, "&Load song…", bar.load_dialog, "Ctrl+L", "A song to dance to (wav, flac, ogg, mp3)")
    add_action(win, menu, "&Fit to song", bar.fit_to_song, "Ctrl+Shift+F",
               "A take as long as the song, its accents on the beats")
    add_action(win, menu, "&Clear song", win.session.clear_song, None, "Dance without music again")
