"""Readers for clips stored as arrays: ``.npy`` and ``.npz`` (vetted headers, no pickles, bounded
memory, memory-mapped when large) and ``.csv`` (one row per frame), with the layout detection that
tells ``(frames, joints, 3)`` from ``(joints, frames, 3)``. ``load_motion`` dispatches here."""

from __future__ import annotations

import csv
import math
import os
import re
import struct
import zipfile
import zlib
from array import array
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..core.errors import ChoreoError

_MMAP_BYTES = 16 << 20  # memory-map .npy files larger than this
_SAMPLE = 512  # bound on each axis of the block used for layout detection
_PICKLE_REFUSED = "holds pickled Python objects; refusing to unpickle them (save plain numeric arrays)"
_HEADER_LIMIT = 10_000  # bytes of .npy header numpy itself accepts by default
_NPZ_MEMBER_LIMIT = 4 << 30  # a .npz member is read into memory: cap it (big clips belong in .npy, memory-mapped)
_NPZ_RATIO_LIMIT = 200  # a member inflating more than this (and past 64 MB) is a zip bomb, not mocap
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
               RuntimeError, zlib.error, struct.error, KeyError, OverflowError)


def detect_layout(arr: np.ndarray) -> tuple[str, str]:
    """Guess whether a (A, B, 3) array is frames-first or joints-first; return (layout, note).

    Consecutive frames are close, consecutive joints are not: compare the mean
    absolute step along axis 0 and axis 1 on a bounded block of the array.
    """
    a, b = arr.shape[:2]
    shape = tuple(arr.shape)
    if a < 2 or b < 2:
        return "frames-first", f"frames-first {shape}: an axis of length 1 cannot be told apart, assumed"
    # a block from the middle avoids a static T-pose at the start
    s0, s1 = max(0, a // 2 - _SAMPLE // 2), max(0, b // 2 - _SAMPLE // 2)
    block = np.asarray(arr[s0 : s0 + _SAMPLE, s1 : s1 + _SAMPLE], dtype=np.float64)
    if not np.isfinite(block).all():
        block = np.nan_to_num(block, nan=0.0, posinf=0.0, neginf=0.0)
    d0 = float(np.abs(np.diff(block, axis=0)).mean())
    d1 = float(np.abs(np.diff(block, axis=1)).mean())
    if d1 < d0:
        ratio = d0 / d1 if d1 > 0 else float("inf")
        return "joints-first", f"joints-first {shape}: frame-to-frame steps {ratio:.3g}x smaller along axis 1"
    ratio = d1 / d0 if d0 > 0 else float("inf")
    return "frames-first", f"frames-first {shape}: frame-to-frame steps {ratio:.3g}x smaller along axis 0"


def _check_array(arr: np.ndarray, path: Path) -> None:
    if arr.dtype.kind not in "iuf":
        raise ChoreoError(f"expected numbers, got an array of dtype {arr.dtype}", path)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ChoreoError(
            f"expected a 3-D array (frames, joints, 3) or (joints, frames, 3), got shape {tuple(arr.shape)}",
            path,
        )
    if arr.size == 0:
        raise ChoreoError(f"the array is empty, shape {tuple(arr.shape)}", path)


def _from_array(arr: np.ndarray, path: Path, layout: str) -> tuple[np.ndarray, str, str]:
    """Validate, orient and convert a raw array to float32 (frames, joints, 3)."""
    _check_array(arr, path)
    if layout == "auto":
        layout, note = detect_layout(arr)
    else:
        note = f"{layout} {tuple(arr.shape)}: as requested"
    if layout == "joints-first":
        arr = arr.transpose(1, 0, 2)
    return np.ascontiguousarray(arr, dtype=np.float32), layout, note


def _npy_header(f: BinaryIO, path: Path, available: int, what: str = "") -> tuple[tuple[int, ...], np.dtype]:
    """Read and vet a ``.npy`` header from ``f`` before any data is read or allocated.

    ``available`` is how many bytes the stream holds in total; a header claiming more
    data than that (e.g. terabytes in a small file) is refused here, so the caller can
    never be made to allocate more than the file's own size.
    """
    start = f.tell()
    magic = f.read(6)
    if magic[:1] == b"\x80":  # a pickle (protocol 2+), e.g. from torch.save or pickle.dump
        raise ChoreoError(f"{what}{_PICKLE_REFUSED}", path)
    f.seek(start)
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=_HEADER_LIMIT)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=_HEADER_LIMIT)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except Exception as err:  # numpy raises ValueError, but a hostile header can reach other errors
        msg = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise ChoreoError(f"{what}not a readable NumPy file ({msg})", path) from None
    if dtype.hasobject:
        raise ChoreoError(f"{what}{_PICKLE_REFUSED}", path)
    if any(n < 0 for n in shape):
        raise ChoreoError(f"{what}NumPy header has a negative dimension {shape}", path)
    claimed = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    have = available - (f.tell() - start)
    if claimed > have:
        raise ChoreoError(
            f"{what}truncated or corrupt: the header claims shape {tuple(shape)} of {dtype} "
            f"({_size(claimed)}) but only {_size(max(have, 0))} of data follow", path)
    return tuple(shape), dtype


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1000
    return f"{n} bytes"  # pragma: no cover


