"""``choreo stream``: live generation (or a take file) sent as OSC, one message per frame at the take's fps."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from engine.core.errors import ChoreoError
from engine.dance.generation import DanceGenerator
from engine.dance.motion import LOADABLE, load_motion
from engine.dance.osc import ADDRESS, DEFAULT_HOST, DEFAULT_PORT, OscSender, StreamResult, parse_target, stream_frames

from .dance import add_generation_args, generator_from_args


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "stream", help="stream live generation (or a take) over OSC",
        description=f"Send one OSC message per frame at the take's fps to HOST:PORT: address {ADDRESS}, "
                    "arguments frame index (int), time in seconds (float), then joints x 3 floats (x, y, z "
                    "of each joint). MODEL may also be a clip or take file (.npy .bvh .c3d ...), sent once.")
    add_generation_args(s, take_length=False)
    s.add_argument("--osc", default=f"{DEFAULT_HOST}:{DEFAULT_PORT}", metavar="HOST:PORT",
                   help=f"where to send (default {DEFAULT_HOST}:{DEFAULT_PORT})")
    s.add_argument("--seconds", type=float, help="how long to stream (default: until Ctrl-C; a file: its length)")
    s.add_argument("--json", action="store_true", help="end with one JSON line of results")
    s.set_defaults(func=cmd_stream)


def _live(gen: DanceGenerator) -> Iterator[np.ndarray]:
    """Endless frames of the first variation."""
    while True:
        yield gen.step()[0]


def cmd_stream(args: argparse.Namespace) -> int:
    """Stream until done, ``--seconds`` pass or Ctrl-C; Ctrl-C is a normal end here."""
    host, port = parse_target(args.osc)
    if args.seconds is not None and not args.seconds > 0:
        raise ChoreoError(f"--seconds must be positive, got {args.seconds}")
    if Path(args.model).suffix.lower() in LOADABLE:
        take = load_motion(args.model)
        fps, frames, what = take.fps, iter(take.positions), f"{args.model} ({take.n_frames} frames)"
        limit = take.n_frames
    else:
        gen, seed = generator_from_args(args)
        fps, frames, what = seed.fps, _live(gen), f"live generation from {args.model}"
        limit = None
    if args.seconds is not None:
        n = max(1, round(args.seconds * fps))
        limit = n if limit is None else min(limit, n)
    if limit is not None:
        frames = (f for _, f in zip(range(limit), frames, strict=False))
    sender = OscSender(host, port)
    sent = [0]
    cancel = threading.Event()
    print(f"streaming {what} to {sender.target} at {fps:g} fps, {ADDRESS} "
          f"(index, seconds, joints x 3); Ctrl-C stops", file=sys.stderr)
    try:
        result = stream_frames(frames, fps, sender, cancel=cancel, on_frame=lambda i: sent.__setitem__(0, i + 1))
    except KeyboardInterrupt:
        result = StreamResult(sent[0], sent[0] / fps, 0, 0.0, True)
    finally:
        sender.close()
    print(f"sent {result.frames} frames in {result.seconds:.1f} s ({result.late_frames} late)", file=sys.stderr)
    if args.json:
        print(json.dumps({"target": sender.target, "fps": fps, **result.summary()}))
    return 0
