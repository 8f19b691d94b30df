"""``choreo eval``: a take against its clip, or a model's default take, with the judge's figures."""

from __future__ import annotations

import json

import numpy as np

from engine.dance.synthetic import synthetic_dancer
from studio.cli import main


def test_cli_eval_of_a_take_and_of_a_model(tmp_path, capsys, tiny_dance):
    clip = synthetic_dancer(frames=400, rng=3).positions
    np.save(tmp_path / "data.npy", clip)
    np.save(tmp_path / "take.npy", clip[:200].transpose(1, 0, 2))  # stored joints-first: still read right
    assert main(["eval", str(tmp_path / "take.npy"), "--against", str(tmp_path / "data.npy"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["take_frames"] == 200 and result["passes"] is False and "replays" in " ".join(result["failures"])
    assert main(["eval", str(tmp_path / "take.npy")]) == 2
    assert "--against" in capsys.readouterr().err
    model, _motion = tiny_dance
    assert main(["eval", str(model), "--frames", "60"]) == 0
    out = capsys.readouterr().out
    assert "take       60 frames" in out and "verdict" in out
