"""Hostile files: pickled payloads never run, impossible sizes are refused from headers.

Every format that can carry a pickle gets a payload whose ``__reduce__`` would create a
marker file in ``tmp_path`` if it were ever executed: object-array ``.npy``, a ``.npz``
member, a stroke ``.npz`` (Sketch-RNN object arrays), checkpoints (zip and legacy
``torch.save`` formats, and a bare ``pickle.dump`` under a ``.pt`` name). Each load must
raise ``ChoreoError`` (one line naming the file) and the marker must not exist.
"""

from __future__ import annotations

import io
import os
import pickle
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.core.checkpoint import read_checkpoint
from engine.core.errors import ChoreoError
from engine.dance.model import DanceModel
from engine.dance.motion import load_motion
from engine.sketch.strokes import load_strokes


class Payload:
    """Unpickling this calls ``open(marker, "w")``: the marker file appearing means code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (str(self.marker), "w"))


def _object_array(*items: object) -> np.ndarray:
    arr = np.empty(len(items), dtype=object)
    for i, x in enumerate(items):
        arr[i] = x
    return arr


def _refused(load, path: Path, marker: Path) -> ChoreoError:
    """``load(path)`` raises ChoreoError naming the file in one line; the payload never ran."""
    with pytest.raises(ChoreoError) as err:
        load(path)
    text = str(err.value)
    assert text.startswith(str(path)) and "\n" not in text, text
    assert not marker.exists(), f"{path.name}: the pickled payload was executed"
    return err.value


def test_payload_really_runs_when_unpickled(tmp_path: Path) -> None:
    """Sanity check of the probe itself: plain pickle.loads does create the marker."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(Payload(marker))).close()
    assert marker.exists()


def test_object_array_npy(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    p = tmp_path / "evil.npy"
    np.save(p, _object_array(Payload(marker), np.zeros((4, 3))), allow_pickle=True)
    err = _refused(load_motion, p, marker)
    assert "pickled" in str(err)
    _refused(load_strokes, p, marker)


@pytest.mark.parametrize("member", ["positions", "joint_names", "bones", "fps"])
def test_npz_member_with_pickle(tmp_path: Path, member: str) -> None:
    marker = tmp_path / "ran"
    p = tmp_path / "evil.npz"
    arrays = {"positions": np.random.default_rng(0).normal(size=(10, 4, 3)),
              "joint_names": np.array(["a", "b", "c", "d"]), "bones": np.array([[0, 1], [1, 2]]),
              "fps": np.array(60.0)}
    arrays[member] = _object_array(Payload(marker))
    np.savez(p, allow_pickle=True, **arrays)
    err = _refused(load_motion, p, marker)
    assert "pickled" in str(err)


@pytest.mark.parametrize("suffix", [".npz", ".npy"])
def test_bare_pickle_under_numpy_names(tmp_path: Path, suffix: str) -> None:
    marker = tmp_path / "ran"
    p = tmp_path / f"evil{suffix}"
    p.write_bytes(pickle.dumps({"positions": Payload(marker)}))
    _refused(load_motion, p, marker)
    _refused(load_strokes, p, marker)


def test_stroke_npz_with_payload_in_object_array(tmp_path: Path) -> None:
    """A Sketch-RNN file whose object array holds the payload beside real sketches."""
    marker = tmp_path / "ran"
    p = tmp_path / "evil_sketches.npz"
    good = np.array([[1, 2, 0], [3, -1, 1]], np.int16)
    np.savez(p, allow_pickle=True, train=_object_array(good, Payload(marker)), valid=_object_array(good))
    err = _refused(load_strokes, p, marker)
    assert "refused" in str(err)


def test_stroke_npz_payload_hidden_in_dtype_reconstruct(tmp_path: Path) -> None:
    """The restricted unpickler allows numpy globals only: a payload nested in an allowed call is refused."""
    marker = tmp_path / "ran"

    class Nested:
        def __reduce__(self) -> tuple:
            return (np.dtype, (Payload(marker),))

    p = tmp_path / "nested.npz"
    np.savez(p, allow_pickle=True, train=_object_array(Nested()))
    _refused(load_strokes, p, marker)


@pytest.mark.parametrize("fmt", ["zip", "legacy", "plain-pickle"])
def test_checkpoint_with_reduce_payload(tmp_path: Path, fmt: str) -> None:
    marker = tmp_path / "ran"
    p = tmp_path / "evil.pt"
    payload = {"format": 1, "kind": "dance", "model": {"w": torch.zeros(2)}, "extra": Payload(marker)}
    if fmt == "zip":
        torch.save(payload, p)
    elif fmt == "legacy":
        torch.save(payload, p, _use_new_zipfile_serialization=False)
    else:
        p.write_bytes(pickle.dumps(payload))
    assert not marker.exists()
    _refused(read_checkpoint, p, marker)
    _refused(DanceModel.load, p, marker)


def test_checkpoint_with_payload_in_optimizer_state(tmp_path: Path) -> None:
    """A payload deep inside otherwise valid-looking optimizer state is refused as well."""
    marker = tmp_path / "ran"
    p = tmp_path / "evil_opt.pt"
    torch.save({"format": 1, "kind": "dance", "optimizer": {"state": {0: {"step": Payload(marker)}}}}, p)
    _refused(read_checkpoint, p, marker)


# ------------------------------------------------------------------ impossible sizes and odd files

def _npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    d = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}".encode("latin1")
    pad = 64 - (10 + len(d) + 1) % 64
    body = d + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body


