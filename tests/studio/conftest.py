"""Fixtures of the desktop studio's tests: an empty CPU session and a window over it (closed after the test)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def empty_session():
    """A CPU session with nothing loaded."""
    pytest.importorskip("PyQt6")
    from engine.session import Session

    s = Session(device="cpu")
    yield s
    s.close()


@pytest.fixture
def win(qtbot, empty_session):
    """The main window over ``empty_session``, shown at 900x600."""
    from studio.qt.window import MainWindow

    w = MainWindow(empty_session)
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()  # keyboard focus and shortcuts need the active window
    qtbot.waitActive(w)
    yield w
    empty_session.cancel_training()
    empty_session.wait_idle(30)
    w._close_choice = "closing"
    w.close()


@pytest.fixture
def take_on_stage(qtbot, win, tiny_dance):
    """``win`` with the tiny model's clip loaded and a finished take shown: ``(win, take)``.

    ``make(frames, variations=1, seed_frame=None)`` generates another one.
    """

    def make(frames: int, variations: int = 1, seed_frame: int | None = None):
        s = win.session
        s.duration, s.variations = frames / s.fps, variations
        if seed_frame is not None:
            s.seed_frame = seed_frame
        win.controls.generate()
        qtbot.waitUntil(lambda: s.takes and s.takes[-1].status == "done"
                        and win.stage.showing.take is not None and win.stage.showing.take.status == "done",
                        timeout=30000)
        return s.takes[-1]

    ckpt, motion = tiny_dance
    win.session.load(motion)
    win.session.load_model(ckpt)
    return win, make


@pytest.fixture
def stage_pixels():
    """``stage_pixels(win)``: the stage as RGB int16 pixels."""
    return lambda w: w.stage.render_pixels()[..., :3].astype(np.int16)


def drawn(px: np.ndarray) -> int:
    """How many pixels differ clearly from the background (a figure is drawn)."""
    return int((np.abs(px - px[0, 0]).sum(-1) > 60).sum())


@pytest.fixture
def figure_pixels():
    """``figure_pixels(px)``: how many pixels of an RGB image differ clearly from its corner (background)."""
    return drawn
