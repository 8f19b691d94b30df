"""Procedural drum loops: songs with known beats, for tests, benchmarks and the demo.

A loop is kick on beats 1 and 3, snare on 2 and 4, a closed hi-hat on every eighth, each a short
decaying burst synthesised in NumPy (no samples shipped). ``drum_loop`` returns the samples and the
exact beat times, so beat tracking and beat alignment can be checked against the truth;
``write_drum_loop`` writes ``.wav`` / ``.flac`` / ``.ogg`` / ``.mp3`` through ``soundfile``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core.errors import ChoreoError
from ..core.fileio import atomic_path

SAMPLE_RATE = 22050


def _kick(sr: int) -> np.ndarray:
    t = np.arange(int(0.25 * sr)) / sr
    freq = 50.0 + 100.0 * np.exp(-t * 30.0)  # a falling pitch sweep: the "thump"
    return np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t * 14.0)


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.2 * sr)) / sr
    body = np.sin(2 * np.pi * 190.0 * t) * np.exp(-t * 25.0)
    return 0.5 * body + 0.6 * rng.standard_normal(len(t)) * np.exp(-t * 22.0)


def _hat(sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.05 * sr)) / sr
    noise = np.diff(rng.standard_normal(len(t) + 1))  # differenced noise: bright, hi-hat like
    return 0.12 * noise * np.exp(-t * 90.0)


def beat_times(segments: Sequence[tuple[float, float]]) -> np.ndarray:
    """Beat times (s) of consecutive ``(bpm, seconds)`` segments; a tempo change starts on a new beat."""
    out: list[float] = []
    start = 0.0
    for bpm, seconds in segments:
        if bpm <= 0 or seconds <= 0:
            raise ChoreoError(f"a drum loop needs positive tempo and length, got {bpm} BPM for {seconds} s")
        period = 60.0 / bpm
        n = int(np.ceil(seconds / period - 1e-9))
        out.extend(start + period * np.arange(n))
        start += n * period
    return np.asarray(out)


def drum_loop(segments: float | Sequence[tuple[float, float]], seconds: float | None = None,
              sr: int = SAMPLE_RATE, rng: int = 0) -> tuple[np.ndarray, int, np.ndarray]:
    """``(samples float32 (n,), sample rate, beat times in s)`` of a drum loop.

    ``segments``: a tempo in BPM (with ``seconds``) or ``[(bpm, seconds), ...]`` for tempo changes.
    """
    if not isinstance(segments, Sequence):
        segments = [(float(segments), float(seconds if seconds is not None else 10.0))]
    beats = beat_times(segments)
    total = sum(s for _, s in segments)
    gen = np.random.default_rng(rng)
    n = round(total * sr)
    y = np.zeros(n + sr, np.float64)
    kick, snare = _kick(sr), _snare(sr, gen)
    bounds = np.append(beats, total)
    for k, t in enumerate(beats):
        i = round(t * sr)
        hit = kick if k % 2 == 0 else snare
        y[i : i + len(hit)] += hit
        for half in (t, 0.5 * (t + bounds[k + 1])):  # hi-hat on the beat and the off-beat eighth
            j = round(half * sr)
            h = _hat(sr, gen)
            y[j : j + len(h)] += h
    y = y[:n]
    return (0.8 * y / max(np.abs(y).max(), 1e-9)).astype(np.float32), sr, beats[beats < total]


def write_drum_loop(path: str | Path, segments: float | Sequence[tuple[float, float]],
                    seconds: float | None = None, sr: int = SAMPLE_RATE, overwrite: bool = True) -> np.ndarray:
    """Write a drum loop to ``path`` (format from the suffix); returns its beat times (s)."""
    import soundfile

    y, sr, beats = drum_loop(segments, seconds, sr)
    path = Path(path)
    fmt = path.suffix.lstrip(".").upper()
    if fmt not in soundfile.available_formats():
        raise ChoreoError(f"soundfile cannot write {path.suffix!r} here", path)
    with atomic_path(path, overwrite) as tmp:
        soundfile.write(str(tmp), y, sr, format=fmt)
    return beats
