"""``choreo sketch train`` says its plan (simplification, budget) and reports the finished share."""

from __future__ import annotations

import json

from engine.core.device import training_threads
from engine.sketch.animals import animal_sketches
from engine.sketch.strokes import save_strokes
from studio.cli import main

TINY = ["--enc-hidden", "8", "--dec-hidden", "16", "--z-size", "4", "--mixtures", "2", "--batch", "8"]


def test_sketch_train_says_its_plan_and_reports_finished_grids(tmp_path, capsys):
    data = save_strokes(tmp_path / "pigs.npz", animal_sketches(50, rng=5))
    out = tmp_path / "m.pt"
    assert main(["sketch", "train", str(data), "--out", str(out), "--minutes", "0.05", "--sample-every", "1",
                 "--threads", "1", "--json", *TINY]) == 0
    captured = capsys.readouterr()
    assert "plan: 48 training drawings" in captured.err and "simplified to median" in captured.err
    result = json.loads(captured.out.strip().splitlines()[-1])
    assert "0.05 minutes (as asked)" in result["plan"] and result["threads"] == 1
    assert result["finished_by_time"] and 0.0 <= result["finished_share"] <= 1.0
    assert out.exists()


def test_without_minutes_the_budget_comes_from_the_data(tmp_path, capsys):
    data = save_strokes(tmp_path / "pigs.npz", animal_sketches(30, rng=6))
    assert main(["sketch", "train", str(data), "--out", str(tmp_path / "m.pt"), "--epochs", "0.01",
                 "--simplify", "off", "--sample-every", "0", "--json", "--quiet", *TINY]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "simplified" not in result["plan"] and result["finished_by_time"] == []


def test_threads_follow_the_machine(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr("os.getloadavg", lambda: (5.0, 5.0, 5.0))
    threads, why = training_threads(None)
    assert threads == 1 and "busy" in why
    monkeypatch.setattr("os.getloadavg", lambda: (0.2, 0.2, 0.2))
    assert training_threads(None) == (2, "")
    assert training_threads(3) == (3, "")
