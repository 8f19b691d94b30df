"""Songs in (every format the studio offers), tempo and beats against drum loops whose beats are known,
and one clear error for audio that cannot be danced to."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from engine.core.errors import ChoreoError
from engine.dance.drums import drum_loop, write_drum_loop
from engine.dance.music import load_song, waveform_envelope


def _hits(found: np.ndarray, truth: np.ndarray, tol: float = 0.05) -> float:
    """Fraction of true beats with a found beat within ``tol`` s."""
    return float((np.abs(truth[:, None] - found[None]).min(1) < tol).mean())


@pytest.mark.parametrize(("suffix", "bpm"), [(".wav", 90), (".flac", 120), (".ogg", 128), (".mp3", 120)])
def test_songs_of_every_format_give_their_tempo_and_beats(tmp_path, suffix, bpm):
    truth = write_drum_loop(tmp_path / f"loop{suffix}", bpm, 12.0)
    song = load_song(tmp_path / f"loop{suffix}")
    assert abs(song.duration - 12.0) < 0.1
    assert abs(song.tempo - bpm) / bpm < 0.04
    inner = truth[(truth > 1.0) & (truth < 11.0)]  # the tracker may trim the first and last beat
    assert _hits(song.beats, inner) > 0.9
    assert len(song.sha256) == 64 and song.onset.ndim == 1 and bpm in range(85, 130)
    assert f"{bpm:.0f}"[:2] in song.describe() or "BPM" in song.describe()


def test_a_tempo_change_is_tracked_through(tmp_path):
    truth = write_drum_loop(tmp_path / "change.wav", [(100, 10.0), (130, 10.0)])
    song = load_song(tmp_path / "change.wav")
    lo, hi = song.tempo_range
    assert lo < 105 and hi > 125
    inner = truth[(truth > 1.0) & (truth < 19.0)]
    assert _hits(song.beats, inner) > 0.85


def test_stereo_and_other_rates_are_mixed_down_and_resampled(tmp_path):
    y, sr, _ = drum_loop(120, 8.0, sr=44100)
    soundfile.write(tmp_path / "stereo.wav", np.stack([y, 0.5 * y], 1), sr)
    song = load_song(tmp_path / "stereo.wav")
    assert song.channels == 2 and song.file_sample_rate == 44100 and song.sample_rate == 22050
    assert abs(song.tempo - 120) < 5


def test_unreadable_silent_short_and_missing_audio_are_one_clear_line(tmp_path):
    (tmp_path / "junk.wav").write_bytes(b"RIFF not really a wave file" * 10)
    soundfile.write(tmp_path / "silent.flac", np.zeros(22050 * 3, np.float32), 22050)
    soundfile.write(tmp_path / "blip.wav", np.ones(100, np.float32) * 0.5, 22050)
    (tmp_path / "song.m4a").write_bytes(b"x")
    cases = {"junk.wav": "cannot read", "silent.flac": "silent", "blip.wav": "at least",
             "missing.ogg": "no such", "song.m4a": "unsupported"}
    for name, words in cases.items():
        with pytest.raises(ChoreoError) as err:
            load_song(tmp_path / name)
        text = str(err.value)
        assert name in text and words in text and "\n" not in text


def test_waveform_envelope_bounds_the_samples(tmp_path):
    write_drum_loop(tmp_path / "loop.wav", 120, 4.0)
    song = load_song(tmp_path / "loop.wav")
    env = waveform_envelope(song, 200)
    assert env.shape == (200, 2) and (env[:, 0] <= env[:, 1]).all()
    assert np.isclose(env[:, 1].max(), song.samples.max()) and np.isclose(env[:, 0].min(), song.samples.min())
    part = waveform_envelope(song, 10, start=1.0, stop=2.0)
    assert part.shape == (10, 2) and np.abs(part).max() > 0
