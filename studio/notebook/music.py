"""The notebook's music panel over the same :class:`engine.session.Session`: load a song, see its waveform
and beats with the take's accents, hear it (``ipywidgets.Audio``), and fit a take to it.

The picture is a matplotlib figure drawn with the Agg canvas (no pyplot), like the loss plot, so it
also survives a static export. The audio player is the browser's own: it plays the song file, not in
lock-step with the 3D view (the desktop studio does that).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as W
import numpy as np

from engine.dance.beats import BAS_SIGMA_S, motion_beats, nearest_distance, take_beat_report
from engine.dance.music import Song, waveform_envelope
from engine.session import Session

AUDIO_FORMATS = {".wav": "wav", ".flac": "flac", ".ogg": "ogg", ".mp3": "mpeg"}


def song_png(song: Song, accents: np.ndarray | None = None, size: tuple[int, int] = (720, 160),
             title: str = "") -> bytes:
    """The song's waveform, a line on every beat and (when given) a take's accents, as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 100
    fig = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    env = waveform_envelope(song, 600)
    t = np.linspace(0, song.duration, len(env))
    ax.fill_between(t, env[:, 0], env[:, 1], color="#7896c8", lw=0)
    ax.vlines(song.beats, -1.05, 1.05, color="#f0b030", lw=0.8, label="beats")
    if accents is not None and len(accents):
        hit = nearest_distance(accents, np.sort(song.beats)) <= BAS_SIGMA_S
        ax.scatter(accents[hit], np.full(hit.sum(), -0.95), s=12, color="#3cb45a", label="accents on a beat",
                   zorder=3)
        ax.scatter(accents[~hit], np.full((~hit).sum(), -0.95), s=12, color="#f06e50", label="accents off it",
                   zorder=3)
        ax.legend(loc="upper right", fontsize=7, frameon=False, ncol=3)
    ax.set_xlim(0, song.duration)
    ax.set_ylim(-1.1, 1.1)
    ax.set_yticks([])
    ax.set_xlabel("seconds", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(title or song.describe(), fontsize=9)
    fig.tight_layout(pad=0.4)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


class MusicPanel(W.VBox):
    """Song path + Load, Fit to song, the Beat Align Score of the shown take, the picture and a player.

    ``call(fn, *args)`` runs a session action and turns a ChoreoError into a message (the studio
    widget's); ``resolve(path)`` resolves a typed path.
    """

    def __init__(self, session: Session, call: Callable[..., Any], resolve: Callable[[str], Path],
                 size: tuple[int, int] = (720, 160)) -> None:
        self.session, self._call, self._resolve, self.size = session, call, resolve, size
        self.path = W.Text(placeholder="song.wav | .flac | .ogg | .mp3", description="song",
                           style={"description_width": "40px"}, layout=W.Layout(width="320px"))
        self.load_button = W.Button(description="Load song", icon="music")
        self.fit_button = W.Button(description="Fit to song", icon="magic", disabled=True,
                                   tooltip="A take as long as the song, its accents on the beats")
        self.score = W.HTML()
        self.picture = W.Image(format="png", width=size[0], height=size[1])
        self.player = W.Audio(autoplay=False, loop=False, controls=True)
        self.player.layout.display = "none"
        self.load_button.on_click(lambda _: self.load())
        self.fit_button.on_click(lambda _: self._call(self.session.fit_to_song))
        super().__init__(children=[W.HBox([self.path, self.load_button, self.fit_button, self.score]),
                                   self.picture, self.player])
        self._slots = [(session.events.song, self.show_song), (session.events.takes, self.show_take),
                       (session.events.current_take, self.show_take)]
        for signal, slot in self._slots:
            signal.connect(slot, thread="main", check_nargs=False)
        self.show_song()

    def load(self, path: str | Path | None = None) -> Song | None:
        """Load ``path`` (default: the path box) into the session."""
        target = self._resolve(str(path or self.path.value))
        return self._call(self.session.load_song, target)

    def show_song(self, *_: Any) -> None:
        song = self.session.song
        self.fit_button.disabled = song is None
        if song is None:
            self.picture.layout.display = self.player.layout.display = "none"
            self.score.value = '<span style="color:#777">no song</span>'
            return
        self.path.value = str(song.path)
        self.player.format = AUDIO_FORMATS.get(song.path.suffix.lower(), "wav")
        self.player.value = song.path.read_bytes()
        self.picture.layout.display = self.player.layout.display = ""
        self.show_take()

    def show_take(self, *_: Any) -> None:
        """Redraw with the shown take's accents and score (when it is done)."""
        song = self.session.song
        if song is None:
            return
        takes, i = self.session.takes, self.session.current_take
        take = takes[i] if takes and 0 <= i < len(takes) else None
        if take is None or take.status != "done" or take.frames_ready < 3:
            self.score.value = f"<b>{song.tempo:.0f} BPM</b>, {len(song.beats)} beats"
            self.picture.value = song_png(song, size=self.size)
            return
        positions, fps = np.asarray(take.positions[0]), self.session.fps
        r = take_beat_report(positions, fps, song.beats)
        fitted = "" if take.params.beat_align else " (not fitted)"
        self.score.value = (f"<b>{song.tempo:.0f} BPM</b> · take {take.id}: Beat Align "
                            f"<b>{r['beat_align_score']:.2f}</b>{fitted}")
        self.picture.value = song_png(song, motion_beats(positions, fps), self.size,
                                      f"{song.describe()} · Beat Align {r['beat_align_score']:.2f}{fitted}")

    def close(self) -> None:
        for signal, slot in self._slots:
            signal.disconnect(slot, missing_ok=True)
        super().close()
