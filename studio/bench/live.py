"""Benchmark: how live generation feels while a model trains in the background.

``bench_live_latency`` loads a model of the default size into a
:class:`Session`, starts training a second one in the worker, switches live
mode on and moves the temperature "slider" ``changes`` times. It measures

- change -> first frame: from the setter call to the worker emitting the
  first frame of the regenerated take (``first_frame_ms``), and to that frame
  being delivered in the calling thread through a ``thread=`` queued
  connection drained every millisecond, like a UI timer (``delivered_ms``);
- the calling thread's stalls: the longest setter call (``setter_max_ms``),
  the longest ``psygnal.emit_queued()`` drain (``drain_max_ms``) and the
  longest gap of a 1 ms heartbeat loop beyond its sleep (``heartbeat_max_gap_ms``,
  which includes waiting for the GIL held by worker threads and OS scheduling),
  and the same heartbeat's longest gap from the Train call to the first training
  step (``training_start_max_gap_ms``: the freeze a user would see after clicking Train).
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict
from typing import Any

import numpy as np
import psygnal

from engine.core.training import TrainConfig
from engine.dance.model import DanceConfig


def _stats(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=np.float64) * 1e3
    return {"median": float(np.median(a)), "p95": float(np.percentile(a, 95)), "max": float(a.max())}


def bench_live_latency(
    changes: int = 50,
    hidden: int = 256,
    layers: int = 3,
    mixtures: int = 8,
    joints: int = 55,
    frames: int = 300,
    pause_s: float = 0.08,
    with_training: bool = True,
    device: str = "cpu",
    rng: int = 0,
    seconds: float | None = None,
    directed: bool = True,
) -> dict[str, Any]:
    """Change->first-frame latency and calling-thread stalls of live generation, training running.

    ``directed``: the take is directed (two keyframes, the arms kept from the clip, a part
    temperature) and every other change moves a keyframe instead of the temperature;
    ``keyframe_first_frame_ms`` is the latency of those changes alone.

    ``pause_s`` is the time between slider moves after a first frame arrives (the
    take keeps generating meanwhile, so most changes supersede a running take).
    Returns milliseconds (median/p95/max) and the setup; raises ChoreoError on failure.
    ``seconds`` (the per-measurement time of ``choreo bench``) is not used: the count of
    changes sets the length of this measurement.
    """
    from engine.core.errors import ChoreoError
    from engine.dance.synthetic import synthetic_markers
    from engine.dance.task import train
    from engine.session import Session, TakeFrames

    motion = synthetic_markers(frames=1200, n_markers=joints, rng=rng)
    model_config = DanceConfig(hidden=hidden, layers=layers, mixtures=mixtures)
    setup_cfg = TrainConfig(epochs=1e-9, batch=2, seq_len=16, device=device, precision="fp32")
    model = train(motion, model_config=model_config, config=setup_cfg).model  # untrained weights: timing only

    first_emit: dict[int, float] = {}
    delivered: dict[int, float] = {}
    arrived = threading.Event()
    stall_setter: list[float] = []
    drains: list[float] = []
    gaps: list[float] = []
    start_gaps: list[float] = []
    first_ms: list[float] = []
    keyframe_ms: list[float] = []
    delivered_ms: list[float] = []
    train_steps = 0
    with Session(device=device) as session:
        session.load(motion)
        session.load_model(model)
        session.duration, session.seed_frame, session.rng = frames / motion.fps, 600, rng

        def on_frames_worker(c: TakeFrames) -> None:  # direct: runs in the worker thread
            if c.start == 0:
                first_emit.setdefault(c.take_id, c.t)
                arrived.set()

        def on_frames_main(c: TakeFrames) -> None:  # queued into the calling thread
            if c.start == 0:
                delivered.setdefault(c.take_id, time.perf_counter())

        session.events.take_frames.connect(on_frames_worker)
        session.events.take_frames.connect(on_frames_main, thread="current")
        if with_training:
            session.start_training(minutes=60, config=TrainConfig(device=device), model_config=model_config)
            deadline = time.monotonic() + 120
            last = time.perf_counter()
            while session.training_progress.step < 1:  # the calling thread's heartbeat while training starts
                if session.training_status == "idle" or time.monotonic() > deadline:
                    raise ChoreoError(f"benchmark: training did not start ({session.last_error})")
                psygnal.emit_queued()
                time.sleep(0.001)
                now = time.perf_counter()
                start_gaps.append(max(0.0, now - last - 0.001))
                last = now
        if directed:
            session.add_keyframe(90, source="clip", source_frame=700)
            session.add_keyframe(200, source="clip", source_frame=900)
            session.keep_joints("arms")
            session.set_part_temperature("legs", 0.7)
        session.live = True

        def tick_until(pred, limit: float) -> None:
            end = time.perf_counter() + limit
            last = time.perf_counter()
            while not pred() and time.perf_counter() < end:
                time.sleep(0.001)
                now = time.perf_counter()
                gaps.append(max(0.0, now - last - 0.001))
                t = time.perf_counter()
                psygnal.emit_queued()
                drains.append(time.perf_counter() - t)
                last = time.perf_counter()

        for i in range(changes):
            arrived.clear()
            moves_keyframe = directed and i % 2 == 1
            t0 = time.perf_counter()
            if moves_keyframe:
                session.move_keyframe(0, 60 + i)  # a new frame each time
            else:
                session.temperature = 0.5 + 0.5 * (i % 2) + 0.01 * i  # a new value each time
            stall_setter.append(time.perf_counter() - t0)
            take_id = session.takes[session.current_take].id
            tick_until(lambda tid=take_id: tid in delivered, 10.0)
            if take_id not in first_emit or take_id not in delivered:
                raise ChoreoError(f"benchmark: no frame within 10 s of change {i} ({session.last_error})")
            first_ms.append(first_emit[take_id] - t0)
            if moves_keyframe:
                keyframe_ms.append(first_emit[take_id] - t0)
            delivered_ms.append(delivered[take_id] - t0)
            tick_until(lambda: False, pause_s)
        train_steps = session.training_progress.step
        session.live = False
        session.cancel_training()
        session.wait_idle(120)
        psygnal.emit_queued()
        session.events.take_frames.disconnect(on_frames_main)

    return {
        "changes": changes,
        "model": asdict(model_config) | {"n_joints": joints},
        "training_running": with_training,
        "training_steps_during_bench": train_steps,
        "directed": directed,
        "first_frame_ms": _stats(first_ms),
        "keyframe_first_frame_ms": _stats(keyframe_ms) if keyframe_ms else None,
        "delivered_ms": _stats(delivered_ms),
        "setter_max_ms": float(max(stall_setter) * 1e3),
        "drain_max_ms": float(max(drains) * 1e3) if drains else 0.0,
        "heartbeat_max_gap_ms": float(max(gaps) * 1e3) if gaps else 0.0,
        "training_start_max_gap_ms": float(max(start_gaps) * 1e3) if start_gaps else 0.0,
        "heartbeat_p99_gap_ms": float(np.percentile(np.asarray(gaps) * 1e3, 99)) if gaps else 0.0,
    }
