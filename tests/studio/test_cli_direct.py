"""``choreo generate`` / ``choreo stream`` directing flags: --keyframe, --keep, --path, --part-temperature."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.dance.motion import load_motion
from engine.dance.parts import body_parts
from studio.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def rel(x):
    return x - x.mean(-2, keepdims=True)


@pytest.fixture
def clip(tmp_path, tiny_dance) -> Path:
    path = tmp_path / "clip.npy"  # a bare .npy: no joint names, the body decides the groups
    np.save(path, tiny_dance[1].positions)
    return path


def test_generate_honours_every_directing_flag(capsys, tmp_path, tiny_dance, clip):
    model, motion = tiny_dance
    data = motion.positions
    start = data[99].mean(0)[[0, 2]]
    path = start + np.stack([np.linspace(0, 1, 90), np.zeros(90)], 1)
    np.save(tmp_path / "path.npy", path)
    code, _, err = run(capsys, "generate", model, "--seed-from", f"{clip}:100", "--frames", "90",
                       "--keyframe", f"{clip}:400@60", "--keyframe", f"{clip}:10@30", "--path", tmp_path / "path.npy",
                       "--part-temperature", "legs=0.5", "--out", tmp_path / "t.npy")
    assert code == 0, err
    take = np.load(tmp_path / "t.npy")
    for frame, at in ((400, 60), (10, 30)):
        assert np.abs(rel(take[at]) - rel(data[frame])).max() < 1e-4
    assert np.allclose(take.mean(1)[:, [0, 2]], path, atol=1e-3)
    code, _, err = run(capsys, "generate", model, "--seed-from", f"{clip}:100", "--frames", "90",
                       "--keep", f"arms={clip}", "--out", tmp_path / "k.npy")
    assert code == 0, err
    kept = np.load(tmp_path / "k.npy")
    arms = list(body_parts(load_motion(clip)).groups["arms"])
    assert np.abs(rel(kept)[:, arms] - rel(data[100:190])[:, arms]).max() < 0.05  # from the seed frame on


def test_keep_from_another_file_and_joint_lists(capsys, tmp_path, tiny_dance, clip):
    model, motion = tiny_dance
    other = tmp_path / "other.npy"
    np.save(other, motion.positions[::-1].copy())
    code, _, err = run(capsys, "generate", model, "--seed-from", f"{clip}:100", "--frames", "40",
                       "--keep", f"6,7,8={other}:50", "--out", tmp_path / "t.npy")
    assert code == 0, err
    take = np.load(tmp_path / "t.npy")
    ref = motion.positions[::-1][50:90]
    assert np.abs(rel(take)[:, [6, 7, 8]] - rel(ref)[:, [6, 7, 8]]).max() < 0.05


def test_stream_takes_the_same_flags(capsys, tiny_dance, clip, osc_receiver):
    model, _ = tiny_dance
    code, _, err = run(capsys, "stream", model, "--seed-from", f"{clip}:100", "--keep", f"legs={clip}",
                       "--part-temperature", "arms=2", "--osc", f"127.0.0.1:{osc_receiver.port}", "--seconds", "0.3")
    assert code == 0, err
    assert osc_receiver.wait_for(5)


@pytest.mark.parametrize(("flags", "words"), [
    (["--keyframe", "CLIP:10"], "SOURCE:FRAME@TAKE_FRAME"),
    (["--keyframe", "CLIP@5"], "SOURCE:FRAME@TAKE_FRAME"),
    (["--keyframe", "CLIP:9999@5"], "outside"),
    (["--keyframe", "CLIP:10@500"], "outside the take"),
    (["--keep", "tails=CLIP"], "unknown joint or group 'tails'"),
    (["--keep", "arms"], "GROUP_OR_JOINTS=SOURCE"),
    (["--keep", "arms=missing.npy"], "missing.npy"),
    (["--part-temperature", "arms=hot"], "GROUP=T"),
    (["--part-temperature", "arms=20"], "from 0 to 10"),
    (["--path", "nowhere.npy"], "nowhere.npy"),
    (["--path", "CLIP"], "floor path"),
])
def test_bad_directing_flags_are_one_line(capsys, tmp_path, tiny_dance, clip, flags, words):
    model, _ = tiny_dance
    flags = [f.replace("CLIP", str(clip)) for f in flags]
    code, _, err = run(capsys, "generate", model, "--seed-from", f"{clip}:100", "--frames", "40", *flags,
                       "--out", tmp_path / "t.npy")
    lines = err.strip().splitlines()
    assert code != 0 and "Traceback" not in err
    assert words in lines[-1] and len([ln for ln in lines if "it/s" not in ln]) == 1
    assert not (tmp_path / "t.npy").exists()
