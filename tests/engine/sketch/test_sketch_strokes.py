"""Stroke data: conversions, the restricted .npz loader, bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.core.errors import ChoreoError
from engine.sketch.strokes import (
    load_split,
    load_strokes,
    save_strokes,
    stroke3_to_stroke5,
    stroke5_to_stroke3,
    to_data_units,
)
from engine.sketch.synthetic import synthetic_sketches
from studio.cli import main

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


def _object_array(items: list) -> np.ndarray:
    arr = np.empty(len(items), dtype=object)
    for i, x in enumerate(items):
        arr[i] = x
    return arr


def test_stroke3_stroke5_round_trip():
    sketches = synthetic_sketches(12, rng=3)
    x5, lengths = stroke3_to_stroke5(sketches, max(len(s) for s in sketches))
    assert x5.shape == (12, max(lengths) + 1, 5)
    assert np.all(x5[:, 0] == [0, 0, 1, 0, 0])
    assert np.allclose(x5[:, :, 2:].sum(-1), 1.0)
    for s, row, n in zip(sketches, x5, lengths, strict=True):
        assert n == len(s)
        assert np.all(row[n + 1 :] == [0, 0, 0, 0, 1])
        back = stroke5_to_stroke3(row[1:])
        assert np.array_equal(back, s.astype(np.float32))


def test_data_units_rounding_keeps_absolute_positions():
    rng = np.random.default_rng(0)
    s = np.concatenate([rng.normal(0, 30, (50, 2)), (rng.random((50, 1)) < 0.2)], 1)
    out = to_data_units(s, integer=True)
    assert out.dtype == np.int16
    assert np.abs(np.cumsum(out[:, :2], 0) - np.cumsum(s[:, :2], 0)).max() <= 0.5 + 1e-9


def test_sketch_rnn_npz_with_object_arrays_loads_safely(tmp_path):
    sk = synthetic_sketches(7, rng=1)
    path = tmp_path / "d.npz"
    np.savez(path, train=_object_array(sk[:4]), valid=_object_array(sk[4:6]), test=_object_array(sk[6:]))
    splits = load_strokes(path)
    assert sorted(splits) == ["test", "train", "valid"]
    assert all(np.array_equal(a, b) for a, b in zip(splits["train"], sk[:4], strict=True))
    assert splits["train"][0].dtype == np.int16


def test_choreo_npz_round_trip_and_plain_arrays(tmp_path):
    sk = synthetic_sketches(5, rng=2)
    save_strokes(tmp_path / "o.npz", sk)
    with np.load(tmp_path / "o.npz", allow_pickle=False) as f:  # pickle-free for other tools
        assert f["sketches"].dtype == np.int16 and f["lengths"].sum() == len(f["sketches"])
        assert list(f["offsets"]) == [0, *np.cumsum(f["lengths"]).tolist()]
    back = load_split(tmp_path / "o.npz")
    assert all(np.array_equal(a, b) for a, b in zip(back, sk, strict=True))
    np.save(tmp_path / "one.npy", sk[0])
    assert np.array_equal(load_split(tmp_path / "one.npy")[0], sk[0])


class _Payload:
    """Pickles as "open this file for writing": running it would create the file."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (str(self.target), "w"))


def test_restricted_loader_refuses_pickled_payload(tmp_path):
    target = tmp_path / "pwned.txt"
    path = tmp_path / "evil.npz"
    np.savez(path, train=_object_array([np.zeros((3, 3), np.int16), _Payload(target)]))
    assert not target.exists()
    with pytest.raises(ChoreoError, match=r"evil\.npz.*refused"):
        load_strokes(path)
    assert not target.exists()
    # the command line: one clear line, non-zero exit, nothing executed
    assert main(["sketch", "train", str(path), "--out", str(tmp_path / "m.pt"), "--quiet"]) == 2
    assert not target.exists()


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        ({"train": np.zeros((5, 4), np.float32)}, r"\(points, 3\)"),
        ({"train": np.zeros(10, np.float32)}, "stroke-3"),
        ({"train": np.full((4, 3), 2, np.int16)}, "pen state"),
        ({"train": np.empty(0, dtype=object)}, "empty"),
        ({"train": np.array(["a", "b"])}, "numbers"),
    ],
)
def test_bad_inputs_raise_one_line(tmp_path, arrays, match):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ChoreoError, match=match) as info:
        load_strokes(path)
    assert "\n" not in str(info.value) and "bad.npz" in str(info.value)


