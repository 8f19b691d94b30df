"""SketchRNN: loss against a direct computation, sampling, completion, interpolation, training + CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from engine.core.errors import ChoreoError
from engine.core.mdn import BivariateMixture
from engine.sketch import (
    SketchConfig,
    SketchRNN,
    complete,
    encode,
    interpolate,
    load_sketch_model,
    load_split,
    sample,
    sketch_losses,
    sketch_quality,
    sketch_train_config,
    synthetic_sketches,
    train_sketch,
)
from engine.sketch.quality import sketch_size
from engine.sketch.strokes import sketch_sizes, stroke3_to_stroke5
from engine.sketch.synthetic import quickdraw_like_sketches
from studio.cli import main

TINY = SketchConfig(enc_hidden=8, dec_hidden=16, z_size=4, mixtures=3, dropout=0.0)


def _save_dataset(path, splits: dict) -> None:
    """A Sketch-RNN style .npz (object arrays of int16 arrays)."""
    arrays = {}
    for name, items in splits.items():
        arr = np.empty(len(items), dtype=object)
        for i, x in enumerate(items):
            arr[i] = x
        arrays[name] = arr
    np.savez(path, **arrays)


def _tiny_model(seed: int = 0) -> SketchRNN:
    torch.manual_seed(seed)
    model = SketchRNN(TINY).eval()
    model.scale, model.integer_units, model.max_len = 50.0, True, 60
    return model


def test_loss_matches_direct_computation():
    torch.manual_seed(0)
    b, t, k = 2, 4, 3
    mix = BivariateMixture(torch.randn(b, t, k), torch.randn(b, t, k, 2), 0.3 * torch.randn(b, t, k, 2),
                           torch.tanh(torch.randn(b, t, k)), torch.randn(b, t, 3))
    sk = [np.array([[1, 2, 0], [3, -1, 1]], np.float32), np.array([[0.5, 0.5, 0], [1, 1, 0], [2, 0, 1]],
                                                                   np.float32)]
    x5, lengths = stroke3_to_stroke5(sk, t)
    x5, lengths = torch.from_numpy(x5), torch.from_numpy(lengths)
    mu_z, logvar_z = torch.randn(b, 5), torch.randn(b, 5)
    got = sketch_losses(mix, x5, lengths, mu_z, logvar_z)

    offset = pen = 0.0
    for i in range(b):
        for j in range(t):
            target = x5[i, j + 1]
            if j < lengths[i]:
                dens = 0.0
                for c in range(k):
                    s1, s2 = mix.log_sigma[i, j, c].exp()
                    r = mix.rho[i, j, c]
                    cov = torch.tensor([[s1 * s1, r * s1 * s2], [r * s1 * s2, s2 * s2]])
                    mvn = torch.distributions.MultivariateNormal(mix.mu[i, j, c], covariance_matrix=cov)
                    dens += torch.softmax(mix.logits[i, j], 0)[c] * mvn.log_prob(target[:2]).exp()
                offset += -math.log(float(dens)) / t
            pen += -float(torch.log_softmax(mix.pen_logits[i, j], 0)[target[2:].argmax()]) / t
    q = torch.distributions.Normal(mu_z, (0.5 * logvar_z).exp())
    kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).mean()
    assert float(got["offset"]) == pytest.approx(offset / b, rel=1e-4)
    assert float(got["pen"]) == pytest.approx(pen / b, rel=1e-4)
    assert float(got["kl"]) == pytest.approx(float(kl), rel=1e-4)


def test_sampling_shapes_seed_and_end_of_sketch():
    model = _tiny_model()
    out, ended = sample(model, 3, temperature=0.5, rng=1, max_points=30, return_ended=True)
    assert len(out) == 3 and len(ended) == 3
    for s in out:
        assert s.ndim == 2 and s.shape[1] == 3 and s.dtype == np.int16 and len(s) <= 30
        assert np.isin(s[:, 2], (0, 1)).all()
    again = sample(model, 3, temperature=0.5, rng=1, max_points=30)
    assert all(np.array_equal(a, b) for a, b in zip(out, again, strict=True))
    with torch.no_grad():  # make "end of sketch" certain at the 3rd step: bias the pen logits
        bias = model.head.proj.bias
        bias[-3:] = torch.tensor([50.0, 0.0, -50.0])
        out, ended = sample(model, 2, greedy=True, max_points=20, return_ended=True)
        assert [len(s) for s in out] == [20, 20] and ended == [False, False]
        # "end" wanted everywhere: it only comes right after a pen lift (end_after_lift), so a
        # one-point drawing with the pen lifted, never an empty one or one cut mid-stroke
        bias[-3:] = torch.tensor([0.0, 40.0, 50.0])
        out, ended = sample(model, 2, greedy=True, max_points=20, return_ended=True)
        assert [len(s) for s in out] == [1, 1] and ended == [True, True] and all(s[-1, 2] == 1 for s in out)
        model.config.end_after_lift = False  # the paper's free pen head may end at once
        out, ended = sample(model, 2, greedy=True, max_points=20, return_ended=True)
        assert [len(s) for s in out] == [0, 0] and ended == [True, True]


def test_completion_keeps_prefix_exactly():
    model = _tiny_model()
    prefix = synthetic_sketches(1, rng=4)[0][:9]
    endings = complete(model, prefix, n=4, temperature=0.8, rng=2, max_points=40)
    assert len(endings) == 4
    for e in endings:
        assert e.dtype == np.int16 and np.array_equal(e[: len(prefix)], prefix)
    assert len({e.tobytes() for e in endings}) > 1  # different endings
    floaty = prefix.astype(np.float32) + np.array([0.25, -0.125, 0], np.float32)
    for e in complete(model, floaty, n=2, rng=0, max_points=30):
        assert np.array_equal(e[: len(floaty)], floaty)


def test_interpolation_endpoints_are_the_inputs_latents():
    model = _tiny_model()
    a, b = synthetic_sketches(2, rng=5)
    mu, _ = encode(model, [a, b])
    for method in ("slerp", "lerp"):
        z, drawings = interpolate(model, a, b, steps=5, method=method)
        assert z.shape == (5, TINY.z_size) and len(drawings) == 5
        assert np.allclose(z[0], mu[0], atol=1e-6) and np.allclose(z[-1], mu[1], atol=1e-6)


def test_train_checkpoint_sample_and_cli(tmp_path):
    torch.set_num_threads(1)
    data = {"train": synthetic_sketches(40, rng=0), "valid": synthetic_sketches(8, rng=1),
            "test": synthetic_sketches(8, rng=2)}
    events = []
    ckpt = tmp_path / "s.pt"
    result = train_sketch(data, ckpt, model_config=TINY, config=sketch_train_config(epochs=2, batch=8,
                                                                                        val_every=5),
                          on_event=events.append)
    assert result.steps >= 5 and ckpt.exists() and events[-1].kind == "done"
    model = load_sketch_model(ckpt)
    assert model.integer_units and model.scale > 1
    samples, ended = sample(model, 4, temperature=0.4, max_points=30, return_ended=True)
    q = sketch_quality(samples, data["test"], ended, max_points=30)
    assert q["all_finite"] and q["samples"] == 4

    npz = tmp_path / "d.npz"
    _save_dataset(npz, data)
    assert main(["sketch", "generate", str(ckpt), "--n", "3", "--out", str(tmp_path / "g.npz")]) == 0
    assert main(["sketch", "generate", str(ckpt), "--n", "2", "--size", "90", "60", "--out",
                 str(tmp_path / "sized.npz")]) == 0
    assert len(load_split(tmp_path / "g.npz")) == 3
    for ext in ("svg", "png"):
        assert main(["sketch", "generate", str(ckpt), "--n", "2", "--out", str(tmp_path / f"g.{ext}")]) == 0
        assert (tmp_path / f"g.{ext}").stat().st_size > 100
    assert main(["sketch", "complete", str(ckpt), str(npz), "--split", "test", "--points", "5", "--n", "2",
                 "--out", str(tmp_path / "c.npz")]) == 0
    done = load_split(tmp_path / "c.npz")
    assert all(np.array_equal(c[:5], data["test"][0][:5]) for c in done)


def test_cli_eval_json_and_bad_inputs(tmp_path, capsys):
    ckpt = tmp_path / "s.pt"
    data = {"train": synthetic_sketches(30, rng=0), "test": synthetic_sketches(6, rng=2)}
    train_sketch(data, ckpt, model_config=TINY, config=sketch_train_config(epochs=1, batch=8))
    npz = tmp_path / "d.npz"
    _save_dataset(npz, data)
    capsys.readouterr()
    assert main(["sketch", "eval", str(ckpt), str(npz), "--split", "test", "--json"]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["sketches"] == 6 and np.isfinite(res["recon"]) and res["kl"] >= 0
    assert main(["sketch", "eval", str(ckpt), str(npz), "--split", "valid"]) == 2
    assert "no split 'valid'" in capsys.readouterr().err
    assert main(["sketch", "generate", str(npz), "--out", str(tmp_path / "x.png")]) == 2
    assert main(["sketch", "generate", str(ckpt), "--out", str(tmp_path / "x.gif")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "Traceback" not in err
    # an existing file is never replaced without --force, a checkpoint included
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"my drawing")
    assert main(["sketch", "generate", str(ckpt), "--n", "2", "--out", str(mine)]) == 2
    assert main(["sketch", "train", "--demo", "--out", str(ckpt), "--epochs", "0.1", "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err and mine.read_bytes() == b"my drawing"
    assert main(["sketch", "generate", str(ckpt), "--n", "2", "--out", str(mine), "--force"]) == 0
    assert mine.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(("position_input", "extent_input"), [(True, True), (True, False), (False, False)])
def test_stepwise_decoding_matches_whole_sequence(position_input, extent_input):
    """Sampling feeds one point at a time: the carried state (LSTM, pen position, box so far) must
    give exactly what the teacher-forced pass over the whole sequence gives."""
    torch.manual_seed(0)
    cfg = SketchConfig(**{**TINY.__dict__, "position_input": position_input, "extent_input": extent_input})
    model = SketchRNN(cfg).eval()
    x5, _ = stroke3_to_stroke5([synthetic_sketches(1, rng=3)[0][:12].astype(np.float32) / 40.0], 12)
    x5 = torch.from_numpy(x5)
    z = torch.randn(1, cfg.z_size)
    with torch.no_grad():
        whole, _ = model.decode(x5, z)
        mix, state = model.decode(x5[:, :1], z)
        steps = [mix.mu[:, 0]]
        for t in range(1, x5.shape[1]):
            mix, state = model.step(x5[:, t], z, state)
            steps.append(mix.mu)
    assert torch.allclose(whole.mu[0], torch.cat(steps), atol=1e-5)
    if position_input:  # the position the decoder saw is the running sum of the offsets
        path = torch.cumsum(x5[:, :, :2], 1)
        assert torch.allclose(state.pos, path[:, -1], atol=1e-5)
        # the box so far spans the points drawn: not the origin the start token leaves the pen at
        assert torch.allclose(state.lo, path[:, 1:].amin(1), atol=1e-5)
        assert torch.allclose(state.hi, path[:, 1:].amax(1), atol=1e-5)


def test_position_input_changes_with_where_the_pen_is():
    torch.manual_seed(0)
    model = SketchRNN(SketchConfig(**{**TINY.__dict__, "extent_input": False, "size_input": False})).eval()
    x = torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0]])
    z = torch.zeros(1, TINY.z_size)
    st = model.initial_state(z)
    with torch.no_grad():
        a, _ = model.step(x, z, st)
        b, _ = model.step(x, z, st._replace(pos=st.pos + 3.0))
    assert not torch.allclose(a.mu, b.mu)


@pytest.mark.parametrize("extent_input", [True, False])
def test_extent_input_sees_how_big_the_drawing_is(extent_input):
    """Same pen position, a bigger box drawn so far: only a model with ``extent_input`` can tell."""
    torch.manual_seed(0)
    model = SketchRNN(SketchConfig(**{**TINY.__dict__, "extent_input": extent_input})).eval()
    x = torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0]])
    z = torch.zeros(1, TINY.z_size)
    st = model.initial_state(z)._replace(lo=torch.zeros(1, 2), hi=torch.ones(1, 2))
    with torch.no_grad():
        a, _ = model.step(x, z, st)
        b, _ = model.step(x, z, st._replace(lo=st.lo - 2.0, hi=st.hi + 5.0))
    assert torch.allclose(a.mu, b.mu) != extent_input


def test_checkpoint_from_before_position_input_still_loads(tmp_path):
    data = {"train": synthetic_sketches(30, rng=0), "valid": synthetic_sketches(6, rng=1)}
    old = SketchConfig(**{**TINY.__dict__, "position_input": False, "extent_input": False, "size_input": False})
    ckpt = tmp_path / "old.pt"
    train_sketch(data, ckpt, model_config=old, config=sketch_train_config(epochs=1, batch=8))
    payload = torch.load(ckpt, weights_only=False)
    for key in ("position_input", "extent_input", "size_input"):  # as written before the options existed
        payload["model_config"].pop(key)
    torch.save(payload, ckpt)
    model = load_sketch_model(ckpt)
    assert not (model.config.position_input or model.config.extent_input or model.config.size_input)
    assert len(sample(model, 2, temperature=0.4, max_points=20)) == 2


def test_drawing_sizes_are_the_box_of_the_drawn_points():
    sketches = quickdraw_like_sketches(6, rng=4)  # the first row jumps from the origin to the first point
    wh = sketch_sizes(sketches)
    assert wh.shape == (6, 2) and (abs(wh.max(1) - 255) <= 1).all()  # like Quick, Draw!: larger side 255
    assert np.allclose(np.hypot(*wh.T), [sketch_size(s) for s in sketches])


def test_size_input_follows_the_size_asked_for(tmp_path):
    torch.manual_seed(0)
    model = SketchRNN(SketchConfig(**TINY.__dict__)).eval()
    x = torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0]])
    z = torch.zeros(1, TINY.z_size)
    with torch.no_grad():
        a, _ = model.step(x, z, model.initial_state(z, torch.tensor([[1.0, 1.0]])))
        b, _ = model.step(x, z, model.initial_state(z, torch.tensor([[4.0, 2.0]])))
    assert not torch.allclose(a.mu, b.mu)
    # training keeps the training drawings' sizes in the checkpoint; sampling draws from them
    data = {"train": quickdraw_like_sketches(30, rng=0), "valid": quickdraw_like_sketches(6, rng=1)}
    train_sketch(data, tmp_path / "s.pt", model_config=TINY, config=sketch_train_config(epochs=1, batch=8))
    loaded = load_sketch_model(tmp_path / "s.pt")
    kept = loaded.sizes.numpy() * loaded.scale
    assert kept.shape == (30, 2) and np.allclose(np.sort(kept, 0), np.sort(sketch_sizes(data["train"]), 0), atol=1e-3)
    with pytest.raises(ChoreoError, match="drawing size"):
        sample(loaded, 2, size=[-1.0, 5.0])
    with pytest.raises(ChoreoError, match="drawing size"):
        sample(loaded, 2, size=[[1.0, 2.0]] * 3)
    assert len(sample(loaded, 2, size=[200.0, 150.0], max_points=10)) == 2
