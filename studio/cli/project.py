"""``choreo project new|generate|info|regenerate``: one ``.choreo`` file, the same one the studio and
the notebook open (the engine's ``Session`` reads and writes it), and ``choreo export PIECE.choreo --take K``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from engine.core.errors import ChoreoError
from engine.dance.export import export_motion
from engine.dance.motion import load_motion
from engine.dance.music import load_song
from engine.session import GenerationParams, Session, read_project, regenerate
from engine.session.project import SUFFIX, Project, take_json, take_motions
from engine.session.project_reader import load_clip_source, load_model_source, resolve_sources
from engine.session.state import Take

from .dance import add_generation_args, parse_seed_from
from .music import add_music_args, read_song
from .progress import count_bar


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("project", help="keep clips, models and every take with its recipe in one .choreo file",
                       description="A project (.choreo) holds the clips, the models, every take with its full "
                                   "recipe and frames, names and favourites. The studio (choreo studio "
                                   "PIECE.choreo) and the notebook (Session.open_project) open the same file.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    actions.required = True

    n = actions.add_parser("new", help="start a project from a clip (and a model)")
    n.add_argument("project", help="PIECE.choreo to write")
    n.add_argument("--clip", action="append", required=True, help="mocap clip (repeat for several; the first is "
                                                                   "shown and continued)")
    n.add_argument("--model", help="dance model checkpoint (choreo train)")
    n.add_argument("--embed", action="store_true", help="store the clips and the model inside the project")
    n.add_argument("--force", action="store_true", help="replace an existing project file")
    n.set_defaults(func=cmd_new)

    g = actions.add_parser("generate", help="add a take (its recipe and frames) to a project")
    g.add_argument("project", help="PIECE.choreo")
    add_generation_args(g, model=False)
    add_music_args(g)
    g.add_argument("--model", help="use this checkpoint (added to the project) instead of the project's model")
    g.add_argument("--name", help="name the new take")
    g.add_argument("--favourite", action="store_true", help="mark the new take a favourite")
    g.add_argument("--json", action="store_true", help="end with one JSON line: the take and its recipe")
    g.epilog = "--seed-from FRAME continues the project's clip from that frame; CLIP[:FRAME] another clip."
    g.set_defaults(func=cmd_generate)

    i = actions.add_parser("info", help="clips, models, takes and their recipes")
    i.add_argument("project", help="PIECE.choreo")
    i.add_argument("--json", action="store_true", help="print one JSON object")
    i.set_defaults(func=cmd_info)

    r = actions.add_parser("regenerate", help="make a take again from its recipe alone")
    r.add_argument("project", help="PIECE.choreo")
    r.add_argument("--take", type=int, required=True, help="take number (as project info lists them)")
    r.add_argument("--out", required=True, help="take.npy | .npz | .csv | .json | .mp4 | .gif")
    r.add_argument("--model", help="where the take's model is now, if it moved (checked by fingerprint)")
    r.add_argument("--clip", help="where the take's clip is now, if it moved (checked by fingerprint)")
    r.add_argument("--music", metavar="SONG", help="where the song of a beat-aligned take is now, if it moved "
                                                   "(checked by its SHA-256)")
    r.add_argument("--layout", help="frames-first | joints-first for .npy (default: the clip's)")
    r.add_argument("--force", action="store_true", help="replace an existing --out file")
    r.add_argument("--json", action="store_true", help="end with one JSON line (identical: bool, max_abs_diff)")
    r.set_defaults(func=cmd_regenerate)


def _project_path(text: str, must_exist: bool = True) -> Path:
    path = Path(text)
    if path.suffix.lower() != SUFFIX:
        raise ChoreoError(f"a project file ends in {SUFFIX}", path)
    if must_exist and not path.exists():
        raise ChoreoError("no such project (make one with choreo project new)", path)
    return path


def _warn(problems: Any) -> None:
    for p in problems:
        print(f"choreo: warning: {p.message}", file=sys.stderr)


def cmd_new(args: argparse.Namespace) -> int:
    path = _project_path(args.project, must_exist=False)
    if path.exists() and not args.force:
        raise ChoreoError("already exists (use --force to replace it)", path)
    with Session(device="cpu") as s:
        s.load(args.clip)
        if args.model:
            s.load_model(args.model)
        s.save_project(path, embed=args.embed, overwrite=args.force)
        m = s.motion
        print(f"wrote {path}: {len(s.motions)} clip(s) ({m.n_frames} frames, {m.n_joints} joints, {m.fps:g} fps)"
              + (f", model {Path(args.model).name}" if args.model else ", no model yet"), file=sys.stderr)
    return 0


def _seed(s: Session, spec: str | None) -> tuple[Any, int | None]:
    """The clip and frame a new take continues (``--seed-from``)."""
    if spec is None:
        return None, None
    if spec.isdigit():
        if s.seed_clip() is None:
            raise ChoreoError("the project's clip is not available: give --seed-from CLIP:FRAME")
        return None, int(spec)
    clip, frame = parse_seed_from(spec)
    return load_motion(clip), frame


def cmd_generate(args: argparse.Namespace) -> int:
    path = _project_path(args.project)
    if args.frames is not None and args.frames < 1:
        raise ChoreoError(f"--frames must be at least 1, got {args.frames}")
    with Session.open_project(path, device=args.device) as s:
        _warn(s.project_problems)
        if args.model:
            s.load_model(args.model)
        if s.model is None:
            raise ChoreoError("the project has no model available: pass --model MODEL.pt", path)
        seed, seed_frame = _seed(s, args.seed_from)
        song = read_song(args)
        if song is not None:
            s.load_song(song)  # the project's song from now on
        clip = seed if seed is not None else s.seed_clip()
        fps = clip.fps if clip is not None else 30.0
        frames = args.frames or (round(song.duration * fps) if song is not None else 900)
        mixture: str | int = int(args.mixture) if args.mixture.lstrip("-").isdigit() else args.mixture
        params = GenerationParams(args.temperature, args.sigma_temperature, mixture,
                                  args.look_back or s.model.config.default_look_back, args.rng, frames,
                                  args.variations, seed_frame, pose_guard=args.pose_guard, anchor=args.anchor,
                                  song=None if song is None else str(song.path),
                                  song_sha256=None if song is None else song.sha256,
                                  beat_align=song is not None and args.beat_align == "on", rigid=not args.no_rigid)
        progress, close = count_bar(frames, "generating")
        s.events.take_frames.connect(lambda tf: progress(tf.start + tf.frames.shape[1], frames))
        try:
            take = s.generate(params, seed=seed)
            while not s.wait_idle(1.0):
                pass
        finally:
            close()
        take = s.take_by_id(take.id)
        if take.status != "done":
            raise ChoreoError(f"generation failed: {s.last_error.message if s.last_error else take.status}")
        if args.name:
            take = s.rename_take(take.number, args.name)
        if args.favourite:
            take = s.set_favourite(take.number)
        s.save_project(path)
    print(f"added {take.title} to {path}: {take.recipe.describe()}", file=sys.stderr)
    if args.json:
        print(json.dumps(take_json(take)))
    return 0


def _source_json(source: Any, kind: str) -> dict[str, Any]:
    meta = dict(source.skeleton) if kind == "clip" else dict(source.summary)
    meta.pop("joint_names", None)
    meta.pop("bones", None)
    meta.pop("skeleton", None)
    embedded = source.available if kind == "clip" else source.tree is not None
    found = embedded or (source.path is not None and source.path.is_file())
    return {"id": source.id, "name": source.name, "path": None if source.path is None else str(source.path),
            "embedded": embedded, "found": found, **meta}


def info_json(path: Path, project: Project) -> dict[str, Any]:
    """What ``choreo project info --json`` prints: clips, models, takes with recipes, state."""
    return {"project": str(path), "clips": [_source_json(c, "clip") for c in project.clips],
            "models": [_source_json(m, "model") for m in project.models],
            "takes": [take_json(t) for t in project.takes], "current_take": project.current_take,
            "shown_clips": list(project.shown_clips), "model": project.model, "settings": dict(project.settings),
            "playhead": project.playhead}


def cmd_info(args: argparse.Namespace) -> int:
    path = _project_path(args.project)
    info = info_json(path, read_project(path))
    if args.json:
        print(json.dumps(info))
        return 0
    print(f"{path}")
    for kind in ("clips", "models"):
        print(f"{kind}:")
        for e in info[kind]:
            where = "inside the project" if e["embedded"] else f"{e['path']} ({'found' if e['found'] else 'MISSING'})"
            shape = f"{e.get('frames')} frames, {e.get('joints')} joints, {e.get('fps', 0):g} fps" if kind == "clips" \
                else f"{e.get('joints')} joints, {e.get('layers')}x{e.get('hidden')}, {e.get('mixtures')} modes"
            print(f"  {e['name']}: {shape}; {where}")
    print(f"takes: {len(info['takes'])}" + (f" (showing {info['current_take']})" if info["current_take"] else ""))
    for t in info["takes"]:
        star = "★ " if t["favourite"] else ""
        name = f" \"{t['name']}\"" if t["name"] else ""
        r = t["recipe"]
        print(f"  {t['number']:>3}{name} {star}{t['frames']} frames x {t['variations']}, {t['status']}: "
              f"T={r['temperature']:g} σ={r['sigma_temperature']:g} mixture {r['mixture']} look-back "
              f"{r['look_back']} rng {r['rng']} seed frame {r['seed_frame']}")
    return 0


def _take_sources(path: Path, project: Project, take: Take, model: str | None, clip: str | None
                  ) -> tuple[Any, Any]:
    """The model and clip of ``take``, from the project or the given paths (checked by fingerprint)."""
    r = take.recipe
    project, problems = resolve_sources(project, device="cpu", only={r.model, r.seed_clip or ""})
    ms, cs = project.model_source(r.model), project.clip(r.seed_clip)
    if ms is None:
        raise ChoreoError(f"{take.title}'s model is not in the project", path)
    if model is not None:
        ms = load_model_source(ms, model)
    if cs is not None and clip is not None:
        cs = load_clip_source(cs, clip)
    unresolved = [f"{p.message} (pass {'--model' if p.what == 'model' else '--clip'} PATH)" for p in problems
                  if (p.id == ms.id and not ms.available) or (cs is not None and p.id == cs.id and not cs.available)]
    if unresolved:
        raise ChoreoError("; ".join(unresolved))
    if r.seed_clip is not None and cs is None:
        raise ChoreoError(f"{take.title}'s clip is not in the project", path)
    return ms.model, None if cs is None else cs.motion


def _export(project: Project, take: Take, out: str, positions: np.ndarray | None, layout: str | None,
            force: bool, skeleton: str | None = None) -> list[Path]:
    motions = take_motions(project, take, positions)
    song = take.params.song  # a video of a take danced to a song carries it, when the file is there
    extra = {"song": song} if song and Path(out).suffix.lower() == ".mp4" and Path(song).is_file() else {}
    video = Path(out).suffix.lower() in (".mp4", ".gif")
    progress, close = count_bar(motions[0].n_frames, f"writing {Path(out).name}", enabled=video)
    try:
        written = export_motion(motions if len(motions) > 1 else motions[0], out, layout=layout, overwrite=force,
                                progress=progress, skeleton=skeleton, **extra)
    finally:
        close()
    return written if isinstance(written, list) else [written]


def cmd_regenerate(args: argparse.Namespace) -> int:
    path = _project_path(args.project)
    project = read_project(path)
    take = project.take(args.take)
    if take.recipe.device != "cpu":
        print(f"choreo: warning: {take.title} was made on {take.recipe.device}; on the CPU its frames may differ "
              "in the last digits", file=sys.stderr)
    model, clip = _take_sources(path, project, take, args.model, args.clip)
    p = take.params
    song_file = args.music or (p.song if p.beat_align else None)
    if song_file is not None and not Path(song_file).is_file():
        raise ChoreoError(f"{take.title} was fitted to the beats of this song; it is not there (pass --music SONG)",
                          song_file)
    frames = regenerate(take.recipe, model, clip, load_song(song_file) if p.beat_align and song_file else None)
    stored = take.positions
    n = stored.shape[1]  # a take stopped early holds the first n frames of its recipe
    identical = bool(np.array_equal(frames[:, :n], stored))
    diff = float(np.abs(frames[:, :n] - stored).max()) if stored.size else 0.0
    paths = _export(project, take, args.out, frames, args.layout, args.force)
    same = "identical to the stored frames" if identical else f"differs from the stored frames (max {diff:.3g})"
    print(f"wrote {', '.join(str(p) for p in paths)}: {take.title} made again from its recipe, {same}",
          file=sys.stderr)
    if args.json:
        print(json.dumps({"out": [str(p) for p in paths], "take": take.number, "frames": int(frames.shape[1]),
                          "variations": int(frames.shape[0]), "identical": identical, "max_abs_diff": diff}))
    return 0


def export_take(args: argparse.Namespace) -> int:
    """``choreo export PIECE.choreo --take K --out OUT``: a take's stored frames (default: the shown take)."""
    path = _project_path(args.input)
    project = read_project(path)
    number = args.take if args.take is not None else project.current_take
    if number is None:
        raise ChoreoError("the project has no takes yet" if not project.takes else "pick a take with --take K", path)
    take = project.take(number)
    paths = _export(project, take, args.out, None, args.layout, args.force, args.skeleton)
    print(f"wrote {', '.join(str(p) for p in paths)} ({take.title}: {take.frames_ready} frames x "
          f"{take.positions.shape[0]})", file=sys.stderr)
    return 0