def _np_load(path: Path, mmap: bool = False) -> np.ndarray:
    """Load a ``.npy`` file after vetting its header (no pickles, no impossible sizes)."""
    try:
        with open(path, "rb") as f:
            _npy_header(f, path, os.fstat(f.fileno()).st_size)
        return np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
    except ChoreoError:
        raise
    except ValueError as err:
        if "pickle" in str(err).lower() or "object arrays" in str(err).lower():
            raise ChoreoError(_PICKLE_REFUSED, path) from None
        raise ChoreoError(f"not a readable NumPy file (truncated or corrupt?): {err}", path) from None
    except (OSError, EOFError, MemoryError) as err:
        raise ChoreoError(f"not a readable NumPy file (truncated or corrupt?): {err}", path) from None


def load_npy(path: Path, layout: str) -> tuple[np.ndarray, str, str]:
    arr = _np_load(path, mmap=path.stat().st_size > _MMAP_BYTES)
    try:
        return _from_array(arr, path, layout)
    finally:
        del arr


def _npz_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> np.ndarray:
    """One array of a ``.npz``: header vetted, size bounded by the member's own size, no pickles."""
    key = info.filename[:-4]
    what = f"member {key!r}: "
    if info.file_size > _NPZ_MEMBER_LIMIT:
        raise ChoreoError(f"{what}{_size(info.file_size)} uncompressed is too large for a .npz "
                          "(save big clips as .npy, which is memory-mapped)", path)
    if info.file_size > 64 << 20 and info.file_size > _NPZ_RATIO_LIMIT * max(info.compress_size, 1):
        raise ChoreoError(f"{what}inflates {info.file_size / max(info.compress_size, 1):.0f}x "
                          f"to {_size(info.file_size)}: refusing a likely zip bomb", path)
    with z.open(info) as f:
        _npy_header(f, path, info.file_size, what)
    with z.open(info) as f:  # numpy reads at most the header's claim, which fits in file_size
        return np.lib.format.read_array(f, allow_pickle=False, max_header_size=_HEADER_LIMIT)


_NpzResult = tuple[np.ndarray, str, str, "float | None", list[str], "np.ndarray | None"]


def load_npz(path: Path, layout: str) -> _NpzResult:
    with open(path, "rb") as f:
        head = f.read(6)
    if head == b"\x93NUMPY":  # a .npy saved under a .npz name
        return (*load_npy(path, layout), None, [], None)
    if head[:1] == b"\x80":
        raise ChoreoError(_PICKLE_REFUSED, path)
    try:
        with zipfile.ZipFile(path) as z:
            members = {i.filename[:-4]: i for i in z.infolist() if i.filename.endswith(".npy")}
            keys = list(members)
            meta = {"fps", "joint_names", "bones"}
            if "positions" in keys:
                key = "positions"
            else:
                data_keys = [k for k in keys if k not in meta]
                if len(data_keys) != 1:
                    raise ChoreoError(
                        f"cannot tell which array holds the motion: no 'positions' key, keys are {keys}", path
                    )
                key = data_keys[0]
            pos, lay, note = _from_array(_npz_member(z, members[key], path), path, layout)
            file_fps = None
            if "fps" in keys:
                f = _npz_member(z, members["fps"], path)
                ok = f.size == 1 and f.dtype.kind in "iuf" and np.isfinite(f).all()
                if not ok or f.reshape(-1)[0] <= 0:
                    shown = f"{f.reshape(-1)[0].item()!r}" if f.size == 1 else f"an array of shape {f.shape}"
                    raise ChoreoError(f"'fps' must be one positive number, got {shown} ({f.dtype})"[:200], path)
                file_fps = float(f.reshape(-1)[0])
            names: list[str] = []
            if "joint_names" in keys:
                arr = _npz_member(z, members["joint_names"], path)
                if arr.ndim != 1 or arr.dtype.kind not in "USiu":
                    raise ChoreoError(f"'joint_names' must be a 1-D array of names, got {arr.dtype} "
                                      f"shape {arr.shape}", path)
                names = [n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n) for n in arr.tolist()]
            bones = _npz_member(z, members["bones"], path) if "bones" in keys else None
    except ChoreoError:
        raise
    except _ZIP_ERRORS as err:
        if "pickle" in str(err).lower() or "object arrays" in str(err).lower():
            raise ChoreoError(_PICKLE_REFUSED, path) from None
        msg = str(err).splitlines()[0][:160] if str(err) else type(err).__name__
        raise ChoreoError(f"not a readable .npz file (truncated or corrupt?): {msg}", path) from None
    if names and len(names) != pos.shape[1]:
        raise ChoreoError(f"'joint_names' has {len(names)} names for {pos.shape[1]} joints", path)
    if bones is not None and (
        bones.dtype.kind not in "iu"
        or bones.ndim != 2
        or bones.shape[1] != 2
        or (bones.size and (bones.min() < 0 or bones.max() >= pos.shape[1]))
    ):
        raise ChoreoError(f"'bones' must be (bones, 2) joint indices below {pos.shape[1]}", path)
    return pos, lay, note, file_fps, names, bones


