"""``choreo export`` (convert clips and takes) and ``choreo demo`` (the embedded default, end to end)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from engine.core.errors import ChoreoError
from engine.core.fileio import next_free_path
from engine.dance.export import export_formats, export_motion
from engine.dance.motion import load_motion

from .progress import count_bar
from .project import export_take

DEMO_FRAMES = 600


def register(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("export", help="convert a clip or take to another format",
                       description=f"Formats: {' '.join(export_formats())}")
    e.add_argument("input", help="clip or take (.npy .npz .bvh .c3d .csv), or a project (.choreo) with --take")
    e.add_argument("--out", required=True, help="output file; the suffix picks the format")
    e.add_argument("--layout", help="frames-first | joints-first for .npy output (default: the input's)")
    e.add_argument("--in-layout", default="auto", help="layout of the input array (default: detect)")
    e.add_argument("--fps", type=float, help="frame rate of the input when the file does not say")
    e.add_argument("--skeleton", metavar="SOURCE.bvh",
                   help=".bvh/.glb output: write onto this BVH's hierarchy (default: the input's own, or one "
                        "built from its bones)")
    e.add_argument("--force", action="store_true", help="replace an existing output file")
    e.add_argument("--take", type=int, help="take number, when the input is a project (default: its shown take)")
    e.set_defaults(func=cmd_export)

    d = sub.add_parser("demo", help="generate a dance with the embedded dancer and model, write a video")
    d.add_argument("--out", help="video or data file to write (default: demo.mp4, numbered if taken)")
    d.add_argument("--frames", type=int, default=DEMO_FRAMES, help="frames to generate")
    d.add_argument("--seed", type=int, default=0, dest="rng", help="random seed: the same seed gives the same dance")
    d.add_argument("--force", action="store_true", help="replace an existing output file")
    d.add_argument("--json", action="store_true", help="end with one JSON line of results")
    d.set_defaults(func=cmd_demo)


def cmd_export(args: argparse.Namespace) -> int:
    if Path(args.input).suffix.lower() == ".choreo":
        return export_take(args)
    if args.take is not None:
        raise ChoreoError("--take picks a take of a project (.choreo)", args.input)
    motion = load_motion(args.input, layout=args.in_layout, fps=args.fps)
    progress, close = count_bar(motion.n_frames, f"writing {Path(args.out).name}",
                                enabled=Path(args.out).suffix.lower() in (".mp4", ".gif"))
    try:
        path = export_motion(motion, args.out, layout=args.layout, overwrite=args.force, progress=progress,
                             skeleton=args.skeleton)
    finally:
        close()
    print(f"wrote {path} ({motion.n_frames} frames, {motion.n_joints} joints, {motion.fps:g} fps)",
          file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from engine.core.assets import asset_path
    from engine.dance.generation import DanceGenerator
    from engine.dance.model import DanceModel

    out = Path(args.out) if args.out else next_free_path("demo", ".mp4")
    if out.exists() and not args.force:
        raise ChoreoError("already exists (use --force to replace it)", out)
    t0 = time.perf_counter()
    model = DanceModel.load(asset_path("demo_dance.pt"))
    seed = model.seed
    assert seed is not None
    gen = DanceGenerator(model, rng=args.rng, seed_frame=min(seed.n_frames, 4 * model.config.default_look_back))
    frames = gen.generate(args.frames)
    take = seed.like(frames, source="demo take")
    progress, close = count_bar(args.frames, f"writing {out.name}")
    try:
        path = export_motion(take, out, overwrite=args.force, progress=progress)
    finally:
        close()
    seconds = time.perf_counter() - t0
    print(f"Wrote {Path(path).resolve()}: {args.frames} generated frames at {seed.fps:g} fps, "
          f"made in {seconds:.1f} s.")
    if args.json:
        print(json.dumps({"out": str(Path(path).resolve()), "frames": args.frames, "seconds": round(seconds, 2)}))
    return 0
