"""``choreo bench``: performance figures as ratios against same-run references."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from studio.bench import dance, live, scale, sketch

BENCHES: dict[str, Callable[..., dict[str, Any]]] = {
    "dance_training": dance.bench_dance_training,
    "dance_generation": dance.bench_dance_generation,
    "precision": dance.bench_precision,
    "sketch_training": sketch.bench_sketch_training,
    "sketch_long_training": sketch.bench_sketch_long_training,
    "live_latency": live.bench_live_latency,
    "scale": scale.bench_scale,  # an hour of mocap: minutes and ~2 GB, so only with --only
}
DEFAULT = [name for name in BENCHES if name != "scale"]


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("bench", help="performance figures (JSON with --json)")
    b.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    b.add_argument("--seconds", type=float, default=8.0, help="time per measurement")
    b.add_argument("--only", nargs="*", choices=list(BENCHES), help="run only these")
    b.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    results: dict[str, Any] = {}
    for name, fn in BENCHES.items():
        if name not in (args.only or DEFAULT):
            continue
        print(f"bench: {name}...", file=sys.stderr)
        try:
            results[name] = fn(seconds=args.seconds)
        except Exception as err:  # one failed figure must not throw away the others
            results[name] = {"error": f"{type(err).__name__}: {err}"}
        if not args.json:
            print(f"\n{name}")
            for key, value in results[name].items():
                shown = f"{value:,.2f}" if isinstance(value, float) else value
                print(f"  {key:32s} {shown}")
    if args.json:
        print(json.dumps(results))
    return 0
