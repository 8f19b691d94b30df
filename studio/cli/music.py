"""The command line's music options: ``--music SONG --beat-align on|off`` for ``choreo generate`` and
``choreo eval``, the take's frame rate when its file does not say, and the Beat Align lines."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from engine.core.errors import ChoreoError
from engine.dance.beats import take_beat_report
from engine.dance.knobs import GENERATION
from engine.dance.motion import Motion
from engine.dance.music import Song, load_song
from engine.dance.warp import dance_to_song, projector_for

COMMON_RATES = (24.0, 25.0, 30.0, 48.0, 50.0, 60.0, 100.0, 120.0, 240.0)


def add_music_args(parser: argparse.ArgumentParser, beat_align: bool = True) -> None:
    """``--music SONG`` (and ``--beat-align on|off`` when the command dances)."""
    parser.add_argument("--music", metavar="SONG", help="a song (.wav .flac .ogg .mp3): the take is as long as the "
                                                        "song unless --frames says otherwise")
    if beat_align:
        knob = GENERATION["beat_align"]
        parser.add_argument("--beat-align", choices=("on", "off"), default="on" if knob.default else "off",
                            help=f"{knob.tip} (default {'on' if knob.default else 'off'})")


def read_song(args: argparse.Namespace) -> Song | None:
    """The ``--music`` song, analysed (a note on stderr), or None."""
    if not getattr(args, "music", None):
        return None
    print(f"listening to {args.music} ...", file=sys.stderr)
    song = load_song(args.music)
    print(song.describe(), file=sys.stderr)
    return song


def dance(gen, model, song: Song, fps: float, frames: int, beat_align: bool, progress) -> np.ndarray:
    """A take of ``frames`` frames danced to ``song`` from its start (re-timed onto its beats with ``beat_align``)."""
    return dance_to_song(gen, fps, song.beats, frames / fps, beat_align,
                         projector_for(model) if getattr(gen, "rigid", True) else None,
                         lambda done, total: progress(done * frames // total, frames))


def take_rate(take: Motion, song: Song | None, clip: Motion | None, fps: float | None) -> tuple[float, str]:
    """The take's frame rate and where it came from: ``--fps``, the file, the clip it continues, or
    (a bare ``.npy`` danced to a song) its length against the song's, rounded to a common rate."""
    if fps is not None:
        if not fps > 0:
            raise ChoreoError(f"--fps must be positive, got {fps}")
        return float(fps), "given"
    if "assumed" not in take.fps_note:
        return take.fps, "from the file"
    if clip is not None:
        return clip.fps, "the clip's"
    if song is not None:
        guess = take.n_frames / song.duration
        near = min(COMMON_RATES, key=lambda r: abs(r - guess))
        if abs(near - guess) / near < 0.02:
            return near, "from the take's length against the song's"
    return take.fps, take.fps_note


def beat_lines(report: dict, rate_note: str, fps: float) -> list[str]:
    """Human lines for a Beat Align report."""
    return [
        f"beats      Beat Align Score {report['beat_align_score']:.3f} (1 = every accent on a beat; "
        f"Gaussian sigma {report['bas_sigma_s']:g} s)",
        f"accents    {report['motion_beats']} motion beats ({report['motion_beats_per_s']:.2f}/s) against "
        f"{report['music_beats']} music beats ({report['music_beats_per_s']:.2f}/s), take at {fps:g} fps ({rate_note})",
    ]


def beat_report(positions: np.ndarray, fps: float, song: Song) -> dict:
    """``engine.dance.beats.take_beat_report`` plus the song's tempo."""
    return {**take_beat_report(positions, fps, song.beats), "tempo_bpm": song.tempo}
