"""``choreo generate --music`` and ``choreo eval --music``: a take as long as the song, its accents on the
beats with beat align on, an MP4 that carries the song, and the Beat Align Score in eval's JSON."""

from __future__ import annotations

import json

import numpy as np

from engine.dance.drums import write_drum_loop
from engine.dance.soundtrack import stream_seconds
from studio.cli import main


def _last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_generate_to_a_song_then_eval_its_beats(tmp_path, capsys, tiny_dance):
    model, motion = tiny_dance
    np.save(tmp_path / "clip.npy", motion.positions)
    song = tmp_path / "song.mp3"
    write_drum_loop(song, 120, 4.0)
    scores = {}
    for mode in ("on", "off"):
        out = tmp_path / f"take_{mode}.npy"
        assert main(["generate", str(model), "--seed-from", f"{tmp_path / 'clip.npy'}:100", "--music", str(song),
                     "--beat-align", mode, "--out", str(out), "--json"]) == 0
        gen = _last_json(capsys)
        assert gen["frames"] == 120 and "beat_align_score" in gen["music"]
        assert np.load(out).shape[0] == 120
        assert main(["eval", str(out), "--music", str(song), "--json"]) == 0
        result = _last_json(capsys)
        assert result["fps"] == 30.0 and result["take_frames"] == 120  # rate from the take's length vs the song's
        scores[mode] = result["beat_align_score"]
    assert scores["on"] > 1.5 * scores["off"]
    assert main(["eval", str(tmp_path / "take_on.npy"), "--music", str(song), "--against",
                 str(tmp_path / "clip.npy")]) == 0
    text = capsys.readouterr().out
    assert "Beat Align Score" in text and "verdict" in text and "sigma 0.05 s" in text


def test_generate_mp4_with_the_song_and_clear_errors(tmp_path, capsys, tiny_dance):
    model, _ = tiny_dance
    song = tmp_path / "song.wav"
    write_drum_loop(song, 90, 3.0)
    out = tmp_path / "take.mp4"
    assert main(["generate", str(model), "--music", str(song), "--out", str(out)]) == 0
    s = stream_seconds(out)
    assert s["video_frames"] == 90 and abs(s["audio_seconds"] - s["video_seconds"]) <= 1 / 30
    capsys.readouterr()
    (tmp_path / "noise.ogg").write_bytes(b"OggS but not really")
    assert main(["generate", str(model), "--music", str(tmp_path / "noise.ogg"), "--out", str(tmp_path / "x.npy")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("choreo: ") and "noise.ogg" in err[-1] and "cannot read" in err[-1]
    assert main(["eval", str(tmp_path / "take.mp4")]) == 2
    assert "--music" in capsys.readouterr().err
