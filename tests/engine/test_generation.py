"""DanceGenerator: shapes, reproducibility, live parameter changes, priming, rigid bones."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import ChoreoError, DanceConfig, DanceGenerator, DanceModel
from engine.core.recurrent import NumpyLSTM, numpy_twin
from engine.dance.skeleton import bone_lengths


@pytest.fixture(scope="module")
def model(tiny_dance):
    return DanceModel.load(tiny_dance[0])


def test_generate_shape_dtype_and_source_coordinates(model, tiny_dance):
    _, motion = tiny_dance
    frames = DanceGenerator(model, seed=motion, seed_frame=100, rng=0).generate(40)
    assert frames.shape == (40, motion.n_joints, 3) and frames.dtype == np.float32
    assert np.isfinite(frames).all()
    # the take starts where the seed left off, not at the origin of normalised space
    step = np.linalg.norm(frames[0] - motion.positions[99], axis=-1).mean()
    typical = np.linalg.norm(np.diff(motion.positions, axis=0), axis=-1).mean()
    assert step < 20 * typical


def test_same_seed_same_take_and_different_seed_different_take(model):
    a = DanceGenerator(model, seed_frame=60, rng=7).generate(30)
    b = DanceGenerator(model, seed_frame=60, rng=7).generate(30)
    c = DanceGenerator(model, seed_frame=60, rng=8).generate(30)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_variations_run_as_one_batch_and_differ(model):
    takes = DanceGenerator(model, seed_frame=60, rng=0, variations=3).generate(20)
    assert takes.shape[:2] == (3, 20)
    assert not np.array_equal(takes[0], takes[1])


def test_rigid_projection_keeps_bone_lengths(model):
    frames = DanceGenerator(model, seed_frame=60, rng=0, rigid=True).generate(50)
    lengths = bone_lengths(frames, model.bones.numpy())
    assert np.allclose(lengths, model.bone_lengths.numpy()[None], rtol=1e-5)


def test_parameters_change_between_frames_and_zero_temperature_is_deterministic(model):
    cold = dict(temperature=0.0, sigma_temperature=0.0, mixture="argmax")
    a = DanceGenerator(model, seed_frame=60, rng=0, **cold).generate(10)
    b = DanceGenerator(model, seed_frame=60, rng=123, **cold).generate(10)
    assert np.array_equal(a, b)
    warm, switched = DanceGenerator(model, seed_frame=60, rng=5), DanceGenerator(model, seed_frame=60, rng=5)
    assert np.array_equal(warm.generate(3), switched.generate(3))
    switched.temperature, switched.sigma_temperature, switched.mixture = 0.0, 0.0, "argmax"
    assert not np.array_equal(warm.generate(1), switched.generate(1))  # takes effect on the very next frame


def test_fixed_mixture_index_is_checked(model):
    k = model.config.mixtures
    DanceGenerator(model, seed_frame=60, mixture=k - 1).generate(2)
    with pytest.raises(ChoreoError, match="out of range"):
        DanceGenerator(model, seed_frame=60, mixture=k)
    gen = DanceGenerator(model, seed_frame=60)
    with pytest.raises(ChoreoError):
        gen.mixture = "sometimes"


def test_look_back_primes_on_frames_before_the_seed_frame(model, tiny_dance):
    _, motion = tiny_dance
    other = motion.positions.copy()
    other[:50] += 5.0  # change only frames long before the look-back window
    # (stay_on_stage off: the floor band is read from the whole seed clip, which this edit moves)
    a = DanceGenerator(model, seed=motion, seed_frame=120, look_back=16, rng=0, stay_on_stage=False).generate(10)
    b = DanceGenerator(model, seed=other, seed_frame=120, look_back=16, rng=0, stay_on_stage=False).generate(10)
    assert np.array_equal(a, b)


def test_step_matches_the_sequence_forward(model):
    x = torch.randn(2, 6, model.config.frame_dim)
    full, _ = model(x)
    _, state = model(x[:, :5])
    one, _ = model.step(x[:, 5], state)
    assert torch.allclose(one.mu, full.mu[:, -1], atol=1e-5)


def test_bad_seed_and_seed_frame(model):
    with pytest.raises(ChoreoError, match="expects"):
        DanceGenerator(model, seed=np.zeros((50, 3, 3), np.float32))
    with pytest.raises(ChoreoError, match="outside"):
        DanceGenerator(model, seed_frame=10**6)


@pytest.mark.parametrize("batch", [1, 3])
def test_numpy_lstm_step_matches_the_torch_step(batch):
    """Generation on the CPU steps the LSTM in NumPy: it must be the model's own step."""
    torch.manual_seed(0)
    model = DanceModel(DanceConfig(n_joints=5, hidden=16, layers=2, mixtures=2)).eval()
    x = torch.randn(batch, model.config.frame_dim)
    state = (torch.randn(2, batch, 16), torch.randn(2, batch, 16))
    want_h, (want_hs, want_cs) = model.step_hidden(x, state)
    step = numpy_twin(model.lstm, NumpyLSTM)
    h, (hs, cs) = step.step(x.numpy(), (state[0].numpy(), state[1].numpy()))
    assert np.allclose(h, want_h.numpy(), atol=1e-5)
    assert np.allclose(hs, want_hs.numpy(), atol=1e-5) and np.allclose(cs, want_cs.numpy(), atol=1e-5)
    assert numpy_twin(model.lstm, NumpyLSTM) is step  # built once per set of weights
    with torch.no_grad():
        model.lstm.weight_hh_l0.mul_(0.5)  # weights changed in place: rebuilt
    assert numpy_twin(model.lstm, NumpyLSTM) is not step


def test_the_dancer_keeps_to_the_floor_and_the_stage(model, tiny_dance):
    """A weak model's body centre drifts (it integrates velocities): its feet may float up or sink.
    With stay_on_stage the lowest joint keeps the seed clip's range of heights, and the centre turns
    back at the edge of the floor area instead of ratcheting outwards."""
    _, motion = tiny_dance
    gen = DanceGenerator(model, seed=motion, seed_frame=100, rng=0, temperature=1.5, variations=3)
    takes = gen.generate(400)
    axis, sign, floor_lo, floor_hi = gen._floor
    lowest = (sign * takes[..., axis]).min(-1)
    assert floor_lo - 1e-4 <= lowest.min() and lowest.max() <= floor_hi + 1e-4
    seed_lowest = (sign * motion.positions[..., axis]).min(-1)
    assert floor_lo <= seed_lowest.min() + 1e-6 and floor_hi >= np.percentile(seed_lowest, 99)  # from the seed
    across = [k for k in range(3) if k != axis]
    centre = takes.mean(2)[..., across]
    step = np.abs(np.diff(centre, axis=1)).max()  # one frame's travel: the most a turn can overshoot
    assert (centre >= gen._stage_lo[across] - step).all() and (centre <= gen._stage_hi[across] + step).all()
