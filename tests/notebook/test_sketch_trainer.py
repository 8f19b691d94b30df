"""The notebook's SketchTrainer trains over the same engine objects and shows the plan, loss plot and sample grid."""

from __future__ import annotations

from engine.sketch import SketchConfig
from engine.sketch.animals import animal_sketches
from engine.sketch.task import sketch_train_config
from studio.notebook import SketchTrainer


def test_sketch_trainer_trains_and_shows_its_drawings(tmp_path):
    out = tmp_path / "s.pt"
    w = SketchTrainer(animal_sketches(40, rng=3), out=out,
                      model_config=SketchConfig(enc_hidden=8, dec_hidden=16, z_size=4, mixtures=2),
                      train_config=sketch_train_config(batch=8), minutes=0.08, sample_every_s=1.0)
    try:
        blank_grid, blank_loss = w.grid.value, w.loss_plot.value
        w.train()
        assert w.training and w.train_button.disabled
        assert w.wait(400)  # the training thread runs niced: slow on a busy machine
        assert not w.errors and w.result is not None and w.result.steps > 0
        assert "simplified to median" in w.plan.value and "0.08 minutes" in w.plan.value
        assert w.samples is not None and len(w.samples.sketches) == 8
        assert w.grid.value != blank_grid and w.grid.value[:4] == b"\x89PNG"
        assert w.loss_plot.value != blank_loss and len(w.history.train) >= 2
        assert "done" in w.status.value and "finished" in w.status.value
        assert w.model is not None and out.exists()
        assert len(w.drawing.from_scratch(2, temperature=0.4)) == 2
        assert not w.train_button.disabled
    finally:
        w.close()


def test_sketch_trainer_reports_a_bad_path(tmp_path):
    w = SketchTrainer(str(tmp_path / "missing.npz"), minutes=0.05)
    try:
        w.train()
        w.wait(300)
        assert w.errors and "missing.npz" in w.errors[0]
        assert "missing.npz" in w.status.value and not w.train_button.disabled
    finally:
        w.close()
