"""Rebuild the shipped demo models from the project's own synthetic data.

    python assets/build_assets.py [--only dance|sketch] [--minutes M]

Nothing is downloaded: the dancer and the sketches are procedural. Optimizer
state is dropped so the files stay small.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _strip_optimizer(path: Path) -> None:
    from engine.core.checkpoint import read_checkpoint, save_checkpoint

    payload = read_checkpoint(path)
    payload.pop("format")
    payload["optimizer"] = None
    save_checkpoint(path, payload)


def build_dance(minutes: float) -> Path:
    """The demo dance model: a small LSTM-MDN trained on the procedural dancer."""
    from engine import DanceConfig, TrainConfig, train
    from engine.dance.synthetic import synthetic_dancer

    motion = synthetic_dancer(frames=9000, fps=30.0, rng=0)
    out = HERE / "demo_dance.pt"
    result = train(motion, out, model_config=DanceConfig(hidden=128, layers=2, mixtures=8),
                   config=TrainConfig(minutes=minutes, rng=0))
    _strip_optimizer(out)
    print(f"demo_dance.pt: {result.steps} steps, val loss {result.best_val_loss:.3f}, "
          f"{out.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
    return out


def build_sketch(minutes: float) -> Path:
    """The demo sketch model: Sketch-RNN trained on procedural shapes."""
    from engine.sketch.synthetic import synthetic_sketches
    from engine.sketch.task import sketch_train_config, train_sketch

    out = HERE / "demo_sketch.pt"
    train_sketch(synthetic_sketches(3000, rng=0), out, config=sketch_train_config(minutes=minutes, rng=0))
    _strip_optimizer(out)
    print(f"demo_sketch.pt: {out.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["dance", "sketch"])
    parser.add_argument("--minutes", type=float, default=6.0, help="training budget per model")
    args = parser.parse_args()
    if args.only in (None, "dance"):
        build_dance(args.minutes)
    if args.only in (None, "sketch"):
        build_sketch(args.minutes)


if __name__ == "__main__":
    main()
