"""``choreo train --nproc N``: 2 gloo processes vs 1 on the same corpus, their checkpoint, resume with a
different number of processes, a killed rank, and a user problem found inside the job (tiny models)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine import DanceModel
from studio.bench.distributed import write_dancer_corpus
from studio.cli import main

pytestmark = pytest.mark.slow  # each test starts fresh processes (python, torch, the launcher and its workers)

TINY = ["--hidden", "16", "--layers", "1", "--mixtures", "2", "--seq-len", "32", "--batch", "8",
        "--precision", "fp32", "--device", "cpu", "--seed", "0"]


def choreo(*args: object, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m studio.cli ...`` as a user runs it (a fresh process: the launcher starts more)."""
    return subprocess.run([sys.executable, "-m", "studio.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_dancer_corpus(tmp_path_factory.mktemp("corpus") / "dancers", clips=4, frames=300)


@pytest.fixture(scope="module")
def runs(corpus, tmp_path_factory) -> dict[int, tuple[dict, Path]]:
    """The same run (global batch 8, seed 0, 6 epochs = the same steps) with 1 and with 2 processes."""
    out = tmp_path_factory.mktemp("runs")
    results = {}
    for n in (1, 2):
        run = choreo("train", corpus, "--out", out / f"m{n}.pt", "--epochs", 6, *TINY, "--json", "--nproc", n)
        assert run.returncode == 0, run.stderr
        results[n] = (last_json(run.stdout), out / f"m{n}.pt")
    return results


def test_two_processes_and_one_reach_the_same_validation_loss(runs):
    one, two = runs[1][0], runs[2][0]
    assert (one["world_size"], two["world_size"]) == (1, 2)
    assert one["steps"] == two["steps"] and one["frames"] == two["frames"]  # the global batch is the batch
    assert abs(two["val_loss"] - one["val_loss"]) <= 0.05 * abs(one["val_loss"])


def test_the_two_process_checkpoint_loads_and_generates(runs, tmp_path, capsys):
    path = runs[2][1]
    model = DanceModel.load(path)
    assert model.codec is not None and model.seed is not None and model.checkpoint_info["step"] > 0
    code = main(["generate", str(path), "--frames", "30", "--out", str(tmp_path / "take.npy"), "--json"])
    take = np.load(tmp_path / "take.npy")
    assert code == 0 and take.shape == (30, 23, 3) and np.isfinite(take).all()
    assert json.loads(capsys.readouterr().out)["quality"]["finite"]


def test_resume_the_two_process_run_with_one_process(runs, corpus, tmp_path, capsys):
    first, path = runs[2]
    code = main(["train", str(corpus), "--out", str(tmp_path / "more.pt"), "--resume",
                 str(path.with_suffix(".last.pt")), "--epochs", "9", *TINY, "--json", "--nproc", "1"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and result["world_size"] == 1 and result["steps"] > first["steps"]
    assert DanceModel.load(tmp_path / "more.pt").checkpoint_info["step"] == result["steps"]


def _worker_of(launcher: int, rank: int) -> int | None:
    """The pid of the launcher's worker process with ``RANK=rank`` (read from /proc)."""
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            env = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == launcher and f"RANK={rank}".encode() in env:
            return int(entry.name)
    return None


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the worker through /proc (Linux)")
def test_killing_one_rank_ends_the_job_with_one_line_and_a_loadable_checkpoint(corpus, tmp_path):
    out = tmp_path / "m.pt"
    cmd = [sys.executable, "-m", "studio.cli", "train", str(corpus), "--out", str(out), "--minutes", "5", *TINY,
           "--nproc", "2", "--json"]
    job = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    try:
        deadline = time.monotonic() + 240
        while not out.exists() and job.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)  # the best checkpoint appears at the first validation
        victim = _worker_of(job.pid, 1)
        assert out.exists() and victim is not None, job.stderr.read() if job.poll() is not None else "no worker"
        os.kill(victim, signal.SIGKILL)
        _, err = job.communicate(timeout=120)
    finally:
        if job.poll() is None:
            job.kill()
            job.communicate()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert job.returncode == 2 and lines[0].startswith("training on 4 clip(s)")
    assert len(lines) == 2, err  # the start line, then one line that says it all
    assert lines[1].startswith("choreo: training process 1 of 2 was killed (SIGKILL), so the job stopped")
    assert "the last checkpoint is intact" in lines[1] and "--resume" in lines[1]
    assert DanceModel.load(out).codec is not None
    assert not list(tmp_path.glob(".*.tmp*")), "a temporary checkpoint was left behind"


def test_a_problem_found_inside_the_job_is_one_line(tmp_path, shared_data):
    data = tmp_path / "mixed"
    write_dancer_corpus(data, clips=2, frames=100)
    (data / "cmu.bvh").write_bytes((shared_data / "cmu_05_01_modern_dance.bvh").read_bytes())
    run = choreo("train", data, "--out", tmp_path / "m.pt", "--epochs", 1, *TINY, "--nproc", 2)
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert run.returncode == 2 and len(lines) == 1, run.stderr
    assert lines[0].startswith(f"choreo: {data}: the clips have 2 different skeletons")
    assert not (tmp_path / "m.pt").exists()


def test_nproc_must_be_at_least_one(corpus, tmp_path, capsys):
    assert main(["train", str(corpus), "--out", str(tmp_path / "m.pt"), "--nproc", "0"]) == 2
    assert "--nproc must be at least 1" in capsys.readouterr().err
