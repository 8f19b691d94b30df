"""The notebook studio widget, driven without a browser: sliders ↔ session, Train/Cancel, streaming, errors."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from engine.core.errors import ChoreoError
from studio.notebook import StudioWidget


@pytest.fixture
def widget(session, tmp_path, tiny_model_config, tiny_train_config):
    w = StudioWidget(session, model_config=tiny_model_config, train_config=tiny_train_config(val_every=5),
                     train_minutes=0, export_dir=tmp_path, view_size=(240, 180))
    yield w
    w.close()


def until(widget: StudioWidget, pred, timeout: float = 30.0) -> None:
    """Deliver queued session events (as the kernel's loop would) until ``pred()`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        widget.flush()
        if pred():
            return
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_sliders_write_through_the_session(widget, session):
    widget.temperature.value = 0.55
    widget.sigma_temperature.value = 0.3
    widget.look_back.value = 0.4  # seconds: 12 frames of the 30 fps clip
    widget.rng.value = 7
    widget.duration.value = 4.0  # 120 frames
    widget.variations.value = 3
    widget.continue_from_playhead.value = True
    widget.mixture.value = "argmax"
    p = session.params
    assert (p.temperature, p.sigma_temperature, p.look_back, p.rng, p.frames, p.variations, p.mixture) == (
        0.55, 0.3, 12, 7, 120, 3, "argmax")
    assert session.continue_from_playhead is True
    assert widget.stage.show.value == "clip"
    widget.stage.frame.value = 42  # the scrub slider is the session's playhead in clip view
    assert session.playhead == 42
    assert "clip frame 43/300" in widget.stage.readout.value


def test_session_changes_update_the_widget(widget, session, tiny_dance):
    session.temperature = 1.4
    session.look_back = 0.5
    session.duration = 300.0
    session.playhead = 77
    assert widget.temperature.value == pytest.approx(1.4) and widget.look_back.value == pytest.approx(0.5)
    assert widget.duration.value == pytest.approx(300.0) and "length 9000 frames" in widget.duration_frames.value
    session.temperature = 0  # always the likeliest: shown at the slider's floor, kept exactly in the session
    assert session.temperature == 0 and widget.temperature.value == pytest.approx(0.05)
    assert widget.stage.frame.value == 77 and widget.stage.play.value == 77
    before = [v for _, v in widget.mixture.options]
    session.load_model(tiny_dance[0])
    assert [v for _, v in widget.mixture.options] == [*before, 0, 1, 2]
    assert [label for label, _ in widget.mixture.options][-1] == "mode 2"  # the desktop studio's words
    session.mixture = 2
    assert widget.mixture.value == 2
    assert "LSTM 32" in widget.model_label.value


def test_refused_values_revert_and_show_a_message(widget, session, tiny_model):
    session.load_model(tiny_model)
    widget.mixture.options = [*widget.mixture.options, ("mode 9", 9)]  # a stale option
    with pytest.raises(ChoreoError):
        session.mixture = 9
    widget.mixture.value = 9  # this model has 2 components
    assert session.mixture == "auto" and widget.mixture.value == "auto"
    assert widget.messages[-1][0] == "error" and "out of range" in widget.messages[-1][1]
    widget.export("take.bmp")  # unknown format: a message, not an exception
    assert widget.messages[-1][0] == "error" and "Traceback" not in widget.message.value


def test_worker_exception_becomes_a_message(widget, session):
    def boom(*args, **kwargs):
        raise RuntimeError("the GPU caught fire")

    session.start_training(train_fn=boom)
    until(widget, lambda: widget.messages and widget.messages[-1][0] == "error")
    assert widget.messages[-1][1] == "training: Unexpected error: RuntimeError: the GPU caught fire"
    assert "Traceback" not in widget.message.value
    assert not widget.train_button.disabled and widget.cancel_button.disabled


def test_train_button_progress_loss_plot_and_cancel(widget, session, tiny_model_config):
    widget.minutes.value = 1.0  # long enough to be cancelled
    plot_before = widget.loss_plot.value
    widget.train_button.click()
    assert session.training_status == "training"
    assert widget.train_button.disabled and not widget.cancel_button.disabled
    until(widget, lambda: len(session.loss_history.train) >= 2)
    until(widget, lambda: widget.progress.value > 0 and "loss" in widget.train_status.value)
    widget.cancel_button.click()
    until(widget, lambda: session.training_status == "idle" and "cancelled" in widget.message.value, 60)
    assert widget.progress.description == "idle" and not widget.train_button.disabled
    assert widget.loss_plot.value != plot_before
    assert session.model is not None and len(widget.mixture.options) == 2 + tiny_model_config.mixtures


def test_generate_streams_frames_into_the_view_and_exports(widget, session, tmp_path, tiny_model):
    session.load_model(tiny_model)
    widget.duration.value = 40 / 30  # seconds: 40 frames of the 30 fps clip
    widget.variations.value = 2
    widget.generate_button.click()
    until(widget, lambda: session.generation_status == "idle" and widget.stage.frame.max == 39)
    assert widget.stage.show.value == "take" and widget.takes.value == 0
    assert "frame 40/40" in widget.stage.readout.value and "2 variation(s)" in widget.stage.readout.value
    first = widget.stage.view.value
    widget.stage.frame.value = 3
    assert widget.stage.view.value != first and "frame 4/40" in widget.stage.readout.value
    assert widget.export("take.npy") == [tmp_path / "take_v0.npy", tmp_path / "take_v1.npy"]
    widget.stage.show.value = "clip"
    assert widget.stage.frame.max == session.motion.n_frames - 1


def test_play_control_is_linked_to_the_scrub_slider(widget):
    link = widget.stage.play_link  # a front-end link: playback stays smooth without a kernel round trip per frame
    assert type(link).__name__ == "Link"
    assert link.source == (widget.stage.play, "value") and link.target == (widget.stage.frame, "value")
    assert widget.stage.play.max == widget.stage.frame.max == 299


def test_importing_the_notebook_front_end_imports_no_qt():
    code = (
        "import sys\n"
        "from engine.session import Session\n"
        "from studio.notebook import StudioWidget\n"
        "with Session(device='cpu') as s:\n"
        "    s.load_demo()\n"
        "    w = StudioWidget(s)\n"
        "    w.close()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PyQt6', 'PyQt5', 'PySide6', 'pyqtgraph', "
        "'vispy', 'qtpy') or m == 'matplotlib.pyplot')\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_widgets_are_built_from_the_knob_table(widget):
    import ipywidgets as W

    from engine.dance.knobs import GENERATION

    for name, k in GENERATION.items():
        w = widget._knobs[name]
        assert w.tooltip == k.tip
        if isinstance(w, W.FloatLogSlider):
            assert w.base**w.min == pytest.approx(k.slider_lo) and w.base**w.max == pytest.approx(k.hi)
        elif hasattr(w, "min"):
            assert (w.min, w.max) == (k.lo, k.hi)
