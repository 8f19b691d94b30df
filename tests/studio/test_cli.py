"""The ``choreo`` command: smoke tests end to end, and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.dance.synthetic import synthetic_dancer
from studio.cli import main

TINY = ["--hidden", "16", "--layers", "1", "--mixtures", "2", "--seq-len", "16", "--batch", "4",
        "--precision", "fp32", "--device", "cpu"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def clip(tmp_path) -> Path:
    path = tmp_path / "clip.npy"
    np.save(path, synthetic_dancer(frames=300, rng=1).positions.transpose(1, 0, 2))  # stored joints-first
    return path


def test_info_train_generate_end_to_end(capsys, tmp_path, clip, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "info", clip, "--json")
    info = json.loads(out)
    assert code == 0 and info["frames"] == 300 and info["layout"] == "joints-first"

    code, out, err = run(capsys, "train", clip, "--out", "m.pt", "--epochs", "1", "--json", *TINY)
    result = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and result["frames"] > 0 and result["frames_per_s"] > 0
    assert {"seconds", "train_loss", "val_loss"} <= result.keys()
    assert "negative" in err.lower() or "below zero" in err.lower()

    code, out, _ = run(capsys, "generate", "m.pt", "--frames", "25", "--seed-from", f"{clip}:100",
                       "--out", "take.npy", "--json")
    take = np.load(tmp_path / "take.npy", allow_pickle=False)
    assert code == 0 and take.shape == (23, 25, 3)  # the seed's joints-first layout
    assert json.loads(out)["quality"]["finite"]

    code, _, _ = run(capsys, "generate", "m.pt", "--frames", "10", "--variations", "2", "--out", "v.csv")
    assert code == 0 and (tmp_path / "v_v0.csv").exists() and (tmp_path / "v_v1.csv").exists()

    code, _, _ = run(capsys, "generate", "m.pt", "--frames", "5")  # no --out: a fresh numbered name
    code2, _, _ = run(capsys, "generate", "m.pt", "--frames", "5")
    assert code == code2 == 0 and (tmp_path / "take-2.npy").exists() and (tmp_path / "take-3.npy").exists()


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    files = {}
    np.save(tmp_path / "flat.npy", np.zeros((10, 6), np.float32))
    np.save(tmp_path / "deep.npy", np.zeros((2, 10, 4, 3), np.float32))
    np.save(tmp_path / "nan.npy", np.full((20, 4, 3), np.nan, np.float32))
    np.save(tmp_path / "objects.npy", np.array([np.zeros(3), "x"], dtype=object), allow_pickle=True)
    good = tmp_path / "good.npy"
    np.save(good, np.zeros((20, 4, 3), np.float32))
    (tmp_path / "truncated.npy").write_bytes(good.read_bytes()[:100])
    (tmp_path / "noise.npy").write_bytes(np.random.default_rng(0).bytes(500))
    (tmp_path / "clip.xyz").write_text("1 2 3\n")
    (tmp_path / "broken.bvh").write_text("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n}\nMOTION\nFrames: 1\n"
                                         "Frame Time: 0.0333\n0 0 0\n")
    for name in ("flat.npy", "deep.npy", "nan.npy", "objects.npy", "truncated.npy", "noise.npy", "clip.xyz",
                 "broken.bvh", "missing.npy"):
        files[name] = tmp_path / name
    return files


@pytest.mark.parametrize("name", ["flat.npy", "deep.npy", "nan.npy", "objects.npy", "truncated.npy", "noise.npy",
                                  "clip.xyz", "broken.bvh", "missing.npy"])
def test_bad_input_is_one_clear_line(capsys, tmp_path, name):
    path = _bad_inputs(tmp_path)[name]
    out_file = tmp_path / "out.pt"
    out_file.write_bytes(b"precious")
    code, _, err = run(capsys, "train", path, "--out", out_file, "--force", "--epochs", "1", *TINY)
    lines = err.strip().splitlines()
    assert code != 0 and len(lines) == 1 and name in lines[0] and "Traceback" not in err
    assert out_file.read_bytes() == b"precious"  # nothing the user had is overwritten


def test_missing_model_and_bad_flags(capsys, tmp_path):
    code, _, err = run(capsys, "generate", tmp_path / "nope.pt", "--out", tmp_path / "t.npy")
    assert code != 0 and "nope.pt" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "fake.pt").write_bytes(b"not a model")
    code, _, err = run(capsys, "generate", tmp_path / "fake.pt", "--out", tmp_path / "t.npy")
    assert code != 0 and "fake.pt" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as exc:
        main(["generate"])
    assert exc.value.code == 2


@pytest.mark.parametrize(("flag", "value", "words"), [
    ("--temperature", "9", "temperature must be 0 to 5, got 9"),
    ("--variations", "0", "variations must be 1 to 8, got 0"),
    ("--temperature", "warm", "temperature must be a number"),
])
def test_knobs_out_of_range_are_one_line_with_the_range(capsys, tmp_path, flag, value, words):
    with pytest.raises(SystemExit) as exc:
        main(["generate", str(tmp_path / "m.pt"), flag, value])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and len(err.splitlines()) == 1 and words in err


def test_help_is_built_from_the_knob_table(capsys):
    from engine.dance.knobs import GENERATION, TRAINING

    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert GENERATION["temperature"].help() in text
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert TRAINING["hidden"].help() in text


def test_mixture_out_of_range_and_existing_output(capsys, tmp_path, tiny_dance):
    model_path, _ = tiny_dance
    code, _, err = run(capsys, "generate", model_path, "--mixture", "99", "--out", tmp_path / "t.npy")
    assert code != 0 and "out of range" in err
    existing = tmp_path / "keep.npy"
    existing.write_bytes(b"mine")
    code, _, err = run(capsys, "generate", model_path, "--frames", "3", "--out", existing)
    assert code != 0 and "--force" in err and existing.read_bytes() == b"mine"


def test_console_script_runs_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "studio.cli", "info", str(tmp_path / "missing.bvh")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr and "missing.bvh" in proc.stderr


def test_demo_writes_a_playable_video_without_any_files(capsys, tmp_path, monkeypatch):
    import imageio_ffmpeg

    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "demo", "--frames", "40", "--json")
    result = json.loads(out.strip().splitlines()[-1])
    video = Path(result["out"])
    assert code == 0 and video.name == "demo.mp4"
    reader = imageio_ffmpeg.read_frames(str(video))
    meta = next(reader)
    assert meta["size"][0] >= 320 and sum(1 for _ in reader) == 40
    code, out, _ = run(capsys, "demo", "--frames", "5")
    assert code == 0 and (tmp_path / "demo-2.mp4").exists()  # never overwrites the first
