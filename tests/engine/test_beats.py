"""Motion beats, the Beat Align Score, and re-timing a take onto a song's beats."""

from __future__ import annotations

import numpy as np

from engine.dance.beats import BAS_SIGMA_S, beat_align_score, motion_beats, take_beat_report
from engine.dance.drums import beat_times
from engine.dance.skeleton import RigidProjector, bone_lengths, motion_skeleton
from engine.dance.synthetic import synthetic_dancer
from engine.dance.warp import RATE_BOUNDS, beat_phase, dance_to_song, frames_to_generate, plan_retiming, resample


def _pulsing(fps: float, seconds: float, period: float, phase: float = 0.0) -> np.ndarray:
    """Two joints, the second swinging so it stops every ``period`` s, first stop at ``phase``."""
    t = np.arange(int(seconds * fps)) / fps
    angle = np.cos(np.pi * (t - phase) / period)  # speed ~ |sin|: zero at t = phase + k * period
    x = np.zeros((len(t), 2, 3))
    x[:, 1, 0] = np.cos(angle)
    x[:, 1, 1] = np.sin(angle)
    return x


def test_motion_beats_are_the_stops_and_the_score_follows_its_definition():
    fps = 60.0
    x = _pulsing(fps, 10.0, 0.5, phase=0.1)
    mb = motion_beats(x, fps)
    stops = 0.1 + 0.5 * np.arange(20)
    assert len(mb) >= 18 and np.abs(mb[:, None] - stops[None]).min(1).max() < 1.5 / fps
    assert beat_align_score(stops, stops) == 1.0
    assert np.isclose(beat_align_score([0.05], [0.0, 1.0]), np.exp(-0.05**2 / (2 * BAS_SIGMA_S**2)))
    assert np.isclose(beat_align_score([0.5, 0.0], [0.0]), (1 + np.exp(-0.25 / (2 * BAS_SIGMA_S**2))) / 2)
    assert beat_align_score([], [1.0]) == 0.0 and beat_align_score([1.0], []) == 0.0
    on = take_beat_report(x, fps, stops)["beat_align_score"]
    off = take_beat_report(x, fps, stops + 0.25)["beat_align_score"]
    assert on > 0.95 and off < 0.05


def test_beat_phase_continues_before_and_after_the_beats():
    beats = np.array([1.0, 1.5, 2.0])
    assert np.allclose(beat_phase(np.array([0.0, 0.25, 1.0, 1.25, 1.75, 2.25, 3.0]), beats),
                       [0.0, 0.5, 0.0, 0.5, 0.5, 0.5, 0.0])


def test_retiming_puts_accents_on_beats_within_the_rate_bounds():
    song_s, fps = 12.0, 30.0
    dancer = synthetic_dancer(frames=frames_to_generate(song_s, fps, True), fps=fps)
    beats = beat_times([(100, 6.0), (130, 6.0)])  # a tempo change
    raw = dancer.positions
    tau = plan_retiming(raw, fps, beats, song_s)
    rates = np.diff(tau) * fps
    assert len(tau) == round(song_s * fps) and tau[0] == 0.0
    assert rates.min() >= RATE_BOUNDS[0] - 1e-9 and rates.max() <= RATE_BOUNDS[1] + 1e-9
    bones, lengths = motion_skeleton(dancer)
    out = resample(raw, fps, tau, RigidProjector(bones, lengths))
    assert out.shape == (len(tau), *raw.shape[1:])
    assert np.abs(bone_lengths(out, bones) - lengths).max() < 1e-4 * lengths.max()
    before = take_beat_report(raw[: len(tau)], fps, beats)["beat_align_score"]
    after = take_beat_report(out, fps, beats)["beat_align_score"]
    assert after > max(0.7, 1.5 * before)


def test_dance_to_song_generates_enough_then_gives_the_songs_length():
    class Stub:
        asked = 0

        def generate(self, frames, on_frame=None):
            self.asked = frames
            return _pulsing(30.0, frames / 30.0, 0.37)[:frames].astype(np.float32)

    beats = 0.5 * np.arange(1, 20)
    gen = Stub()
    on = dance_to_song(gen, 30.0, beats, 10.0, beat_align=True)
    assert gen.asked == frames_to_generate(10.0, 30.0, True) > 300 and on.shape == (300, 2, 3)
    off = dance_to_song(gen, 30.0, beats, 10.0, beat_align=False)
    assert gen.asked == 300 and off.shape == (300, 2, 3)
    fps = 30.0
    assert take_beat_report(on, fps, beats)["beat_align_score"] > 1.5 * take_beat_report(off, fps, beats)[
        "beat_align_score"]
