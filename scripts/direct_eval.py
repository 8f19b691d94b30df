"""Directing the dancer, measured: keyframes, kept joints, floor paths and part temperatures.

Runs the real command (``choreo generate MODEL --seed-from CLIP:FRAME --frames N --keyframe ... --keep ...
--path ... --part-temperature ...``) in-process for a few random seeds and measures the takes it writes:

* keyframes: mean joint error of the centre-relative pose at each keyframe (% of body height), and the
  fastest of the 10 frame steps around it over the data's 99th-percentile speed (mean joint displacement
  per frame);
* kept joints: their centre-relative error against the reference (% of body height, mean and worst
  frame), and the take's figures from the team's judge (bones, speed, frozen, pose ratio per third);
* floor path: mean distance of the body's centre (mean of the joints) from the path's point of the same
  frame (% of body height);
* part temperatures: mean speed of the arms' and the legs' joints with ``arms=HOT legs=COLD`` and the
  reverse, over the same without part temperatures.

Prints a Markdown table per clip and a final JSON line. Heavy: run it under the CPU lock,

    flock /work/cpu.lock python scripts/direct_eval.py CMU.pt CLIP.bvh DANCER.pt DANCER.npy [--seeds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from engine.dance.axes import body_height, up_index
from engine.dance.direction import typical_travel
from engine.dance.motion import load_motion
from engine.dance.parts import body_parts
from engine.dance.quality import take_quality
from engine.dance.skeleton import frame_speeds
from studio.cli import main as choreo


def run(argv: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = choreo(argv)
    if code != 0:
        raise SystemExit(f"choreo {' '.join(argv)} failed: {err.getvalue().strip().splitlines()[-1:]}")


def judge_ok(q: dict) -> tuple[bool, str]:
    """The issue's bar for a take with kept joints: bones <= 1.5x, speed 0.5-2x, frozen <= 10 %, every third <= 2."""
    bones = q["bone_dev_median_take"] / max(q["bone_dev_median_data"], 1e-12)
    bones_ok = bones <= 1.5 or q["bone_dev_median_take"] <= 1e-6
    thirds = max(q["pose_ratio_thirds"])
    ok = bones_ok and 0.5 <= q["speed_ratio"] <= 2 and q["frozen_frac"] <= 0.1 and thirds <= 2
    return ok, f"speed {q['speed_ratio']:.2f}, frozen {100 * q['frozen_frac']:.0f} %, thirds<= {thirds:.2f}"


def evaluate(model: str, clip_path: str, seed_frame: int, frames: int, keys: list[tuple[int, int]],
             seeds: int, work: Path) -> dict:
    clip = load_motion(clip_path)
    data = clip.positions.astype(np.float64)
    up = up_index(clip)
    floor = [a for a in range(3) if a != up]
    height = body_height(data, up)
    p99 = float(np.percentile(frame_speeds(data), 99))
    parts = body_parts(clip)
    arms, legs = list(parts.groups["arms"]), list(parts.groups["legs"])
    base = [model, "--seed-from", f"{clip_path}:{seed_frame}", "--frames", str(frames), "--force"]

    def take(name: str, rng: int, *extra: str) -> np.ndarray:
        out = work / f"{Path(clip_path).stem}_{name}_{rng}.npy"
        run(["generate", *base, "--seed", str(rng), "--out", str(out), *extra])
        return np.load(out).astype(np.float64)

    def rel(x: np.ndarray) -> np.ndarray:
        return x - x.mean(-2, keepdims=True)

    rows: dict[str, list] = {k: [] for k in ("plain", "kf_err", "kf_speed", "kf_q", "keep_err", "keep_max",
                                             "keep_q", "path_err", "path_q", "hot_arms", "hot_legs")}
    # a path: a circle of one body height's radius through where the take starts, at the data's speed
    speed = typical_travel(data, clip.fps, up)
    start = data[seed_frame - 1].mean(0)[floor]
    radius = height
    angle = np.arange(frames) * speed / radius
    circle = start + radius * np.stack([np.cos(angle) - 1, np.sin(angle)], 1)
    path_file = work / f"{Path(clip_path).stem}_circle.npy"
    np.save(path_file, circle)
    part_speed = {}
    for rng in range(seeds):
        plain = take("plain", rng)
        rows["plain"].append(take_quality(data, plain))
        k = take("keys", rng, *[a for f, t in keys for a in ("--keyframe", f"{clip_path}:{f}@{t}")])
        for f, t in keys:
            target = rel(data[f])
            rows["kf_err"].append(float(np.linalg.norm(rel(k[t]) - target, axis=-1).mean() / height))
            lo, hi = max(0, t - 5), min(len(k) - 1, t + 5)
            rows["kf_speed"].append(float(frame_speeds(k[lo : hi + 1]).max() / p99))
        rows["kf_q"].append(take_quality(data, k))
        kept = take("keep", rng, "--keep", f"arms={clip_path}:{seed_frame}")
        n = min(len(kept), len(data) - seed_frame)
        err = np.linalg.norm(rel(kept[:n])[:, arms] - rel(data[seed_frame : seed_frame + n])[:, arms], axis=-1)
        rows["keep_err"].append(float(err.mean() / height))
        rows["keep_max"].append(float(err.mean(1).max() / height))
        rows["keep_q"].append(take_quality(data, kept))
        walked = take("path", rng, "--path", str(path_file))
        rows["path_err"].append(float(np.linalg.norm(walked.mean(1)[:, floor] - circle, axis=1).mean() / height))
        rows["path_q"].append(take_quality(data, walked))
        for name, spec in (("hot_arms", ["arms=3", "legs=0.3"]), ("hot_legs", ["arms=0.3", "legs=3"])):
            t = take(name, rng, *[a for s in spec for a in ("--part-temperature", s)])
            part_speed.setdefault(name, []).append((frame_speeds(t[:, arms]).mean(), frame_speeds(t[:, legs]).mean()))
        part_speed.setdefault("plain", []).append((frame_speeds(plain[:, arms]).mean(),
                                                   frame_speeds(plain[:, legs]).mean()))
    ps = {k: np.mean(v, axis=0) for k, v in part_speed.items()}
    return {"clip": Path(clip_path).name, "height": height, "p99_speed": p99, "rows": rows, "part_speed": ps,
            "fps": clip.fps, "frames": frames}


