"""The notebook's music panel over the session: load a song, waveform + beats picture, audio player,
fit to song and the take's Beat Align Score."""

from __future__ import annotations

import time

import pytest

from engine.dance.drums import write_drum_loop
from studio.notebook import StudioWidget


@pytest.fixture
def widget(session, tmp_path):
    w = StudioWidget(session, export_dir=tmp_path, view_size=(240, 180))
    yield w
    w.close()


def test_song_picture_player_and_fit(widget, session, tiny_model, tmp_path):
    panel = widget.music
    assert panel in widget.children and panel.fit_button.disabled
    assert widget.beat_align.value is True  # the knob's widget comes from the one table
    write_drum_loop(tmp_path / "song.mp3", 120, 4.0)
    panel.path.value = "song.mp3"  # relative to export_dir
    panel.load_button.click()
    widget.flush()
    assert session.song is not None and not panel.fit_button.disabled
    assert panel.player.format == "mpeg" and len(panel.player.value) > 1000
    assert panel.picture.value[:4] == b"\x89PNG" and "BPM" in panel.score.value
    assert widget.duration.value == pytest.approx(4.0, abs=0.05)  # the take length became the song's
    session.load_model(tiny_model)
    panel.fit_button.click()
    deadline = time.monotonic() + 60
    while not (session.takes and session.takes[-1].status == "done"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    widget.flush()
    assert "Beat Align" in panel.score.value and "not fitted" not in panel.score.value
    panel.path.value = "missing.wav"
    panel.load_button.click()
    assert "missing.wav" in widget.message.value and session.song is not None
