"""Shared fixtures: the real-data folder, the synthetic dancer, tiny configs and models, and a thread-leak guard."""

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
def tiny_model_config():
    """A dance model small enough to train in a second."""
    from engine import DanceConfig

    return DanceConfig(hidden=16, layers=1, mixtures=2)


@pytest.fixture(scope="session")
def tiny_train_config():
    """``tiny_train_config(**overrides)``: a TrainConfig of one CPU epoch of small crops."""
    from engine import TrainConfig

    def make(**overrides) -> TrainConfig:
        base = dict(batch=8, seq_len=32, val_every=10, device="cpu", precision="fp32", epochs=1)
        return TrainConfig(**{**base, **overrides})

    return make


@pytest.fixture(scope="session")
def dancer():
    """The procedural dancer: 300 frames at 30 fps (10 s)."""
    from engine.dance.synthetic import synthetic_dancer

    return synthetic_dancer(frames=300)


@pytest.fixture(scope="session")
def tiny_model(dancer, tiny_model_config, tiny_train_config):
    """A tiny dance model trained two epochs on ``dancer`` (in memory)."""
    from engine import train

    return train(dancer, model_config=tiny_model_config, config=tiny_train_config(epochs=2)).model


@pytest.fixture
def session(dancer):
    """A CPU session with ``dancer`` loaded (closed after the test)."""
    from engine.session import Session

    with Session(device="cpu") as s:
        s.load(dancer)
        yield s


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
