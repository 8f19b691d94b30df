"""The session's song: load it, dance without it, or make a take fitted to its beats."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import ChoreoError
from ..dance.knobs import GENERATION
from ..dance.music import Song, load_song
from .state import Take

if TYPE_CHECKING:
    from .session import Session


class Songs:
    """Music in a session (``engine.dance.music``; re-timing onto beats: ``engine.dance.warp``)."""

    def load_song(self: Session, path: str | Path | Song) -> Song:
        """Read and analyse a song (``engine.dance.music.load_song``); takes dance to it from now on and
        the take length becomes the song's. Raises ChoreoError naming the file."""
        song = path if isinstance(path, Song) else load_song(path)
        self.store.assign("song", song)
        self.duration = min(song.duration, GENERATION["duration"].hi)
        return song

    def clear_song(self: Session) -> None:
        """Dance without music again."""
        self.store.assign("song", None)

    def fit_to_song(self: Session) -> Take:
        """Make a take as long as the song with its accents on the beats (beat align on). Raises
        ChoreoError without a song or a model."""
        if self.song is None:
            raise ChoreoError("no song loaded: load one first")
        self.store.assign("duration", min(self.song.duration, GENERATION["duration"].hi))
        self.store.assign("beat_align", True)
        return self.generate()
