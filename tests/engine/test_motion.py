"""load_motion / load_motions: layouts, formats, fps, and every bad-file case as ChoreoError."""

from __future__ import annotations

import argparse
import json
import pickle

import numpy as np
import pytest

from engine.core.errors import ChoreoError
from engine.dance.motion import Motion, detect_layout, load_motion, load_motions


def stick_figure(frames: int = 60, seed: int = 0) -> np.ndarray:
    """A small moving figure (frames, 7, 3): hips, spine, head, two arms, two legs, drifting and waving."""
    t = np.arange(frames) / 30.0
    rest = np.array(
        [[0, 1, 0], [0, 1.5, 0], [0, 1.8, 0], [-0.4, 1.4, 0], [0.4, 1.4, 0], [-0.15, 0, 0], [0.15, 0, 0]],
        dtype=np.float64,
    )
    x = np.repeat(rest[None], frames, axis=0)
    x[:, 3, 1] += 0.2 * np.sin(2 * t)
    x[:, 4, 1] += 0.2 * np.cos(2 * t)
    x[:, :, 0] += 0.3 * t[:, None]
    x += np.random.default_rng(seed).normal(0, 1e-3, x.shape)
    return x.astype(np.float32)


@pytest.fixture
def fig() -> np.ndarray:
    return stick_figure()


def test_frames_first_detected(tmp_path, fig):
    p = tmp_path / "clip.npy"
    np.save(p, fig)
    m = load_motion(p)
    assert m.layout == "frames-first"
    assert m.positions.shape == (60, 7, 3) and m.positions.dtype == np.float32
    np.testing.assert_array_equal(m.positions, fig)
    assert "axis 0" in m.layout_note
    assert m.fps == 30.0 and "assumed" in m.fps_note


def test_joints_first_detected_and_override(tmp_path, fig):
    p = tmp_path / "dance.npy"
    np.save(p, fig.transpose(1, 0, 2))
    m = load_motion(p)
    assert m.layout == "joints-first"
    assert "joints-first (7, 60, 3)" in m.layout_note and "axis 1" in m.layout_note
    np.testing.assert_array_equal(m.positions, fig)
    forced = load_motion(p, layout="frames-first", fps=24)
    assert forced.positions.shape == (7, 60, 3) and forced.layout == "frames-first"
    assert forced.fps == 24 and forced.fps_note == "given"


def test_detect_layout_on_big_mmap(tmp_path):
    big = np.repeat(stick_figure(2000), 8, axis=1)  # (2000, 56, 3)
    p = tmp_path / "big.npy"
    np.save(p, big.transpose(1, 0, 2))
    arr = np.load(p, mmap_mode="r")
    layout, note = detect_layout(arr)
    assert layout == "joints-first", note


def test_npz_positions_key_fps_and_single_array(tmp_path, fig):
    p = tmp_path / "a.npz"
    np.savez(p, positions=fig, fps=np.float64(60), other=np.zeros(3))
    m = load_motion(p)
    assert m.fps == 60 and m.fps_note == "from the file"
    np.testing.assert_array_equal(m.positions, fig)
    q = tmp_path / "b.npz"
    np.savez(q, data=fig.transpose(1, 0, 2))
    assert load_motion(q).layout == "joints-first"
    r = tmp_path / "c.npz"
    np.savez(r, a=fig, b=fig)
    with pytest.raises(ChoreoError, match=r"c\.npz: .*keys are \['a', 'b'\]"):
        load_motion(r)


def test_csv_with_header_and_frame_column(tmp_path, fig):
    names = ["Hips", "Spine", "Head", "LArm", "RArm", "LLeg", "RLeg"]
    header = ",".join(f"{n}_{a}" for n in names for a in "xyz")
    p = tmp_path / "h.csv"
    np.savetxt(p, fig.reshape(60, -1), delimiter=",", header=header, comments="", fmt="%.6f")
    m = load_motion(p)
    assert m.joint_names == names
    np.testing.assert_allclose(m.positions, fig, atol=1e-6)
    q = tmp_path / "f.csv"
    data = np.concatenate([np.arange(60)[:, None], fig.reshape(60, -1)], axis=1)
    np.savetxt(q, data, delimiter=",", header="frame," + header, comments="", fmt="%.6f")
    m2 = load_motion(q)
    assert m2.n_joints == 7 and m2.joint_names == names
    np.testing.assert_allclose(m2.positions, fig, atol=1e-6)


