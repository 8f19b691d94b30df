"""Songs: audio in, tempo, beats and onset strength.

Libraries (both kept, both on PyPI as wheels):

* ``soundfile`` reads the audio. Its wheel bundles libsndfile (1.2 here), which decodes
  ``.wav``, ``.flac``, ``.ogg`` (Vorbis/Opus) and ``.mp3`` itself, so no system decoder or
  ffmpeg is needed and a fresh machine reads every format the studio offers after ``pip install``.
* ``librosa`` analyses it: ``onset.onset_strength`` (spectral flux on a mel spectrogram),
  ``feature.tempo`` (autocorrelation tempogram, global and per frame) and ``beat.beat_track``
  (Ellis' dynamic-programming tracker, given the per-frame tempo so a song that changes tempo is
  tracked through the change). These are the standard, widely cited implementations; AIST++,
  Bailando and EDGE compute their music beats with the same library.

librosa is imported on first use (it takes a few seconds, and compiles numba kernels into a cache
the first time), so a front end that never loads a song never pays for it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import ChoreoError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
ANALYSIS_RATE = 22050  # librosa's default: beats do not need more
HOP = 512  # samples per onset-envelope frame (23 ms at 22.05 kHz)
SILENCE_DBFS = -60.0  # a song whose loudest stretch is quieter than this is treated as silent
MIN_SECONDS = 1.0  # shorter than this has no beat to speak of
MAX_SECONDS = 20 * 60.0


@dataclass(frozen=True, eq=False)
class Song:
    """A loaded song and what was heard in it.

    ``samples`` mono float32 at ``sample_rate`` (the analysis rate); ``beats`` times in seconds;
    ``tempo`` the song's typical tempo (BPM) and ``tempo_range`` the lowest and highest local tempo
    (they differ for a song that changes tempo); ``onset`` the onset strength envelope, one value
    every ``onset_hop`` seconds; ``sha256`` of the file's bytes (a take's recipe names the song by it).
    """

    path: Path
    samples: np.ndarray
    sample_rate: int
    tempo: float
    tempo_range: tuple[float, float]
    beats: np.ndarray
    onset: np.ndarray
    onset_hop: float
    sha256: str
    file_sample_rate: int = 0
    channels: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate

    @property
    def name(self) -> str:
        return self.path.name

    def describe(self) -> str:
        """One line: name, length, tempo and beats."""
        lo, hi = self.tempo_range
        tempo = f"{self.tempo:.0f} BPM" if hi - lo < 3 else f"{self.tempo:.0f} BPM ({lo:.0f}-{hi:.0f})"
        return f"{self.name}: {self.duration:.1f} s, {tempo}, {len(self.beats)} beats"


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_audio(path: str | Path) -> tuple[np.ndarray, int, int]:
    """``(mono float32 samples, sample rate, channels)`` of an audio file, via soundfile.

    Raises ChoreoError naming the file for a missing, unreadable, empty or silent file.
    """
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise ChoreoError("no such audio file" if not path.exists() else "is not a file", path)
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise ChoreoError(f"unsupported audio format {path.suffix or '(none)'!r}; use "
                          + ", ".join(AUDIO_SUFFIXES), path)
    try:
        info = soundfile.info(str(path))
        if info.duration > MAX_SECONDS:
            raise ChoreoError(f"is {info.duration / 60:.0f} minutes long; songs up to "
                              f"{MAX_SECONDS / 60:.0f} minutes are supported", path)
        data, sr = soundfile.read(str(path), dtype="float32", always_2d=True)
    except ChoreoError:
        raise
    except (soundfile.LibsndfileError, RuntimeError, ValueError, TypeError) as err:
        text = str(err).strip().splitlines()
        raise ChoreoError("cannot read this audio (damaged, or not the format its name says)"
                          + (f": {text[-1][:120]}" if text else ""), path) from None
    if data.size == 0 or len(data) < MIN_SECONDS * sr:
        raise ChoreoError(f"is {len(data) / max(sr, 1):.2f} s long; a song needs at least {MIN_SECONDS:g} s", path)
    mono = data.mean(axis=1)
    if not np.isfinite(mono).all():
        raise ChoreoError("holds NaN or infinite samples", path)
    return mono, int(sr), int(data.shape[1])


def loudest_dbfs(samples: np.ndarray, sr: int) -> float:
    """Level (dBFS) of the loudest 50 ms stretch."""
    win = max(1, int(0.05 * sr))
    n = len(samples) // win * win
    if n == 0:
        return -np.inf
    rms = np.sqrt((samples[:n].astype(np.float64).reshape(-1, win) ** 2).mean(1))
    return float(20 * np.log10(rms.max() + 1e-12))


def analyse(samples: np.ndarray, sr: int) -> tuple[float, tuple[float, float], np.ndarray, np.ndarray]:
    """``(tempo, (lowest, highest) local tempo, beat times s, onset envelope)`` of mono samples at ``sr``.

    The local tempo (8.9 s autocorrelation windows) is folded to within a factor of sqrt(2) of the
    song's median tempo (a window that locks on double or half time is an octave error, not a tempo
    change), median-filtered over about 3 s, then drives the beat tracker frame by frame.
    """
    import librosa
    from scipy.ndimage import median_filter

    onset = librosa.onset.onset_strength(y=samples, sr=sr, hop_length=HOP)
    local = librosa.feature.tempo(onset_envelope=onset, sr=sr, hop_length=HOP, aggregate=None)
    local = np.asarray(local, np.float64).reshape(-1)
    good = local[local > 0]
    if not len(good):
        return 0.0, (0.0, 0.0), np.zeros(0), onset
    centre = float(np.median(good))
    octaves = np.round(np.log2(np.maximum(local, 1e-6) / centre))
    local = np.where(local > 0, local / 2.0 ** octaves, centre)
    local = median_filter(local, size=max(1, int(3.0 * sr / HOP)) | 1, mode="nearest")
    _, beats = librosa.beat.beat_track(onset_envelope=onset, sr=sr, hop_length=HOP, bpm=local, units="time")
    beats = np.asarray(beats, np.float64)
    tempo = float(np.median(local))
    if len(beats) > 2:  # the tempo the beats keep: finer than the tempogram's bins (a line through a steady
        gaps = np.diff(beats)  # song's beats; the typical gap when the tempo moves)
        steady = np.abs(gaps / np.median(gaps) - 1).max() < 0.1
        period = np.polyfit(np.arange(len(beats)), beats, 1)[0] if steady else np.median(gaps)
        tempo = float(60.0 / period)
    return tempo, (float(local.min()), float(local.max())), beats, onset


def load_song(path: str | Path) -> Song:
    """Read and analyse a song (``.wav .flac .ogg .mp3``). Raises ChoreoError naming the file."""
    import librosa

    path = Path(path)
    mono, sr, channels = read_audio(path)
    level = loudest_dbfs(mono, sr)
    if level < SILENCE_DBFS:
        raise ChoreoError(f"is silent (loudest stretch {level:.0f} dBFS); there is no beat to dance to", path)
    samples = mono if sr == ANALYSIS_RATE else librosa.resample(mono, orig_sr=sr, target_sr=ANALYSIS_RATE)
    samples = np.ascontiguousarray(samples, np.float32)
    tempo, tempo_range, beats, onset = analyse(samples, ANALYSIS_RATE)
    if len(beats) < 2:
        raise ChoreoError("has no beat that could be found (too quiet, too short, or no rhythm)", path)
    notes = [] if sr == ANALYSIS_RATE else [f"analysed at {ANALYSIS_RATE} Hz (file: {sr} Hz)"]
    return Song(path=path, samples=samples, sample_rate=ANALYSIS_RATE, tempo=tempo, tempo_range=tempo_range,
                beats=beats, onset=np.asarray(onset, np.float32), onset_hop=HOP / ANALYSIS_RATE,
                sha256=file_sha256(path), file_sample_rate=sr, channels=channels, notes=notes)


def waveform_envelope(song: Song, bins: int, start: float = 0.0, stop: float | None = None) -> np.ndarray:
    """``(bins, 2)`` float32 min and max of the samples in ``bins`` equal slices of ``start..stop`` s,
    for drawing a waveform at any width without touching every sample per redraw."""
    sr = song.sample_rate
    stop = song.duration if stop is None else stop
    a, b = max(0, int(start * sr)), min(len(song.samples), int(stop * sr))
    bins = max(1, int(bins))
    out = np.zeros((bins, 2), np.float32)
    if b <= a:
        return out
    edges = np.linspace(a, b, bins + 1).astype(np.int64)
    x = song.samples
    for i in range(bins):  # a few hundred slices; reduceat would mishandle empty ones
        lo, hi = edges[i], max(edges[i + 1], edges[i] + 1)
        seg = x[lo:hi]
        if len(seg):
            out[i] = seg.min(), seg.max()
    return out
