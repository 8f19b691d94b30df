"""A song in an MP4: mux audio under a rendered video, frame-accurately, and read the streams back.

Uses the ffmpeg binary that ``imageio-ffmpeg`` ships (the one the video was encoded with), so no
system ffmpeg is needed. The video stream is copied untouched; the song is encoded as AAC at
48 kHz, cut (or padded with silence) to exactly the video's length, ``frames / fps`` seconds, and
the MP4's edit list makes players start and stop it at the sample (a decoder gives back exactly
that many seconds of audio). A positive ``offset`` starts the video that far into the song; a
negative one lets the video run that long before the song starts (a lead-in before the take).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..core.errors import ChoreoError

AUDIO_RATE = 48000


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def mux_song(video: str | Path, song: str | Path, seconds: float, offset: float = 0.0) -> None:
    """Replace ``video`` (an MP4 without sound) by the same video with ``song`` as its audio track.

    The audio lasts exactly ``seconds`` (the video's length): cut at the end, or padded with silence
    when the song is shorter. ``offset`` s into the song is where the video starts (negative: the song
    starts ``-offset`` s into the video, silence before).
    Raises ChoreoError naming the song when ffmpeg cannot read it.
    """
    video, song = Path(video), Path(song)
    if not song.is_file():
        raise ChoreoError("no such audio file", song)
    out = video.with_name(video.stem + ".with-song" + video.suffix)
    cmd = [_ffmpeg(), "-y", "-v", "error", "-i", str(video)]
    if offset > 0:
        cmd += ["-ss", f"{offset:.6f}"]
    delay = f"adelay={-offset * 1000:.3f}:all=1," if offset < 0 else ""
    cmd += ["-i", str(song), "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", "192k",
            "-ar", str(AUDIO_RATE), "-af", delay + "apad", "-t", f"{seconds:.6f}", "-movflags", "+faststart",
            str(out)]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if run.returncode != 0 or not out.is_file():
            last = (run.stderr.strip().splitlines() or ["ffmpeg failed"])[-1]
            raise ChoreoError(f"could not put this song into the video: {last[:160]}", song)
        os.replace(out, video)
    finally:
        out.unlink(missing_ok=True)


def stream_seconds(path: str | Path) -> dict[str, float | int]:
    """What a player gets from a video file: ``video_frames``, ``video_seconds`` (frames / fps as
    ffmpeg counts them), and ``audio_seconds`` (samples decoded, 0 without an audio stream)."""
    import imageio_ffmpeg

    path = Path(path)
    frames, secs = imageio_ffmpeg.count_frames_and_secs(str(path))
    meta = next(imageio_ffmpeg.read_frames(str(path)))  # the header: fps of the video stream
    fps = float(meta.get("fps") or 0.0)
    run = subprocess.run([_ffmpeg(), "-v", "error", "-i", str(path), "-map", "0:a:0?", "-f", "s16le", "-ac", "1",
                          "-ar", str(AUDIO_RATE), "-"], capture_output=True, timeout=600)
    audio = len(run.stdout) / 2 / AUDIO_RATE if run.returncode == 0 else 0.0
    return {"video_frames": int(frames), "fps": fps, "video_seconds": frames / fps if fps else float(secs),
            "audio_seconds": float(audio)}