def test_csv_without_header(tmp_path, fig):
    p = tmp_path / "n.csv"
    np.savetxt(p, fig.reshape(60, -1), delimiter=",", fmt="%.6f")
    m = load_motion(p)
    assert m.positions.shape == (60, 7, 3) and m.joint_names[0] == "joint0"


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("ragged.csv", "1,2,3\n4,5,6\n7,8\n", "line 3: 2 columns"),
        ("words.csv", "1,2,3\n4,x,6\n", "line 2, column 2: 'x' is not a number"),
        ("cols.csv", "1,2,3,4\n5,6,7,8\n", "not joints x 3"),
        ("empty.csv", "", "empty"),
        ("clip.xyz", "1 2 3", "unknown file type"),
        ("junk.bvh", "hello", "not a BVH file"),
    ],
)
def test_bad_text_files(tmp_path, name, content, match):
    p = tmp_path / name
    p.write_text(content)
    with pytest.raises(ChoreoError, match=match) as err:
        load_motion(p)
    assert str(err.value).startswith(str(p))


def _bad_array(tmp_path, name, arr):
    p = tmp_path / name
    np.save(p, arr)
    return p


@pytest.mark.parametrize(
    ("arr", "match"),
    [
        (np.zeros((10, 6)), r"3-D array .* got shape \(10, 6\)"),
        (np.zeros((2, 10, 4, 3)), "got shape"),
        (np.zeros((10, 4, 2)), "got shape"),
        (np.array(["a", "b", "c"] * 4).reshape(2, 2, 3), "expected numbers"),
        (np.zeros((1, 4, 3)), "at least 2 frames"),
    ],
)
def test_bad_arrays(tmp_path, arr, match):
    p = _bad_array(tmp_path, "bad.npy", arr)
    with pytest.raises(ChoreoError, match=match) as err:
        load_motion(p)
    assert "bad.npy" in str(err.value)


def test_nan_frames_are_counted(tmp_path, fig):
    fig = fig.copy()
    fig[[3, 7, 8], 2, 1] = np.nan
    fig[20, 0, 0] = np.inf
    p = _bad_array(tmp_path, "nan.npy", fig)
    with pytest.raises(ChoreoError, match=r"nan\.npy: 4 of 60 frames .*NaN.*first: frame 3"):
        load_motion(p)


def test_truncated_random_pickled_and_missing(tmp_path, fig):
    good = _bad_array(tmp_path, "good.npy", fig)
    trunc = tmp_path / "trunc.npy"
    trunc.write_bytes(good.read_bytes()[:300])
    rand = tmp_path / "rand.npy"
    rand.write_bytes(np.random.default_rng(0).bytes(2000))
    obj = tmp_path / "obj.npy"
    np.save(obj, np.array([fig, None], dtype=object), allow_pickle=True)
    pkl = tmp_path / "pkl.npz"
    pkl.write_bytes(pickle.dumps({"positions": fig}))
    randz = tmp_path / "rand.npz"
    randz.write_bytes(np.random.default_rng(1).bytes(500))
    for p in (trunc, rand, obj, pkl, randz, tmp_path / "missing.npy"):
        with pytest.raises(ChoreoError) as err:
            load_motion(p)
        assert str(err.value).startswith(str(p)) and "\n" not in str(err.value)
    with pytest.raises(ChoreoError, match="pickled"):
        load_motion(obj)


def test_load_motions_folder_and_joint_mismatch(tmp_path, fig):
    folder = tmp_path / "clips"
    folder.mkdir()
    np.save(folder / "b.npy", fig)
    np.save(folder / "a.npy", fig[:30])
    (folder / "notes.txt").write_text("ignored")
    ms = load_motions([folder])
    assert [m.n_frames for m in ms] == [30, 60]
    other = tmp_path / "five.npy"
    np.save(other, fig[:, :5])
    with pytest.raises(ChoreoError, match=r"five\.npy: has 5 joints"):
        load_motions([folder, other])


def test_motion_defaults():
    m = Motion(np.zeros((3, 2, 3)))
    assert m.joint_names == ["joint0", "joint1"] and m.bones.shape == (0, 2)


def test_cli_info_json(tmp_path, fig, capsys):
    from studio.cli.dance_info import add_info_parser

    p = tmp_path / "clip.npy"
    np.save(p, fig.transpose(1, 0, 2))
    parser = argparse.ArgumentParser()
    add_info_parser(parser.add_subparsers())
    args = parser.parse_args(["info", str(p), "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out.strip())
    assert out["frames"] == 60 and out["joints"] == 7 and out["layout"] == "joints-first"
    assert out["bones"] == 6 and out["bones_from"] == "inferred" and out["up_axis"] == "y"
    args = parser.parse_args(["info", str(p), "--layout", "frames-first", "--fps", "50"])
    args.func(args)
    assert "frames    7" in capsys.readouterr().out