def table(r: dict) -> str:
    rows = r["rows"]
    pct = lambda v: f"{100 * np.mean(v):.2f} %"  # noqa: E731
    judged = {k: [judge_ok(q) for q in rows[k]] for k in ("plain", "keep_q", "path_q", "kf_q")}
    passes = {k: f"{sum(ok for ok, _ in v)}/{len(v)} ({v[0][1]})" for k, v in judged.items()}
    ps = r["part_speed"]
    lines = [
        f"**{r['clip']}** ({r['frames']} frames at {r['fps']:g} fps; body height {r['height']:.3g}, "
        f"data p99 speed {r['p99_speed']:.3g}/frame)",
        "",
        "| check | measured | bar |",
        "|---|---|---|",
        f"| keyframe pose error (mean / worst of {len(rows['kf_err'])}) | {pct(rows['kf_err'])} / "
        f"{100 * max(rows['kf_err']):.2f} % of height | <= 5 % |",
        f"| fastest step within 5 frames of a keyframe (mean / worst) | {np.mean(rows['kf_speed']):.2f} / "
        f"{max(rows['kf_speed']):.2f} x data p99 | <= 1 |",
        f"| kept arms error (mean / worst frame) | {pct(rows['keep_err'])} / {100 * max(rows['keep_max']):.2f} % "
        "of height | <= 2 % |",
        f"| take with kept arms passes the judge | {passes['keep_q']} | all |",
        f"| path: centre from the path (mean) | {pct(rows['path_err'])} of height | <= 10 % |",
        f"| take on the path passes the judge | {passes['path_q']} | - |",
        f"| take with keyframes passes the judge | {passes['kf_q']} | - |",
        f"| plain take passes the judge | {passes['plain']} | - |",
        f"| arms=3 legs=0.3: arm / leg speed vs plain | {ps['hot_arms'][0] / ps['plain'][0]:.2f}x / "
        f"{ps['hot_arms'][1] / ps['plain'][1]:.2f}x | > 1 / < 1 |",
        f"| arms=0.3 legs=3: arm / leg speed vs plain | {ps['hot_legs'][0] / ps['plain'][0]:.2f}x / "
        f"{ps['hot_legs'][1] / ps['plain'][1]:.2f}x | < 1 / > 1 |",
    ]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cmu_model")
    ap.add_argument("cmu_clip")
    ap.add_argument("dancer_model")
    ap.add_argument("dancer_clip")
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results.append(evaluate(args.cmu_model, args.cmu_clip, 150, 420, [(500, 120), (60, 240), (300, 360)],
                                args.seeds, work))
        results.append(evaluate(args.dancer_model, args.dancer_clip, 300, 900, [(1500, 240), (900, 480), (100, 720)],
                                args.seeds, work))
    for r in results:
        print(table(r), end="\n\n")
    summary = [{"clip": r["clip"], **{k: float(np.mean(v)) for k, v in r["rows"].items()
                                      if k.endswith(("err", "speed"))}} for r in results]
    print(json.dumps(summary), file=sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
