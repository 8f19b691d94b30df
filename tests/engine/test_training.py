"""The trainer: loss goes down, checkpoints round-trip and resume, NaN batches roll back."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from engine import ChoreoError, DanceConfig, DanceModel, TrainConfig, train
from engine.core.checkpoint import read_checkpoint
from engine.dance.synthetic import synthetic_dancer
from engine.dance.task import DanceTask

TINY = DanceConfig(hidden=32, layers=1, mixtures=3)


def _config(**kw) -> TrainConfig:
    base = dict(epochs=3, batch=8, seq_len=32, val_every=5, lr=3e-3, device="cpu", precision="fp32")
    return TrainConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def dancer():
    return synthetic_dancer(frames=600, fps=30.0, rng=0)


def test_loss_decreases_on_the_synthetic_dancer(dancer):
    events = []
    result = train(dancer, model_config=TINY, config=_config(epochs=30), on_event=events.append)
    train_curve = result.history["train"]
    assert np.mean(train_curve[-5:]) < np.mean(train_curve[:5]) - 0.3
    assert result.val_loss is not None and result.val_loss < result.history["val"][0]
    steps = [e.step for e in events if e.kind in ("progress", "validation")]
    assert steps == sorted(steps) and steps[-1] > steps[0]
    assert events[0].kind == "start" and events[-1].kind == "done"


def test_every_frame_of_a_crop_is_a_target(dancer):
    model = DanceModel(DanceConfig(**{**TINY.__dict__, "n_joints": dancer.n_joints}))
    from engine.dance.representation import MotionCodec

    task = DanceTask(model, [dancer.positions], MotionCodec.fit([dancer.positions]), 0.1, {})
    batch = task.sample_batch(4, 32, np.random.default_rng(0), torch.device("cpu"))
    _, n, _ = task.loss(model, batch, 0)
    assert n == 4 * 32


def test_checkpoint_round_trip(dancer, tmp_path):
    out = tmp_path / "m.pt"
    result = train(dancer, out, model_config=TINY, config=_config())
    loaded = DanceModel.load(out)
    x = torch.randn(2, 5, loaded.config.frame_dim)
    assert torch.allclose(loaded(x)[0].mu, result.model.cpu()(x)[0].mu, atol=1e-6)
    assert loaded.codec is not None and loaded.seed is not None and loaded.seed.n_joints == dancer.n_joints
    assert (tmp_path / "m.last.pt").exists()
    payload = read_checkpoint(out, kind="dance")
    assert payload["model_config"]["hidden"] == 32 and payload["optimizer"]["state"]


def test_resume_continues_step_count_and_optimizer(dancer, tmp_path):
    out = tmp_path / "m.pt"
    first = train(dancer, out, model_config=TINY, config=_config(epochs=2))
    last = tmp_path / "m.last.pt"
    before = read_checkpoint(last)
    second = train(dancer, tmp_path / "m2.pt", config=_config(epochs=4), resume=last)
    assert second.steps > first.steps
    after = read_checkpoint(tmp_path / "m2.last.pt")
    step_key = next(iter(after["optimizer"]["state"]))
    assert after["optimizer"]["state"][step_key]["step"] > before["optimizer"]["state"][step_key]["step"]


def test_nan_batch_is_rolled_back_and_training_continues(dancer, monkeypatch):
    calls = {"n": 0}
    original = DanceTask.loss

    def sometimes_nan(self, forward, batch, step):
        loss, n, parts = original(self, forward, batch, step)
        calls["n"] += 1
        return (loss * float("nan"), n, parts) if calls["n"] == 4 else (loss, n, parts)

    monkeypatch.setattr(DanceTask, "loss", sometimes_nan)
    events = []
    result = train(dancer, model_config=TINY, config=_config(epochs=2, val_every=1000), on_event=events.append)
    warnings = [e for e in events if e.kind == "warning"]
    assert len(warnings) == 1 and "rolled back" in warnings[0].message
    assert result.stopped == "budget" and all(torch.isfinite(p).all() for p in result.model.parameters())


def test_persistent_nan_stops_with_a_clear_message_and_keeps_the_best(dancer, tmp_path, monkeypatch):
    out = tmp_path / "m.pt"
    train(dancer, out, model_config=TINY, config=_config(epochs=1))
    good = read_checkpoint(out)["model"]
    original = DanceTask.loss

    def always_nan(self, forward, batch, step):
        loss, n, parts = original(self, forward, batch, step)
        return loss * float("nan"), n, parts

    monkeypatch.setattr(DanceTask, "loss", always_nan)
    events = []
    with pytest.raises(ChoreoError, match="diverged"):
        train(dancer, tmp_path / "n.pt", model_config=TINY, config=_config(epochs=1), on_event=events.append)
    assert any("NaN/inf" in e.message for e in events)
    assert not (tmp_path / "n.pt").exists()
    assert torch.equal(read_checkpoint(out)["model"]["head.proj.weight"], good["head.proj.weight"])


def test_cancel_stops_at_the_next_step(dancer):
    cancel = threading.Event()
    seen = []

    def on_event(e):
        seen.append(e)
        if e.kind == "progress":
            cancel.set()

    result = train(dancer, model_config=TINY, config=_config(epochs=50), on_event=on_event, cancel=cancel)
    first = next(e.step for e in seen if e.kind == "progress")
    assert result.stopped == "cancelled" and result.steps == first
    assert all(torch.isfinite(p).all() for p in result.model.parameters())


def test_bf16_path_trains_fp32_weights(dancer):
    result = train(dancer, model_config=TINY, config=_config(epochs=3, precision="bf16", warmup_steps=1))
    assert all(p.dtype == torch.float32 for p in result.model.parameters())
    assert np.isfinite(result.history["train"]).all()
    assert result.history["train"][-1] < result.history["train"][0]


def test_clips_of_different_lengths_train_together_with_masks(dancer):
    short = dancer.positions[:20]  # shorter than a crop: padded and masked
    long = dancer.positions[100:600]
    result = train([type(dancer)(short, fps=30.0), type(dancer)(long, fps=30.0)], model_config=TINY,
                   config=_config(epochs=2, seq_len=32))
    assert np.isfinite(result.history["train"]).all()
    model = result.model
    task = DanceTask(model, [short, long], model.codec, 0.0, {})
    rng = np.random.default_rng(0)
    batches = [task.sample_batch(8, 32, rng, torch.device("cpu")) for _ in range(40)]
    masks = torch.stack([b.mask for b in batches])
    assert (masks.sum(-1) == 19).any()  # some crops come from the short clip: 19 real targets, rest padding
    _, n, _ = task.loss(model, batches[0], 0)
    assert n == int(batches[0].mask.sum())


def test_cuda_request_without_a_gpu_is_a_clear_error(dancer):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ChoreoError, match="no CUDA"):
        train(dancer, model_config=TINY, config=_config(device="cuda"))


def test_save_dance_model_writes_a_loadable_checkpoint_without_optimizer(dancer, tmp_path):

    model = train(dancer, model_config=TINY, config=_config(epochs=1)).model
    path = model.save(tmp_path / "saved.pt")
    loaded = DanceModel.load(path)
    x = torch.randn(1, 4, loaded.config.frame_dim)
    assert torch.allclose(loaded(x)[0].mu, model(x)[0].mu, atol=1e-6)
    assert read_checkpoint(path)["optimizer"] is None
    assert np.array_equal(loaded.seed.positions, model.seed.positions)


def test_the_first_eta_fits_in_the_time_budget(dancer):
    """Issue 14: a 1-minute budget once showed 1 min 38 s left after the first step."""
    cancel = threading.Event()
    etas = []

    def on_event(e):
        if e.kind == "progress":
            etas.append((e.eta_s, e.elapsed_s))
            if len(etas) >= 2:
                cancel.set()

    train(dancer, model_config=TINY, config=_config(epochs=None, minutes=1.0), on_event=on_event, cancel=cancel)
    for eta, elapsed in etas:
        assert eta is not None and eta <= 60.0 - elapsed + 0.5


def test_budget_eta():
    from engine.core.training import Budget

    assert Budget(TrainConfig(minutes=1.0), 10).eta(1, 2.0) == pytest.approx(58.0)
    assert Budget(TrainConfig(epochs=2), 10).eta(5, 5.0) == pytest.approx(15.0)  # 20 steps at 1 s each
    assert Budget(TrainConfig(minutes=1.0, epochs=2), 10).eta(5, 5.0) == pytest.approx(15.0)  # the sooner
    assert Budget(TrainConfig(epochs=2), 10).eta(0, 0.0) is None
