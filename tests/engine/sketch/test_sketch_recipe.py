"""Long drawings: the stand-in class, re-simplification, over-long inputs, the budget, and the unpacked encoder."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from engine.core.training import TrainEvent
from engine.sketch.animals import animal_sketches, animal_svgs
from engine.sketch.model import SketchConfig, SketchRNN
from engine.sketch.progress import SampleMonitor, finished_flags
from engine.sketch.quality import sketch_size, stroke_count
from engine.sketch.recipe import TARGET_MEDIAN_POINTS, budget_minutes, fit_to_length, plan_training, prepare
from engine.sketch.simplify import simplify_stroke3
from engine.sketch.svg import read_svg_folder
from engine.sketch.task import pen_weight_at, sketch_losses


def test_the_long_stand_ins_are_long_and_have_many_strokes(tmp_path):
    pigs = animal_sketches(120, rng=0)
    assert np.median([len(s) for s in pigs]) >= 100 and np.median([stroke_count(s) for s in pigs]) >= 8
    fish = read_svg_folder(animal_svgs(tmp_path / "fish", n=40, rng=1))
    assert len(fish) == 40
    assert np.median([len(s) for s in fish]) >= 100 and np.median([stroke_count(s) for s in fish]) >= 8


def test_simplifying_keeps_strokes_ends_and_size():
    for s in animal_sketches(20, rng=2):
        t = simplify_stroke3(s, 5.0)
        assert len(t) < len(s) and t.dtype == s.dtype
        assert stroke_count(t) == stroke_count(s)
        assert abs(sketch_size(t) - sketch_size(s)) < 0.05 * sketch_size(s)
        lifts_s = np.cumsum(s[:, :2], 0)[s[:, 2] == 1]
        lifts_t = np.cumsum(t[:, :2], 0)[t[:, 2] == 1]
        assert np.array_equal(lifts_s, lifts_t)  # every stroke still ends where it did


def test_plan_simplifies_long_sets_only_and_chooses_a_budget():
    long = animal_sketches(150, rng=3)
    plan = plan_training(long, 250)
    assert plan.epsilon > 0 and plan.median_points_after <= TARGET_MEDIAN_POINTS + 5
    assert "simplified to median" in plan.describe() and "--minutes overrides" in plan.describe()
    prepared = prepare(long, plan)
    assert np.median([len(s) for s in prepared]) < np.median([len(s) for s in long])
    short = [s[:30] for s in long]
    assert plan_training(short, 250).epsilon == 0
    assert plan_training(long, 250, minutes=7).minutes == 7
    assert budget_minutes(10_000, 40) == 4.0  # kanji: the measured 4 minutes
    assert budget_minutes(7400, 72) > budget_minutes(7400, 40)
    assert budget_minutes(10**7, 250) == 12.0


def test_over_long_messy_drawings_are_fitted_not_dropped():
    rng = np.random.default_rng(0)
    messy = np.zeros((900, 3), np.int16)  # one jittery scribble of 900 points in 3 strokes
    messy[:, :2] = rng.integers(-6, 7, (900, 2))
    messy[[299, 599, 899], 2] = 1
    fitted = fit_to_length(messy, 250, 0.0)
    assert fitted is not None and len(fitted) <= 250 and stroke_count(fitted) == 3
    plan = plan_training([messy] * 3, 250, simplify=False)
    assert "left out" in plan.describe() and prepare([messy], plan, simplify=False) == []


def test_the_encoder_without_packing_is_the_packed_encoder():
    torch.manual_seed(0)
    model = SketchRNN(SketchConfig(enc_hidden=12, z_size=6))
    x = torch.randn(5, 40, 5)
    lengths = torch.tensor([40, 3, 17, 1, 29])
    mu, logvar = model.encode(x, lengths)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    _, (h, _) = model.encoder(packed)
    want = model.to_latent(torch.cat([h[0], h[1]], -1))
    assert torch.allclose(torch.cat([mu, logvar], -1), want, atol=1e-5)
    (mu.sum() + logvar.sum()).backward()
    got = model.encoder.weight_hh_l0_reverse.grad.clone()
    model.zero_grad()
    want.sum().backward()
    assert torch.allclose(got, model.encoder.weight_hh_l0_reverse.grad, atol=1e-5)


def test_pen_weight_weights_lifts_and_ends_and_decays():
    cfg = SketchConfig(pen_weight=3.0, pen_weight_decay=0.99)
    assert pen_weight_at(cfg, 0) == 3.0 and 1.0 < pen_weight_at(cfg, 100) < 1.8
    torch.manual_seed(0)
    model = SketchRNN(SketchConfig(enc_hidden=8, dec_hidden=16, z_size=4, mixtures=2))
    x5 = torch.zeros(2, 6, 5)
    x5[:, 0, 2] = 1
    x5[:, 1:4, 2] = 1
    x5[:, 4, 3] = 1  # a lift
    x5[:, 5, 4] = 1  # the end
    lengths = torch.tensor([4, 4])
    mix, mu, logvar = model(x5, lengths, torch.zeros(2, 4))
    plain = sketch_losses(mix, x5, lengths, mu, logvar)["pen"]
    weighted = sketch_losses(mix, x5, lengths, mu, logvar, pen_weight=3.0)["pen"]
    assert weighted > plain


def test_finished_means_ended_lifted_not_a_stub_and_not_over_long():
    s = np.array([[1, 1, 0], [2, 2, 1]] * 5, np.int16)
    assert finished_flags([s, s, s[:-1], s[:2]], [True, False, True, True], longest=20, shortest=4) == [
        True, False, False, False]
    assert finished_flags([s], [True], longest=10) == [False]  # as long as the longest training drawing


def test_the_monitor_samples_a_grid_and_keeps_the_training_mode():
    torch.manual_seed(0)
    model = SketchRNN(SketchConfig(enc_hidden=8, dec_hidden=16, z_size=4, mixtures=2)).train()
    model.scale, model.max_len = 10.0, 30
    seen = []
    monitor = SampleMonitor(model, seen.append, every_s=60.0, n=3)
    monitor(TrainEvent("progress", step=4))
    assert [e.kind for e in seen] == ["progress"]  # not yet: the first grid comes after every_s
    monitor._next = 0.0
    monitor(TrainEvent("progress", step=5))
    seen.pop(0)
    assert [e.kind for e in seen] == ["progress", "samples"] and len(seen[1].sketches) == 3
    assert model.training and seen[1].message.endswith("finished")
    monitor(TrainEvent("done", step=6))
    assert [e.kind for e in seen[-2:]] == ["samples", "done"] and seen[-2].step == 6  # "done" stays last
