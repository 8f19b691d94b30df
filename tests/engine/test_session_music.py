"""A song in the session: its length becomes the take's, takes carry it in their recipe, beat align
re-times them onto its beats, and "fit to song" makes such a take."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import ChoreoError
from engine.dance.beats import take_beat_report


def test_song_sets_the_length_and_travels_in_the_recipe(session, tiny_model, drum_song):
    seen = []
    session.events.song.connect(seen.append)
    session.load_model(tiny_model)
    with pytest.raises(ChoreoError, match="no song"):
        session.fit_to_song()
    song = session.load_song(drum_song)
    assert seen == [song] and session.duration == pytest.approx(song.duration)
    assert session.frames == round(song.duration * session.fps)
    p = session.params
    assert p.song == str(drum_song) and p.song_sha256 == song.sha256 and p.beat_align is True
    session.beat_align = False
    assert session.params.beat_align is False
    session.clear_song()
    assert session.song is None and session.params.song is None and session.params.beat_align is False


def test_fit_to_song_makes_a_beat_aligned_take_as_long_as_the_song(session, tiny_model, drum_song):
    session.load_model(tiny_model)
    song = session.load_song(drum_song)
    session.beat_align = False
    session.duration = 2.0
    off = session.generate()
    assert session.wait_idle(60)
    off = session.take_by_id(off.id)
    take = session.fit_to_song()
    assert session.wait_idle(120)
    take = session.take_by_id(take.id)
    assert take.status == "done" and take.params.beat_align and take.params.song_sha256 == song.sha256
    assert take.frames_ready == take.params.frames == round(song.duration * session.fps)
    assert off.params.frames == 60 and not off.params.beat_align
    bas = take_beat_report(take.positions[0], session.fps, song.beats)["beat_align_score"]
    assert bas > 0.5 and np.isfinite(take.positions).all()
