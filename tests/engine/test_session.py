"""Session: evented state, background training, live generation, errors, clean shutdown."""

from __future__ import annotations

import threading
import time

import numpy as np
import psygnal
import pytest

from engine import DanceGenerator, Motion
from engine.core.errors import ChoreoError


def wait_for(pred, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_setters_validate_and_emit_only_on_change(session, tiny_model):
    seen = []
    session.events.temperature.connect(seen.append)
    session.temperature = 0.5
    session.temperature = 0.5
    session.temperature = "0.5"
    assert seen == [0.5]
    with pytest.raises(ChoreoError, match="temperature"):
        session.temperature = -1
    with pytest.raises(ChoreoError, match="whole number"):
        session.rng = 2.5
    with pytest.raises(ChoreoError, match=r"length must be 0\.1 to 600 s"):
        session.duration = 0
    with pytest.raises(ChoreoError, match="playhead must be a frame from 0 to 299"):
        session.playhead = 10_000
    session.load_model(tiny_model)
    session.mixture = 1
    with pytest.raises(ChoreoError, match="has 2"):
        session.mixture = 2
    with pytest.raises(ChoreoError):
        session.mixture = "most"
    assert session.mixture == 1 and session.temperature == 0.5


def test_load_sets_motion_skeleton_and_playhead(session, dancer):
    got = []
    session.events.motion.connect(got.append)
    session.playhead = 299
    short = Motion(dancer.positions[:100], fps=30.0)  # no bones: inferred
    session.load(short)
    assert got == [short] and session.playhead == 99
    assert session.skeleton.shape == (short.n_joints - 1, 2)


def test_training_progress_rises_loss_falls_then_model_generates(session, tiny_model_config, tiny_train_config):
    progress, status = [], []
    session.events.training_progress.connect(progress.append)
    session.events.training_status.connect(status.append)
    session.start_training(minutes=0.03, config=tiny_train_config(patience=1000), model_config=tiny_model_config)
    with pytest.raises(ChoreoError, match="already running"):
        session.start_training(epochs=1)
    assert session.wait_idle(60)
    steps = [p.step for p in progress if p.train_loss is not None]
    assert len(steps) >= 3 and steps == sorted(steps) and steps[-1] > steps[0]
    hist = session.loss_history
    assert hist.train[-1] < hist.train[0] and hist.val
    assert status == ["training", "idle"] and session.model is not None
    session.duration = 20 / 30  # seconds: 20 frames of the 30 fps clip
    assert session.frames == 20
    take = session.generate()
    assert session.wait_idle(10)
    take = session.take_by_id(take.id)
    assert take.status == "done" and take.frames_ready == 20 and np.isfinite(take.positions).all()


def test_cancel_mid_run_keeps_a_usable_model(session, tmp_path, tiny_model_config, tiny_train_config):
    session.start_training(minutes=5, config=tiny_train_config(), model_config=tiny_model_config)
    wait_for(lambda: session.training_progress.step >= 20)
    session.cancel_training()
    assert session.training_status == "cancelling"
    assert session.wait_idle(30)
    assert session.training_status == "idle" and session.last_training.stopped == "cancelled"
    assert session.model is not None and session.training_progress.fraction < 1.0  # a cancelled run is not done
    session.duration = 10 / 30
    take = session.generate()
    assert session.wait_idle(10) and session.take_by_id(take.id).frames_ready == 10
    saved = session.save_model(tmp_path / "m.pt")
    assert session.load_model(saved).config.hidden == tiny_model_config.hidden


def test_failing_job_reports_error_and_session_stays_usable(session, dancer, tiny_model, tiny_model_config,
                                                            tiny_train_config):
    errors = []
    session.events.error.connect(errors.append)
    bad = dancer.positions.copy()
    bad[50:60] = np.nan  # corrupted capture
    session.load(Motion(bad, fps=30.0, bones=dancer.bones))
    session.start_training(config=tiny_train_config(epochs=0.5), model_config=tiny_model_config)
    assert session.wait_idle(30)
    assert len(errors) == 1 and errors[0].job == "training" and "\n" not in errors[0].message
    assert session.training_status == "idle"

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    session.load(dancer)
    session.start_training(train_fn=broken)
    assert session.wait_idle(10)
    assert errors[-1].message == "Unexpected error: RuntimeError: boom"
    session.load_model(tiny_model)
    session.duration = 5 / 30
    assert session.generate() and session.wait_idle(10)
    assert session.takes[-1].status == "done" and session.generation_status == "idle"


def test_live_temperature_change_streams_frames_with_new_value(session, dancer, tiny_model):
    session.load_model(tiny_model)
    session.duration, session.seed_frame, session.rng = 1.0, 100, 3
    session.live = True
    chunks = []
    session.events.take_frames.connect(chunks.append)
    session.temperature = 0.25  # live: regenerates from the same seed moment
    assert session.wait_idle(10)
    assert chunks and {c.params.temperature for c in chunks} == {0.25}
    assert chunks[0].start == 0 and chunks[0].frames.shape[1] == 1  # the first frame comes alone
    take = session.takes[session.current_take]
    expected = DanceGenerator(tiny_model, seed=dancer, seed_frame=100, temperature=0.25, rng=3).generate(30)
    np.testing.assert_allclose(take.positions[0], expected, atol=1e-5)
    session.temperature = 0.5
    assert session.wait_idle(10)
    assert len(session.takes) == 1  # a live take replaces the previous live take
    assert session.takes[0].params.temperature == 0.5


def test_superseded_generation_stops(session, tiny_model):
    session.load_model(tiny_model)
    session.duration = 600
    first = session.generate()
    wait_for(lambda: session.take_by_id(first.id).frames_ready > 0)
    session.duration = 5 / 30
    second = session.generate()
    assert session.wait_idle(10)
    first, second = session.take_by_id(first.id), session.take_by_id(second.id)
    assert first.status == "cancelled" and first.frames_ready < 600 * 30
    assert second.status == "done" and session.current_take == 1
    assert session.generation_status == "idle"
    assert session.select_take(0) is first and session.current_take == 0
    with pytest.raises(ChoreoError):
        session.select_take(5)


def test_published_takes_never_change(session, tiny_model):
    session.load_model(tiny_model)
    session.duration = 40 / 30
    seen: list = []
    session.events.takes.connect(lambda takes: seen.extend(t for t in takes if t.id == takes[-1].id))
    session.generate()
    assert session.wait_idle(10)
    first = list(seen)
    assert len(first) >= 3 and first[-1].status == "done" and first[-1].frames_ready == 40
    copies = [(t.frames_ready, t.status, t.positions.copy()) for t in first]
    for t in first:
        assert not t.positions.flags.writeable
        with pytest.raises(ValueError):
            t.positions[...] = 0
    session.duration = 5 / 30
    session.generate()
    assert session.wait_idle(10)
    for t, (n, status, pos) in zip(first, copies, strict=True):  # later work changed none of them
        assert (t.frames_ready, t.status) == (n, status) and np.array_equal(t.positions, pos)
    assert [t.frames_ready for t in first] == sorted(t.frames_ready for t in first)


def test_continue_from_playhead(session, dancer, tiny_model):
    session.load_model(tiny_model)
    session.duration, session.continue_from_playhead, session.playhead = 5 / 30, True, 150
    take = session.generate()
    assert session.wait_idle(10) and take.seed_frame == 150


def test_queued_delivery_and_polling(session, tiny_model):
    session.load_model(tiny_model)
    main_calls, q = [], session.event_queue()
    session.events.take_frames.connect(lambda c: main_calls.append(threading.current_thread()), thread="main")
    session.duration = 12 / 30
    session.generate()
    assert session.wait_idle(10)
    assert not main_calls  # queued: nothing ran until the main thread drains the queue
    psygnal.emit_queued()
    assert main_calls and set(main_calls) == {threading.main_thread()}
    names = set()
    while not q.empty():
        names.add(q.get()[0])
    assert {"takes", "take_frames", "generation_status"} <= names


def test_export_current_take(session, tiny_model, tmp_path):
    session.load_model(tiny_model)
    session.duration, session.variations = 8 / 30, 2
    session.generate()
    assert session.wait_idle(10)
    paths = session.export(tmp_path / "take.npy")
    assert len(paths) == 2 and np.load(paths[0]).shape == (8, tiny_model.codec.n_joints, 3)


def test_generate_without_model_and_demo(session):
    with pytest.raises(ChoreoError, match="no model"):
        session.generate()
    session.load_demo()
    assert session.motion is not None and session.motion.source.startswith("synthetic")


def test_loss_history_flags_overfitting():
    from engine.session import LossHistory

    falling = dict(train_steps=tuple(range(0, 100, 10)), train=tuple(np.linspace(1.0, 0.2, 10)))
    rising = LossHistory(**falling, val_steps=(20, 40, 60, 80), val=(0.9, 0.95, 1.0, 1.1))
    improving = LossHistory(**falling, val_steps=(20, 40, 60, 80), val=(0.9, 0.8, 0.7, 0.6))
    wobbling = LossHistory(**falling, val_steps=(20, 40, 60, 80), val=(0.9, 0.8, 0.85, 0.75))
    assert rising.overfitting() and not improving.overfitting() and not wobbling.overfitting()
    assert not LossHistory().overfitting()


def test_fit_and_demo_model(session, tiny_model):
    from engine.dance.synthetic import synthetic_markers

    session.load_model(tiny_model)
    assert session.fit.ok and not session.model_is_demo
    session.load(synthetic_markers(frames=60, n_markers=55))
    assert not session.fit.ok and "55" in session.fit.message
    assert session.model is tiny_model  # both stay loaded
    session.load_demo(model=False)
    assert session.model is tiny_model and session.fit.ok
    session.load_demo()
    assert session.model_is_demo


def test_a_take_knows_its_clip_and_moment(session, tiny_model):
    session.load_model(tiny_model)
    session.duration = 0.5
    take = session.generate()
    assert take.seed is session.motion and take.params.seed_frame == take.params.look_back + 1
    session.wait_idle(30)
    session.load(session.motion)
    assert session.current_take == -1  # a newly opened clip is shown on its own
    assert session.showing().take is None
    session.select_take(0)
    assert session.showing().take.id == take.id
