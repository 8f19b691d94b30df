"""``choreo eval MODEL_OR_TAKE [--against CLIP] [--music SONG] [--json]``: is a take plausible and new?

Given a take (any motion file), it is judged against ``--against CLIP``, and with ``--music SONG`` for
how its accents land on the song's beats (the Beat Align Score; either option alone will do). Given a model, a default
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
from .music import add_music_args, beat_lines, beat_report, dance, read_song, take_rate
from .progress import count_bar

EVAL_SEED_FRAME = 100  # the moment a model's default take continues from (clamped to the clip)


def register(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("eval", help="judge a take (or a model's default take) against a clip",
                       description=__doc__.split("\n\n")[1].replace("\n", " "))
    e.add_argument("input", help="a take (.npy .npz .csv .bvh ...) or a model checkpoint (.pt)")
    e.add_argument("--against", help="the clip the model learned from (required for a take)")
    e.add_argument("--frames", type=int, help="frames of a model's take (default 900, or the song's length)")
    add_knob(e, GENERATION["rng"])
    add_music_args(e)
    e.add_argument("--fps", type=float, help="frame rate of a take whose file does not say (default: the clip's, "
                                             "or the take's length against the song's)")
    e.add_argument("--json", action="store_true", help="print one JSON line of figures and the verdict")
    e.set_defaults(func=cmd_eval)


def _model_take(path: Path, against: Path | None, frames: int | None, rng: int, song=None, beat_align=True):
    model = DanceModel.load(path)
    clip = load_motion(against) if against is not None else model.seed
    if clip is None:
        raise ChoreoError("the model carries no training data to judge against; give --against CLIP", path)
    if clip.n_joints != model.config.n_joints:
        raise ChoreoError(f"has {clip.n_joints} joints, the model was trained on {model.config.n_joints}", against)
    seed_frame = min(EVAL_SEED_FRAME, clip.n_frames)
    gen = DanceGenerator(model, seed=clip, seed_frame=max(seed_frame, model.config.frame_step + 1), rng=rng)
    torch.set_num_threads(1)
    frames = frames or (round(song.duration * clip.fps) if song is not None else 900)
    progress, close = count_bar(frames, "generating")
    try:
        if song is None:
            take = gen.generate(frames, on_frame=lambda i, _f: progress(i + 1, frames))
        else:
            take = dance(gen, model, song, clip.fps, frames, beat_align, progress)
    finally:
        close()
    return clip, clip.in_file_units(), take / clip.axis_scale  # judged in the file's units, as the files are


def cmd_eval(args: argparse.Namespace) -> int:
    path = Path(args.input)
    against = Path(args.against) if args.against else None
    if args.frames is not None and args.frames < 2:
        raise ChoreoError(f"--frames must be at least 2, got {args.frames}")
    song = read_song(args)
    if path.suffix.lower() == ".pt":
        clip, data, take = _model_take(path, against, args.frames, args.rng, song, args.beat_align == "on")
        rate, rate_note = take_rate(clip, song, clip, args.fps)
    else:
        if against is None and song is None:
            raise ChoreoError("judging a take needs the clip it came from (--against CLIP), "
                              "or a song (--music SONG), or both", path)
        # both files as stored, as the judge reads them
        clip = load_motion(against, proportions="file") if against is not None else None
        take_motion = load_motion(path, proportions="file")
        if clip is not None and take_motion.n_joints != clip.n_joints:
            raise ChoreoError(f"has {take_motion.n_joints} joints, {against} has {clip.n_joints}", path)
        take = take_motion.positions
        data = None if clip is None else clip.positions
        rate, rate_note = take_rate(take_motion, song, clip, args.fps)
    music = beat_report(take, rate, song) if song is not None else None
    if data is None:
        if args.json:
            print(json.dumps({"take_frames": len(take), "fps": rate, **music}))
        else:
            print("\n".join([f"take       {len(take)} frames, {take.shape[1]} joints",
                             *beat_lines(music, rate_note, rate)]))
        return 0
    if len(data) < 10:
        raise ChoreoError(f"needs at least 10 frames to hold some back, has {len(data)}", against or path)
    q = take_quality(data, take)
    missed = failures(q)
    if args.json:
        print(json.dumps({**q, "passes": not missed, "failures": missed,
                          **({"fps": rate, **music} if music is not None else {})}))
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
        *(beat_lines(music, rate_note, rate) if music is not None else []),
    ]
    print("\n".join(lines), file=sys.stdout)
    return 0
