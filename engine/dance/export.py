"""Export motions and generated takes: data (.npy .npz .csv .json), animation (.bvh .glb) and video (.mp4 .gif).

Every file is written atomically (``fileio.atomic_path``): a failed or
cancelled export never leaves a half-written file and never damages an
existing one. An existing file is replaced only with ``overwrite=True``.

Several takes (variations):
- video formats draw them side by side in one video (one colour each) and
  return the one path;
- data formats write one file per take, ``name_v0.npy``, ``name_v1.npy``...,
  and return the list of paths (a single Motion, or a list of one take, writes
  exactly ``path``).

Formats:
- ``.npy``  positions as float32, exact values, in the source's layout by
  default (``motion.layout``: ``(frames, joints, 3)`` or ``(joints, frames, 3)``);
  ``layout=`` chooses. No fps, names or bones (a bare array, for Blender/NumPy).
- ``.npz``  ``positions`` float32 ``(frames, joints, 3)``, ``fps`` float64 scalar,
  ``joint_names`` unicode array, ``bones`` int64 ``(bones, 2)``; all plain arrays,
  loadable with ``allow_pickle=False``.
- ``.csv``  header ``Name_x,Name_y,Name_z,...``, one row per frame, ``%.9g``
  (round-trips float32 exactly).
- ``.json`` for web viewers (three.js...): ``{"fps", "joint_names", "bones",
  "up_axis", "frames": [[[x, y, z], ...], ...]}``, values rounded to about
  0.1 mm for metre data (five significant digits of the body's size).
- ``.bvh``  a hierarchy with per-frame joint rotations (``bvh_export``): the source BVH's
  skeleton when the motion carries it (``Motion.rig``) or ``skeleton=`` names one, else a
  hierarchy built from the clip's skeleton. Plays in Blender, Maya, MotionBuilder.
- ``.glb``  glTF 2.0 binary (``gltf``): the same hierarchy as animated nodes and a skinned
  stick-figure mesh, Y up. Opens in Blender, three.js, Unity, TouchDesigner.
- ``.mp4``  H.264, yuv420p, at the motion's fps (or ``fps=``), one video frame
  per motion frame, even frame size.
- ``.gif``  GIF delays are whole hundredths of a second and browsers play
  anything shorter than 20 ms at 100 ms or 20 ms: a GIF cannot go faster than
  50 frames per second. Up to 50 fps every motion frame becomes a GIF frame;
  faster clips keep every k-th frame (k the smallest whole number that brings
  the rate to 50 fps or less: 120 fps -> every 3rd frame, 40 fps), so the GIF
  lasts as long as the clip. Delays are dithered (e.g. 30, 40, 30 ms) so the
  average rate matches.

Videos of figures that leave the stage (a ghost whose clip ends before the
take) take frames of all NaN for "not on stage" (see ``render.FigureRenderer``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import GifImagePlugin, Image

from ..core.errors import ChoreoError
from ..core.fileio import atomic_path, check_writable
from .axes import motion_up_axis
from .motion import Motion
from .render import FigureRenderer

Progress = Callable[[int, int], None]
DATA_FORMATS = (".npy", ".npz", ".csv", ".json", ".bvh", ".glb")
VIDEO_FORMATS = (".mp4", ".gif")
LAYOUTS = ("frames-first", "joints-first")
GIF_MAX_FPS = 50.0  # 20 ms, the shortest GIF frame delay browsers honour


def export_formats() -> list[str]:
    """The file suffixes ``export_motion`` can write."""
    return [*DATA_FORMATS, *VIDEO_FORMATS]


def _as_motions(motion_or_takes: Motion | np.ndarray | Sequence[Motion | np.ndarray]) -> list[Motion]:
    if isinstance(motion_or_takes, Motion):
        return [motion_or_takes]
    if isinstance(motion_or_takes, np.ndarray):
        arr = motion_or_takes
        if arr.ndim == 4:  # (takes, frames, joints, 3)
            return [Motion(positions=a) for a in arr]
        return [Motion(positions=arr)]
    takes = [t if isinstance(t, Motion) else Motion(positions=np.asarray(t)) for t in motion_or_takes]
    if not takes:
        raise ChoreoError("nothing to export: no takes given")
    return takes


def export_motion(
    motion_or_takes: Motion | np.ndarray | Sequence[Motion | np.ndarray],
    path: str | Path,
    *,
    layout: str | None = None,
    fps: float | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    size: tuple[int, int] = (640, 480),
    ghost: Motion | np.ndarray | None = None,
    colors: Sequence[tuple[int, int, int]] | None = None,
    song: str | Path | None = None,
    song_offset: float = 0.0,
    skeleton: str | Path | None = None,
    units: str = "file",
) -> Path | list[Path]:
    """Write a motion, or several takes, to ``path``; the format follows the suffix.

    ``layout`` ("frames-first" | "joints-first") applies to ``.npy`` only (default:
    the source's layout). ``fps`` overrides the motion's frame rate (stored in
    ``.npz``/``.json``, playback rate of videos). ``progress(done, total)`` is
    called while video frames are written. ``size``, ``ghost`` (a faint
    reference figure drawn first) and ``colors`` (one RGB per take) apply to
    videos. ``song`` (an audio file) becomes an ``.mp4``'s soundtrack, from ``song_offset`` s
    into it, exactly as long as the video (``engine.dance.soundtrack``).
    Data formats are written in the source file's units
    (``units="file"``: a clip whose proportions were restored on loading gets its
    ``axis_scale`` divided out again) or as shown (``units="restored"``); ``.bvh``/``.glb``
    always use the restored body (a skeleton needs its real proportions). ``skeleton`` (a
    BVH file) gives ``.bvh``/``.glb`` the hierarchy to write onto. Returns the written path, or for several
    takes in a data format the list of ``_v0``, ``_v1``... paths.
    Raises ChoreoError for an unknown suffix, an existing file without
    ``overwrite=True``, or a write failure (any existing file is left intact).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in export_formats():
        raise ChoreoError(f"unknown export format {suffix or '(none)'!r}; supported: "
                          + ", ".join(export_formats()), path)
    if layout is not None and layout not in LAYOUTS:
        raise ChoreoError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}", path)
    if layout == "joints-first" and suffix != ".npy":
        raise ChoreoError("layout joints-first applies only to .npy exports", path)
    if fps is not None and not fps > 0:
        raise ChoreoError(f"fps must be positive, got {fps}", path)
    if song is not None and suffix != ".mp4":
        raise ChoreoError(f"only .mp4 can carry the song, not {suffix}", path)
    if units not in ("file", "restored"):
        raise ChoreoError(f"units must be file or restored, got {units!r}", path)
    takes = _as_motions(motion_or_takes)

    if suffix in VIDEO_FORMATS:
        check_writable(path, overwrite)
        rate = float(fps or takes[0].fps)
        renderer = FigureRenderer(takes, size=_even(size), ghost=ghost, fps=rate, colors=colors)
        writer = _write_mp4 if suffix == ".mp4" else _write_gif
        with atomic_path(path, overwrite) as tmp:
            writer(renderer, tmp, rate, progress)
            if song is not None:
                from .soundtrack import mux_song

                mux_song(tmp, song, renderer.n_frames / rate, song_offset)
        return path

    if len(takes) == 1:
        targets = [path]
    else:
        targets = [path.with_name(f"{path.stem}_v{i}{path.suffix}") for i in range(len(takes))]
    for target in targets:  # refuse before writing anything
        check_writable(target, overwrite)
    if skeleton is not None and suffix not in (".bvh", ".glb"):
        raise ChoreoError("a skeleton applies only to .bvh and .glb exports", path)
    writer = {".npy": _write_npy, ".npz": _write_npz, ".csv": _write_csv, ".json": _write_json,
              ".bvh": _write_bvh, ".glb": _write_glb}[suffix]
    if units == "file" and suffix not in (".bvh", ".glb"):
        takes = [replace(t, positions=t.in_file_units(), axis_scale=np.ones(3)) if t.restored else t for t in takes]
    rig = None
    if skeleton is not None:
        from .rig import skeleton_rig

        rig = skeleton_rig(skeleton)
    for take, target in zip(takes, targets, strict=True):
        with atomic_path(target, overwrite) as tmp:
            writer(take, tmp, layout=layout, fps=float(fps or take.fps), rig=rig, rig_path=skeleton)
    return targets[0] if len(takes) == 1 else targets


