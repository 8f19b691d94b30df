"""``choreo`` with the pipeline formats: C3D in (info, export), BVH/glTF out (export, generate), OSC (stream)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.dance.motion import load_motion
from engine.dance.synthetic import synthetic_dancer
from studio.cli import main

pytestmark = pytest.mark.filterwarnings("ignore:No analog data found")


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def marker_file(tmp_path, c3d_file):
    """A C3D capture: the synthetic dancer in millimetres, one marker with a gap, one prop."""
    d = synthetic_dancer(frames=90, fps=60.0, rng=4).positions.astype(np.float64) * 1000
    pts = np.concatenate([d, np.ones((*d.shape[:2], 1))], axis=-1)
    pts = np.concatenate([pts, np.tile([[[3000.0, 0.0, 10.0, 1.0]]], (len(pts), 1, 1))], axis=1)
    pts[30:36, 3, 3] = -1
    return c3d_file(tmp_path / "capture.c3d", pts, [f"M{i}" for i in range(d.shape[1])] + ["Chair"], rate=60.0)


def test_info_shows_what_c3d_loading_did(capsys, marker_file):
    code, out, _ = run(capsys, "info", marker_file)
    assert code == 0
    assert "fps       60 (from the file)" in out
    assert "note      filled 1 gap(s) (6 samples" in out
    assert "note      excluded 1 marker(s) that never move with the body (props, calibration objects): Chair" in out
    code, out, _ = run(capsys, "info", marker_file, "--json")
    info = json.loads(out)
    assert info["joints"] == 23 and info["up_axis"] == "z" and len(info["notes"]) == 2


def test_export_c3d_to_bvh_and_glb(capsys, tmp_path, marker_file):
    code, _, err = run(capsys, "export", marker_file, "--out", tmp_path / "capture.bvh")
    assert code == 0 and "wrote" in err
    back = load_motion(tmp_path / "capture.bvh")
    assert back.up_axis == "y" and back.fps == 60.0
    code, _, err = run(capsys, "export", marker_file, "--out", tmp_path / "capture.bvh")
    assert code == 2 and "already exists (use --force to replace it)" in err
    code, _, _ = run(capsys, "export", marker_file, "--out", tmp_path / "capture.glb")
    assert code == 0 and (tmp_path / "capture.glb").read_bytes()[:4] == b"glTF"
    code, _, err = run(capsys, "export", marker_file, "--out", tmp_path / "x.bvh", "--skeleton", tmp_path / "no.bvh")
    assert code == 2 and err.count("\n") == 1 and "no.bvh" in err


def test_generate_bvh_and_stream(capsys, tmp_path, tiny_dance, osc_receiver):
    path, motion = tiny_dance
    code, _, _ = run(capsys, "generate", path, "--frames", "20", "--out", tmp_path / "take.bvh")
    assert code == 0 and load_motion(tmp_path / "take.bvh").n_frames == 20

    code, out, err = run(capsys, "stream", path, "--osc", f"127.0.0.1:{osc_receiver.port}", "--seconds", "0.5",
                         "--temperature", "0.5", "--json")
    assert code == 0 and "streaming live generation" in err
    result = json.loads(out)
    assert result["frames"] == 15 and result["fps"] == 30.0  # 0.5 s at the seed's 30 fps
    got = osc_receiver.wait_for(15)
    assert [a[0] for _, a in got] == list(range(15)) and len(got[0][1]) == 2 + 3 * motion.n_joints


def test_stream_a_take_file(capsys, tmp_path, osc_receiver):
    np.save(tmp_path / "take.npy", synthetic_dancer(frames=12, fps=30.0, rng=0).positions)
    code, out, _ = run(capsys, "stream", tmp_path / "take.npy", "--osc", f":{osc_receiver.port}", "--json")
    assert code == 0 and json.loads(out)["frames"] == 12
    assert len(osc_receiver.wait_for(12)) == 12


def test_stream_bad_target_is_one_line(capsys, tmp_path):
    np.save(tmp_path / "take.npy", synthetic_dancer(frames=12, fps=30.0, rng=0).positions)
    code, _, err = run(capsys, "stream", tmp_path / "take.npy", "--osc", "localhost:99999")
    assert code == 2 and err.count("\n") == 1 and "port must be a number" in err
