"""Motion capture clips: the ``Motion`` data model and ``load_motion``."""

from __future__ import annotations

import csv
import math
import os
import re
import struct
import zipfile
import zlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..core.errors import ChoreoError


@dataclass
class Motion:
    """One clip of joint positions.

    positions:   float32 ``(frames, joints, 3)`` in the source's units and axes.
    fps:         frames per second.
    joint_names: one name per joint (``joint0``... when the file has none).
    bones:       int ``(bones, 2)`` pairs of joint indices (parent, child).
    source:      where it came from (a path, or e.g. ``"synthetic:seed=0"``).
    layout:      how the source stored it: ``"frames-first"`` (F, J, 3) or
                 ``"joints-first"`` (J, F, 3); exports use it by default.
    layout_note: what auto-detection decided and why (for ``choreo info``).
    fps_note:    where ``fps`` came from (argument, file, or assumed default).
    up_axis:     "y", "-z", ... when known; empty when it has to be guessed (``render.motion_up_axis``).
    """

    positions: np.ndarray
    fps: float = 30.0
    joint_names: list[str] = field(default_factory=list)
    bones: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    source: str = ""
    layout: str = "frames-first"
    layout_note: str = ""
    fps_note: str = ""
    up_axis: str = ""  # which axis points up when known ("y" for BVH; a generated take copies its source's)

    def __post_init__(self) -> None:
        self.positions = np.asarray(self.positions, dtype=np.float32)
        if self.positions.ndim != 3 or self.positions.shape[2] != 3:
            raise ValueError(f"positions must be (frames, joints, 3), got {self.positions.shape}")
        if not self.joint_names:
            self.joint_names = [f"joint{i}" for i in range(self.n_joints)]
        self.bones = np.asarray(self.bones, dtype=np.int64).reshape(-1, 2)

    @property
    def n_frames(self) -> int:
        return int(self.positions.shape[0])

    @property
    def n_joints(self) -> int:
        return int(self.positions.shape[1])

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps



DEFAULT_FPS = 30.0
LOADABLE = (".npy", ".npz", ".bvh", ".csv")
LAYOUTS = ("auto", "frames-first", "joints-first")
_MMAP_BYTES = 16 << 20  # memory-map .npy files larger than this
_SAMPLE = 512  # bound on each axis of the block used for layout detection


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


def _fps_from(fps: float | None, file_fps: float | None, path: Path) -> tuple[float, str]:
    if fps is not None:
        if not (np.isfinite(fps) and fps > 0):
            raise ChoreoError(f"fps must be a positive number, got {fps}", path)
        return float(fps), "given"
    if file_fps is not None:
        return file_fps, "from the file"
    return DEFAULT_FPS, f"not in the file, assumed {DEFAULT_FPS:g} (use --fps to set it)"


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


def _check_positions(pos: np.ndarray, path: Path) -> None:
    if pos.shape[0] < 2:
        raise ChoreoError(f"needs at least 2 frames, got {pos.shape[0]}", path)
    bad = ~np.isfinite(pos).all(axis=(1, 2))
    if bad.any():
        first = int(np.argmax(bad))
        raise ChoreoError(
            f"{int(bad.sum())} of {len(bad)} frames contain NaN or infinite values (first: frame {first})",
            path,
        )


_PICKLE_REFUSED = "holds pickled Python objects; refusing to unpickle them (save plain numeric arrays)"
_HEADER_LIMIT = 10_000  # bytes of .npy header numpy itself accepts by default
_NPZ_MEMBER_LIMIT = 4 << 30  # a .npz member is read into memory: cap it (big clips belong in .npy, memory-mapped)
_NPZ_RATIO_LIMIT = 200  # a member inflating more than this (and past 64 MB) is a zip bomb, not mocap
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
               RuntimeError, zlib.error, struct.error, KeyError, OverflowError)


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


def _load_npy(path: Path, layout: str) -> tuple[np.ndarray, str, str]:
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


def _load_npz(path: Path, layout: str) -> _NpzResult:
    with open(path, "rb") as f:
        head = f.read(6)
    if head == b"\x93NUMPY":  # a .npy saved under a .npz name
        return (*_load_npy(path, layout), None, [], None)
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


