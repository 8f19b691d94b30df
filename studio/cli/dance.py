"""``choreo info``, ``choreo train`` and ``choreo generate``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from engine.core.distributed import Team
from engine.core.errors import ChoreoError
from engine.core.fileio import check_checkpoint_out, next_free_path
from engine.core.training import TrainConfig
from engine.dance.corpus import Corpus, train_corpus
from engine.dance.generation import DanceGenerator
from engine.dance.knobs import GENERATION, TRAINING
from engine.dance.model import DanceConfig, DanceModel
from engine.dance.motion import Motion, load_motion, motion_files
from engine.dance.skeleton import integrity

from .dance_info import add_info_parser, add_proportions_flag
from .direct import add_direction_args, direction_from_args
from .distributed import THREADS_HELP, add_nproc_arg, run_as_team, use_training_threads
from .knobs import add_knob
from .music import add_music_args, beat_report, dance, read_song
from .progress import NEGATIVE_LOSS_NOTE, count_bar, training_bar


def register(sub: argparse._SubParsersAction) -> None:
    add_info_parser(sub)

    t = sub.add_parser("train", help="train a dance model on mocap clips", description=(
        "Train an LSTM + mixture density network on one or more clips. " + NEGATIVE_LOSS_NOTE))
    t.add_argument("data", nargs="+", help="clips (.npy .npz .bvh .c3d .csv) or folders of clips")
    t.add_argument("--out", help="checkpoint to write (default: <first clip>.pt in this folder)")
    budget = t.add_mutually_exclusive_group()
    add_knob(budget, TRAINING["minutes"], default=None)
    budget.add_argument("--epochs", type=float, help="passes over the data instead of a time budget")
    for name in ("hidden", "layers", "mixtures", "seq_len", "batch", "lr", "device", "precision"):
        add_knob(t, TRAINING[name])
    t.add_argument("--look-back", type=int, help="frames that prime generation by default (default: about a second)")
    t.add_argument("--layout", default="auto", help="array layout of .npy/.npz/.csv input")
    t.add_argument("--fps", type=float, help="frame rate when the file does not say")
    add_proportions_flag(t)
    t.add_argument("--resume", help="continue training from this checkpoint")
    t.add_argument("--force", action="store_true", help="replace an existing --out file")
    t.add_argument("--seed", type=int, default=0, dest="rng", help="random seed: initial weights, crops and noise")
    t.add_argument("--json", action="store_true", help="end with one JSON line of results")
    add_nproc_arg(t)
    t.add_argument("--threads", type=int, default=None, help=THREADS_HELP)
    t.set_defaults(func=cmd_train)

    g = sub.add_parser("generate", help="generate a new take from a trained model")
    add_generation_args(g)
    add_music_args(g)
    g.add_argument("--out", help="take.npy | .npz | .csv | .json | .bvh | .glb | .mp4 | .gif "
                                 "(default: take.npy, numbered if taken)")
    g.add_argument("--layout", help="frames-first | joints-first for .npy (default: the seed's layout)")
    g.add_argument("--force", action="store_true", help="replace an existing --out file")
    g.add_argument("--json", action="store_true", help="end with one JSON line of results")
    g.set_defaults(func=cmd_generate)


def add_generation_args(g: argparse.ArgumentParser, take_length: bool = True, model: bool = True) -> None:
    """What every command that dances takes: the model, the seed moment and the generation knobs
    (``choreo generate``, ``choreo stream``, ``choreo project generate``; ``take_length=False`` leaves out
    --frames and --variations for a stream, which runs until stopped; ``model=False`` leaves out the model
    for a caller that has its own, such as a project)."""
    if model:
        g.add_argument("model", help="checkpoint written by choreo train")
    if take_length:
        g.add_argument("--frames", type=int, help="frames to generate (default 900, or the song's length with --music)")
    g.add_argument("--seed-from", help="DATA[:FRAME] clip (and frame) to continue from; default: the training data")
    g.add_argument("--look-back", type=int, help="frames before the seed frame that prime the model "
                                                "(default: the model's, about a second)")
    for name in ("temperature", "sigma_temperature", "variations", "rng", "pose_guard"):
        if take_length or name != "variations":
            add_knob(g, GENERATION[name])
    add_knob(g, GENERATION["anchor"], default=None, help=GENERATION["anchor"].tip + " (default: the model's)")
    knob = GENERATION["mixture"]
    g.add_argument("--mixture", default=knob.default, help=knob.tip + " (auto | argmax | a component index)")
    g.add_argument("--no-rigid", action="store_true", help="do not hold bone lengths at the data's lengths")
    g.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    add_direction_args(g)


def generator_from_args(args: argparse.Namespace, variations: int = 1) -> tuple[DanceGenerator, Motion]:
    """The generator ``add_generation_args``' flags ask for, and the clip it continues."""
    from engine.core.device import resolve_device

    model = DanceModel.load(args.model, device=resolve_device(args.device))
    seed: Motion | None = model.seed
    seed_frame, seed_path = None, ""
    if args.seed_from:
        seed_path, seed_frame = parse_seed_from(args.seed_from)
        seed = load_motion(seed_path)
        if seed.n_joints != model.config.n_joints:
            raise ChoreoError(f"has {seed.n_joints} joints, the model was trained on {model.config.n_joints}",
                              seed_path)
    assert seed is not None
    look_back = args.look_back or model.config.default_look_back
    mixture: str | int = int(args.mixture) if args.mixture.lstrip("-").isdigit() else args.mixture
    step = max(1, int(model.config.frame_step))
    start = min(seed.n_frames, look_back + step) if seed_frame is None else seed_frame  # as the generator does
    direction, references = direction_from_args(args, model, seed, seed_path if args.seed_from else None, start,
                                                getattr(args, "frames", None))
    gen = DanceGenerator(model, seed=seed, seed_frame=seed_frame, look_back=look_back,
                         temperature=args.temperature, sigma_temperature=args.sigma_temperature,
                         mixture=mixture, rng=args.rng, variations=variations, rigid=not args.no_rigid,
                         pose_guard=args.pose_guard, anchor=args.anchor, direction=direction, references=references)
    torch.set_num_threads(1)  # one frame at a time: a second thread only adds hand-off cost
    return gen, seed


