"""Scale benchmark: a one-hour, 120 fps, 55-joint clip, and 100,000 streamed frames.

Not a test: ``bench_scale()`` returns a dict of figures (memory in MB, times in s).
Each phase runs in a fresh spawned process, so its peak resident memory
(``ru_maxrss``) belongs to that phase alone:

- ``make``: write the synthetic clip to ``.npy`` in chunks (never whole in memory);
- ``load``: ``load_motion`` (memory-mapped ``.npy``);
- ``stages``: the steps ``train`` takes, one by one, with the peak after each
  (load, ``MotionCodec.fit``, ``DanceTask``), to name the code responsible for memory;
- ``train``: the public ``train`` with the default ``DanceConfig`` for ``seconds``
  of training (at least a few steps) -- the headline figure, to compare with the
  look-back-window recipe, whose windows are computed here, never allocated;
- ``generate``: a small model streams ``gen_frames`` frames with
  ``DanceGenerator.stream``; resident memory is sampled along the way.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

MB = 1 << 20
WINDOW = 32  # look-back frames per target in the Keras recipe


def _peak_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (MB if os.uname().sysname == "Darwin" else 1024)


def _rss_mb() -> float:
    """Current resident memory of this process."""
    try:
        import psutil  # optional: only used when present

        return psutil.Process().memory_info().rss / MB
    except ImportError:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


def _quiet_torch() -> None:
    import torch

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


def _make_clip(path: str, frames: int, joints: int, fps: float, chunk: int = 20_000) -> dict[str, Any]:
    """A smooth synthetic dancer-like clip, written chunk by chunk into a ``.npy`` file."""
    rng = np.random.default_rng(0)
    rest = rng.normal(0.0, 0.3, (joints, 3)).astype(np.float64)
    rest[:, 1] += np.linspace(0.0, 1.7, joints)
    freq = rng.uniform(0.2, 2.0, (joints, 3))
    phase = rng.uniform(0, 2 * np.pi, (joints, 3))
    amp = rng.uniform(0.02, 0.2, (joints, 3))
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(frames, joints, 3))
    for a in range(0, frames, chunk):
        t = (np.arange(a, min(frames, a + chunk)) / fps)[:, None, None]
        centre = np.concatenate([np.sin(0.05 * t) * 2, 0 * t, np.cos(0.07 * t) * 2], axis=2)
        out[a : a + len(t)] = rest + amp * np.sin(2 * np.pi * freq * t + phase) + centre
    out.flush()
    del out
    return {"file_mb": os.path.getsize(path) / MB, "peak_rss_mb": _peak_mb()}


def _load(path: str) -> dict[str, Any]:
    from engine.dance.motion import load_motion

    base = _peak_mb()
    t0 = time.perf_counter()
    m = load_motion(path)
    mapped = isinstance(m.positions, np.memmap) or isinstance(getattr(m.positions, "base", None), np.memmap)
    return {"seconds": time.perf_counter() - t0, "memory_mapped": bool(mapped), "layout": m.layout,
            "frames": m.n_frames, "joints": m.n_joints, "peak_rss_mb": _peak_mb(), "baseline_rss_mb": base}


def _stages(path: str) -> dict[str, Any]:
    """The memory peak after each stage ``train`` goes through (same calls, same order)."""
    import torch

    from engine.dance.model import DanceConfig, DanceModel
    from engine.dance.motion import load_motion
    from engine.dance.representation import MotionCodec
    from engine.dance.task import DanceTask

    _quiet_torch()
    out: dict[str, Any] = {"baseline_rss_mb": _peak_mb()}
    m = load_motion(path)
    out["after_load_mb"] = _peak_mb()
    t0 = time.perf_counter()
    codec = MotionCodec.fit([m.positions])
    out["codec_fit_seconds"] = time.perf_counter() - t0
    out["after_codec_fit_mb"] = _peak_mb()
    torch.manual_seed(0)
    model = DanceModel(DanceConfig(n_joints=m.n_joints))
    t0 = time.perf_counter()
    task = DanceTask(model, [m.positions], codec, 0.1, extra={})
    out["task_build_seconds"] = time.perf_counter() - t0
    out["after_task_build_mb"] = _peak_mb()
    out["task_arrays_mb"] = sum(sum(a.nbytes for a in part) for part in task.train_parts + task.val_parts) / MB
    out["rss_holding_task_mb"] = _rss_mb()
    return out


def _train(path: str, seconds: float) -> dict[str, Any]:
    from engine.core.training import TrainConfig
    from engine.dance.model import DanceConfig
    from engine.dance.motion import load_motion
    from engine.dance.task import train

    _quiet_torch()
    base = _peak_mb()
    marks: dict[str, float] = {}

    def on_event(e: Any) -> None:
        if e.kind == "start":
            marks["peak_at_start_mb"] = _peak_mb()

    t0 = time.perf_counter()
    m = load_motion(path)
    config = TrainConfig(minutes=max(seconds, 1.0) / 60.0, device="cpu", precision="fp32")
    result = train(m, None, model_config=DanceConfig(), config=config, on_event=on_event)
    return {"baseline_rss_mb": base, **marks, "peak_rss_mb": _peak_mb(), "steps": result.steps,
            "frames_trained": result.frames, "seconds_total": time.perf_counter() - t0,
            "train_loss": result.train_loss, "val_loss": result.val_loss}


def _generate(frames: int) -> dict[str, Any]:
    from engine.core.training import TrainConfig
    from engine.dance.generation import DanceGenerator
    from engine.dance.model import DanceConfig
    from engine.dance.synthetic import synthetic_dancer
    from engine.dance.task import train

    _quiet_torch()
    result = train(synthetic_dancer(frames=600, fps=30.0, rng=0), None,
                   model_config=DanceConfig(hidden=32, layers=1, mixtures=3),
                   config=TrainConfig(epochs=1, batch=8, seq_len=32, device="cpu", precision="fp32"))
    gen = DanceGenerator(result.model, look_back=32, rng=0)
    every = max(1, frames // 10)
    samples: list[float] = []
    before = _rss_mb()
    t0 = time.perf_counter()
    finite = True
    for i, frame in enumerate(gen.stream(frames)):
        if i % 1000 == 0:
            finite &= bool(np.isfinite(frame).all())
        if (i + 1) % every == 0:
            samples.append(round(_rss_mb(), 1))
    seconds = time.perf_counter() - t0
    after = _rss_mb()
    warm = samples[0] if samples else before  # after the first tenth: allocator and caches warmed up
    return {"frames": frames, "seconds": seconds, "frames_per_s": frames / max(seconds, 1e-9),
            "rss_before_mb": before, "rss_after_mb": after, "growth_mb": after - before,
            "growth_after_warmup_mb": after - warm, "rss_samples_mb": samples, "finite": finite}


def _in_child(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``fn(*args)`` in a fresh spawned process so its peak memory is its own."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(fn, args)


def bench_scale(seconds: float = 20.0, clip_seconds: float = 3600.0, fps: float = 120.0, joints: int = 55,
                gen_frames: int = 100_000, folder: str | Path | None = None) -> dict[str, Any]:
    """Memory at scale; see the module docstring. ``seconds``: training budget of the ``train`` phase.

    ``clip_seconds`` x ``fps`` frames of ``joints`` joints (default one hour, 432,000 frames);
    ``gen_frames`` frames generated while resident memory is sampled. Returns figures in MB / s.
    """
    frames = round(clip_seconds * fps)
    dim = joints * 3 + 3
    targets = frames - 1
    with tempfile.TemporaryDirectory(dir=folder, prefix="choreo-scale-") as d:
        path = str(Path(d) / "hour.npy")
        figures: dict[str, Any] = {
            "clip": {"frames": frames, "joints": joints, "fps": fps, "features_per_frame": dim},
            "keras_window_recipe_gb": targets * WINDOW * dim * 4 / 1e9,
            "keras_window_recipe_note": f"{targets:,} targets x {WINDOW} frames x {dim} features x 4 bytes",
        }
        figures["make"] = _in_child(_make_clip, path, frames, joints, fps)
        figures["load"] = _in_child(_load, path)
        figures["stages"] = _in_child(_stages, path)
        figures["train"] = _in_child(_train, path, seconds)
    figures["generate"] = _in_child(_generate, gen_frames)
    figures["train_peak_gb"] = figures["train"]["peak_rss_mb"] * MB / 1e9
    figures["train_under_2gb"] = figures["train_peak_gb"] < 2.0
    return figures
