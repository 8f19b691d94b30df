"""Shared fixtures: the real-data folder, a tiny trained dance model, and a thread-leak guard."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` beside the repository; tests using it skip cleanly when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("real data folder ../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_dance(tmp_path_factory):
    """A tiny dance model trained a few steps on the synthetic dancer: (checkpoint path, motion)."""
    from engine import DanceConfig, TrainConfig, train
    from engine.dance.synthetic import synthetic_dancer

    motion = synthetic_dancer(frames=600, fps=30.0, rng=0)
    out = tmp_path_factory.mktemp("tiny") / "tiny.pt"
    train(motion, out, model_config=DanceConfig(hidden=32, layers=1, mixtures=3),
          config=TrainConfig(epochs=2, batch=8, seq_len=32, val_every=5, lr=3e-3, device="cpu", precision="fp32"))
    return out, motion


@pytest.fixture(autouse=True)
def no_thread_left_behind():
    """Fail a test that leaves a thread running."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
        extra += [t for t in threading.enumerate() if t not in before and t.is_alive() and t.name.startswith("choreo")]
        if not extra:
            return
        time.sleep(0.05)
    pytest.fail(f"threads left running: {[t.name for t in extra]}")
