"""Judge the default recipe the way a new user meets it: for each clip, `choreo train CLIP` (pure
defaults, 3 minutes), then `choreo generate MODEL --seed-from CLIP:100 --frames N --seed S` for three
seeds, and the team's judge on every take (shared/tools/dance_quality.py when it is beside the
repository, else the same figures from engine.dance.quality).

    python scripts/dance_quality_eval.py OUT_DIR [--clips a,b,c,d,e,f] [--frames 900,3600] [--minutes 3]

Clips: a the shared CMU BVH; b the procedural dancer (1,800 frames, 30 fps); c a 500-frame crop of the
CMU clip as a frames-first .npy (no fps: 30 assumed); d that crop min-max normalised per axis and stored
joints-first; e 55 procedural markers (no bones); f the CMU clip at 30 fps (every 4th frame).
Prints one line per take and a JSON line per take to OUT_DIR/results.jsonl; contact sheets of the
3,600-frame takes of seed 0 go to OUT_DIR when the sheet tool is present.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CMU = SHARED / "data" / "cmu_05_01_modern_dance.bvh"


def prepare(out: Path, which: str) -> tuple[Path, Path]:
    """(clip to train on, array the judge compares with) for dataset ``which``."""
    from engine.dance.motion import load_motion
    from engine.dance.synthetic import synthetic_dancer, synthetic_markers

    data = out / f"{which}_data.npy"
    if which == "a":
        np.save(data, load_motion(CMU).positions)
        return CMU, data
    if which == "b":
        np.save(data, synthetic_dancer(frames=1800).positions)
    elif which == "e":
        np.save(data, synthetic_markers(frames=1800).positions)
    elif which in "cdf":
        cmu = load_motion(CMU).positions
        if which == "f":
            np.save(data, cmu[::4])
        else:
            crop = cmu[40:540]
            if which == "d":
                lo, hi = crop.reshape(-1, 3).min(0), crop.reshape(-1, 3).max(0)
                crop = ((crop - lo) / (hi - lo)).astype(np.float32).transpose(1, 0, 2)  # joints-first
            np.save(data, crop)
    return data, data


def choreo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio.cli", *args], capture_output=True, text=True, check=True)


def judge(data: Path, take: Path) -> dict:
    tool = SHARED / "tools" / "dance_quality.py"
    if tool.is_file():
        return json.loads(subprocess.run([sys.executable, str(tool), str(data), str(take)], capture_output=True,
                                         text=True, check=True).stdout)
    from engine.dance.quality import take_quality

    return take_quality(np.load(data), np.load(take))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--clips", default="a,b,c,d,e,f")
    ap.add_argument("--frames", default="900,3600")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--minutes", default=None, help="training budget (default: choreo train's own)")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    results = out / "results.jsonl"
    for which in a.clips.split(","):
        clip, data = prepare(out, which)
        model = out / f"{which}.pt"
        budget = ["--minutes", a.minutes] if a.minutes else []
        done = choreo("train", str(clip), "--out", str(model), "--force", "--json", *budget)
        trained = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{which}: trained {trained['steps']} steps in {trained['seconds']:.0f} s ({trained['stopped']})",
              flush=True)
        for frames in a.frames.split(","):
            for seed in a.seeds.split(","):
                take = out / f"{which}_f{frames}_s{seed}.npy"
                choreo("generate", str(model), "--seed-from", f"{clip}:100", "--frames", frames, "--seed", seed,
                       "--out", str(take), "--force")
                q = judge(data, take)
                ratio = q["bone_dev_median_take"] / max(q["bone_dev_median_data"], 1e-12)
                thirds = q["pose_ratio_thirds"]
                ok = (max(thirds) <= 1.5 and q.get("window_ratio", 0) >= 0.3 and ratio <= 1.5
                      and 0.5 <= q["speed_ratio"] <= 2 and q["frozen_frac"] <= 0.1 and q["outside_frac"] <= 0.05)
                print(f"{which} {frames:>4}f s{seed} {'PASS' if ok else 'fail'} pose "
                      f"{' '.join(f'{v:.2f}' for v in thirds)} window {q.get('window_ratio', float('nan')):.2f} "
                      f"bones {ratio:.2f} speed {q['speed_ratio']:.2f} frozen {q['frozen_frac']:.2f} "
                      f"outside {q['outside_frac']:.2f}", flush=True)
                with open(results, "a") as f:
                    f.write(json.dumps({"clip": which, "frames": int(frames), "seed": int(seed), "passes": ok,
                                        "steps": trained["steps"], **q}) + "\n")
        sheet = SHARED / "tools" / "contact_sheet.py"
        first = out / f"{which}_f{a.frames.split(',')[-1]}_s{a.seeds.split(',')[0]}.npy"
        if sheet.is_file() and first.exists():
            subprocess.run([sys.executable, str(sheet), str(first), str(out / f"{which}_sheet.png"), "--data",
                            str(data)], capture_output=True, check=False)


if __name__ == "__main__":
    main()
