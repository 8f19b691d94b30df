"""Stroke data: stroke-3 <-> stroke-5, length filtering, scaling, and a safe file loader.

*stroke-3* is the Sketch-RNN / Quick, Draw! layout: one row per point, ``(dx, dy, lifted)``
where ``lifted`` is 1 when the pen leaves the paper *after* this point. *stroke-5* is what
the model sees: ``(dx, dy, p_down, p_up, p_end)`` with one-hot pen states, a start token
``(0, 0, 1, 0, 0)`` in front and end-of-sketch rows ``(0, 0, 0, 0, 1)`` as padding.

Sketch-RNN's ``.npz`` files hold object arrays of int16 arrays, which ``np.load`` only
reads with ``allow_pickle=True`` -- i.e. running code from the file. ``load_strokes``
never does that: it parses the ``.npy`` members itself and unpickles object arrays with
a restricted unpickler that can only rebuild numpy arrays and dtypes.

Files written by Choreo (``save_strokes``) hold no pickles: key ``sketches`` is all
sketches' stroke-3 rows concatenated ``(total_points, 3)`` (int16 when every value is a
whole number, else float32), ``lengths`` the point count of each sketch (int64; 0 for an
empty drawing, e.g. a sample the model ended at once) and
``offsets`` where each one starts (int64, ``len(lengths) + 1`` entries).
"""

from __future__ import annotations

import io
import itertools
import math
import os
import pickle
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core.errors import ChoreoError
from ..core.fileio import atomic_path

SPLITS = ("train", "valid", "test")

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct, scalar
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import _reconstruct, scalar  # type: ignore[no-redef]


def _encode(obj: str, encoding: str = "latin1") -> bytes:
    """Stand-in for ``_codecs.encode`` (protocol-2 pickles of bytes use it)."""
    return obj.encode(encoding)