def _traced_peak(fn) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        with pytest.raises(ChoreoError):
            fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("shape", [(10**12, 10**6, 3), (10**6, 55, 3), (2**62, 2**62, 3)])
def test_npy_terabyte_header_refused_from_header(tmp_path: Path, shape: tuple[int, int, int]) -> None:
    p = tmp_path / "huge.npy"
    p.write_bytes(_npy_header(shape) + bytes(4096))
    assert _traced_peak(lambda: load_motion(p)) < 4 << 20


def test_npy_big_file_with_lying_header_is_refused_before_mmap(tmp_path: Path) -> None:
    """Past the memory-map threshold too: the claim is checked against the file size first."""
    p = tmp_path / "big.npy"
    with open(p, "wb") as f:
        f.write(_npy_header((10**9, 55, 3)))
        f.truncate(20 << 20)  # sparse 20 MB
    with pytest.raises(ChoreoError, match="claims shape"):
        load_motion(p)


def test_npz_zip_bomb_is_refused(tmp_path: Path) -> None:
    """A member inflating ~1000x (honest sizes) is refused from the zip directory, not inflated."""
    p = tmp_path / "bomb.npz"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z, z.open("positions.npy", "w", force_zip64=True) as f:
        n = 100 << 20  # 100 MB of zeros -> ~100 KB compressed
        f.write(_npy_header((n // 12, 1, 3)))
        chunk = bytes(1 << 20)
        for _ in range(n // len(chunk)):
            f.write(chunk)
    assert p.stat().st_size < 1 << 20
    peak = _traced_peak(lambda: load_motion(p))
    assert peak < 8 << 20


def test_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    """A named pipe dropped on the app would block ``open`` forever: refused up front."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    p = tmp_path / "pipe.csv"
    os.mkfifo(p)
    with pytest.raises(ChoreoError, match="not a regular file"):
        load_motion(p)


@pytest.mark.parametrize(("name", "content", "match"), [
    ("pi.bvh", "HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS ² Xposition Yposition Zposition\n}\n"
     "MOTION\nFrames: 2\nFrame Time: 0.1\n1 2 3\n4 5 6\n", "whole number"),
    ("fast.bvh", "HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 3 Xposition Yposition Zposition\n}\n"
     "MOTION\nFrames: 2\nFrame Time: 1e-320\n1 2 3\n4 5 6\n", "Frame Time"),
    ("names0d.npz", None, "joint_names"),
])
def test_found_by_fuzzing(tmp_path: Path, name: str, content: str | None, match: str) -> None:
    """Regressions the fuzzer found (each used to escape as ValueError / OverflowError / TypeError)."""
    p = tmp_path / name
    if content is None:
        buf = io.BytesIO()
        np.savez(buf, positions=np.zeros((5, 3, 3)), joint_names=np.array(5))
        p.write_bytes(buf.getvalue())
    else:
        p.write_text(content, encoding="utf-8")
    with pytest.raises(ChoreoError, match=match):
        load_motion(p)


def test_real_cmu_bvh_still_loads(shared_data: Path) -> None:
    """The chunked BVH parser / forward kinematics give the real file's shape and rate."""
    m = load_motion(shared_data / "cmu_05_01_modern_dance.bvh")
    assert m.positions.shape == (599, 38, 3) and m.fps == 120.0
    assert np.isfinite(m.positions).all()


def test_real_kanji_strokes_still_load(shared_data: Path) -> None:
    splits = load_strokes(shared_data / "short_kanji.npz")
    assert len(splits["train"]) == 10000 and len(splits["valid"]) == 600


def test_stroke_pickle_reconstruct_cannot_allocate_gigabytes(tmp_path: Path) -> None:
    """``_reconstruct(ndarray, (10**10,), b'b')`` is an allowed global, but must not allocate 10 GB."""

    class Big:
        def __reduce__(self) -> tuple:
            return (np.ndarray.__reduce__(np.zeros(0))[0], (np.ndarray, (10**10,), b"b"))

    p = tmp_path / "big.npy"
    np.save(p, _object_array(Big()), allow_pickle=True)
    assert _traced_peak(lambda: load_strokes(p)) < 64 << 20
