"""``choreo bench``: performance figures as ratios against same-run references."""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Callable
from typing import Any

from studio.bench import dance, distributed, live, scale, sketch

BENCHES: dict[str, Callable[..., dict[str, Any]]] = {
    "dance_training": dance.bench_dance_training,
    "dance_generation": dance.bench_dance_generation,
    "precision": dance.bench_precision,
    "sketch_training": sketch.bench_sketch_training,
    "sketch_long_training": sketch.bench_sketch_long_training,
    "live_latency": live.bench_live_latency,
    "distributed": distributed.bench_distributed,  # 1 and 2 training processes (DDP): per process and in all
    "scale": scale.bench_scale,  # an hour of mocap: minutes and ~2 GB, so only with --only
}
DEFAULT = [name for name in BENCHES if name != "scale"]


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("bench", help="performance figures (JSON with --json)")
    b.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    b.add_argument("--seconds", type=float, default=8.0, help="time per measurement")
    b.add_argument("--only", nargs="*", choices=list(BENCHES), help="run only these")
    b.add_argument("--device", default="cpu", help="cpu | cuda | auto: where the figures that can run on a GPU run")
    b.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from engine.core.device import resolve_device

    device = str(resolve_device(args.device))  # --device cuda without a GPU: one line, before any figure
    results: dict[str, Any] = {}
    for name, fn in BENCHES.items():
        if name not in (args.only or DEFAULT):
            continue
        print(f"bench: {name}...", file=sys.stderr)
        kwargs: dict[str, Any] = {"seconds": args.seconds}
        if "device" in inspect.signature(fn).parameters:
            kwargs["device"] = device
        try:
            results[name] = fn(**kwargs)
        except Exception as err:  # one failed figure must not throw away the others
            results[name] = {"error": f"{type(err).__name__}: {err}"}
        if not args.json:
            print(f"\n{name}")
            for key, value in _flat(results[name]):
                shown = f"{value:,.2f}" if isinstance(value, float) else value
                print(f"  {key:32s} {shown}")
    if args.json:
        print(json.dumps(results))
    return 0


def _flat(figures: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``{"a": {"b": 1}}`` -> ``[("a.b", 1)]``: nested figures as rows of the table."""
    rows: list[tuple[str, Any]] = []
    for key, value in figures.items():
        if isinstance(value, dict):
            rows += _flat(value, f"{prefix}{key}.")
        else:
            rows.append((prefix + key, value))
    return rows
