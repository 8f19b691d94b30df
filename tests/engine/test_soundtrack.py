"""MP4 with the song muxed in: the audio stream is as long as the video, to the frame."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import ChoreoError
from engine.dance.drums import write_drum_loop
from engine.dance.export import export_motion
from engine.dance.soundtrack import stream_seconds
from engine.dance.synthetic import synthetic_dancer


@pytest.mark.parametrize(("fps", "frames", "song_s"), [(30.0, 97, 5.0), (120.0, 389, 2.0)])
def test_mp4_carries_the_song_for_exactly_the_videos_length(tmp_path, fps, frames, song_s):
    """Longer song: cut; shorter song (second case): padded with silence. Either way ±1 frame."""
    write_drum_loop(tmp_path / "song.ogg", 120, song_s)
    take = synthetic_dancer(frames=frames, fps=fps)
    out = export_motion(take, tmp_path / "take.mp4", size=(96, 64), song=tmp_path / "song.ogg")
    s = stream_seconds(out)
    assert s["video_frames"] == frames and abs(s["video_seconds"] - frames / fps) < 1e-6
    assert abs(s["audio_seconds"] - s["video_seconds"]) <= 1.0 / fps


def test_a_video_without_a_song_has_no_audio_and_bad_songs_leave_nothing(tmp_path):
    take = synthetic_dancer(frames=20)
    out = export_motion(take, tmp_path / "plain.mp4", size=(64, 48))
    assert stream_seconds(out)["audio_seconds"] == 0.0
    (tmp_path / "bad.wav").write_bytes(b"nope")
    with pytest.raises(ChoreoError, match=r"bad\.wav"):
        export_motion(take, tmp_path / "x.mp4", size=(64, 48), song=tmp_path / "bad.wav")
    with pytest.raises(ChoreoError, match=r"only \.mp4"):
        export_motion(take, tmp_path / "x.gif", song=tmp_path / "bad.wav")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.wav", "plain.mp4"]
    assert np.isfinite(take.positions).all()


def test_a_lead_in_before_the_take_is_silent_then_the_song_starts(tmp_path):
    import subprocess

    import imageio_ffmpeg

    write_drum_loop(tmp_path / "song.wav", 120, 4.0)
    out = export_motion(synthetic_dancer(frames=90), tmp_path / "lead.mp4", size=(64, 48),
                        song=tmp_path / "song.wav", song_offset=-1.0)
    pcm = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(out), "-f", "s16le", "-ac", "1",
                          "-ar", "8000", "-"], capture_output=True, check=True).stdout
    audio = np.frombuffer(pcm, np.int16).astype(np.float64)
    assert abs(len(audio) / 8000 - 3.0) <= 1 / 30
    assert np.abs(audio[: int(0.9 * 8000)]).max() < 50 and np.abs(audio[int(1.0 * 8000):]).max() > 1000
