"""The Sketch tab trains a model from a file or an SVG folder: plan, loss curve and a live sample grid."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PyQt6")

from engine.sketch import SketchConfig
from engine.sketch.animals import animal_sketches, animal_svgs
from engine.sketch.strokes import save_strokes
from studio.qt.bridge import SessionBridge
from studio.qt.sketch import SketchTab

TINY = SketchConfig(enc_hidden=8, dec_hidden=16, z_size=4, mixtures=2)


@pytest.fixture
def tab(qtbot):
    bridge = SessionBridge()
    t = SketchTab(bridge)
    qtbot.addWidget(t)
    t.resize(900, 650)
    t.show()
    qtbot.waitExposed(t)
    yield t
    t.close()
    bridge.close()


def _train(qtbot, tab, data, source=None):
    errors = []
    tab.error.connect(errors.append)
    tab.trainer.train(data, source=source, minutes=0.12, model_config=TINY, batch=8, sample_every_s=1.0)
    assert tab.trainer.training and not tab.trainer.file_btn.isEnabled()
    qtbot.waitUntil(lambda: not tab.trainer.training and tab.drawing.ready
                    and "trained here" in tab.drawing.source, timeout=90000)
    assert not errors
    return tab.trainer


def test_training_on_a_stroke_file_shows_plan_loss_curve_and_live_drawings(qtbot, tab, tmp_path):
    path = save_strokes(tmp_path / "pigs.npz", animal_sketches(60, rng=1))
    panel = _train(qtbot, tab, str(path))
    assert panel.plan.text().startswith("Plan: ") and "simplified to median" in panel.plan.text()
    x, y = panel.train_curve.getData()
    assert x is not None and len(x) >= 2 and np.isfinite(y).all()
    assert panel.samples is not None and len(panel.samples.sketches) == 8
    shown = [v.sketch for v in panel.grid.views]
    assert all(s is not None for s in shown)  # the grid paints what the trainer sampled
    assert "finished" in panel.progress.format() and "done" in panel.progress.format()
    assert "pigs.npz" in tab.drawing.source
    assert tab.finish_btn.isEnabled() or tab.drawing.empty  # the new model draws


def test_training_on_an_svg_folder(qtbot, tab, tmp_path):
    folder = animal_svgs(tmp_path / "fish", n=30, rng=2)
    panel = _train(qtbot, tab, str(folder))
    assert "29 training drawings" in panel.plan.text()  # one held out for validation
    job = tab.from_scratch()
    qtbot.waitUntil(lambda: not job.running and len(tab.results) == tab.endings.value(), timeout=30000)


def test_a_bad_file_is_one_clear_message(qtbot, tab, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    errors = []
    tab.error.connect(errors.append)
    tab.trainer.train(str(bad), minutes=0.1, model_config=TINY)
    qtbot.waitUntil(lambda: bool(errors) and not tab.trainer.training, timeout=30000)
    assert "bad.npz" in errors[0] and "\n" not in errors[0]
    assert tab.trainer.file_btn.isEnabled()