def _empty_reconstruct(cls, shape, dtype):
    """numpy's ``_reconstruct`` limited to what real array pickles ask for: an empty ndarray.

    The data arrives afterwards through ``__setstate__``; a pickle asking for a huge shape here
    would allocate gigabytes from a few bytes.
    """
    if cls is not np.ndarray or math.prod(shape) != 0:
        raise pickle.UnpicklingError("refused numpy _reconstruct with a non-empty shape")
    return _reconstruct(cls, shape, dtype)


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _empty_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _empty_reconstruct,
    ("numpy.core.multiarray", "scalar"): scalar,
    ("numpy._core.multiarray", "scalar"): scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _encode,
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays and dtypes; refuses every other global (no code runs)."""

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refused {module}.{name}") from None


def _read_npy(f, path: Path, member: str, available: int) -> np.ndarray:
    """Read one ``.npy`` stream of ``available`` bytes; object arrays go through the restricted unpickler.

    A header's claimed size is checked against ``available`` before anything is allocated.
    """
    start = f.tell()
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    except Exception as err:  # numpy's header parser raises several kinds on garbage
        raise ChoreoError(f"{member}: not a numpy array ({err})"[:200], path) from err
    if not dtype.hasobject:
        if dtype.kind not in "iuf" or dtype.fields:
            raise ChoreoError(f"{member}: expected numbers, found dtype {dtype}", path)
        count = math.prod(shape)
        if count * dtype.itemsize > available - (f.tell() - start):
            raise ChoreoError(f"{member}: truncated or corrupt (the header claims shape {shape}, "
                              "more data than the file holds)", path)
        data = f.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise ChoreoError(f"{member}: file is truncated", path)
        arr = np.frombuffer(data, dtype=dtype, count=count)
        return arr.reshape(shape, order="F" if fortran else "C")
    try:
        arr = _ArrayOnlyUnpickler(f, encoding="latin1").load()
    except pickle.UnpicklingError as err:
        raise ChoreoError(f"{member}: refused to load: the file holds more than plain arrays ({err})"[:240],
                          path) from err
    except Exception as err:  # malformed pickle streams raise all sorts of errors
        raise ChoreoError(f"{member}: unreadable object array ({type(err).__name__})", path) from err
    if not isinstance(arr, np.ndarray):
        raise ChoreoError(f"{member}: expected an array of sketches", path)
    return arr


def _as_sketch(a: object, path: Path, where: str) -> np.ndarray:
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "iuf":
        what = type(a).__name__ if not isinstance(a, np.ndarray) else f"dtype {a.dtype}"
        raise ChoreoError(f"{where}: expected a numeric (points, 3) stroke-3 array, got {what}", path)
    if a.ndim != 2 or a.shape[1] != 3:
        raise ChoreoError(f"{where}: expected stroke-3 rows (points, 3), got shape {a.shape}", path)
    if len(a) == 0:
        raise ChoreoError(f"{where}: empty sketch", path)
    if not np.isfinite(a).all():
        raise ChoreoError(f"{where}: holds NaN or inf", path)
    if not np.isin(a[:, 2], (0, 1)).all():
        raise ChoreoError(f"{where}: third column must be the pen state 0/1", path)
    return a


def _split_to_list(arr: np.ndarray, path: Path, name: str) -> list[np.ndarray]:
    if arr.dtype.hasobject:
        if arr.ndim != 1:
            raise ChoreoError(f"{name}: expected a list of sketches, got shape {arr.shape}", path)
        items = [_as_sketch(a, path, f"{name}[{i}]") for i, a in enumerate(arr)]
    elif arr.ndim == 2:
        items = [_as_sketch(arr, path, name)]
    elif arr.ndim == 3:
        items = [_as_sketch(a, path, f"{name}[{i}]") for i, a in enumerate(arr)]
    else:
        raise ChoreoError(f"{name}: expected stroke-3 data (points, 3), got shape {arr.shape}", path)
    if not items:
        raise ChoreoError(f"{name}: split is empty", path)
    return items


def load_strokes(path: str | Path) -> dict[str, list[np.ndarray]]:
    """Read stroke-3 sketches from ``path`` without ever executing code from it.

    Accepts a Sketch-RNN ``.npz`` (splits ``train``/``valid``/``test``, object arrays),
    a Choreo ``.npz`` (``sketches`` + ``lengths``), an ``.npz`` / ``.npy`` of one
    numeric ``(points, 3)`` or ``(n, points, 3)`` array or of a list of such arrays,
    an ``.svg`` file or a folder of them (``svg.read_svg``). Returns
    ``{split: [arrays]}``; sources without named splits give one split called ``sketches``.
    """
    path = Path(path)
    if path.is_dir() or path.suffix.lower() == ".svg":
        from .svg import read_svg, read_svg_folder

        return {"sketches": read_svg_folder(path) if path.is_dir() else read_svg(path)}
    if not path.is_file():
        raise ChoreoError("file not found" if not path.exists() else "is not a file", path)
    arrays: dict[str, np.ndarray] = {}
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                for member in z.namelist():
                    if not member.endswith(".npy"):
                        continue
                    with z.open(member) as f:
                        size = z.getinfo(member).file_size
                        arrays[member[:-4]] = _read_npy(io.BufferedReader(f), path, member[:-4], size)
        else:
            with open(path, "rb") as f:
                arrays["sketches"] = _read_npy(f, path, "array", os.fstat(f.fileno()).st_size)
    except (zipfile.BadZipFile, OSError) as err:
        raise ChoreoError(f"not a readable .npz/.npy file ({err})"[:200], path) from err
    if not arrays:
        raise ChoreoError("holds no arrays", path)
    if "sketches" in arrays and "lengths" in arrays:
        flat, lengths = arrays["sketches"], arrays["lengths"]
        if flat.dtype.hasobject:
            return {"sketches": _split_to_list(flat, path, "sketches")}
        if flat.ndim != 2 or flat.shape[1] != 3 or lengths.ndim != 1 or lengths.dtype.kind not in "iu":
            raise ChoreoError("sketches/lengths: expected (points, 3) rows and a 1-D length index", path)
        if (lengths < 0).any() or int(lengths.sum()) != len(flat):
            raise ChoreoError("lengths do not add up to the rows in 'sketches'", path)
        if len(lengths) == 0:
            raise ChoreoError("sketches: split is empty", path)
        starts = np.concatenate([[0], np.cumsum(lengths)])
        # a generated sketch may be empty (the model ended it at once): kept as a (0, 3) array
        return {"sketches": [_as_sketch(flat[a:b], path, f"sketches[{i}]") if b > a else flat[a:b]
                             for i, (a, b) in enumerate(itertools.pairwise(starts))]}
    named = {k: v for k, v in arrays.items() if k in SPLITS}
    chosen = named or arrays
    return {k: _split_to_list(v, path, k) for k, v in chosen.items()}


def load_split(path: str | Path, split: str | None = None) -> list[np.ndarray]:
    """One split of a stroke file (``None``: ``train`` if present, else the only one)."""
    splits = load_strokes(path)
    if split is None:
        split = "train" if "train" in splits else next(iter(splits))
    if split not in splits:
        raise ChoreoError(f"no split {split!r} (has {', '.join(splits)})", path)
    return splits[split]


def save_strokes(path: str | Path, sketches: Sequence[np.ndarray], overwrite: bool = True) -> Path:
    """Write sketches as a pickle-free ``.npz`` (``sketches``, ``lengths``, ``offsets``); see module doc."""
    if not sketches:
        raise ChoreoError("no sketches to write", path)
    flat = np.concatenate([np.asarray(s, dtype=np.float64).reshape(-1, 3) for s in sketches])
    limit = np.iinfo(np.int16).max
    whole = flat.size == 0 or (np.all(flat == np.round(flat)) and np.abs(flat).max() <= limit)
    flat_out = flat.astype(np.int16) if whole else flat.astype(np.float32)
    lengths = np.array([len(s) for s in sketches], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    with atomic_path(path, overwrite) as tmp, open(tmp, "wb") as f:
        np.savez(f, sketches=flat_out, lengths=lengths, offsets=offsets)
    return Path(path)


def to_data_units(stroke3: np.ndarray, integer: bool) -> np.ndarray:
    """Round offsets to whole units carrying the error forward (absolute positions stay exact)."""
    s = np.asarray(stroke3, dtype=np.float64)
    if not integer:
        return s.astype(np.float32)
    pos = np.round(np.cumsum(s[:, :2], axis=0))
    out = np.empty_like(s)
    out[:, :2] = np.diff(pos, axis=0, prepend=np.zeros((1, 2)))
    out[:, 2] = s[:, 2]
    lim = np.iinfo(np.int16).max
    return np.clip(out, -lim, lim).astype(np.int16)


def stroke3_to_stroke5(sketches: Sequence[np.ndarray], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Pad to ``(n, max_len + 1, 5)`` with a start token first; returns (array, lengths).

    Row 0 is the start token ``(0, 0, 1, 0, 0)``; rows ``1..len`` the points; the rest
    ``(0, 0, 0, 0, 1)``. Sketches longer than ``max_len`` are cut.
    """
    out = np.zeros((len(sketches), max_len + 1, 5), np.float32)
    out[:, 0, 2] = 1.0
    out[:, 1:, 4] = 1.0
    lengths = np.zeros(len(sketches), np.int64)
    for i, s in enumerate(sketches):
        n = min(len(s), max_len)
        s = np.asarray(s[:n], dtype=np.float32)
        out[i, 1 : n + 1, :2] = s[:, :2]
        out[i, 1 : n + 1, 3] = s[:, 2]
        out[i, 1 : n + 1, 2] = 1 - s[:, 2]
        out[i, 1 : n + 1, 4] = 0.0
        lengths[i] = n
    return out, lengths


