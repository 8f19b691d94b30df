"""Crash safety: SIGKILL mid-training, full disks, unwritable folders, NaN batches.

- A training subprocess (tiny model, a "last" checkpoint every 0.2 s) is killed with
  SIGKILL at random moments, then resumed from ``<out>.last.pt``, three times in a row.
  After every kill the checkpoint loads (``DanceModel.load``) and is self-consistent
  (Adam's per-parameter step == the checkpoint's step == len(history)); the resumed run
  starts exactly at the checkpoint's step and carries its optimizer state on.
- A full disk (``torch.save`` raising ENOSPC half-way through a write) and an unwritable
  folder give a one-line ``ChoreoError``, keep the previous checkpoint byte for byte and
  leave no temporary file behind.
- Injected NaN losses roll back and continue; persistent ones stop with the best
  checkpoint intact.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from engine import DanceConfig, TrainConfig, train
from engine.core import fileio
from engine.core.checkpoint import read_checkpoint, save_checkpoint
from engine.core.errors import ChoreoError
from engine.dance.model import DanceModel
from engine.dance.synthetic import synthetic_dancer
from engine.dance.task import DanceTask

REPO = Path(__file__).resolve().parents[2]
TINY = DanceConfig(hidden=16, layers=1, mixtures=2)  # also spelled out in TRAINER, which runs in a subprocess

TRAINER = textwrap.dedent('''
    """Train a tiny dance model, printing start/checkpoint events as JSON lines (a test helper)."""
    import json, sys
    import torch
    torch.set_num_threads(1)
    from engine import DanceConfig, TrainConfig, train
    from engine.dance.synthetic import synthetic_dancer

    out, resume = sys.argv[1], (sys.argv[2] or None)

    def on_event(e):
        if e.kind in ("start", "checkpoint"):
            print(json.dumps({"kind": e.kind, "step": e.step}), flush=True)

    train(synthetic_dancer(frames=600, fps=30.0, rng=0), out,
          model_config=DanceConfig(hidden=16, layers=1, mixtures=2),
          config=TrainConfig(minutes=1, batch=4, seq_len=16, val_every=5, checkpoint_every_s=0.2,
                             patience=10**6, device="cpu", precision="fp32"),  # runs until killed
          on_event=on_event, resume=resume)
''')


def _temps(folder: Path) -> list[Path]:
    """Temporary files atomic writes leave when they do not finish (``.<name>.XXXX.tmp.pt``)."""
    return [p for p in folder.iterdir() if p.name.startswith(".") and ".tmp" in p.name]


def _adam_steps(payload: dict) -> set[int]:
    return {int(s["step"]) for s in payload["optimizer"]["state"].values()}


def _run_and_kill(script: Path, out: Path, resume: Path | None, rng: random.Random) -> tuple[int, int]:
    """Start training, wait for its first periodic checkpoint, SIGKILL it at a random moment.

    Returns (step reported at start, number of checkpoint events seen before the kill).
    """
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, str(script), str(out), str(resume or "")], cwd=out.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    start_step, checkpoints = -1, 0
    try:
        deadline = time.monotonic() + 90
        assert proc.stdout is not None
        for line in proc.stdout:
            event = json.loads(line)
            if event["kind"] == "start":
                start_step = event["step"]
            else:
                checkpoints += 1
                break
            assert time.monotonic() < deadline, "training never wrote a checkpoint"
        assert checkpoints, f"trainer ended early: {proc.stderr.read() if proc.stderr else ''}"
        time.sleep(rng.uniform(0.0, 0.9))  # somewhere in the next few checkpoint writes
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == -signal.SIGKILL
    return start_step, checkpoints


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume(tmp_path: Path) -> None:
    script = tmp_path / "trainer.py"
    script.write_text(TRAINER)
    out = tmp_path / "m.pt"
    last = tmp_path / "m.last.pt"
    rng = random.Random(8)
    previous_step = 0
    for round_ in range(3):
        start_step, _ = _run_and_kill(script, out, last if round_ else None, rng)
        if round_:
            # resume started exactly where the checkpoint we resumed from was
            assert start_step == previous_step
        payload = read_checkpoint(last, kind="dance")
        model = DanceModel.load(last)  # the sampling path loads it too
        assert model.codec is not None and model.checkpoint_info["step"] == payload["step"]
        step = int(payload["step"])
        # every round saw a checkpoint written after it started, so it saved progress
        assert step > previous_step
        # optimizer state, step count and history were saved together
        assert _adam_steps(payload) == {step}
        assert len(payload["history"]["train"]) == step
        # a resumed run continued the saved Adam moments (their step count) rather than starting fresh
        assert min(_adam_steps(payload)) > previous_step
        previous_step = step
        for tmp in _temps(tmp_path):  # a kill during a write may orphan a temp file: it must not matter
            tmp.unlink()
    assert out.exists() and DanceModel.load(out).codec is not None
    assert previous_step > 0


def _write_data(path: Path) -> None:
    np.save(path, synthetic_dancer(frames=600, fps=30.0, rng=0).positions)


@pytest.mark.slow
def test_cli_resume_from_own_last_checkpoint_without_force(tmp_path: Path) -> None:
    """``choreo train DATA --out m.pt --resume m.last.pt`` continues the run documented in the issue."""
    data = tmp_path / "clip.npy"
    _write_data(data)
    out = tmp_path / "m.pt"
    train(data, out, model_config=TINY, config=TrainConfig(epochs=1, batch=4, seq_len=16, val_every=5,
                                                            device="cpu", precision="fp32"))
    step = read_checkpoint(tmp_path / "m.last.pt")["step"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-m", "studio.cli", "train", str(data), "--out", str(out),
                          "--resume", str(tmp_path / "m.last.pt"), "--epochs", "3", "--batch", "4",
                          "--seq-len", "16", "--device", "cpu", "--json"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    assert read_checkpoint(tmp_path / "m.last.pt")["step"] > step


# ---------------------------------------------------------------- full disk / unwritable folder

def _disk_full_after(monkeypatch: pytest.MonkeyPatch, ok_calls: int) -> list[int]:
    """Make ``torch.save`` write half a file and raise ENOSPC after ``ok_calls`` successful saves."""
    real_save = torch.save
    calls = [0]

    def save(obj, f, *args, **kwargs):
        calls[0] += 1
        if calls[0] <= ok_calls:
            return real_save(obj, f, *args, **kwargs)
        with open(f, "wb") as fh:
            fh.write(b"PK\x03\x04" + bytes(1000))  # the first bytes made it to disk
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(torch, "save", save)
    return calls


def test_full_disk_keeps_previous_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "m.pt"
    save_checkpoint(p, {"kind": "dance", "step": 1, "model": {"w": torch.ones(3)}})
    before = p.read_bytes()
    _disk_full_after(monkeypatch, ok_calls=0)
    with pytest.raises(ChoreoError, match="No space left") as err:
        save_checkpoint(p, {"kind": "dance", "step": 2, "model": {"w": torch.zeros(3)}})
    assert str(err.value).startswith(str(p)) and "\n" not in str(err.value)
    assert p.read_bytes() == before
    assert read_checkpoint(p)["step"] == 1
    assert _temps(tmp_path) == []


def test_full_disk_during_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills after two checkpoints: a clear error; both files stay loadable; no temp files."""
    out = tmp_path / "m.pt"
    calls = _disk_full_after(monkeypatch, ok_calls=2)
    with pytest.raises(ChoreoError, match="No space left"):
        train(synthetic_dancer(frames=300, fps=30.0, rng=0), out, model_config=TINY,
              config=TrainConfig(epochs=50, batch=4, seq_len=16, val_every=2, checkpoint_every_s=0.0,
                                 device="cpu", precision="fp32"))
    assert calls[0] == 3
    written = [p for p in (out, tmp_path / "m.last.pt") if p.exists()]
    assert written
    for p in written:
        assert DanceModel.load(p).codec is not None
    assert _temps(tmp_path) == []


