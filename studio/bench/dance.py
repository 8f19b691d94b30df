"""Performance figures, each measured against a reference in the same run.

Machines are shared and noisy, so every number comes with a ratio to a plain
PyTorch reference timed moments earlier on the same model and data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from engine.core.device import resolve_device
from engine.core.fit import fit
from engine.core.mdn import diag_mixture_nll
from engine.core.training import TrainConfig
from engine.dance.generation import DanceGenerator
from engine.dance.model import DanceConfig, DanceModel
from engine.dance.pose_guard import build_pose_bank
from engine.dance.representation import MotionCodec
from engine.dance.skeleton import infer_bones
from engine.dance.synthetic import synthetic_markers
from engine.dance.task import DanceTask

BENCH_JOINTS = 55
WINDOW = 32  # the Keras recipe's look-back


def _timed(fn: Callable[[], int], seconds: float, warmup: int = 1) -> float:
    """Items per second of ``fn`` (which returns how many items it did), for about ``seconds``."""
    for _ in range(warmup):
        fn()
    done, t0 = 0, time.perf_counter()
    while True:
        done += fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return done / elapsed


def _bench_model(config: DanceConfig, frames: int = 4000) -> tuple[DanceModel, DanceTask, np.ndarray]:
    motion = synthetic_markers(frames=frames, fps=30.0, rng=1, n_markers=config.n_joints)
    codec = MotionCodec.fit([motion.positions])
    torch.manual_seed(0)
    model = DanceModel(config)
    bones, lengths = infer_bones(motion.positions)
    model.codec, model.seed = codec, motion
    model.bones, model.bone_lengths = torch.as_tensor(bones), torch.as_tensor(lengths)
    model.pose_bank, model.pose_radius = build_pose_bank([motion.positions], up=1)  # as train() builds it
    model.pose_up = 1
    task = DanceTask(model, [motion.positions], codec, 0.1, extra={})
    return model, task, motion.positions


def bench_dance_training(seconds: float = 10.0, batch: int = 64, seq_len: int = 128,
                         device: str = "cpu") -> dict[str, Any]:
    """Training frames/s: our trainer vs a plain full-sequence loop vs the look-back-window recipe (on ``device``)."""
    config = DanceConfig(n_joints=BENCH_JOINTS)
    _, task, _ = _bench_model(config)
    rng = np.random.default_rng(0)
    dev = resolve_device(device)
    batch0 = task.sample_batch(batch, seq_len, rng, dev)

    # plain PyTorch, fp32: one LSTM pass over the crop, every frame a target
    ref = DanceModel(config).to(dev)
    opt = torch.optim.Adam(ref.parameters(), lr=1e-3)

    def plain_step() -> int:
        mix, _ = ref(batch0.inputs)
        loss = diag_mixture_nll(mix, batch0.targets).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return batch * seq_len

    # the Keras recipe: each target frame gets its own 32-frame window run from a zero state
    windows = batch0.inputs[:, :WINDOW].reshape(-1, WINDOW, config.frame_dim)
    win_targets = batch0.targets[:, WINDOW - 1]
    opt_w = torch.optim.Adam(ref.parameters(), lr=1e-3)

    def window_step() -> int:
        mix, _ = ref(windows)
        last = type(mix)(mix.logits[:, -1], mix.mu[:, -1], mix.log_sigma[:, -1])
        loss = diag_mixture_nll(last, win_targets).mean()
        opt_w.zero_grad()
        loss.backward()
        opt_w.step()
        return len(windows)

    plain = _timed(plain_step, seconds)
    window = _timed(window_step, seconds)
    ours: dict[str, float] = {}
    for precision in ("auto", "fp32"):
        cfg = TrainConfig(minutes=seconds / 60, batch=batch, seq_len=seq_len, val_every=10**9,
                          checkpoint_every_s=1e9, device=str(dev), precision=precision)
        ours[precision] = fit(task, cfg).frames_per_s
    return {
        "device": str(dev),
        "model": f"{config.layers} x LSTM {config.hidden}, {config.mixtures} mixtures, {BENCH_JOINTS} joints",
        "batch": batch, "seq_len": seq_len,
        "ours_frames_per_s": ours["auto"],
        "ours_fp32_frames_per_s": ours["fp32"],
        "plain_torch_frames_per_s": plain,
        "lookback_window_frames_per_s": window,
        "ratio_vs_plain": ours["auto"] / plain,
        "ratio_fp32_vs_plain": ours["fp32"] / plain,
        "ratio_vs_lookback_window": ours["auto"] / window,
        "target": "ratio_vs_plain >= 0.9, ratio_vs_lookback_window >= 10",
    }


def bench_dance_generation(seconds: float = 5.0, device: str = "cpu") -> dict[str, Any]:
    """Generation frames/s: DanceGenerator vs a bare one-step LSTM loop vs re-running a window per frame.

    On a GPU the generator steps the LSTM with torch on the device (the CPU steps it in NumPy).
    """
    config = DanceConfig(n_joints=BENCH_JOINTS)
    model, _, _ = _bench_model(config)
    dev = resolve_device(device)
    model = model.to(dev).eval()
    gen = DanceGenerator(model, seed_frame=200, look_back=WINDOW, rng=0)

    def ours() -> int:
        gen.generate(50)
        return 50

    x = torch.randn(1, 1, config.frame_dim, device=dev)
    state: list[Any] = [None]

    def bare() -> int:  # nn.LSTM + head, one frame per call, no sampling or decoding
        with torch.no_grad(), torch.backends.mkldnn.flags(enabled=False):  # the fastest bare path on CPU
            for _ in range(50):
                h, state[0] = model.lstm(x, state[0])
                model.head(h)
        return 50

    window = torch.randn(1, WINDOW, config.frame_dim, device=dev)

    def rerun_window() -> int:
        with torch.no_grad():
            for _ in range(10):
                model(window)
        return 10

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one frame at a time: a second thread only adds hand-off cost (the worker uses 1 too)
    try:
        f_ours, f_bare, f_win = _timed(ours, seconds), _timed(bare, seconds), _timed(rerun_window, seconds)
    finally:
        torch.set_num_threads(threads)
    return {
        "device": str(dev), "lstm_step": "numpy" if gen._numpy_lstm is not None else "torch",
        "ours_frames_per_s": f_ours, "bare_lstm_step_frames_per_s": f_bare,
        "window_rerun_frames_per_s": f_win,
        "ratio_vs_bare_step": f_ours / f_bare, "ratio_vs_window_rerun": f_ours / f_win, "threads": 1,
        "target": "ratio_vs_bare_step >= 0.8, ratio_vs_window_rerun >= 1.5, well over 30 frames/s",
    }


def bench_precision(seconds: float = 10.0, batch: int = 32, seq_len: int = 128, device: str = "cpu"
                    ) -> dict[str, Any]:
    """bf16 vs fp32 training on equal steps from the same start: speed and the validation loss reached.

    bf16 is the CPU's cast-weights path there, and autocast on CUDA.
    """
    from engine.core.device import cpu_has_fast_bf16

    dev = str(resolve_device(device))
    config = DanceConfig(n_joints=BENCH_JOINTS)
    results: dict[str, dict[str, float]] = {}
    steps = None
    for precision in ("fp32", "bf16"):
        _, task, _ = _bench_model(config)  # same seed: same initial weights and crops
        cfg = TrainConfig(batch=batch, seq_len=seq_len, val_every=10**9, checkpoint_every_s=1e9, device=dev,
                          precision=precision, warmup_steps=5)
        if steps is None:
            cfg.minutes = seconds / 60
        else:
            cfg.epochs = steps / (task.train_targets / (batch * seq_len))
        r = fit(task, cfg)
        steps = steps or r.steps
        results[precision] = {"steps": r.steps, "seconds": r.seconds, "val_loss": r.val_loss or float("nan")}
    fp32, bf16 = results["fp32"], results["bf16"]
    return {
        "device": dev, "cpu_has_fast_bf16": cpu_has_fast_bf16(), "steps": fp32["steps"],
        "fp32_s_per_step": fp32["seconds"] / fp32["steps"], "bf16_s_per_step": bf16["seconds"] / bf16["steps"],
        "bf16_speedup": (fp32["seconds"] / fp32["steps"]) / (bf16["seconds"] / bf16["steps"]),
        "fp32_val_loss": fp32["val_loss"], "bf16_val_loss": bf16["val_loss"],
        "val_loss_difference": bf16["val_loss"] - fp32["val_loss"],
    }
