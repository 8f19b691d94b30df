"""Motion beats and the Beat Align Score (AIST++ / FACT, Bailando).

* **Kinetic velocity**: the mean over joints of each joint's speed (distance per second), smoothed
  with a Gaussian of ``SMOOTH_S`` seconds (Bailando smooths with sigma = 5 frames at 60 fps; here
  the width is in seconds so any capture rate means the same).
* **Motion beats**: local minima of the smoothed kinetic velocity: the moments a movement
  arrives and stops before the next one, which is where a dancer "hits" a beat.
* **Beat Align Score**: for every motion beat, ``exp(-d^2 / (2 sigma^2))`` with ``d`` its
  distance in seconds to the nearest music beat, averaged over motion beats. ``sigma`` =
  ``BAS_SIGMA_S`` = 0.05 s: AIST++ uses sigma = 3 frames at 60 fps. 1 = every accent on a beat;
  motion beats placed at random against beats every ``p`` seconds score about
  ``sigma * sqrt(2 pi) / p`` (0.25 at 120 BPM).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

SMOOTH_S = 5.0 / 60.0  # Gaussian smoothing of the kinetic velocity (Bailando: 5 frames at 60 fps)
BAS_SIGMA_S = 3.0 / 60.0  # the score's kernel width (AIST++: 3 frames at 60 fps) = 0.05 s


def kinetic_velocity(positions: np.ndarray, fps: float, smooth_s: float = SMOOTH_S) -> np.ndarray:
    """Smoothed mean joint speed (units per second) between consecutive frames: ``(frames - 1,)``."""
    x = np.asarray(positions, np.float64)
    if len(x) < 2:
        return np.zeros(0)
    speed = np.linalg.norm(np.diff(x, axis=0), axis=-1).mean(1) * fps
    return gaussian_filter1d(speed, smooth_s * fps, mode="nearest") if smooth_s > 0 else speed


def motion_beats(positions: np.ndarray, fps: float, smooth_s: float = SMOOTH_S) -> np.ndarray:
    """Times (s) of the motion beats: local minima of the smoothed kinetic velocity.

    Velocity sample ``i`` is the step from frame ``i`` to ``i + 1``, so it sits at ``(i + 0.5) / fps``.
    """
    v = kinetic_velocity(positions, fps, smooth_s)
    if len(v) < 3:
        return np.zeros(0)
    idx = find_peaks(-v)[0]  # strict local minima, as argrelextrema(v, np.less), and the middle of flat ones
    return (idx + 0.5) / fps


def beat_align_score(motion_beat_times: np.ndarray, music_beat_times: np.ndarray,
                     sigma: float = BAS_SIGMA_S) -> float:
    """Mean over motion beats of ``exp(-d^2 / (2 sigma^2))``, ``d`` = distance to the nearest music beat (s).

    0 when there are no motion beats or no music beats.
    """
    m = np.asarray(motion_beat_times, np.float64).reshape(-1)
    b = np.sort(np.asarray(music_beat_times, np.float64).reshape(-1))
    if not len(m) or not len(b):
        return 0.0
    return float(np.exp(-nearest_distance(m, b) ** 2 / (2 * sigma**2)).mean())


def nearest_distance(times: np.ndarray, sorted_beats: np.ndarray) -> np.ndarray:
    """Distance from each of ``times`` to the nearest of ``sorted_beats`` (both in seconds)."""
    i = np.clip(np.searchsorted(sorted_beats, times), 1, max(len(sorted_beats) - 1, 1))
    left = sorted_beats[np.maximum(i - 1, 0)]
    right = sorted_beats[np.minimum(i, len(sorted_beats) - 1)]
    return np.minimum(np.abs(times - left), np.abs(times - right))


def take_beat_report(positions: np.ndarray, fps: float, music_beat_times: np.ndarray,
                     duration: float | None = None) -> dict[str, float | int]:
    """The figures ``choreo eval --music`` prints: Beat Align Score, motion beats, music beats and
    their rates. Music beats past the take's end (``duration``, default its length) are not counted."""
    dur = len(positions) / fps if duration is None else duration
    beats = np.asarray(music_beat_times, np.float64)
    beats = beats[beats <= dur + 0.5 / fps]
    mb = motion_beats(positions, fps)
    return {
        "beat_align_score": beat_align_score(mb, beats),
        "bas_sigma_s": BAS_SIGMA_S,
        "motion_beats": len(mb),
        "music_beats": len(beats),
        "motion_beats_per_s": float(len(mb) / max(dur, 1e-9)),
        "music_beats_per_s": float(len(beats) / max(dur, 1e-9)),
    }