# -- data formats ---------------------------------------------------------------
def _write_npy(m: Motion, tmp: Path, *, layout: str | None, fps: float, **_: object) -> None:
    layout = layout or m.layout
    pos = np.asarray(m.positions, dtype=np.float32)
    if layout == "joints-first":
        pos = np.ascontiguousarray(pos.transpose(1, 0, 2))
    with open(tmp, "wb") as f:
        np.save(f, pos, allow_pickle=False)


def _write_npz(m: Motion, tmp: Path, *, layout: str | None, fps: float, **_: object) -> None:
    with open(tmp, "wb") as f:
        np.savez(
            f,
            positions=np.asarray(m.positions, dtype=np.float32),
            fps=np.float64(fps),
            joint_names=np.array([str(n) for n in m.joint_names], dtype=str),
            bones=np.asarray(m.bones, dtype=np.int64).reshape(-1, 2),
        )


def _write_csv(m: Motion, tmp: Path, *, layout: str | None, fps: float, **_: object) -> None:
    header = ",".join(f"{n}_{a}" for n in m.joint_names for a in "xyz")
    flat = np.asarray(m.positions, dtype=np.float32).reshape(m.n_frames, -1)
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        np.savetxt(f, flat, fmt="%.9g", delimiter=",", header=header, comments="")


