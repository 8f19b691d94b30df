"""Property-based fuzzing of every loader: a valid result or ``ChoreoError``, nothing else.

For each format (``.npy``, ``.npz``, ``.bvh``, ``.csv``, stroke ``.npz``, checkpoints)
hypothesis builds random valid files and random mutations of them (truncation, flipped
bytes, inserted bytes, headers claiming impossible shapes) and checks that the loader

- returns a well-formed result (finite float32 positions, ...) or raises ``ChoreoError``
  whose message is one line naming the file -- never any other exception;
- finishes within the per-example deadline (no hangs);
- allocates little: NumPy memory is traced with ``tracemalloc`` and must stay far below
  anything a lying header could claim.

The budget is bounded for CI: ``max_examples`` ~40-60 per property, derandomized so a
run is reproducible, no example database written to the repository.
"""

from __future__ import annotations

import io
import re
import string
import tempfile
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from engine.core.checkpoint import read_checkpoint, save_checkpoint
from engine.core.errors import ChoreoError
from engine.dance.motion import Motion, load_motion
from engine.sketch.strokes import load_strokes

FUZZ = settings(
    max_examples=50,
    deadline=10_000,  # ms per example: generous for 2 shared cores under load, still catches a hang
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MEMORY_LIMIT = 32 << 20  # bytes of traced (NumPy / Python) allocation any tiny hostile file may cause


@contextmanager
def scratch(name: str) -> Iterator[Path]:
    """A fresh file path per hypothesis example (function-scoped tmp_path would be shared)."""
    with tempfile.TemporaryDirectory(prefix="choreo-fuzz-") as d:
        yield Path(d) / name


def outcome(load: Callable[[Path], Any], path: Path) -> Any:
    """Run ``load(path)`` under tracemalloc; return its result or the ChoreoError it raised.

    Any other exception propagates (and fails the test). Traced peak memory must stay small.
    """
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        try:
            result: Any = load(path)
        except ChoreoError as err:
            result = err
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, f"{path.name}: loading allocated {peak / 1e6:.0f} MB"
    if isinstance(result, ChoreoError):
        text = str(result)
        assert "\n" not in text and text.startswith(str(path)), text
    return result


def check_motion(m: Any, path: Path) -> None:
    """A loaded clip is well formed: finite float32 (frames >= 2, joints >= 1, 3)."""
    if isinstance(m, ChoreoError):
        return
    assert isinstance(m, Motion)
    pos = m.positions
    assert pos.dtype == np.float32 and pos.ndim == 3 and pos.shape[2] == 3
    assert pos.shape[0] >= 2 and pos.shape[1] >= 1
    assert np.isfinite(pos).all(), f"{path.name}: non-finite values accepted"
    assert np.isfinite(m.fps) and m.fps > 0
    assert len(m.joint_names) == pos.shape[1]
    assert m.bones.ndim == 2 and (m.bones.size == 0 or (m.bones.min() >= 0 and m.bones.max() < pos.shape[1]))


# --------------------------------------------------------------------------- mutations

@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` after 1-3 random edits: truncate, flip a byte, insert/delete a run, overwrite a run."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "overwrite"]))
        n = len(out)
        i = draw(st.integers(0, max(0, n - 1)))
        if op == "truncate":
            del out[i:]
        elif op == "flip" and n:
            out[i] ^= draw(st.integers(1, 255))
        elif op == "insert":
            out[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del out[i : i + draw(st.integers(1, 16))]
        elif n:
            chunk = draw(st.binary(min_size=1, max_size=16))
            out[i : i + len(chunk)] = chunk
    return bytes(out)


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def npy_header(shape: tuple[int, ...], descr: str = "<f4", fortran: bool = False) -> bytes:
    """A syntactically valid version-1.0 .npy header claiming ``shape`` (no data)."""
    d = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape!r}, }}".encode("latin1")
    pad = 64 - (10 + len(d) + 1) % 64
    body = d + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body


def with_claimed_shape(data: bytes, shape: tuple[int, ...]) -> bytes:
    """Rewrite the shape in a .npy header (keeps the data that follows)."""
    header_len = int.from_bytes(data[8:10], "little")
    header = data[10 : 10 + header_len].decode("latin1")
    descr = re.search(r"'descr': '([^']*)'", header)
    fortran = "True" in header
    return npy_header(shape, descr.group(1) if descr else "<f4", fortran) + data[10 + header_len :]


DTYPES = st.sampled_from(["<f4", ">f4", "<f8", "<f2", "<i2", "<i8", "<u1", "|b1", "<c8", "<U3", "|S2"])
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6)
HUGE = st.tuples(st.integers(1000, 10**7), st.integers(50, 10**6), st.just(3))  # >= 600 KB claimed


def clip_array(seed: int, frames: int = 12, joints: int = 4) -> np.ndarray:
    """A smooth small (frames, joints, 3) clip."""
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(0, 0.05, (frames, joints, 3)), axis=0).astype(np.float32) + rng.normal(
        0, 1, (1, joints, 3)
    ).astype(np.float32)


# --------------------------------------------------------------------------- .npy

@FUZZ
@given(arr=hnp.arrays(DTYPES, SHAPES), fortran=st.booleans())
def test_npy_random_arrays(arr: np.ndarray, fortran: bool) -> None:
    """Any shape and dtype saved with np.save: a valid clip or ChoreoError."""
    with scratch("clip.npy") as p:
        p.write_bytes(npy_bytes(np.asfortranarray(arr) if fortran else arr))
        check_motion(outcome(load_motion, p), p)


@FUZZ
@given(arr=hnp.arrays(np.float32, st.tuples(st.integers(2, 8), st.integers(1, 5), st.just(3)),
                      elements=st.floats(-1e6, 1e6, width=32) | st.sampled_from([np.nan, np.inf, -np.inf])))
def test_npy_non_finite_content_refused(arr: np.ndarray) -> None:
    """A clip with any NaN/inf is refused; a finite one loads unchanged (up to layout)."""
    with scratch("clip.npy") as p:
        np.save(p, arr)
        result = outcome(lambda q: load_motion(q, layout="frames-first"), p)
        if np.isfinite(arr).all():
            assert isinstance(result, Motion) and np.array_equal(result.positions, arr)
        else:
            assert isinstance(result, ChoreoError) and "NaN or infinite" in str(result)


@FUZZ
@given(data=st.data(), seed=st.integers(0, 3))
def test_npy_mutated_files(data: st.DataObject, seed: int) -> None:
    """Truncated / bit-flipped / spliced .npy files: a valid clip or ChoreoError, little memory."""
    raw = npy_bytes(clip_array(seed))
    with scratch("clip.npy") as p:
        p.write_bytes(data.draw(mutated(raw)))
        check_motion(outcome(load_motion, p), p)


@FUZZ
@given(shape=HUGE | st.tuples(st.integers(10**9, 10**13), st.integers(1, 10**6), st.just(3)),
       descr=st.sampled_from(["<f4", "<f8", "<i8", "|u1"]), payload=st.integers(0, 4096))
def test_npy_header_claiming_huge_shape_is_refused_before_allocation(
        shape: tuple[int, int, int], descr: str, payload: int) -> None:
    """A header claiming up to exabytes over a few KB of data is refused from the header alone."""
    with scratch("huge.npy") as p:
        p.write_bytes(npy_header(shape, descr) + bytes(payload))
        result = outcome(load_motion, p)
        assert isinstance(result, ChoreoError) and "claims shape" in str(result)


@FUZZ
@given(junk=st.binary(max_size=2048))
def test_npy_random_bytes(junk: bytes) -> None:
    with scratch("junk.npy") as p:
        p.write_bytes(junk)
        check_motion(outcome(load_motion, p), p)


# --------------------------------------------------------------------------- .npz

@st.composite
def npz_files(draw: st.DrawFn) -> bytes:
    """A .npz with a positions-like array (random shape/dtype) and optional fps/joint_names/bones."""
    members: dict[str, np.ndarray] = {}
    if draw(st.booleans()):
        members["positions"] = clip_array(draw(st.integers(0, 3)), draw(st.integers(1, 10)), draw(st.integers(1, 5)))
    else:
        members[draw(st.sampled_from(["positions", "data", "clip"]))] = draw(hnp.arrays(DTYPES, SHAPES))
    if draw(st.booleans()):
        members["fps"] = draw(hnp.arrays(st.sampled_from(["<f8", "<i4", "<U2"]), hnp.array_shapes(min_dims=0,
                                         max_dims=2, min_side=0, max_side=2)))
    if draw(st.booleans()):
        members["joint_names"] = draw(hnp.arrays(st.sampled_from(["<U6", "|S4", "<i4", "<f4"]),
                                                 hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=6)))
    if draw(st.booleans()):
        members["bones"] = draw(hnp.arrays(st.sampled_from(["<i8", "<f4", "<u1"]),
                                           hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)))
    buf = io.BytesIO()
    (np.savez_compressed if draw(st.booleans()) else np.savez)(buf, **members)
    return buf.getvalue()


@FUZZ
@given(raw=npz_files())
def test_npz_random_members(raw: bytes) -> None:
    with scratch("clip.npz") as p:
        p.write_bytes(raw)
        check_motion(outcome(load_motion, p), p)


@FUZZ
@given(data=st.data(), raw=npz_files())
def test_npz_mutated_files(data: st.DataObject, raw: bytes) -> None:
    with scratch("clip.npz") as p:
        p.write_bytes(data.draw(mutated(raw)))
        check_motion(outcome(load_motion, p), p)


@FUZZ
@given(shape=HUGE, compress=st.booleans(), lie=st.booleans())
def test_npz_member_claiming_huge_shape_is_refused(shape: tuple[int, int, int], compress: bool,
                                                   lie: bool) -> None:
    """A member header (optionally with a zip entry that lies about its size) claiming GBs is refused."""
    member = npy_header(shape) + bytes(256)
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", method) as z:
        z.writestr("positions.npy", member)
    raw = buf.getvalue()
    if lie:  # patch the central directory's uncompressed size to the header's claim (capped at 4 GB - 1)
        claim = min(int(np.prod(shape)) * 4, 2**32 - 1).to_bytes(4, "little")
        cd = raw.rfind(b"PK\x01\x02")
        raw = raw[: cd + 24] + claim + raw[cd + 28 :]
    with scratch("huge.npz") as p:
        p.write_bytes(raw)
        assert isinstance(outcome(load_motion, p), ChoreoError)


# --------------------------------------------------------------------------- .bvh

@st.composite
def bvh_texts(draw: st.DrawFn) -> str:
    """A valid small BVH: a random chain/tree of joints, random channels and frames."""
    n_joints = draw(st.integers(1, 4))
    frames = draw(st.integers(0, 5))
    lines = ["HIERARCHY"]
    n_channels = 0

    def joint(depth: int, idx: int) -> None:
        nonlocal n_channels
        kind = "ROOT" if idx == 0 else "JOINT"
        chans = (["Xposition", "Yposition", "Zposition"] if idx == 0 else []) + draw(
            st.permutations(["Xrotation", "Yrotation", "Zrotation"]))
        n_channels += len(chans)
        lines.append(f"{'  ' * depth}{kind} j{idx}")
        lines.append(f"{'  ' * depth}{{")
        off = draw(st.lists(st.floats(-10, 10), min_size=3, max_size=3))
        lines.append(f"{'  ' * depth}  OFFSET {off[0]:.3f} {off[1]:.3f} {off[2]:.3f}")
        lines.append(f"{'  ' * depth}  CHANNELS {len(chans)} {' '.join(chans)}")
        if idx + 1 < n_joints:
            joint(depth + 1, idx + 1)
        else:
            lines.extend([f"{'  ' * depth}  End Site", f"{'  ' * depth}  {{", f"{'  ' * depth}    OFFSET 0 1 0",
                          f"{'  ' * depth}  }}"])
        lines.append(f"{'  ' * depth}}}")

    joint(0, 0)
    lines += ["MOTION", f"Frames: {frames}", f"Frame Time: {draw(st.sampled_from(['0.0083333', '0.033333']))}"]
    for _ in range(frames):
        vals = draw(st.lists(st.floats(-180, 180), min_size=n_channels, max_size=n_channels))
        lines.append(" ".join(f"{v:.4f}" for v in vals))
    return "\n".join(lines) + "\n"


TOKENS = st.sampled_from(["{", "}", "ROOT", "JOINT", "End", "Site", "OFFSET", "CHANNELS", "MOTION", "Frames:",
                          "Frame Time:", "nan", "inf", "-1", "1e308", "99999999999", "3", "Xrotation",
                          "Zposition", "²", "\x00", "\u2028"])


@st.composite
def mutated_text(draw: st.DrawFn, text: str) -> str:
    """Token-level edits of a text format: drop, duplicate or replace whitespace-separated tokens/lines."""
    parts = re.split(r"(\s+)", text)
    for _ in range(draw(st.integers(1, 4))):
        if not parts:
            break
        i = draw(st.integers(0, len(parts) - 1))
        op = draw(st.sampled_from(["drop", "dup", "replace", "cut"]))
        if op == "drop":
            del parts[i]
        elif op == "dup":
            parts.insert(i, parts[i])
        elif op == "replace":
            parts[i] = draw(TOKENS | st.text(max_size=6))
        else:
            del parts[i:]
    return "".join(parts)


@FUZZ
@given(text=bvh_texts())
def test_bvh_random_valid_files(text: str) -> None:
    with scratch("clip.bvh") as p:
        p.write_text(text)
        m = outcome(load_motion, p)
        check_motion(m, p)
        frames = int(re.search(r"Frames: (\d+)", text).group(1))
        assert isinstance(m, Motion) == (frames >= 2), m


@FUZZ
@given(data=st.data(), text=bvh_texts())
def test_bvh_mutated_files(data: st.DataObject, text: str) -> None:
    with scratch("clip.bvh") as p:
        if data.draw(st.booleans()):
            p.write_text(data.draw(mutated_text(text)), encoding="utf-8")
        else:
            p.write_bytes(data.draw(mutated(text.encode())))
        check_motion(outcome(load_motion, p), p)


def test_bvh_frames_header_claiming_billions_is_cheap(tmp_path: Path) -> None:
    """``Frames: 10**12`` over two rows is refused without allocating for the claim."""
    p = tmp_path / "liar.bvh"
    p.write_text("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 3 Xposition Yposition Zposition\n}\n"
                 "MOTION\nFrames: 1000000000000\nFrame Time: 0.01\n1 2 3\n4 5 6\n")
    result = outcome(load_motion, p)
    assert isinstance(result, ChoreoError) and "Frames" in str(result)


# --------------------------------------------------------------------------- .c3d

@pytest.fixture(scope="module")
def c3d_raw(tmp_path_factory, c3d_file) -> list[bytes]:
    """Small valid C3D files: float and integer point data, with and without invalid samples."""
    d = tmp_path_factory.mktemp("c3d")
    pts = np.concatenate([clip_array(0, frames=10, joints=3) * 1000, np.ones((10, 3, 1))], axis=-1)
    pts[4:6, 1, 3] = -1
    return [c3d_file(d / "float.c3d", pts).read_bytes(),
            c3d_file(d / "int.c3d", pts, scale=0.5, units="mm", y_screen=None).read_bytes()]


@FUZZ
@given(data=st.data(), which=st.integers(0, 1))
def test_c3d_mutated_files(c3d_raw: list[bytes], data: st.DataObject, which: int) -> None:
    """Truncated / bit-flipped / spliced C3D files: a valid clip or ChoreoError, little memory."""
    with scratch("take.c3d") as p:
        p.write_bytes(data.draw(mutated(c3d_raw[which])))
        check_motion(outcome(load_motion, p), p)


# --------------------------------------------------------------------------- .csv

CELLS = st.sampled_from(["0", "1.5", "-2e3", "nan", "inf", "", "x", '"3"', "1_0", " 4 ", "1e999", "0x1", "é"])


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    """A grid of cells (mostly numbers), random delimiter, maybe a header and ragged rows."""
    cols = draw(st.integers(1, 10))
    delim = draw(st.sampled_from([",", ";", "\t", " "]))
    rows = []
    if draw(st.booleans()):
        names = ["frame"] + [f"j{k // 3}_{'xyz'[k % 3]}" for k in range(cols - 1)]
        rows.append(delim.join(names))
    numbers = st.floats(-1e3, 1e3).map(lambda v: f"{v:.3f}")
    for _ in range(draw(st.integers(0, 8))):
        n = cols if draw(st.integers(0, 9)) else draw(st.integers(0, cols + 2))
        rows.append(delim.join(draw(st.lists(numbers | CELLS, min_size=n, max_size=n))))
    return "\n".join(rows) + draw(st.sampled_from(["", "\n", "\r\n"]))


@FUZZ
@given(text=csv_texts())
def test_csv_random_files(text: str) -> None:
    with scratch("clip.csv") as p:
        p.write_text(text, encoding="utf-8")
        check_motion(outcome(load_motion, p), p)


@FUZZ
@given(data=st.data(), text=csv_texts())
def test_csv_mutated_files(data: st.DataObject, text: str) -> None:
    with scratch("clip.csv") as p:
        p.write_bytes(data.draw(mutated(text.encode())))
        check_motion(outcome(load_motion, p), p)


@FUZZ
@given(text=st.text(alphabet=string.printable + "\x00é\u2028", max_size=400))
def test_csv_random_text(text: str) -> None:
    with scratch("clip.csv") as p:
        p.write_text(text, encoding="utf-8")
        check_motion(outcome(load_motion, p), p)


# --------------------------------------------------------------------------- stroke .npz

def _object_array(items: list) -> np.ndarray:
    arr = np.empty(len(items), dtype=object)
    for i, x in enumerate(items):
        arr[i] = x
    return arr


@st.composite
def stroke_files(draw: st.DrawFn) -> bytes:
    """Sketch-RNN style (object arrays of int16 (points, 3)) or numeric stroke files."""
    def sketch() -> np.ndarray:
        n = draw(st.integers(0, 6))
        xy = draw(hnp.arrays(np.int16, (n, 2), elements=st.integers(-50, 50)))
        pen = draw(hnp.arrays(np.int16, (n, 1), elements=st.integers(0, 1)))
        return np.concatenate([xy, pen], axis=1)

    buf = io.BytesIO()
    kind = draw(st.sampled_from(["sketch-rnn", "numeric"]))
    if kind == "sketch-rnn":
        splits = {s: _object_array([sketch() for _ in range(draw(st.integers(0, 3)))])
                  for s in draw(st.lists(st.sampled_from(["train", "valid", "test"]), min_size=1, unique=True))}
        np.savez(buf, allow_pickle=True, **splits)
    else:
        np.savez(buf, sketches=draw(hnp.arrays(DTYPES, SHAPES)))
    return buf.getvalue()


def check_strokes(result: Any) -> None:
    if isinstance(result, ChoreoError):
        return
    assert isinstance(result, dict) and result
    for items in result.values():
        assert isinstance(items, list) and items
        for a in items:
            assert isinstance(a, np.ndarray) and a.dtype.kind in "iuf" and a.ndim == 2 and a.shape[1] == 3
            assert np.isfinite(a).all()


@FUZZ
@given(raw=stroke_files())
def test_strokes_random_files(raw: bytes) -> None:
    with scratch("sketches.npz") as p:
        p.write_bytes(raw)
        check_strokes(outcome(load_strokes, p))


@FUZZ
@given(data=st.data(), raw=stroke_files())
def test_strokes_mutated_files(data: st.DataObject, raw: bytes) -> None:
    """Mutated files, including corrupted pickle streams inside object arrays."""
    with scratch("sketches.npz") as p:
        p.write_bytes(data.draw(mutated(raw)))
        check_strokes(outcome(load_strokes, p))


@FUZZ
@given(shape=HUGE, zipped=st.booleans())
def test_strokes_header_claiming_huge_shape_is_refused_before_allocation(shape: tuple[int, int, int],
                                                                         zipped: bool) -> None:
    member = npy_header(shape, "<i2") + bytes(600)
    with scratch("huge.npz" if zipped else "huge.npy") as p:
        if zipped:
            with zipfile.ZipFile(p, "w") as z:
                z.writestr("train.npy", member)
        else:
            p.write_bytes(member)
        assert isinstance(outcome(load_strokes, p), ChoreoError)


# --------------------------------------------------------------------------- checkpoints

@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A small but complete-looking checkpoint: tensors, nested dicts, optimizer state."""
    model = torch.nn.LSTM(3, 4)
    opt = torch.optim.Adam(model.parameters())
    model(torch.zeros(2, 1, 3))[0].sum().backward()
    opt.step()
    p = tmp_path_factory.mktemp("ckpt") / "m.pt"
    save_checkpoint(p, {"kind": "dance", "model": model.state_dict(), "optimizer": opt.state_dict(),
                        "step": 7, "history": {"train": [1.0, 0.5]}, "extra": {"names": ["a", "b"]}})
    return p.read_bytes()



@FUZZ
@given(data=st.data())
def test_checkpoint_mutated_files(data: st.DataObject, checkpoint_bytes: bytes) -> None:
    """Truncated / bit-flipped checkpoints: a dict or ChoreoError (torch.load weights_only)."""
    with scratch("m.pt") as p:
        p.write_bytes(data.draw(mutated(checkpoint_bytes)))
        result = outcome(read_checkpoint, p)
        assert isinstance(result, (dict, ChoreoError))


@FUZZ
@given(junk=st.binary(max_size=1024))
def test_checkpoint_random_bytes(junk: bytes) -> None:
    with scratch("m.pt") as p:
        p.write_bytes(junk)
        assert isinstance(outcome(read_checkpoint, p), ChoreoError)
