"""The studio's Device menu: the knob's devices, the missing ones greyed out, the tick following the session."""

from __future__ import annotations

import pytest

pytest.importorskip("PyQt6")
pytest.importorskip("vispy")

import torch

from engine.session import Session
from studio.qt.devices import device_choices
from studio.qt.window import MainWindow


@pytest.fixture
def win(qtbot):
    session = Session(device="cpu")
    w = MainWindow(session)
    qtbot.addWidget(w)
    yield w
    w._close_choice = "closing"
    w.close()
    session.close()


def _actions(win: MainWindow) -> dict[str, object]:
    return {a.text(): a for a in win.device_menu.actions() if a.text()}


def test_the_menu_offers_the_knobs_devices_and_greys_out_missing_ones(win):
    assert win.device_menu.title() == "De&vice"
    values = [v for v, _, _ in device_choices()]
    assert values == ["auto", "cpu", "cuda", "mps"]
    acts = _actions(win)
    assert acts["CPU"].isEnabled() and acts["CPU"].isChecked()
    cuda = next(a for t, a in acts.items() if t.startswith("CUDA GPU"))
    assert cuda.isEnabled() == torch.cuda.is_available()


def test_the_tick_follows_the_session(qtbot, win):
    acts = _actions(win)
    cuda = next(a for t, a in acts.items() if t.startswith("CUDA GPU"))
    win.session.events.device.emit("cuda:0")  # as when a GPU machine moves the model there
    qtbot.waitUntil(cuda.isChecked, timeout=2000)
    assert not acts["CPU"].isChecked()
    acts["Automatic (a GPU when there is one)"].trigger()  # picks what this machine has
    want = "cuda" if torch.cuda.is_available() else "cpu"
    assert win.session.device.split(":")[0] == want
    assert (acts["CPU"].isChecked(), cuda.isChecked()) == (want == "cpu", want == "cuda")
