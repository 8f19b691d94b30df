"""The notebook keeps the work through the same Session API: names and favourites show in the widget, and a
project saved from a notebook session opens again with identical takes."""

from __future__ import annotations

import numpy as np

from engine.session import GenerationParams, Session
from studio.notebook import StudioWidget


def test_take_names_and_favourites_show_and_survive_a_project(session, tiny_model, tmp_path):
    session.load_model(tiny_model)
    w = StudioWidget(session, train_minutes=0, export_dir=tmp_path, view_size=(200, 150))
    try:
        for rng in (1, 2):
            session.generate(GenerationParams(frames=8, rng=rng))
            assert session.wait_idle(30)
        session.rename_take(1, "the <fall>")
        session.set_favourite(1)
        w.flush()
        assert w.takes.options[0][0] == "★ the <fall>: 8 frames × 1"
        w.takes.value = 0
        w.stage.show.value = "take"
        assert "the &lt;fall&gt;" in w.stage.readout.value
        path = session.save_project(tmp_path / "piece.choreo")
    finally:
        w.close()
    with Session.open_project(path, device="cpu") as again:
        w2 = StudioWidget(again, train_minutes=0, export_dir=tmp_path, view_size=(200, 150))
        try:
            assert [label for label, _ in w2.takes.options] == ["★ the <fall>: 8 frames × 1", "take 2: 8 frames × 1"]
            for a, b in zip(again.takes, session.takes, strict=True):
                assert np.array_equal(a.positions, b.positions) and a.recipe == b.recipe
        finally:
            w2.close()