def _write_json(m: Motion, tmp: Path, *, layout: str | None, fps: float, **_: object) -> None:
    pos = np.asarray(m.positions, dtype=np.float64)
    finite = pos[np.isfinite(pos)]
    size = float(np.max(np.abs(finite))) if finite.size else 1.0
    decimals = int(np.clip(4 - np.floor(np.log10(max(size, 1e-12))), 0, 10))
    doc = {
        "fps": fps,
        "joint_names": [str(n) for n in m.joint_names],
        "bones": np.asarray(m.bones, dtype=np.int64).tolist(),
        "up_axis": motion_up_axis(m),
        "layout": "frames-first",
        "frames": np.round(np.nan_to_num(pos), decimals).tolist(),
    }
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, separators=(",", ":"))


def _write_bvh(m: Motion, tmp: Path, *, fps: float, rig: list | None, rig_path: str | Path | None,
               **_: object) -> None:
    from .bvh_export import write_bvh

    write_bvh(m, tmp, fps=fps, skeleton=rig, skeleton_path=rig_path)


def _write_glb(m: Motion, tmp: Path, *, fps: float, rig: list | None, rig_path: str | Path | None,
               **_: object) -> None:
    from .gltf import write_glb

    write_glb(m, tmp, fps=fps, skeleton=rig, skeleton_path=rig_path)


# -- video formats ----------------------------------------------------------------
def _even(size: tuple[int, int]) -> tuple[int, int]:
    w, h = (max(16, int(v)) for v in size)
    return w - w % 2, h - h % 2


def _write_mp4(renderer: FigureRenderer, tmp: Path, fps: float, progress: Progress | None) -> None:
    import imageio_ffmpeg

    total = renderer.n_frames
    gen = imageio_ffmpeg.write_frames(
        str(tmp),
        (renderer.width, renderer.height),
        fps=fps,
        codec="libx264",
        pix_fmt_in="rgb24",
        pix_fmt_out="yuv420p",
        macro_block_size=2,
        quality=7,
        ffmpeg_log_level="error",
        output_params=["-movflags", "+faststart"],
    )
    gen.send(None)
    try:
        for i in range(total):
            gen.send(np.ascontiguousarray(renderer.render(i)))
            if progress is not None:
                progress(i + 1, total)
    finally:
        gen.close()  # stops ffmpeg; on failure atomic_path then removes the partial file


def gif_rate(fps: float) -> tuple[float, int]:
    """``(rate, step)``: a GIF of a ``fps`` clip shows every ``step``-th frame at ``rate`` frames per second."""
    step = max(1, math.ceil(fps / GIF_MAX_FPS - 1e-9))
    return fps / step, step


def _gif_delays(n: int, fps: float) -> list[int]:
    """Per-frame delays in ms, whole hundredths, averaging 1/fps (minimum 20 ms)."""
    ends = np.round(np.arange(1, n + 1) * 100.0 / fps).astype(np.int64)
    cs = np.diff(np.concatenate([[0], ends]))
    return [int(max(c, 2)) * 10 for c in cs]


def _write_gif(renderer: FigureRenderer, tmp: Path, fps: float, progress: Progress | None) -> None:
    """Stream a GIF frame by frame with one global palette (memory stays flat for long takes).

    Clips faster than 50 fps keep every k-th frame (``gif_rate``), so the GIF lasts as long as the clip.
    """
    rate, step = gif_rate(fps)
    frames = range(0, renderer.n_frames, step)
    total = len(frames)
    picks = sorted({frames[0], frames[total // 3], frames[2 * total // 3], frames[-1]})
    sheet = Image.fromarray(np.concatenate([renderer.render(i) for i in picks], axis=0))
    palette_img = sheet.quantize(255, method=Image.Quantize.MEDIANCUT)
    delays = _gif_delays(total, rate)
    with open(tmp, "wb") as fp:
        previous: np.ndarray | None = None
        for i, frame_index in enumerate(frames):
            rgb = Image.fromarray(renderer.render(frame_index))
            frame = rgb.quantize(palette=palette_img, dither=Image.Dither.NONE)
            idx = np.asarray(frame)
            if previous is None:
                header, _ = GifImagePlugin.getheader(frame, info={"loop": 0, "duration": delays[0]})
                fp.write(b"".join(header))
                box = (0, 0, idx.shape[1], idx.shape[0])
            else:
                changed = np.nonzero(idx != previous)
                if changed[0].size:
                    box = (int(changed[1].min()), int(changed[0].min()),
                           int(changed[1].max()) + 1, int(changed[0].max()) + 1)
                else:
                    box = (0, 0, 1, 1)
            part = frame.crop(box)
            fp.write(b"".join(GifImagePlugin.getdata(part, offset=box[:2], duration=delays[i], disposal=1)))
            previous = idx
            if progress is not None:
                progress(i + 1, total)
        fp.write(b";")


def render_still(motion_or_takes: Motion | Sequence[Motion], frame: int = 0,
                 size: tuple[int, int] = (640, 480)) -> Image.Image:
    """One frame as a Pillow image (handy for thumbnails and notebooks)."""
    return Image.fromarray(FigureRenderer(_as_motions(motion_or_takes), size=size).render(frame))
