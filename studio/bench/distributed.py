"""Training throughput with 1 and 2 processes (DDP through torch's elastic launcher): per process and in all.

Each figure is a ``choreo train CORPUS --nproc N --json`` run, started the way a user starts it (a
child ``python -m studio.cli``), on the same corpus of procedural dancer clips with the same global
batch and time budget. Throughput is the JSON line's ``steady_frames_per_s``: the training loop
after its first step, so process start-up, the corpus pass and one-off kernel set-up are left out.
On a CPU the cores are split between the processes (``OMP_NUM_THREADS``); with ``device="cuda"``
each process drives its own GPU (NCCL).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from engine.core.launch import threads_per_process
from engine.dance.synthetic import synthetic_dancer


def write_dancer_corpus(folder: str | Path, clips: int = 4, frames: int = 1200, fps: float = 30.0) -> Path:
    """``clips`` procedural dancer clips (a different dancer each) as ``.npy`` files in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(clips):
        np.save(folder / f"dancer_{i:02d}.npy", synthetic_dancer(frames=frames, fps=fps, rng=i).positions)
    return folder


def bench_distributed(seconds: float = 8.0, device: str = "cpu", nprocs: tuple[int, ...] = (1, 2),
                      model: tuple[int, int, int] = (256, 3, 8), batch: int = 64, seq_len: int = 128,
                      clips: int = 4, frames: int = 1200) -> dict[str, Any]:
    """Frames/s of the whole job and per process for each count in ``nprocs`` (``model``: hidden, layers,
    mixtures). ``scaling``: the job's throughput with the most processes over one process's. On a CPU one
    more run, ``nproc1_same_threads``, gives one process only the threads each of the many has, so
    ``per_process_ratio_same_threads`` is what working as a team costs (gradient all-reduce, agreement)."""
    hidden, layers, mixtures = model
    out: dict[str, Any] = {"device": device, "batch": batch, "seq_len": seq_len,
                           "model": f"{layers} x LSTM {hidden}, {mixtures} mixtures", "clips": clips}
    most = max(nprocs)
    runs = [(f"nproc{n}", n, None) for n in nprocs]
    if device == "cpu" and 1 in nprocs and most > 1:  # one process with the thread budget each of `most` gets
        runs.append(("nproc1_same_threads", 1, threads_per_process(most)))
    with tempfile.TemporaryDirectory(prefix="choreo-bench-ddp-") as d:
        corpus = write_dancer_corpus(Path(d) / "corpus", clips, frames)
        for key, n, threads in runs:
            cmd = [sys.executable, "-m", "studio.cli", "train", str(corpus), "--out", str(Path(d) / f"{key}.pt"),
                   "--minutes", f"{max(seconds / 60, 0.02):.6f}", "--batch", str(batch), "--seq-len", str(seq_len),
                   "--hidden", str(hidden), "--layers", str(layers), "--mixtures", str(mixtures),
                   "--device", device, "--nproc", str(n), "--json"]
            env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=600 + 10 * seconds, env=env)
            if run.returncode != 0:
                raise RuntimeError(f"--nproc {n}: {(run.stderr.strip().splitlines() or ['failed'])[-1]}")
            result = json.loads(run.stdout.strip().splitlines()[-1])
            rate = result["steady_frames_per_s"] or result["frames_per_s"]
            out[key] = {
                "world_size": result["world_size"], "steps": result["steps"], "frames_per_s": rate,
                "frames_per_s_per_process": rate / result["world_size"],
                "threads_per_process": threads or (threads_per_process(n) if device == "cpu" else None),
                "val_loss": result["val_loss"], "precision": result["precision"],
            }
    one, many, same = out.get("nproc1"), out.get(f"nproc{most}"), out.get("nproc1_same_threads")
    if one and many and most > 1:
        out["scaling"] = many["frames_per_s"] / one["frames_per_s"]
        out["per_process_ratio"] = many["frames_per_s_per_process"] / one["frames_per_s_per_process"]
    if same and many:  # the cost of DDP itself: the same threads per process, with and without a team
        out["per_process_ratio_same_threads"] = many["frames_per_s_per_process"] / same["frames_per_s_per_process"]
    return out
