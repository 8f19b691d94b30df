"""Training as a team: the collectives alone, the launcher's one-line failures, and two gloo processes
agreeing on a NaN roll-back (dance) and training Sketch-RNN through the same DDP trainer."""

from __future__ import annotations

import json
import signal
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from engine import ChoreoError
from engine.core.distributed import Team
from engine.core.launch import job_failure, launch


def test_a_team_of_one_needs_no_process_group():
    team = Team.current()
    assert team.alone and team.is_main and team.rank == 0
    assert team.sum(1.5, 2) == [1.5, 2.0] and team.max(3) == [3.0]
    step = team.combine(torch.tensor(0.25), 10)
    assert step == (0.25, 10, 1.0, True)
    assert not team.combine(torch.tensor(float("nan")), 10).finite
    assert team.share(64) == 64 and team.shard([1, 2, 3]) == [1, 2, 3] and team.entropy(7, 1) == [7, 1]
    assert team.on_main(lambda: {"a": 1}) == {"a": 1} and team.on_each(lambda: 2) == [2]
    model = torch.nn.Linear(2, 2)
    assert team.wrap(model) is model and team.device(torch.device("cpu")).type == "cpu"


def test_each_rank_takes_its_part_of_the_global_batch_and_data():
    teams = [Team(rank, 3) for rank in range(3)]
    assert [t.share(64) for t in teams] == [22, 21, 21]  # batch/N, the rest to the first ranks
    assert [t.shard(list(range(7))) for t in teams] == [[0, 3, 6], [1, 4], [2, 5]]
    assert teams[1].entropy(7, 1) == [7, 1, 1]  # each rank draws its own crops


def _failure(exitcode: int, message: str = "") -> SimpleNamespace:
    """A ``ProcessFailure`` as the agent builds it: the error file's nested message, or a signal's text."""
    data = {"message": {"message": message, "extraInfo": {"timestamp": "0"}}} if message else {}
    shown = data["message"] if message else f"Signal {-exitcode}"
    return SimpleNamespace(exitcode=exitcode, message=shown, error_file_data=data)


def test_a_killed_process_is_the_cause_not_the_peers_it_left_behind():
    failures = {0: _failure(1, "RuntimeError: [gloo/pair.cc:537] Read error: Connection reset by peer"),
                1: _failure(-signal.SIGKILL), 2: _failure(-signal.SIGTERM)}
    err = job_failure(failures, 3)
    assert (err.rank, err.cause, err.user_problem) == (1, "was killed (SIGKILL)", None)
    assert str(err) == "process 1 of 3 was killed (SIGKILL)"


def test_a_user_problem_found_by_a_worker_comes_back_as_itself():
    failures = {1: _failure(1, "ChoreoError: clips/: the clips have 2 different skeletons: ..."),
                0: _failure(1, "ChoreoError: clips/: the clips have 2 different skeletons: ...")}
    err = job_failure(failures, 2)
    assert isinstance(err.user_problem, ChoreoError) and str(err).startswith("clips/: the clips have 2")


def test_lost_contact_and_stops_are_named_when_nothing_else_is_there():
    assert job_failure({0: _failure(1, "RuntimeError: Connection closed by peer")}, 2).cause == (
        "lost contact with the other processes")
    assert job_failure({1: _failure(128 + signal.SIGTERM)}, 2).cause == "was stopped (SIGTERM)"
    assert job_failure({1: _failure(3, "ValueError: bad")}, 2).cause == "failed: ValueError: bad"


WORKER = textwrap.dedent('''
    """One process of the team test: NaN on rank 1 only, at its 5th step; then a tiny Sketch-RNN."""
    import json, sys
    import torch
    from engine.core.distributed import Team, joined
    from engine.core.training import TrainConfig
    from engine.dance.corpus import Corpus, train_corpus
    from engine.dance.model import DanceConfig
    from engine.dance.task import DanceTask
    from engine.sketch.model import SketchConfig
    from engine.sketch.synthetic import synthetic_sketches
    from engine.sketch.task import sketch_train_config, train_sketch

    out, corpus = sys.argv[1], sys.argv[2]
    original = DanceTask.loss
    poisoned = []

    def loss(self, forward, batch, step):
        value, n, parts = original(self, forward, batch, step)
        if Team.current().rank == 1 and step == 4 and not poisoned and torch.is_grad_enabled():
            poisoned.append(step)
            value = value * float("nan")
        return value, n, parts

    DanceTask.loss = loss
    with joined("cpu") as team:
        events = []
        result = train_corpus(Corpus.index(corpus), f"{out}/dance.pt",
                              model_config=DanceConfig(hidden=8, layers=1, mixtures=2),
                              config=TrainConfig(epochs=2, batch=8, seq_len=16, val_every=5, device="cpu",
                                                 precision="fp32"), on_event=events.append)
        sketch = train_sketch(synthetic_sketches(120, rng=0), f"{out}/sketch.pt",
                              model_config=SketchConfig(enc_hidden=8, dec_hidden=16, z_size=4, mixtures=3),
                              config=sketch_train_config(epochs=1, batch=8, device="cpu", precision="fp32"))
        report = {
            "world": team.world_size, "steps": result.steps, "val": result.val_loss,
            "warnings": [e.message for e in events if e.kind == "warning"],
            "weights": [float(p.detach().double().sum()) for p in result.model.parameters()],
            "sketch_world": sketch.world_size, "sketch_steps": sketch.steps,
            "sketch_weights": [float(p.detach().double().sum()) for p in sketch.model.parameters()],
        }
        with open(f"{out}/rank{team.rank}.json", "w") as f:
            json.dump(report, f)
''')


@pytest.fixture(scope="module")
def team_run(tmp_path_factory) -> tuple[Path, list[dict]]:
    """The worker above, launched as 2 gloo processes through the elastic launcher."""
    from studio.bench.distributed import write_dancer_corpus

    root = tmp_path_factory.mktemp("team")
    corpus = write_dancer_corpus(root / "corpus", clips=4, frames=200)
    (root / "worker.py").write_text(WORKER)
    launch([str(root / "worker.py"), str(root), str(corpus)], 2)
    return root, [json.loads((root / f"rank{r}.json").read_text()) for r in range(2)]


@pytest.mark.slow
def test_a_nan_on_one_rank_rolls_back_every_rank_together(team_run):
    _, (r0, r1) = team_run
    assert r0["world"] == r1["world"] == 2 and r0["steps"] == r1["steps"] > 5
    for r in (r0, r1):  # rank 0's own loss was fine: it rolled back because the team did
        assert any("NaN/inf loss at step 4: rolled back" in w for w in r["warnings"]), r["warnings"]
    assert np.allclose(r0["weights"], r1["weights"], rtol=0, atol=1e-9)  # still the same model everywhere
    assert r0["val"] == r1["val"]


@pytest.mark.slow
def test_sketch_rnn_trains_through_the_same_ddp_trainer(team_run):
    from engine.sketch.model import load_sketch_model

    root, (r0, r1) = team_run
    assert r0["sketch_world"] == 2 and r0["sketch_steps"] == r1["sketch_steps"] > 0
    assert np.allclose(r0["sketch_weights"], r1["sketch_weights"], rtol=0, atol=1e-9)
    model = load_sketch_model(root / "sketch.pt")  # written once, by rank 0, and loads like any other
    sums = [float(p.detach().double().sum()) for p in model.parameters()]
    assert np.allclose(sums, r0["sketch_weights"], atol=1e-6)