def cmd_train(args: argparse.Namespace) -> int:
    out = check_checkpoint_out(args.out or Path(args.data[0]).stem + ".pt", args.force, args.resume)
    motion_files(args.data)  # a missing file or an empty folder fails here, before any process starts
    return run_as_team(args, out, lambda team: _train(args, out, team))


def _train(args: argparse.Namespace, out: Path, team: Team) -> int:
    """Train on the corpus ``args.data``: alone, or as one process of a team (only rank 0 reports)."""
    corpus = Corpus.index(args.data, layout=args.layout, fps=args.fps, proportions=args.proportions, team=team)
    use_training_threads(args.threads, team)  # after the data is known to be good: a bad file is one line
    model_config = DanceConfig(hidden=args.hidden, layers=args.layers, mixtures=args.mixtures,
                               look_back=args.look_back)
    config = TrainConfig(minutes=args.minutes, epochs=args.epochs, batch=args.batch, seq_len=args.seq_len,
                         lr=args.lr, device=args.device, precision=args.precision, rng=args.rng)
    first = corpus.clips[0]
    team_note = "" if team.alone else f" in {team.world_size} processes"
    if team.is_main:
        print(f"training on {len(corpus.clips)} clip(s), {corpus.n_frames:,} frames, {first.joints} joints "
              f"at {first.fps:g} fps{team_note} -> {out}", file=sys.stderr)
    on_event, close = training_bar(enabled=team.is_main and (sys.stderr.isatty() or not args.json))
    try:
        result = train_corpus(corpus, out, model_config=model_config, config=config, on_event=on_event,
                              resume=args.resume)
    finally:
        close()
    if not team.is_main:
        return 0
    loss, val = (("n/a" if v is None else f"{v:.3f}") for v in (result.train_loss, result.val_loss))
    print(f"done ({result.stopped}) after {result.steps} steps, {result.seconds:.0f} s, "
          f"{result.frames_per_s:,.0f} frames/s{team_note}; loss {loss}, validation {val}. "
          f"Saved {out}", file=sys.stderr)
    print(NEGATIVE_LOSS_NOTE, file=sys.stderr)
    if args.json:
        print(json.dumps(result.summary()), flush=True)
    return 0


def parse_seed_from(spec: str) -> tuple[str, int | None]:
    """``clip.npy:120`` -> (``clip.npy``, 120); ``clip.npy`` -> (``clip.npy``, None)."""
    path, sep, frame = spec.rpartition(":")
    if sep and frame.isdigit() and path:
        return path, int(frame)
    return spec, None


def cmd_generate(args: argparse.Namespace) -> int:
    from engine.dance.export import export_motion

    if args.frames is not None and args.frames < 1:
        raise ChoreoError(f"--frames must be at least 1, got {args.frames}")
    song = read_song(args)
    out = Path(args.out) if args.out else next_free_path("take", ".npy")
    if out.exists() and not args.force:
        raise ChoreoError("already exists (use --force to replace it)", out)
    gen, seed = generator_from_args(args, args.variations)
    model = gen.model
    args.frames = args.frames or (round(song.duration * seed.fps) if song is not None else 900)
    gen.direction.check(gen.codec.n_joints, args.frames)  # keyframes inside the take
    progress, close = count_bar(args.frames, "generating")
    t0 = time.perf_counter()
    try:
        if song is None:
            frames = gen.generate(args.frames, on_frame=lambda i, _f: progress(i + 1, args.frames))
        else:
            frames = dance(gen, model, song, seed.fps, args.frames, args.beat_align == "on", progress)
    finally:
        close()
    seconds = time.perf_counter() - t0
    takes = [frames] if args.variations == 1 else list(frames)
    motions = [seed.like(t, source=f"generated from {args.model}") for t in takes]
    video = out.suffix.lower() in (".mp4", ".gif")
    vprog, vclose = count_bar(args.frames, f"writing {out.name}", enabled=video)
    try:
        sound = {"song": song.path} if song is not None and out.suffix.lower() == ".mp4" else {}
        written = export_motion(motions if len(motions) > 1 else motions[0], out, layout=args.layout,
                                overwrite=args.force, progress=vprog, **sound)
    finally:
        vclose()
    paths = written if isinstance(written, list) else [written]
    print(f"wrote {', '.join(str(p) for p in paths)} ({args.frames} frames x {len(takes)} take(s), "
          f"{args.frames * len(takes) / seconds:,.0f} frames/s)", file=sys.stderr)
    if args.json:
        ref = seed.positions
        ref_speed = float(np.median(np.linalg.norm(np.diff(ref, axis=0), axis=-1).mean(1)))
        bones = model.bones.numpy() if model.bones is not None else None
        lengths = model.bone_lengths.numpy() if model.bone_lengths is not None else None
        quality = integrity(takes[0], bones, lengths, ref_median_speed=ref_speed) if bones is not None else {}
        print(json.dumps({
            "out": [str(p) for p in paths], "frames": args.frames, "variations": len(takes),
            "seconds": seconds, "frames_per_s": args.frames * len(takes) / seconds,
            "quality": {k: v for k, v in quality.items() if isinstance(v, (int, float, bool))},
            **({"music": beat_report(takes[0], seed.fps, song)} if song is not None else {}),
        }))
    return 0
