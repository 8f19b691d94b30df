"""C3D marker files (Vicon, Qualisys, OptiTrack, Motion Analysis...): 3-D points in, analog ignored.

The binary format is read with the ``c3d`` package (pure Python over NumPy, MIT, kept by the
EMBLA/``c3d`` maintainers): it decodes the three processor formats (Intel, DEC, SGI/MIPS),
integer and float point data (``POINT:SCALE`` negative = float), the residual/camera word
(residual -1 = invalid sample) and the vendor variants of the frame range
(``TRIAL:ACTUAL_START_FIELD``/``ACTUAL_END_FIELD``, ``POINT:LONG_FRAMES``). We chose it over
``ezc3d`` because it needs no compiled extension (it installs wherever pip does) and its
writer makes the test files, so reading and writing are checked against one another.

What we add around it, and why:

- a file is vetted before anything is allocated: the C3D magic byte, a positive rate and
  scale, and a frame range whose data actually fits in the file (a truncated file or an
  absurd header is one clear ``ChoreoError``, never a huge allocation or a stack trace);
- labels from ``POINT:LABELS``, ``LABELS2``... (files with more than 255 markers continue
  there), stripped of their padding, empty ones named ``marker<i>``, repeats numbered;
- units from ``POINT:UNITS`` (mm, cm, m, in) converted to metres (mm assumed when absent);
- the up axis from ``POINT:Y_SCREEN`` when the file says it (``+Z`` -> ``"z"``);
- gaps: a sample is missing when the file marks it invalid (residual -1), when it is not
  finite, or when it sits exactly at the origin (several exporters write missing markers
  as 0, 0, 0). A residual of 0 alone is *not* a gap: the standard uses it for points the
  vendor software interpolated or filtered, which are good data. Gaps up to
  ``max_gap_s`` are filled with a shape-preserving cubic (``scipy``'s PCHIP: no overshoot),
  longer ones linearly, and the ends of a marker seen late or lost early are held at its
  first/last seen place; every kind is reported in ``Motion.notes``;
- markers that never move with the body (props on the floor, calibration objects, a
  marker lost for the whole take) are excluded by default and reported.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from scipy.interpolate import PchipInterpolator

from ..core.errors import ChoreoError

UNITS_TO_METRES = {"mm": 1e-3, "cm": 1e-2, "dm": 0.1, "m": 1.0, "in": 0.0254, "inch": 0.0254, "inches": 0.0254}
MAX_GAP_S = 0.25  # seconds: gaps up to this long are filled by a cubic; longer ones linearly (and reported)
STATIC_FRACTION = 0.1  # a marker moving less than this share of the median marker's movement...
STATIC_METRES = 0.02  # ...and less than this, over the whole take, is not on the moving body
# the c3d package was written for well-formed files: on a damaged one it can fail with almost any
# exception (struct.error, AssertionError, UnboundLocalError...); each means "this file is damaged"
_READ_ERRORS = (Exception,)


@dataclass
class C3dClip:
    """What :func:`read_c3d` returns: positions in metres plus what the file said and what was done."""

    positions: np.ndarray  # float32 (frames, markers, 3), metres, gaps filled, static markers removed
    fps: float
    labels: list[str]
    up_axis: str  # "z", "y", "-z"... from POINT:Y_SCREEN, "" when the file does not say
    first_frame: int
    units: str
    notes: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # markers left out (static or never seen)


def _problem(path: Path, err: BaseException) -> ChoreoError:
    msg = (str(err).strip().splitlines() or [type(err).__name__])[0][:120]
    return ChoreoError(f"not a readable C3D file (truncated or corrupt?): {msg}", path)


def _param(reader: Any, key: str) -> Any:
    try:
        return reader.get(key)
    except _READ_ERRORS:
        return None


def _strings(reader: Any, key: str) -> list[str]:
    p = _param(reader, key)
    if p is None:
        return []
    try:
        return [s.replace("\x00", " ").strip() for s in p.string_array.reshape(-1).tolist()]
    except _READ_ERRORS:
        return []


def _labels(reader: Any, n: int) -> list[str]:
    raw = _strings(reader, "POINT:LABELS")
    k = 2
    while len(raw) < n and _param(reader, f"POINT:LABELS{k}") is not None:
        raw += _strings(reader, f"POINT:LABELS{k}")
        k += 1
    raw = (raw + [""] * n)[:n]
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(raw):
        name = name or f"marker{i}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _units(reader: Any, path: Path) -> tuple[str, float, str]:
    """(units as written, metres per unit, note or "")."""
    units = (_strings(reader, "POINT:UNITS") or [""])[0].lower()
    if not units:
        return "mm", 1e-3, "POINT:UNITS missing: millimetres assumed (the C3D default)"
    if units not in UNITS_TO_METRES:
        raise ChoreoError(f"unknown POINT:UNITS {units[:20]!r} (expected mm, cm, m or in)", path)
    return units, UNITS_TO_METRES[units], ""


def _up_axis(reader: Any) -> str:
    y = (_strings(reader, "POINT:Y_SCREEN") or [""])[0].upper().replace(" ", "")
    if len(y) == 2 and y[0] in "+-" and y[1] in "XYZ":
        return ("-" if y[0] == "-" else "") + y[1].lower()
    return ""


def _open_reader(f: BinaryIO, path: Path) -> Any:
    import c3d

    class LenientReader(c3d.Reader):
        """``c3d.Reader`` without its header-versus-parameter assertions: vendor files disagree with
        themselves (a header rate rounded otherwise than POINT:RATE, a stale analog count) and the
        standard says the parameters win. What we use is vetted in ``_frame_layout``."""

        def _check_metadata(self) -> None:
            pass

    head = f.read(512)
    if len(head) < 512 or head[1] != 0x50:
        raise ChoreoError("not a C3D file (no C3D header: byte 2 must be 0x50)", path)
    f.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = LenientReader(f)
    return reader


def _frame_layout(reader: Any, path: Path, size: int) -> tuple[int, int, int, float, bool]:
    """(frames, markers, first frame, rate, float data), vetted against the file's size."""
    rate = float(reader.point_rate)
    scale = float(reader.point_scale)
    if not (math.isfinite(rate) and 0 < rate <= 1e6):
        raise ChoreoError(f"absurd point rate {rate:g} Hz in the header", path)
    if not (math.isfinite(scale) and scale != 0):
        raise ChoreoError(f"absurd POINT:SCALE {scale:g} (must be a non-zero number)", path)
    markers = int(reader.point_used)
    if markers < 1:
        raise ChoreoError("holds no 3-D points (analog data only?)", path)
    first, last = int(reader.first_frame), int(reader.last_frame)
    frames = last - first + 1
    if frames < 1:
        raise ChoreoError(f"absurd frame range {first}..{last} in the header", path)
    word = 4 if scale < 0 else 2
    analog = int(reader.analog_used) * int(reader.analog_per_frame) if reader.analog_used else 0
    per_frame = (4 * markers + analog) * word
    start = (int(reader.header.data_block) - 1) * 512
    if start < 512:
        raise ChoreoError(f"absurd data block {int(reader.header.data_block)} in the header", path)
    if start > size:
        raise ChoreoError(f"truncated: the data should start at byte {start}, the file has {size}", path)
    if frames * per_frame > size - start:
        have = max(0, size - start) // per_frame
        raise ChoreoError(f"truncated: the header claims {frames} frames of {markers} markers, "
                          f"the file holds {have}", path)
    return frames, markers, first, rate, scale < 0