def _load_csv(path: Path) -> tuple[np.ndarray, list[str]]:
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


def _round_fps(fps: float) -> float:
    # 1 / 0.0083333 is 120.0005: a BVH frame time is written with few digits
    r = round(fps)
    return float(r) if r > 0 and abs(fps - r) < 1e-3 * r else fps


def load_motion(path: str | Path, layout: str = "auto", fps: float | None = None) -> Motion:
    """Read one clip from ``.npy``, ``.npz``, ``.bvh`` or ``.csv`` into a :class:`Motion`.

    ``layout`` ("auto", "frames-first", "joints-first") says how a NumPy array is
    stored; "auto" decides by temporal smoothness and records why in
    ``layout_note``. ``fps`` overrides the file's rate (BVH ``Frame Time``, an
    ``fps`` entry of a ``.npz``); without either, 30 fps is assumed and
    ``fps_note`` says so. Every problem with the file raises :class:`ChoreoError`.
    """
    path = Path(path)
    if layout not in LAYOUTS:
        raise ChoreoError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}", path)
    if not path.exists():
        raise ChoreoError("no such file", path)
    if path.is_dir():
        raise ChoreoError("is a folder, expected a motion file", path)
    if not path.is_file():  # a FIFO or device would block or never end
        raise ChoreoError("is not a regular file (a pipe or device?), expected a motion file", path)
    ext = path.suffix.lower()
    if ext not in LOADABLE:
        kinds = ", ".join(LOADABLE)
        raise ChoreoError(f"unknown file type {ext or '(none)'!r}; expected one of {kinds}", path)
    if path.stat().st_size == 0:
        raise ChoreoError("the file is empty", path)

    file_fps: float | None = None
    names: list[str] = []
    bones: np.ndarray | None = None
    if ext == ".npy":
        pos, lay, note = _load_npy(path, layout)
    elif ext == ".npz":
        pos, lay, note, file_fps, names, bones = _load_npz(path, layout)
    elif ext == ".bvh":
        from .bvh import load_bvh

        world, clip = load_bvh(path)
        pos = world.astype(np.float32)
        n_end = sum(j.end_site for j in clip.joints)
        lay = "frames-first"
        note = (f"frames-first: BVH hierarchy + forward kinematics, {len(clip.joints) - n_end} joints"
                f" + {n_end} end sites")
        file_fps = _round_fps(clip.fps)
        names = [j.name for j in clip.joints]
        bones = clip.bones()
    else:
        values, names = _load_csv(path)
        pos, lay, note = values.astype(np.float32), "frames-first", "frames-first: CSV, one row per frame"
    _check_positions(pos, path)
    rate, fps_note = _fps_from(fps, file_fps, path)
    return Motion(
        positions=pos,
        fps=rate,
        joint_names=names,
        bones=np.zeros((0, 2), np.int64) if bones is None else bones,
        source=str(path),
        layout=lay,
        layout_note=note,
        fps_note=fps_note,
        up_axis="y" if ext == ".bvh" else "",  # BVH's convention
    )


def motion_files(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """The clip files named by ``paths``: files as given, folders searched recursively (sorted by path;
    hidden files and folders skipped). Nothing is read."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in LOADABLE and f.is_file()
                           and not any(part.startswith(".") for part in f.relative_to(p).parts))
            if not found:
                raise ChoreoError(f"folder holds no motion files ({', '.join(LOADABLE)})", p)
            files.extend(found)
        else:
            files.append(p)
    return files


def load_motions(
    paths: str | Path | Iterable[str | Path], layout: str = "auto", fps: float | None = None
) -> list[Motion]:
    """Load several clips (files and/or folders of files, searched recursively and sorted by path).

    All clips must have the same number of joints; a mismatch raises
    :class:`ChoreoError` naming the first clip that differs.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = motion_files(paths)
    if not files:
        raise ChoreoError("no motion files given")
    motions = [load_motion(f, layout=layout, fps=fps) for f in files]
    first = motions[0]
    for m in motions[1:]:
        if m.n_joints != first.n_joints:
            raise ChoreoError(
                f"has {m.n_joints} joints but {first.source} has {first.n_joints}; "
                "clips must share a skeleton",
                m.source,
            )
    return motions