def drawing_sizes(x5: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Width and height ``(n, 2)`` of the points of padded stroke-5 sketches (``stroke3_to_stroke5``).

    The box spans the drawn points only: the origin the first offset starts from is not a point.
    """
    pos = np.cumsum(x5[:, 1:, :2], axis=1, dtype=np.float64)
    real = (np.arange(pos.shape[1])[None, :] < np.asarray(lengths)[:, None])[..., None]
    if not real.any():
        return np.zeros((len(pos), 2), np.float32)
    hi = np.where(real, pos, -np.inf).max(1)
    lo = np.where(real, pos, np.inf).min(1)
    return np.where(np.isfinite(hi - lo), hi - lo, 0.0).astype(np.float32)


def sketch_sizes(sketches: Sequence[np.ndarray], max_len: int | None = None) -> np.ndarray:
    """Width and height ``(n, 2)`` of stroke-3 sketches, in their own units (``drawing_sizes``).

    ``max_len`` cuts longer sketches as ``stroke3_to_stroke5`` does (default: none is cut).
    """
    return drawing_sizes(*stroke3_to_stroke5(sketches, max_len or max(1, max(len(s) for s in sketches))))


def stroke5_to_stroke3(stroke5: np.ndarray) -> np.ndarray:
    """One stroke-5 sequence (without start token) back to stroke-3; stops at the first end row."""
    s = np.asarray(stroke5, dtype=np.float32)
    end = np.flatnonzero(s[:, 4] > 0.5)
    n = int(end[0]) if len(end) else len(s)
    out = np.zeros((n, 3), np.float32)
    out[:, :2] = s[:n, :2]
    out[:, 2] = s[:n, 3]
    return out


def filter_by_length(sketches: Sequence[np.ndarray], min_len: int = 2, max_len: int = 250
                     ) -> list[np.ndarray]:
    """Keep sketches with ``min_len <= points <= max_len``."""
    return [s for s in sketches if min_len <= len(s) <= max_len]


def lift_last_point(sketches: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The sketches with the pen lifted after their last point (copies only where it was down)."""
    out = []
    for s in sketches:
        if len(s) and s[-1, 2] != 1:
            s = np.array(s, copy=True)
            s[-1, 2] = 1
        out.append(s)
    return out


def offset_scale(sketches: Sequence[np.ndarray]) -> float:
    """Standard deviation of all (dx, dy) values: the factor data is divided by for training."""
    flat = np.concatenate([np.asarray(s, np.float64)[:, :2].ravel() for s in sketches])
    std = float(flat.std())
    return std if std > 1e-8 else 1.0


def normalize(sketches: Sequence[np.ndarray], scale: float) -> list[np.ndarray]:
    """Offsets divided by ``scale`` (float32 copies)."""
    out = []
    for s in sketches:
        t = np.asarray(s, np.float32).copy()
        t[:, :2] /= scale
        out.append(t)
    return out
