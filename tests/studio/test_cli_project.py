"""``choreo project new|generate|info|regenerate``, ``choreo export PIECE.choreo --take K``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from engine.dance.motion import load_motion
from engine.session import Session, read_project
from studio.cli import main

REPO = Path(__file__).resolve().parents[2]


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_project_from_the_command_line(capsys, tmp_path, bvh_piece, monkeypatch):
    clip, model = bvh_piece
    monkeypatch.chdir(tmp_path)
    piece = tmp_path / "piece.choreo"
    code, _, err = run(capsys, "project", "new", piece, "--clip", clip, "--model", model)
    assert code == 0 and piece.exists() and "240 frames" in err
    code, _, err = run(capsys, "project", "new", piece, "--clip", clip)
    assert code == 2 and "already exists" in err

    takes = [("--temperature", "0.5", "--frames", "20"),
             ("--variations", "2", "--sigma-temperature", "0.3", "--frames", "15", "--seed", "4", "--name", "duet"),
             ("--seed-from", "90", "--mixture", "argmax", "--look-back", "12", "--frames", "12", "--favourite"),
             ("--seed-from", f"{clip}:60", "--no-rigid", "--frames", "10", "--json")]
    for flags in takes:
        code, out, err = run(capsys, "project", "generate", piece, *flags)
        assert code == 0, err
    last = json.loads(out)
    assert last["number"] == 4 and last["recipe"]["rigid"] is False and last["recipe"]["seed_frame"] == 60

    # a new process reads what the command line wrote
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    info = subprocess.run([sys.executable, "-m", "studio.cli", "project", "info", str(piece), "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert info.returncode == 0, info.stderr
    doc = json.loads(info.stdout)
    assert [t["number"] for t in doc["takes"]] == [1, 2, 3, 4]
    assert [(t["name"], t["favourite"]) for t in doc["takes"]] == [("", False), ("duet", False), ("", True),
                                                                   ("", False)]
    assert [t["frames"] for t in doc["takes"]] == [20, 15, 12, 10] and doc["takes"][1]["variations"] == 2
    r = [t["recipe"] for t in doc["takes"]]
    assert (r[0]["temperature"], r[1]["sigma_temperature"], r[1]["rng"], r[2]["mixture"], r[2]["look_back"],
            r[2]["seed_frame"]) == (0.5, 0.3, 4, "argmax", 12, 90)
    assert doc["clips"][0]["name"] == "dance.bvh" and doc["clips"][0]["found"] and not doc["clips"][0]["embedded"]
    assert doc["models"][0]["name"] == "dance.pt" and doc["current_take"] == 4
    code, out, _ = run(capsys, "project", "info", piece)
    assert code == 0 and '"duet"' in out and "★" in out

    # from the recipe alone: exactly the stored frames, in every variation
    for k in (1, 2, 3, 4):
        code, out, err = run(capsys, "project", "regenerate", piece, "--take", k, "--out", f"again{k}.npy", "--json")
        assert code == 0 and json.loads(out)["identical"] is True, err
        code, _, _ = run(capsys, "export", piece, "--take", k, "--out", f"stored{k}.npy")
        assert code == 0
        stored = read_project(piece).take(k).positions
        for v in range(stored.shape[0]):
            name = "{}{}.npy" if stored.shape[0] == 1 else "{}{}_v" + str(v) + ".npy"
            again, kept = np.load(name.format("again", k)), np.load(name.format("stored", k))
            assert np.array_equal(again, kept) and np.array_equal(kept, stored[v])

    code, _, err = run(capsys, "export", piece, "--take", 3, "--out", "take3.gif")
    assert code == 0 and (tmp_path / "take3.gif").stat().st_size > 1000
    code, _, err = run(capsys, "export", piece, "--take", 1, "--out", "take1.bvh")  # onto the clip's own rig
    back = load_motion(tmp_path / "take1.bvh")
    assert code == 0 and back.n_frames == 20 and back.joint_names == load_motion(clip).joint_names
    code, _, err = run(capsys, "export", piece, "--out", "shown.csv")  # the shown take by default
    assert code == 0 and "take 4" in err
    code, _, err = run(capsys, "export", piece, "--take", 9, "--out", "x.npy")
    assert code == 2 and "no take 9" in err
    code, _, err = run(capsys, "export", clip, "--take", 1, "--out", "x.npy")
    assert code == 2 and "--take picks a take of a project" in err

    with Session.open_project(piece, device="cpu") as s:  # the notebook's and the studio's view of it
        assert [t.title for t in s.takes] == ["take 1", "duet", "take 3", "take 4"]
        assert s.take(3).favourite and s.motion.source.endswith("dance.bvh")


def test_project_errors_are_one_line(capsys, tmp_path, bvh_piece):
    clip, model = bvh_piece
    code, _, err = run(capsys, "project", "new", tmp_path / "p.txt", "--clip", clip)
    assert code == 2 and "ends in .choreo" in err
    code, _, err = run(capsys, "project", "info", tmp_path / "none.choreo")
    assert code == 2 and "no such project" in err
    piece = tmp_path / "p.choreo"
    assert run(capsys, "project", "new", piece, "--clip", clip)[0] == 0
    before = piece.read_bytes()
    code, _, err = run(capsys, "project", "generate", piece, "--frames", "5")
    assert code == 2 and "no model available: pass --model" in err and err.count("\n") == 1
    assert piece.read_bytes() == before
    code, _, err = run(capsys, "project", "generate", piece, "--frames", "5", "--model", model, "--seed-from", "9999")
    assert code == 2 and "seed frame" in err and piece.read_bytes() == before
    code, _, err = run(capsys, "project", "regenerate", piece, "--take", "1", "--out", tmp_path / "t.npy")
    assert code == 2 and "no take 1" in err


def test_regenerate_after_files_moved(capsys, tmp_path, bvh_piece):
    clip, model = bvh_piece
    (tmp_path / "a").mkdir()
    for f in (clip, model):
        (tmp_path / "a" / f.name).write_bytes(f.read_bytes())
    piece = tmp_path / "p.choreo"
    run(capsys, "project", "new", piece, "--clip", tmp_path / "a" / "dance.bvh", "--model", tmp_path / "a" / "dance.pt")
    assert run(capsys, "project", "generate", piece, "--frames", "8")[0] == 0
    (tmp_path / "a").rename(tmp_path / "b")
    code, _, err = run(capsys, "project", "regenerate", piece, "--take", 1, "--out", tmp_path / "t.npy")
    assert code == 2 and "not found" in err and "--model PATH" in err
    code, out, err = run(capsys, "project", "regenerate", piece, "--take", 1, "--out", tmp_path / "t.npy", "--json",
                         "--model", tmp_path / "b" / "dance.pt", "--clip", tmp_path / "b" / "dance.bvh")
    assert code == 0 and json.loads(out)["identical"], err
    code, _, err = run(capsys, "project", "regenerate", piece, "--take", 1, "--out", tmp_path / "u.npy",
                       "--model", REPO / "assets" / "demo_dance.pt", "--clip", tmp_path / "b" / "dance.bvh")
    assert code == 2 and "not the project's model" in err


def test_a_take_danced_to_a_song_regenerates(capsys, tmp_path, bvh_piece, drum_song):
    clip, model = bvh_piece
    song = tmp_path / "loop.flac"
    song.write_bytes(drum_song.read_bytes())
    piece = tmp_path / "p.choreo"
    assert run(capsys, "project", "new", piece, "--clip", clip, "--model", model)[0] == 0
    code, out, err = run(capsys, "project", "generate", piece, "--music", song, "--beat-align", "on",
                         "--frames", "45", "--json")
    assert code == 0, err
    recipe = json.loads(out)["recipe"]
    assert recipe["beat_align"] is True and len(recipe["song_sha256"]) == 64
    code, out, err = run(capsys, "project", "regenerate", piece, "--take", 1, "--out", tmp_path / "a.npy", "--json")
    assert code == 0 and json.loads(out)["identical"], err
    song.rename(tmp_path / "moved.flac")
    code, _, err = run(capsys, "project", "regenerate", piece, "--take", 1, "--out", tmp_path / "b.npy")
    assert code == 2 and "pass --music SONG" in err
    code, out, err = run(capsys, "project", "regenerate", piece, "--take", 1, "--out", tmp_path / "b.npy",
                         "--music", tmp_path / "moved.flac", "--json")
    assert code == 0 and json.loads(out)["identical"], err
