"""Issue 20's "done" check, end to end: 1 vs 2 training processes on two small corpora.

Corpora (one per skeleton: a model learns one skeleton, and a folder holding both is refused):
- ``dancers/``: procedural dancer clips (23 joints, 30 fps), a different dancer each, in .npy/.npz/.csv
  two folders deep;
- ``cmu/``: the shared CMU modern-dance clip (38 joints, 120 fps, .bvh) and its time-reversed copy
  (.npy, in a subfolder); at the network's 30 fps each file is four interleaved clips.

For each corpus: ``choreo train`` with ``--nproc 1`` and ``--nproc 2`` (same global batch, seed and
epochs, so the same number of steps), the relative difference of their validation losses, and as the
same-run reference the difference between two one-process runs that differ only in ``--seed`` (the
two processes draw other crops than one process does, as another seed would). Then the two-process
checkpoint generates and resumes with ``--nproc 1``. Prints one JSON line.

The CMU corpus is five seconds of dance: after ~30 epochs its validation loss rises again
(overfitting), and from there the final loss depends on the seed by more than 5 %; the check stops
at 30 epochs and also reports 100 epochs.

    flock /work/cpu.lock python scripts/ddp_check.py [--shared-data ../shared/data] [--epochs-scale 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL = ["--hidden", "128", "--layers", "2", "--mixtures", "4", "--seq-len", "64", "--batch", "32"]


def choreo(*args: object) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    run = subprocess.run([sys.executable, "-m", "studio.cli", *map(str, args)], capture_output=True, text=True,
                         env=env)
    return run


def result(run: subprocess.CompletedProcess) -> dict:
    if run.returncode != 0:
        raise SystemExit(f"ddp_check: {run.args[3:]} failed: {run.stderr.strip().splitlines()[-1:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def build(root: Path, shared: Path) -> dict[str, Path]:
    from engine.dance.motion import load_motion
    from engine.dance.synthetic import synthetic_dancer

    dancers = root / "dancers"
    (dancers / "a" / "b").mkdir(parents=True)
    for i in range(6):
        m = synthetic_dancer(frames=1800, fps=30.0, rng=i)
        where = [dancers, dancers / "a", dancers / "a" / "b"][i % 3]
        if i % 3 == 1:
            np.savez(where / f"dancer{i}.npz", positions=m.positions, fps=np.array(30.0),
                     joint_names=np.array(m.joint_names))
        elif i % 3 == 2:
            np.savetxt(where / f"dancer{i}.csv", m.positions.reshape(len(m.positions), -1), delimiter=",")
        else:
            np.save(where / f"dancer{i}.npy", m.positions)
    cmu = root / "cmu"
    (cmu / "reversed").mkdir(parents=True)
    bvh = shared / "cmu_05_01_modern_dance.bvh"
    (cmu / bvh.name).write_bytes(bvh.read_bytes())
    clip = load_motion(bvh)
    np.savez(cmu / "reversed" / "cmu_reversed.npz", positions=clip.positions[::-1], fps=np.array(clip.fps),
             joint_names=np.array(clip.joint_names))
    mixed = root / "mixed"
    mixed.mkdir()
    (mixed / bvh.name).write_bytes(bvh.read_bytes())
    np.save(mixed / "dancer.npy", synthetic_dancer(frames=300).positions)
    return {"dancers": dancers, "cmu": cmu, "mixed": mixed}


def compare(name: str, corpus: Path, epochs: float, work: Path) -> dict:
    runs = {}
    for key, n, seed in ((1, 1, 0), (2, 2, 0), ("seed1", 1, 1)):
        runs[key] = result(choreo("train", corpus, "--out", work / f"{name}{key}.pt", "--epochs", epochs, *MODEL,
                                  "--seed", seed, "--json", "--nproc", n))
    one, two, other_seed = runs[1], runs[2], runs["seed1"]
    generated = result(choreo("generate", work / f"{name}2.pt", "--frames", 300, "--out", work / f"{name}.npy",
                              "--json"))
    resumed = result(choreo("train", corpus, "--out", work / f"{name}r.pt", "--resume", work / f"{name}2.last.pt",
                            "--epochs", epochs * 1.5, *MODEL, "--json", "--nproc", 1))
    return {
        "steps": [one["steps"], two["steps"]], "val_loss_1": one["val_loss"], "val_loss_2": two["val_loss"],
        "val_relative_difference": abs(two["val_loss"] - one["val_loss"]) / abs(one["val_loss"]),
        "val_loss_1_seed1": other_seed["val_loss"],
        "seed_relative_difference": abs(other_seed["val_loss"] - one["val_loss"]) / abs(one["val_loss"]),
        "best_val_1": one["best_val_loss"], "best_val_2": two["best_val_loss"],
        "steady_frames_per_s_1": one["steady_frames_per_s"], "steady_frames_per_s_2": two["steady_frames_per_s"],
        "generated_finite": generated["quality"]["finite"], "resumed_steps": resumed["steps"],
        "resumed_world_size": resumed["world_size"], "resumed_val_loss": resumed["val_loss"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--epochs-scale", type=float, default=1.0, help="multiply every run's epochs")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="choreo-ddp-check-") as d:
        root = Path(d)
        corpora = build(root, args.shared_data)
        mixed = choreo("train", corpora["mixed"], "--out", root / "mixed.pt", "--nproc", 2)
        report = {"mixed_refused": mixed.returncode == 2 and mixed.stderr.count("\n") == 1,
                  "mixed_message": mixed.stderr.strip()}
        report["dancers"] = compare("dancers", corpora["dancers"], 20 * args.epochs_scale, root)
        report["cmu"] = compare("cmu", corpora["cmu"], 30 * args.epochs_scale, root)
        report["cmu_100_epochs"] = compare("cmu100", corpora["cmu"], 100 * args.epochs_scale, root)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
