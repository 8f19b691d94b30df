"""``choreo eval MODEL_OR_TAKE [--against CLIP] [--json]``: is a take plausible and new?

Given a take (any motion file), it is judged against ``--against CLIP``. Given a model, a default
take is made first (``--frames`` from frame 100 of the clip, as ``choreo generate`` would) and judged
against the clip (default: the stretch of training data the model carries). The figures are the team
judge's (``engine.dance.quality``), with a verdict against its bar.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from engine.core.errors import ChoreoError
from engine.dance.generation import DanceGenerator
from engine.dance.knobs import GENERATION
from engine.dance.model import DanceModel
from engine.dance.motion import load_motion
from engine.dance.quality import BAR, failures, take_quality

from .knobs import add_knob
from .progress import count_bar

EVAL_SEED_FRAME = 100  # the moment a model's default take continues from (clamped to the clip)


def register(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("eval", help="judge a take (or a model's default take) against a clip",
                       description=__doc__.split("\n\n")[1].replace("\n", " "))
    e.add_argument("input", help="a take (.npy .npz .csv .bvh ...) or a model checkpoint (.pt)")
    e.add_argument("--against", help="the clip the model learned from (required for a take)")
    e.add_argument("--frames", type=int, default=900, help="frames of a model's take (default 900)")
    add_knob(e, GENERATION["rng"])
    e.add_argument("--json", action="store_true", help="print one JSON line of figures and the verdict")
    e.set_defaults(func=cmd_eval)


def _model_take(path: Path, against: Path | None, frames: int, rng: int):
    model = DanceModel.load(path)
    clip = load_motion(against) if against is not None else model.seed
    if clip is None:
        raise ChoreoError("the model carries no training data to judge against; give --against CLIP", path)
    if clip.n_joints != model.config.n_joints:
        raise ChoreoError(f"has {clip.n_joints} joints, the model was trained on {model.config.n_joints}", against)
    seed_frame = min(EVAL_SEED_FRAME, clip.n_frames)
    gen = DanceGenerator(model, seed=clip, seed_frame=max(seed_frame, model.config.frame_step + 1), rng=rng)
    torch.set_num_threads(1)
    progress, close = count_bar(frames, "generating")
    try:
        take = gen.generate(frames, on_frame=lambda i, _f: progress(i + 1, frames))
    finally:
        close()
    return clip.in_file_units(), take / clip.axis_scale  # judged in the file's units, as the files are


def cmd_eval(args: argparse.Namespace) -> int:
    path = Path(args.input)
    against = Path(args.against) if args.against else None
    if args.frames < 2:
        raise ChoreoError(f"--frames must be at least 2, got {args.frames}")
    if path.suffix.lower() == ".pt":
        data, take = _model_take(path, against, args.frames, args.rng)
    else:
        if against is None:
            raise ChoreoError("judging a take needs the clip it came from: add --against CLIP", path)
        clip = load_motion(against, proportions="file")  # both files as stored, as the judge reads them
        take_motion = load_motion(path, proportions="file")
        if take_motion.n_joints != clip.n_joints:
            raise ChoreoError(f"has {take_motion.n_joints} joints, {against} has {clip.n_joints}", path)
        data, take = clip.positions, take_motion.positions
    if len(data) < 10:
        raise ChoreoError(f"needs at least 10 frames to hold some back, has {len(data)}", against or path)
    q = take_quality(data, take)
    missed = failures(q)
    if args.json:
        print(json.dumps({**q, "passes": not missed, "failures": missed}))
        return 0
    thirds = " / ".join(f"{v:.2f}" for v in q.get("pose_ratio_thirds", []))
    lines = [
        f"take       {q['take_frames']} frames, {q['joints']} joints",
        f"poses      {q.get('pose_ratio', float('nan')):.2f} x real unseen movement (thirds {thirds}; "
        f"bar {BAR.pose_ratio:g})",
        f"novelty    {q.get('window_ratio', float('nan')):.2f} (one-second windows; ~0 replays the clip, "
        f"bar {BAR.window_ratio:g})",
        f"bones      {q.get('bone_dev_median_take', float('nan')):.2e} deviation (data's own "
        f"{q.get('bone_dev_median_data', float('nan')):.2e})",
        f"speed      {q.get('speed_ratio', float('nan')):.2f} x the data's",
        f"frozen     {100 * q.get('frozen_frac', 0):.1f} %   off stage {100 * q.get('outside_frac', 0):.1f} %",
        "verdict    " + ("plausible and new: passes the bar" if not missed else "; ".join(missed)),
    ]
    print("\n".join(lines), file=sys.stdout)
    return 0