def read_c3d(path: str | Path, max_gap_s: float = MAX_GAP_S, keep_static: bool = False) -> C3dClip:
    """Read the 3-D points of a C3D file into metres, filling gaps and excluding props.

    ``max_gap_s``: gaps up to this long (seconds) are filled by a cubic, longer ones linearly;
    ``keep_static``: keep markers that never move with the body (excluded by default).
    Every problem with the file is a :class:`ChoreoError` naming it.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            reader = _open_reader(f, path)
            frames, markers, first, rate, _ = _frame_layout(reader, path, size)
            units, to_m, units_note = _units(reader, path)
            labels = _labels(reader, markers)
            up = _up_axis(reader)
            raw = np.empty((frames, markers, 4), np.float32)
            n = 0
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                for _, points, _ in reader.read_frames(copy=False, analog_transform=False):
                    if n == frames:
                        break
                    raw[n] = points[:, :4]
                    n += 1
            if n < frames:
                why = f" ({caught[0].message})" if caught else ""
                raise ChoreoError(f"truncated: {n} of {frames} frames could be read{why}"[:200], path)
    except ChoreoError:
        raise
    except _READ_ERRORS as err:
        raise _problem(path, err) from None
    pos = raw[..., :3].astype(np.float64) * to_m
    valid = (raw[..., 3] >= 0) & np.isfinite(pos).all(-1) & (pos != 0).any(-1)
    pos[~valid] = np.nan
    notes = [units_note] if units_note else []
    keep = valid.sum(0) >= 2
    never = [labels[i] for i in np.flatnonzero(~keep)]
    if never:
        notes.append(f"excluded {len(never)} marker(s) never seen in two frames: {_names(never)}")
    pos, gap_notes = fill_gaps(pos, valid, labels, rate, max_gap_s)
    notes += gap_notes
    static = static_markers(pos, valid) & keep
    excluded = list(never)
    if static.any():
        names = [labels[i] for i in np.flatnonzero(static)]
        if keep_static:
            notes.append(f"{len(names)} marker(s) never move with the body (props? kept as asked): {_names(names)}")
        else:
            keep &= ~static
            excluded += names
            notes.append(f"excluded {len(names)} marker(s) that never move with the body "
                         f"(props, calibration objects): {_names(names)}")
    if not keep.any():
        raise ChoreoError("no marker was seen in two frames or more", path)
    idx = np.flatnonzero(keep)
    return C3dClip(positions=pos[:, idx].astype(np.float32), fps=rate, labels=[labels[i] for i in idx],
                   up_axis=up, first_frame=first, units=units, notes=notes, excluded=excluded)


def _names(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def fill_gaps(pos: np.ndarray, valid: np.ndarray, labels: list[str], fps: float,
              max_gap_s: float = MAX_GAP_S) -> tuple[np.ndarray, list[str]]:
    """Fill missing samples of ``pos`` (frames, markers, 3) where ``valid`` is False; return (filled, notes).

    Interior gaps up to ``max_gap_s`` seconds: PCHIP through the marker's valid samples;
    longer interior gaps: linear; before the first / after the last valid sample: held.
    Markers with fewer than two valid samples are left as they are (the caller drops them).
    """
    out = pos.copy()
    t = np.arange(len(pos), dtype=np.float64)
    max_gap = max(1, round(max_gap_s * fps))
    short = short_samples = 0
    longest = 0
    long_gaps: list[str] = []
    held: list[str] = []
    for m in range(pos.shape[1]):
        ok = valid[:, m]
        if ok.all() or ok.sum() < 2:
            continue
        tv = t[ok]
        runs = _runs(~ok)
        interior = [(a, b) for a, b in runs if a > 0 and b < len(ok)]
        if any(b - a <= max_gap for a, b in interior):
            cubic = PchipInterpolator(tv, pos[ok, m], axis=0)
        for a, b in runs:
            if a == 0 or b == len(ok):
                out[a:b, m] = pos[ok, m][0 if a == 0 else -1]
                if labels[m] not in held:
                    held.append(labels[m])
            elif b - a <= max_gap:
                out[a:b, m] = cubic(t[a:b])
                short += 1
                short_samples += b - a
                longest = max(longest, b - a)
            else:
                out[a:b, m] = np.stack([np.interp(t[a:b], tv, pos[ok, m, k]) for k in range(3)], -1)
                long_gaps.append(f"{labels[m]} {(b - a) / fps:.2f} s")
    notes = []
    if short:
        notes.append(f"filled {short} gap(s) ({short_samples} samples, longest {longest / fps:.3g} s) "
                     "by cubic interpolation")
    if long_gaps:
        notes.append(f"filled {len(long_gaps)} gap(s) longer than {max_gap_s:g} s linearly: {_names(long_gaps)}")
    if held:
        notes.append(f"{len(held)} marker(s) missing at the start or end, held at their first/last place: "
                     f"{_names(held)}")
    return out, notes


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open (start, stop) runs of True in a 1-D boolean array."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def static_markers(pos: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Markers that never move with the body: bool (markers,).

    A marker's movement is the 95th percentile of its distance from its median place (over
    its valid samples). It is static when that is below ``STATIC_FRACTION`` of the median
    marker's movement and below ``STATIC_METRES``. Needs three moving markers to say anything.
    """
    moves = np.zeros(pos.shape[1])
    for m in range(pos.shape[1]):
        p = pos[valid[:, m], m]
        if len(p) >= 2:
            moves[m] = np.percentile(np.linalg.norm(p - np.median(p, axis=0), axis=-1), 95)
    seen = valid.sum(0) >= 2
    if seen.sum() < 3:
        return np.zeros(pos.shape[1], bool)
    limit = min(STATIC_FRACTION * float(np.median(moves[seen])), STATIC_METRES)
    static = seen & (moves < limit)
    return static if (seen & ~static).sum() >= 3 else np.zeros(pos.shape[1], bool)
