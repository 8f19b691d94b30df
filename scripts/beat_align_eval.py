"""Beat Align Score of takes with ``--beat-align on`` against ``off``, on synthesised drum loops.

Runs the real commands in-process (``choreo generate ... --music SONG --beat-align on|off --out take.npy``,
then ``choreo eval take.npy --music SONG --against CLIP --json``) for every song and random seed, and
prints one table row per song (means over seeds) and a final JSON line. Heavy: run it under the CPU lock,

    flock /work/cpu.lock python scripts/beat_align_eval.py MODEL.pt CLIP.bvh [--seeds 3] [--seconds 20]
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

from engine.dance.drums import write_drum_loop
from studio.cli import main as choreo

SONGS = {  # name: segments (bpm, seconds) as fractions of the song's length
    "drums_90.wav": [(90, 1.0)],
    "drums_120.flac": [(120, 1.0)],
    "drums_128.ogg": [(128, 1.0)],
    "drums_100_to_130.mp3": [(100, 0.5), (130, 0.5)],
}


def run(argv: list[str]) -> dict:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = choreo(argv)
    if code != 0:
        raise SystemExit(f"choreo {' '.join(argv)} failed: {err.getvalue().strip().splitlines()[-1:]}")
    lines = out.getvalue().strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("clip")
    ap.add_argument("--seed-frame", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, segments in SONGS.items():
            song = Path(tmp) / name
            write_drum_loop(song, [(bpm, frac * args.seconds) for bpm, frac in segments])
            got: dict[str, list[dict]] = {"on": [], "off": []}
            for rng in range(args.seeds):
                for mode in ("on", "off"):
                    take = Path(tmp) / f"{name}.{mode}.{rng}.npy"
                    run(["generate", args.model, "--seed-from", f"{args.clip}:{args.seed_frame}", "--music",
                         str(song), "--beat-align", mode, "--seed", str(rng), "--out", str(take), "--force"])
                    got[mode].append(run(["eval", str(take), "--music", str(song), "--against", args.clip,
                                          "--json"]))
            row = {"song": name}
            for mode in ("on", "off"):
                for key in ("beat_align_score", "speed_ratio", "pose_ratio", "motion_beats_per_s"):
                    row[f"{key}_{mode}"] = float(np.mean([g[key] for g in got[mode]]))
            row["bas_ratio"] = row["beat_align_score_on"] / max(row["beat_align_score_off"], 1e-9)
            row["pose_change"] = row["pose_ratio_on"] / row["pose_ratio_off"] - 1
            row["tempo_bpm"] = got["on"][0]["tempo_bpm"]
            rows.append(row)
            print(f"| {name} | {row['tempo_bpm']:.0f} | {row['beat_align_score_off']:.3f} | "
                  f"{row['beat_align_score_on']:.3f} | {row['bas_ratio']:.2f}x | {row['speed_ratio_off']:.2f} / "
                  f"{row['speed_ratio_on']:.2f} | {row['pose_ratio_off']:.2f} / {row['pose_ratio_on']:.2f} "
                  f"({100 * row['pose_change']:+.1f} %) |", flush=True)
    print(json.dumps(rows))
    sys.exit(0)


if __name__ == "__main__":
    main()