def test_object_array_of_wrong_shapes(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, train=_object_array([np.zeros((4, 3), np.int16), np.zeros((4, 2), np.int16)]))
    with pytest.raises(ChoreoError, match=r"train\[1\].*shape"):
        load_strokes(path)


def test_not_a_numpy_file(tmp_path):
    path = tmp_path / "x.npy"
    path.write_text("hello")
    with pytest.raises(ChoreoError, match=r"x\.npy"):
        load_strokes(path)
    with pytest.raises(ChoreoError, match="not found"):
        load_strokes(tmp_path / "missing.npz")


@pytest.mark.skipif(not (DATA / "short_kanji.npz").exists(), reason="shared data absent")
def test_kanji_file_matches_trusted_numpy_load():
    path = DATA / "short_kanji.npz"
    splits = load_strokes(path)
    with np.load(path, encoding="latin1", allow_pickle=True) as ref:
        for name in ("train", "valid", "test"):
            assert len(splits[name]) == len(ref[name])
        assert np.array_equal(splits["valid"][5], ref["valid"][5])


def test_rdp_keeps_ends_and_drops_collinear_points():
    from engine.sketch.simplify import rdp

    line = np.stack([np.linspace(0, 100, 50), np.linspace(0, 50, 50)], 1)
    assert np.array_equal(rdp(line, 1.0), line[[0, -1]])
    corner = np.concatenate([line, line[-1] + np.stack([np.zeros(20), np.linspace(1, 60, 20)], 1)])
    out = rdp(corner, 1.0)
    assert len(out) == 3 and np.allclose(out[1], line[-1])


def test_quickdraw_like_sketches_look_like_the_real_files():
    from engine.sketch.quality import stroke_count
    from engine.sketch.synthetic import quickdraw_like_sketches

    sketches = quickdraw_like_sketches(200, rng=1)
    assert all(s.dtype == np.int16 and s.ndim == 2 and s.shape[1] == 3 for s in sketches)
    assert all(s[-1, 2] == 1 and 10 <= len(s) <= 250 for s in sketches)
    sides = [np.ptp(np.cumsum(s[:, :2], 0)[:, :2], 0).max() for s in sketches]
    assert min(sides) >= 253 and max(sides) <= 256  # larger side scaled to 255 (whole units)
    strokes = [stroke_count(s) for s in sketches]
    assert np.percentile(strokes, 5) >= 3 and np.percentile(strokes, 95) <= 13
    assert np.array_equal(sketches[0], quickdraw_like_sketches(1, rng=1)[0])


def test_quickdraw_like_npz_reads_back_through_the_safe_loader(tmp_path):
    from engine.sketch.strokes import load_strokes
    from engine.sketch.synthetic import quickdraw_like_sketches, write_quickdraw_like_npz

    path = write_quickdraw_like_npz(tmp_path / "cat.npz", n_train=20, n_valid=5, n_test=4, rng=3)
    splits = load_strokes(path)
    assert {k: len(v) for k, v in splits.items()} == {"train": 20, "valid": 5, "test": 4}
    assert np.array_equal(splits["test"][-1], quickdraw_like_sketches(29, rng=3)[-1])


def test_npy_list_of_sketches_loads_safely(tmp_path):
    sk = synthetic_sketches(4, rng=5)
    np.save(tmp_path / "list.npy", _object_array(sk), allow_pickle=True)  # how numpy stores a list of arrays
    back = load_split(tmp_path / "list.npy")
    assert all(np.array_equal(a, b) for a, b in zip(back, sk, strict=True))