def _unwritable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A read-only folder; as root (permissions do not bind) creating files there fails by monkeypatch."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        (folder / "probe").touch()
    except PermissionError:
        return folder
    (folder / "probe").unlink()

    def create(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))

    monkeypatch.setattr(fileio, "_create_beside", create)  # where atomic writes create their file
    return folder


def test_unwritable_folder_gives_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _unwritable_folder(tmp_path, monkeypatch)
    try:
        with pytest.raises(ChoreoError, match="could not write"):
            save_checkpoint(folder / "m.pt", {"kind": "dance", "step": 1})
    finally:
        folder.chmod(0o755)


def test_missing_output_folder_gives_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ChoreoError, match="does not exist"):
        save_checkpoint(tmp_path / "nowhere" / "m.pt", {"kind": "dance", "step": 1})


# ---------------------------------------------------------------- numeric faults

def _inject_nan(monkeypatch: pytest.MonkeyPatch, bad_steps) -> None:
    """Make ``DanceTask.loss`` return NaN on the given (global) steps."""
    real_loss = DanceTask.loss

    def loss(self, forward, batch, step):
        value, n, parts = real_loss(self, forward, batch, step)
        return (value * float("nan") if bad_steps(step) else value), n, parts

    monkeypatch.setattr(DanceTask, "loss", loss)


