"""Worker: background training and generation, cancellation, supersession, error events."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from engine import DanceGenerator
from engine.core.errors import ChoreoError
from engine.session.worker import GenerationParams, GenerationRequest, Worker, error_message


@pytest.fixture
def worker():
    w = Worker(device="cpu")
    yield w
    w.shutdown()


def test_error_message_is_one_line():
    assert error_message(ChoreoError("bad value", "a.npy")) == "a.npy: bad value"
    assert error_message(ValueError("boom\nmore")) == "Unexpected error: ValueError: boom"


def test_training_events_and_result(worker, dancer, tiny_model_config, tiny_train_config):
    events, results = [], []
    worker.training.connect(events.append)
    worker.training_finished.connect(results.append)
    worker.start_training(dancer, model_config=tiny_model_config, config=tiny_train_config(epochs=0.5))
    with pytest.raises(ChoreoError, match="already running"):
        worker.start_training(dancer, model_config=tiny_model_config, config=tiny_train_config())
    assert worker.wait_training(30)
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert len(results) == 1 and results[0].model is not None


def test_training_exception_becomes_error_event(worker, dancer, tiny_model_config, tiny_train_config):
    errors, finished = [], []
    worker.error.connect(errors.append)
    worker.training_finished.connect(finished.append)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    worker.start_training(dancer, train_fn=broken)
    assert worker.wait_training(10)
    assert [e.message for e in errors] == ["Unexpected error: RuntimeError: disk on fire"]
    assert errors[0].job == "training" and "Traceback" in errors[0].details
    assert not finished
    worker.start_training(dancer, model_config=tiny_model_config, config=tiny_train_config(epochs=0.2))  # still usable
    assert worker.wait_training(30)
    assert finished


def test_generation_streams_first_frame_alone_then_chunks(worker, tiny_model):
    chunks, done = [], []
    worker.frames.connect(chunks.append)
    worker.generation_finished.connect(done.append)
    rid = worker.generate(GenerationRequest(tiny_model, GenerationParams(frames=40)))
    assert worker.wait_generation(10)
    assert chunks[0].start == 0 and chunks[0].frames.shape[1] == 1
    assert [c.request_id for c in chunks] == [rid] * len(chunks)
    assert sum(c.frames.shape[1] for c in chunks) == 40
    assert len(done) == 1 and not done[0].cancelled
    streamed = np.concatenate([c.frames for c in chunks], axis=1)
    np.testing.assert_array_equal(streamed, done[0].positions)
    expected = DanceGenerator(tiny_model, rng=0).generate(40)
    np.testing.assert_allclose(done[0].positions[0], expected, atol=1e-5)


def test_new_request_supersedes_running_one(worker, tiny_model):
    done = []
    started = threading.Event()
    worker.frames.connect(lambda c: started.set())
    worker.generation_finished.connect(done.append)
    first = worker.generate(GenerationRequest(tiny_model, GenerationParams(frames=1_000_000)))
    assert started.wait(10)
    second = worker.generate(GenerationRequest(tiny_model, GenerationParams(frames=5)))
    assert worker.wait_generation(10)
    by_id = {d.request_id: d for d in done}
    assert by_id[first].cancelled and by_id[first].positions.shape[1] < 1_000_000
    assert not by_id[second].cancelled and by_id[second].positions.shape[1] == 5


def test_generation_error_event(worker, tiny_model):
    errors = []
    worker.error.connect(errors.append)
    bad_seed = np.zeros((50, 3, 3), np.float32)  # wrong joint count for the model
    rid = worker.generate(GenerationRequest(tiny_model, GenerationParams(frames=5), seed=bad_seed))
    assert worker.wait_generation(10)
    assert len(errors) == 1 and errors[0].request_id == rid and errors[0].job == "generation"
    assert "model expects" in errors[0].message and "\n" not in errors[0].message


def test_cancel_generation_and_shutdown(tiny_model):
    w = Worker(device="cpu")
    done = []
    w.generation_finished.connect(done.append)
    w.generate(GenerationRequest(tiny_model, GenerationParams(frames=1_000_000)))
    time.sleep(0.05)
    w.cancel_generation()
    assert w.wait_generation(10)
    assert done and done[0].cancelled
    w.shutdown()
    w.shutdown()  # idempotent
    with pytest.raises(ChoreoError):
        w.generate(GenerationRequest(tiny_model, GenerationParams(frames=5)))
