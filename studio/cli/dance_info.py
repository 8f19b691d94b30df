"""``choreo info FILE``: what a motion file holds (frames, joints, fps, layout, bones, extent)."""

from __future__ import annotations

import argparse
import json

import numpy as np

from engine.dance.axes import motion_up_axis
from engine.dance.motion import LAYOUTS, PROPORTIONS, Motion, load_motion
from engine.dance.skeleton import frame_speeds, motion_skeleton

AXES = "xyz"


def motion_info(motion: Motion) -> dict:
    """Summary of a clip as a JSON-ready dict (what ``choreo info`` shows)."""
    bones, _ = motion_skeleton(motion)
    flat = motion.positions.reshape(-1, 3)
    speed = float(frame_speeds(motion.positions).mean())
    up = motion_up_axis(motion)  # what the renderer uses, signed
    k = AXES.index(up.lstrip("-"))
    height = float(np.median(motion.positions[..., k].max(1) - motion.positions[..., k].min(1)))
    return {
        "file": motion.source,
        "frames": motion.n_frames,
        "joints": motion.n_joints,
        "fps": motion.fps,
        "fps_note": motion.fps_note,
        "duration_s": motion.duration,
        "layout": motion.layout,
        "layout_note": motion.layout_note,
        "bones": len(bones),
        "bones_from": "file" if len(motion.bones) else "inferred",
        "extent_min": [float(v) for v in flat.min(0)],
        "extent_max": [float(v) for v in flat.max(0)],
        "up_axis": up,
        "axis_scale": [float(v) for v in motion.axis_scale],
        "scale_note": motion.scale_note,
        "body_height": height,
        "mean_speed_per_frame": speed,
        "mean_speed_per_s": speed * motion.fps,
        "notes": list(motion.notes),
    }


def cmd_info(args: argparse.Namespace) -> int:
    """Print the summary of ``args.file`` (one JSON line with ``--json``)."""
    motion = load_motion(args.file, layout=args.layout, fps=args.fps, proportions=args.proportions)
    info = motion_info(motion)
    if args.json:
        print(json.dumps(info))
        return 0
    lo, hi = info["extent_min"], info["extent_max"]
    fps_note = f" ({info['fps_note']})" if info["fps_note"] else ""
    lines = [
        f"file      {info['file']}",
        f"frames    {info['frames']}",
        f"joints    {info['joints']}",
        f"fps       {info['fps']:g}{fps_note}",
        f"duration  {info['duration_s']:.2f} s",
        f"layout    {info['layout_note'] or info['layout']}",
        f"bones     {info['bones']} ({info['bones_from']})",
        "extent    " + "  ".join(f"{a}: {lo[i]:.3g} .. {hi[i]:.3g}" for i, a in enumerate(AXES)),
        f"up axis   {info['up_axis']} (guess; body height about {info['body_height']:.3g} units)",
        f"scale     {info['scale_note'] or 'as stored (axis scale 1, 1, 1)'}",
        f"speed     {info['mean_speed_per_frame']:.4g} units/frame ({info['mean_speed_per_s']:.4g} units/s)",
    ]
    lines += [f"note      {n}" for n in info["notes"]]
    print("\n".join(lines))
    return 0


def add_proportions_flag(p: argparse.ArgumentParser) -> None:
    """``--proportions auto|file``: restore per-axis-normalised clips (auto) or keep the stored values."""
    p.add_argument("--proportions", choices=PROPORTIONS, default="auto",
                   help="auto: a clip stored with every axis scaled to the same range gets its body's proportions "
                        "back (exports stay in the file's units); file: use the values as stored")


def add_info_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``choreo info FILE [--layout ...] [--fps F] [--json]`` on ``sub``."""
    p = sub.add_parser("info", help="frames, joints, fps, layout, bones of a motion file",
                       description="Show what a motion file (.npy, .npz, .bvh, .c3d, .csv) holds.")
    p.add_argument("file", help="motion file")
    p.add_argument("--layout", choices=LAYOUTS, default="auto",
                   help="how a .npy/.npz array is stored (default: detect)")
    p.add_argument("--fps", type=float, default=None, help="frames per second (overrides the file)")
    add_proportions_flag(p)
    p.add_argument("--json", action="store_true", help="print one JSON line instead")
    p.set_defaults(func=cmd_info)
    return p