_AXIS_SUFFIX = re.compile(r"^(.*?)[\s_.:\-/]*[xyzXYZ]$")
_INDEX_NAMES = {"frame", "frames", "time", "t", "timestamp", "index", "idx", "second", "seconds", "sec", "s"}


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


_CSV_SNIFF = 16384  # characters the dialect sniffer looks at (its regexes are slow on long samples)


def _csv_layout(header: list[str] | None, ncol: int, path: Path) -> int:
    """Columns to skip (a leading frame/time index); checks the rest is joints x 3."""
    skip = 0
    if ncol % 3 == 1 and header is not None and header[0].strip().lower() in _INDEX_NAMES:
        skip = 1
    if (ncol - skip) % 3 != 0 or ncol - skip == 0:
        raise ChoreoError(f"{ncol} columns is not joints x 3 (x, y, z per joint)", path)
    return skip


def load_csv(path: Path) -> tuple[np.ndarray, list[str]]:
    """Parse a CSV row by row into float64 (memory: 8 bytes per value, never a table of strings)."""
    header: list[str] | None = None
    ncol = skip = n_rows = 0
    values = array("d")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            sample = f.read(_CSV_SNIFF)
            f.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t ")
            except csv.Error:
                dialect = csv.excel
            reader = csv.reader(f, dialect)
            for raw in reader:
                r = [c.strip() for c in raw]
                if not any(r):
                    continue
                lineno = reader.line_num
                if not ncol:
                    ncol = len(r)
                    if not all(_is_number(c) for c in r if c):
                        header = r
                        skip = _csv_layout(header, ncol, path)
                        continue
                    skip = _csv_layout(header, ncol, path)
                if len(r) != ncol:
                    raise ChoreoError(f"line {lineno}: {len(r)} columns, expected {ncol}", path)
                try:
                    row = [float(c) for c in r[skip:]]
                except ValueError:
                    for c, cell in enumerate(r[skip:], skip + 1):
                        if not _is_number(cell):
                            raise ChoreoError(f"line {lineno}, column {c}: {cell[:40]!r} is not a number",
                                              path) from None
                    raise
                values.extend(row)
                n_rows += 1
    except UnicodeDecodeError:
        raise ChoreoError("not a CSV text file (cannot decode it as UTF-8)", path) from None
    except (OSError, csv.Error) as err:
        raise ChoreoError(f"cannot read CSV: {err}", path) from None
    if not ncol:
        raise ChoreoError("the CSV file is empty", path)
    if not n_rows:
        raise ChoreoError("the CSV file has a header but no data rows", path)
    joints = (ncol - skip) // 3
    names: list[str] = []
    if header is not None:
        cols = header[skip:]
        for j in range(joints):
            m = _AXIS_SUFFIX.match(cols[3 * j])
            names.append(m.group(1) if m and m.group(1) else cols[3 * j] or f"joint{j}")
    return np.frombuffer(values, dtype=np.float64).reshape(n_rows, joints, 3), names


# The same vetting for other zip formats that carry .npy members (project files)
read_npy_member = _npz_member
ZIP_ERRORS = _ZIP_ERRORS