def test_nan_batch_rolls_back_and_continues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[int] = []
    _inject_nan(monkeypatch, lambda step: step == 7 and (tried.append(step) or len(tried) == 1))
    events = []
    result = train(synthetic_dancer(frames=300, fps=30.0, rng=0), tmp_path / "m.pt", model_config=TINY,
                   config=TrainConfig(epochs=3, batch=4, seq_len=16, val_every=5, device="cpu", precision="fp32"),
                   on_event=events.append)
    warnings = [e for e in events if e.kind == "warning"]
    assert len(warnings) == 1 and warnings[0].step == 7
    assert "rolled back" in warnings[0].message and "halved the learning rate" in warnings[0].message
    assert result.stopped == "budget" and result.steps > 7
    assert DanceModel.load(tmp_path / "m.pt").codec is not None


def test_persistent_nan_stops_with_best_checkpoint_intact(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "m.pt"
    _inject_nan(monkeypatch, lambda step: step >= 12)
    events = []
    result = train(synthetic_dancer(frames=300, fps=30.0, rng=0), out, model_config=TINY,
                   config=TrainConfig(epochs=50, batch=4, seq_len=16, val_every=5, nan_retries=3,
                                      device="cpu", precision="fp32"),
                   on_event=events.append)
    assert result.stopped == "numerical-trouble" and result.steps == 10  # rolled back to the last good state
    assert any("stopped and kept the best checkpoint" in e.message for e in events)
    assert next(e for e in events if e.kind == "warning").step == 12
    payload = read_checkpoint(out, kind="dance")
    assert payload["step"] in (5, 10) and np.isfinite(payload["best_val"])
    assert DanceModel.load(out).codec is not None


def test_rollback_keeps_step_and_optimizer_consistent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After roll-backs the saved step, Adam's step and the history length still agree (resume stays exact)."""
    _inject_nan(monkeypatch, lambda step: step >= 12)
    train(synthetic_dancer(frames=300, fps=30.0, rng=0), tmp_path / "m.pt", model_config=TINY,
          config=TrainConfig(epochs=50, batch=4, seq_len=16, val_every=5, nan_retries=3, device="cpu",
                             precision="fp32"))
    payload = read_checkpoint(tmp_path / "m.last.pt", kind="dance")
    assert _adam_steps(payload) == {payload["step"]}
    assert len(payload["history"]["train"]) == payload["step"]
