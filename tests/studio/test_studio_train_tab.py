"""Issue 14, item 7: the Train tab says what is true: the clip is loaded, the plot's scale is the loss's,
a cancelled run shows where it stopped, overfitting is named, and the key never covers the curves."""

from __future__ import annotations

import pytest

pytest.importorskip("PyQt6")
pytest.importorskip("vispy")

from engine.core.training import TrainEvent, TrainResult
from engine.dance.synthetic import synthetic_dancer


def _fake_run(events: list[TrainEvent], stopped: str):
    """A train function that reports ``events`` and ends ``stopped`` (no model made)."""

    def run(_data, on_event, **_kw) -> TrainResult:
        for e in events:
            on_event(e)
        return TrainResult(frames=0, seconds=1.0, frames_per_s=0.0, train_loss=None, val_loss=None,
                           best_val_loss=None, steps=events[-1].step, stopped=stopped, checkpoint=None)

    return run


def test_the_train_tab_knows_a_clip_is_loaded(qtbot, win):
    p = win.training
    assert "Load a clip" in p.status.text()
    win.session.load(synthetic_dancer(frames=300))
    qtbot.waitUntil(lambda: "Ready to train" in p.status.text(), timeout=3000)
    assert "Load a clip" not in p.status.text() and "10.0 s" in p.status.text()


def test_the_empty_loss_plot_has_the_losss_own_scale(qtbot, win):
    p = win.training
    axis = p.plot.getAxis("left")
    assert "x0.001" not in axis.labelString() and "(x" not in axis.labelString()
    (_x0, _x1), (y0, y1) = p.plot.viewRange()
    assert -1.5 <= y0 < y1 <= 1.5 and p.empty_note.isVisible()
    assert "appear here" in p.empty_note.toPlainText()


def test_a_cancelled_run_shows_where_it_stopped_and_overfitting_is_named(qtbot, win):
    s, p = win.session, win.training
    s.load(synthetic_dancer(frames=300))
    events = [TrainEvent("start", step=0)]
    for step in range(1, 41):  # training loss keeps falling
        events.append(TrainEvent("progress", step=step, fraction=step / 100, train_loss=1.0 - step / 50, eta_s=30.0))
        if step % 10 == 0:  # validation loss rises after the first check: overfitting
            events.append(TrainEvent("validation", step=step, val_loss=0.5 + step / 100, fraction=step / 100))
    s.start_training(minutes=1, train_fn=_fake_run(events, "cancelled"))
    qtbot.waitUntil(lambda: s.training_status == "idle" and s.last_training is not None, timeout=10000)
    qtbot.waitUntil(lambda: "cancelled" in p.progress.format(), timeout=3000)
    assert "100%" not in p.progress.format() and "40%" in p.progress.format()
    assert p.progress.value() == 400
    assert p.warning.isVisibleTo(p) and "overfitting" in p.warning.text()
    assert not p.empty_note.isVisible()


def test_the_key_sits_outside_the_plot(qtbot, win):
    p = win.training
    assert p.plot.getPlotItem().legend is None  # nothing drawn over the curves
    assert "training loss" in p.key.text() and "validation loss" in p.key.text()
    assert p.key.isVisibleTo(p)
