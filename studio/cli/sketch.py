"""``choreo sketch train|generate|complete|eval``: Sketch-RNN from the command line."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from engine.core.distributed import Team
from engine.core.errors import ChoreoError
from engine.core.fileio import check_checkpoint_out, check_writable
from engine.sketch.knobs import DRAWING

from .distributed import THREADS_HELP, add_nproc_arg, run_as_team, use_training_threads
from .knobs import add_knob
from .progress import sketch_training_bar

OUTPUT_TYPES = (".npz", ".svg", ".png")


def _check_out(path: str, force: bool) -> Path:
    p = Path(path)
    if p.suffix.lower() not in OUTPUT_TYPES:
        raise ChoreoError("unknown output type (use .npz, .svg or .png)", p)
    return check_writable(p, force)


def cmd_train(args: argparse.Namespace) -> int:
    """Train a SketchRNN on a stroke file or on the procedural demo sketches."""
    if (args.data is None) == (not args.demo):
        raise ChoreoError("give a stroke file (DATA.npz) or --demo, not both")
    out = check_writable(check_checkpoint_out(args.out, args.force, args.resume), True)
    return run_as_team(args, out, lambda team: _train(args, team))


def _train(args: argparse.Namespace, team: Team) -> int:
    """Train alone, or as one process of a team (``--nproc``/torchrun: only rank 0 reports)."""

    from engine.sketch.model import SketchConfig
    from engine.sketch.synthetic import synthetic_sketches
    from engine.sketch.task import sketch_train_config, train_sketch

    data = synthetic_sketches(2000, rng=args.rng) if args.demo else args.data
    sizes = ("enc_hidden", "dec_hidden", "z_size", "mixtures", "max_seq_len")
    overrides = {k: getattr(args, k) for k in sizes if getattr(args, k) is not None}
    model_config = SketchConfig(**{**asdict(SketchConfig()), **overrides})
    tc = {"minutes": args.minutes, "epochs": args.epochs, "device": args.device, "rng": args.rng}
    if args.batch:
        tc["batch"] = args.batch
    threads = use_training_threads(args.threads, team, args.quiet)
    bar, close = sketch_training_bar(enabled=not args.quiet and team.is_main)
    seen: dict = {}

    grids: list[list[float]] = []  # (seconds, step, finished share) of each sample grid

    def on_event(e) -> None:
        if e.kind in ("plan", "samples"):
            seen[e.kind] = e
        if e.kind == "samples":
            grids.append([round(e.elapsed_s, 1), e.step, e.finished_share])
        bar(e)

    try:
        result = train_sketch(data, args.out, model_config=model_config, config=sketch_train_config(**tc),
                              on_event=on_event, resume=args.resume, simplify=args.simplify == "auto",
                              sample_every_s=args.sample_every if team.is_main else 0.0)  # only rank 0 shows
    finally:
        close()
    if not team.is_main:
        return 0
    summary = result.summary()
    summary.update(kind="sketch", parameters=result.model.n_parameters if result.model else None,
                   steps_per_s=result.steps / max(result.seconds, 1e-9),
                   plan=seen["plan"].message if "plan" in seen else None,
                   finished_share=seen["samples"].finished_share if "samples" in seen else None,
                   finished_by_time=grids, threads=threads)
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"trained {summary['steps']} steps in {summary['seconds']:.0f} s "
              f"({summary['steps_per_s']:.2f} steps/s), val loss {summary['best_val_loss']}, "
              f"stopped: {summary['stopped']} -> {args.out}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    """Sample sketches from a model and write them."""
    from engine.sketch.model import load_sketch_model
    from engine.sketch.render import save_sketches
    from engine.sketch.sampling import sample

    out = _check_out(args.out, args.force)
    if args.n < 1:
        raise ChoreoError(f"--n must be at least 1, got {args.n}")
    model = load_sketch_model(args.model)
    if args.size is not None and not model.config.size_input:
        raise ChoreoError("this model was trained without drawing sizes: --size needs a newer model", args.model)
    sketches, ended = sample(model, args.n, temperature=args.temperature, greedy=args.greedy, rng=args.rng,
                             size=args.size, return_ended=True)
    save_sketches(out, sketches, overwrite=args.force)
    info = {"sketches": len(sketches), "ended": int(sum(ended)), "out": str(out)}
    print(json.dumps(info) if args.json else f"wrote {len(sketches)} sketches to {out}")
    return 0


def cmd_complete(args: argparse.Namespace) -> int:
    """Finish a partial drawing several ways."""
    from engine.sketch.model import load_sketch_model
    from engine.sketch.render import save_sketches
    from engine.sketch.sampling import complete
    from engine.sketch.strokes import load_split

    out = _check_out(args.out, args.force)
    if args.n < 1:
        raise ChoreoError(f"--n must be at least 1, got {args.n}")
    model = load_sketch_model(args.model)
    items = load_split(args.partial, args.split)
    if not 0 <= args.index < len(items):
        raise ChoreoError(f"--index {args.index} is out of range (the file holds {len(items)} sketches)",
                          args.partial)
    prefix = items[args.index]
    if args.points is not None:
        prefix = prefix[: max(1, args.points)]
    endings = complete(model, prefix, args.n, temperature=args.temperature, rng=args.rng)
    save_sketches(out, endings, overwrite=args.force)
    info = {"endings": len(endings), "prefix_points": len(prefix), "out": str(out)}
    text = f"wrote {len(endings)} endings of a {len(prefix)}-point start to {out}"
    print(json.dumps(info) if args.json else text)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Reconstruction and KL loss of a model on one split of a stroke file."""
    from engine.sketch.model import load_sketch_model
    from engine.sketch.strokes import load_split
    from engine.sketch.task import evaluate_sketch

    model = load_sketch_model(args.model)
    res = evaluate_sketch(model, load_split(args.data, args.split))
    res["split"] = args.split
    if args.json:
        print(json.dumps(res))
    else:
        print(f"{args.split}: reconstruction {res['recon']:.4f} "
              f"(offsets {res['offset']:.4f}, pen {res['pen']:.4f}), "
              f"KL {res['kl']:.4f} over {res['sketches']} sketches ({res['skipped']} too long, skipped)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``choreo sketch ...`` to the ``choreo`` subcommands."""
    from engine.sketch.model import SketchConfig

    p = sub.add_parser("sketch", help="train and draw vector sketches (Sketch-RNN)",
                       description="Sketch-RNN: learn stroke drawings, sample, finish a drawing, evaluate.")
    ss = p.add_subparsers(dest="sketch_command", metavar="ACTION", parser_class=type(p))
    ss.required = True

    t = ss.add_parser("train", help="train on a stroke-3 .npz (or --demo shapes)")
    t.add_argument("data", nargs="?",
                   help="Sketch-RNN .npz (train/valid/test splits), .npy, an .svg drawing or a folder of them")
    t.add_argument("--demo", action="store_true", help="train on procedural demo shapes instead")
    t.add_argument("--out", required=True, help="checkpoint to write (.pt)")
    t.add_argument("--force", action="store_true", help="replace an existing --out checkpoint")
    t.add_argument("--minutes", type=float, default=None,
                   help="time budget (default: chosen from the data's size and length, 4-12 min; said at the start)")
    t.add_argument("--epochs", type=float, default=None, help="passes over the training sketches instead")
    t.add_argument("--batch", type=int, default=None, help="sketches per step (default 64)")
    for name in ("enc_hidden", "dec_hidden", "z_size", "mixtures", "max_seq_len"):
        t.add_argument("--" + name.replace("_", "-"), type=int, default=None,
                       help=f"model size (default {getattr(SketchConfig(), name)})")
    t.add_argument("--simplify", choices=("auto", "off"), default="auto",
                   help="auto: re-simplify long drawings (RDP, as Quick, Draw! did) and fit over-long ones to "
                        "--max-seq-len; off: train them as given (over-long ones left out)")
    t.add_argument("--sample-every", type=float, default=20.0, metavar="SECONDS",
                   help="sample a few drawings this often to show how many are finished (0: never)")
    t.add_argument("--device", default="auto", help="auto | cpu | cuda")
    t.add_argument("--threads", type=int, default=None,
                   help=THREADS_HELP)
    t.add_argument("--seed", type=int, default=0, dest="rng", help="random seed: initial weights and batches")
    t.add_argument("--resume", default=None, help="continue from this checkpoint")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--json", action="store_true", help="end with one JSON line of results")
    add_nproc_arg(t)
    t.set_defaults(func=cmd_train)

    g = ss.add_parser("generate", help="sample sketches from a model")
    g.add_argument("model", help="sketch checkpoint (.pt)")
    g.add_argument("--n", type=int, default=16, help="number of sketches")
    add_knob(g, DRAWING["temperature"])
    g.add_argument("--greedy", action="store_true", help="most likely component and pen state every step")
    add_knob(g, DRAWING["rng"])
    g.add_argument("--size", type=float, nargs=2, metavar=("W", "H"), default=None,
                   help="width and height to aim for, in the data's units (default: sizes of training drawings)")
    g.add_argument("--out", required=True, help=".npz (stroke-3), .svg or .png (grid)")
    g.add_argument("--force", action="store_true", help="replace an existing --out file")
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=cmd_generate)

    c = ss.add_parser("complete", help="finish a partial drawing N ways")
    c.add_argument("model", help="sketch checkpoint (.pt)")
    c.add_argument("partial", help="stroke file holding the start of a drawing")
    c.add_argument("--index", type=int, default=0, help="which sketch of the file (default the first)")
    c.add_argument("--split", default=None, help="split of a Sketch-RNN .npz (default train or the only one)")
    c.add_argument("--points", type=int, default=None, help="use only the first P points as the start")
    c.add_argument("--n", type=int, default=DRAWING["endings"].default, help="number of endings")
    add_knob(c, DRAWING["temperature"])
    add_knob(c, DRAWING["rng"])
    c.add_argument("--out", required=True, help=".npz, .svg or .png")
    c.add_argument("--force", action="store_true", help="replace an existing --out file")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_complete)

    e = ss.add_parser("eval", help="reconstruction and KL loss on a split")
    e.add_argument("model", help="sketch checkpoint (.pt)")
    e.add_argument("data", help="stroke file")
    e.add_argument("--split", default="test")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_eval)
