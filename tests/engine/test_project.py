"""Project files: a BVH clip, a model and takes with different settings survive save -> open in a new
process with identical frames, recipes, names and favourites; embedded sources; missing, moved and
changed clips and models; take edits and their events; what counts as a change."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from engine.core.errors import ChoreoError
from engine.session import GenerationParams, Session, read_project
from engine.session.project import VERSION

REPO = Path(__file__).resolve().parents[2]

PIECE_SETTINGS = [
    GenerationParams(temperature=0.5, frames=30, rng=1),
    GenerationParams(temperature=1.5, sigma_temperature=0.5, frames=24, variations=2, rng=2),
    GenerationParams(mixture="argmax", look_back=12, seed_frame=90, frames=20, rng=3),
    GenerationParams(mixture=1, frames=18, rigid=False, rng=4),
]


def make_piece(s: Session, clip: Path, model: Path) -> None:
    """Load the clip and model, make four takes with different settings, name and favour some, delete one."""
    s.load(clip)
    s.load_model(model)
    for p in PIECE_SETTINGS:
        s.generate(p)
        assert s.wait_idle(60)
    s.rename_take(2, "the fall")
    s.set_favourite(2)
    s.set_favourite(4)
    s.delete_take(3)
    s.temperature, s.duration = 0.8, 2.0
    s.select_take(1)
    s.playhead = 42


def summary(s: Session) -> dict:
    """What must survive a round trip (frames by digest: byte for byte)."""
    return {"takes": [{"number": t.number, "name": t.name, "favourite": t.favourite, "status": t.status,
                       "recipe": t.recipe.to_json(), "shape": list(t.positions.shape),
                       "sha": hashlib.sha256(np.ascontiguousarray(t.positions).tobytes()).hexdigest()}
                      for t in s.takes],
            "current": s.current_take, "temperature": s.temperature, "duration": s.duration,
            "playhead": s.playhead, "clip": Path(s.motion.source).name if s.motion else None,
            "model": s.model is not None, "problems": [p.message for p in s.project_problems]}


OPEN_AND_REPORT = """
import json, sys
import numpy as np
sys.path.insert(0, {tests!r})
from test_project import summary
from engine.session import Session
s = Session.open_project(sys.argv[1], device="cpu")
out = summary(s)
out["regenerated"] = [bool(np.array_equal(s.regenerate_take(t.number), t.positions)) for t in s.takes]
out["modified"] = s.modified
s.close()
print(json.dumps(out))
"""


def test_piece_survives_save_and_open_in_a_new_process(tmp_path, bvh_piece):
    clip, model = bvh_piece
    with Session(device="cpu") as s:
        make_piece(s, clip, model)
        before = summary(s)
        assert [t["number"] for t in before["takes"]] == [1, 2, 4]
        assert s.modified
        s.save_project(tmp_path / "piece.choreo")
        assert not s.modified and s.project_path == tmp_path / "piece.choreo"
    with zipfile.ZipFile(tmp_path / "piece.choreo") as z:
        names = set(z.namelist())
    assert names == {"project.json", "takes/1.npy", "takes/2.npy", "takes/4.npy"}  # clip and model by path
    script = tmp_path / "open.py"
    script.write_text(OPEN_AND_REPORT.format(tests=str(Path(__file__).parent)))
    run = subprocess.run([sys.executable, str(script), str(tmp_path / "piece.choreo")], capture_output=True,
                         text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
                         timeout=120)
    assert run.returncode == 0, run.stderr
    after = json.loads(run.stdout.strip().splitlines()[-1])
    assert after.pop("regenerated") == [True, True, True]
    assert after.pop("modified") is False
    assert after == before


def saved_piece(tmp_path: Path, bvh_piece: tuple[Path, Path], embed: bool = False) -> tuple[Path, dict]:
    """The piece made from copies of the clip and model in ``tmp_path/work``, saved to ``piece.choreo``."""
    work = tmp_path / "work"
    work.mkdir()
    for f in bvh_piece:
        shutil.copy(f, work / f.name)
    with Session(device="cpu") as s:
        make_piece(s, work / "dance.bvh", work / "dance.pt")
        s.save_project(tmp_path / "piece.choreo", embed=embed)
        return work, summary(s)


def test_embedded_project_needs_no_files(tmp_path, bvh_piece):
    work, before = saved_piece(tmp_path, bvh_piece, embed=True)
    shutil.rmtree(work)
    with Session.open_project(tmp_path / "piece.choreo", device="cpu") as s:
        after = summary(s)
        assert after == before and s.model is not None and s.motion is not None
        assert np.array_equal(s.regenerate_take(4), s.take(4).positions)
        s.generate(GenerationParams(frames=5))  # the embedded model dances on
        assert s.wait_idle(30) and s.takes[-1].number == 5


def test_synthetic_clip_and_trained_model_are_kept_inside(tmp_path, dancer, tiny_model):
    with Session(device="cpu") as s:
        s.load(dancer)
        s.load_model(tiny_model)  # no file: kept inside the project
        s.generate(GenerationParams(frames=10))
        assert s.wait_idle(30)
        s.save_project(tmp_path / "p.choreo")
        frames = s.takes[0].positions.copy()
    with Session.open_project(tmp_path / "p.choreo", device="cpu") as s:
        assert s.project_problems == () and s.motion.n_frames == dancer.n_frames
        assert np.array_equal(s.motion.positions, dancer.positions)
        assert np.array_equal(s.takes[0].positions, frames)
        assert np.array_equal(s.regenerate_take(1), frames)


def test_missing_clip_and_model_open_with_problems_then_are_located(tmp_path, bvh_piece):
    work, before = saved_piece(tmp_path, bvh_piece)
    moved = tmp_path / "moved"
    work.rename(moved)
    with Session.open_project(tmp_path / "piece.choreo", device="cpu") as s:
        assert s.motion is None and s.model is None
        assert [(p.kind, p.what) for p in s.project_problems] == [("missing", "clip"), ("missing", "model")]
        assert all("dance." in p.message and "locate" in p.message for p in s.project_problems)
        assert [t.number for t in s.takes] == [1, 2, 4]  # the takes are there, from their stored frames
        assert s.skeleton.shape == (13, 2)  # and draw as figures: the missing clip's bones are kept
        with pytest.raises(ChoreoError, match="not available: locate it"):
            s.regenerate_take(1)
        clip_problem, model_problem = s.project_problems
        with pytest.raises(ChoreoError, match="not the project's model"):
            s.locate(model_problem.id, REPO / "assets" / "demo_dance.pt")
        s.locate(clip_problem.id, moved / "dance.bvh")
        s.locate(model_problem.id, moved / "dance.pt")
        assert s.project_problems == () and s.motion is not None and s.model is not None
        assert np.array_equal(s.regenerate_take(2), s.take(2).positions)
        after = summary(s)
        assert after["takes"] == before["takes"]
        s.save_project(tmp_path / "piece.choreo")  # the new places are kept
    assert Session.open_project(tmp_path / "piece.choreo", device="cpu").close() is None
    with Session.open_project(tmp_path / "piece.choreo", device="cpu") as s:
        assert s.project_problems == ()


def test_changed_clip_is_a_problem_not_a_silent_swap(tmp_path, bvh_piece):
    clip, model = bvh_piece
    mine = tmp_path / "dance.bvh"
    shutil.copy(clip, mine)
    with Session(device="cpu") as s:
        s.load(mine)
        s.load_model(model)
        s.save_project(tmp_path / "p.choreo")
    mine.write_text(mine.read_text().replace("Frame Time: 0.033333", "Frame Time: 0.040000"))
    with Session.open_project(tmp_path / "p.choreo", device="cpu") as s:
        assert [(p.kind, p.what) for p in s.project_problems] == [("changed", "clip")]
        assert "changed since the project was saved" in s.project_problems[0].message
        assert s.motion is None and s.model is not None


def test_paths_are_relative_inside_the_project_folder_and_absolute_outside(tmp_path, bvh_piece):
    clip, model = bvh_piece
    shutil.copy(clip, tmp_path / "dance.bvh")
    with Session(device="cpu") as s:
        s.load(tmp_path / "dance.bvh")
        s.load_model(model)
        s.save_project(tmp_path / "p.choreo")
    with zipfile.ZipFile(tmp_path / "p.choreo") as z:
        doc = json.loads(z.read("project.json"))
    assert doc["clips"][0]["path"] == "dance.bvh"
    assert doc["models"][0]["path"] == str(model.resolve())
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    for name in ("p.choreo", "dance.bvh"):  # the folder moves as a whole: still found
        (tmp_path / name).rename(moved / name)
    with Session.open_project(moved / "p.choreo", device="cpu") as s:
        assert s.project_problems == () and Path(s.motion.source) == moved / "dance.bvh"


def test_unknown_keys_round_trip_and_newer_versions_are_refused(tmp_path, dancer, tiny_model):
    with Session(device="cpu") as s:
        s.load(dancer)
        s.load_model(tiny_model)
        s.generate(GenerationParams(frames=6))
        assert s.wait_idle(30)
        s.save_project(tmp_path / "p.choreo")
    path = tmp_path / "p.choreo"
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    doc = json.loads(members["project.json"])
    doc["music"] = {"song": "x.wav"}
    doc["takes"][0]["recipe"]["lighting_cues"] = [[1, 2]]

    def write(d: dict, to: Path) -> Path:
        with zipfile.ZipFile(to, "w") as z:
            for n, data in members.items():
                z.writestr(n, json.dumps(d) if n == "project.json" else data)
        return to

    with Session.open_project(write(doc, tmp_path / "future.choreo"), device="cpu") as s:
        assert dict(s.take(1).recipe.extra) == {"lighting_cues": [[1, 2]]}
        with pytest.raises(ChoreoError, match="lighting_cues"):
            s.regenerate_take(1)
        s.save_project(tmp_path / "again.choreo")
    with zipfile.ZipFile(tmp_path / "again.choreo") as z:
        again = json.loads(z.read("project.json"))
    assert again["music"] == {"song": "x.wav"} and again["takes"][0]["recipe"]["lighting_cues"] == [[1, 2]]
    bad_setting = json.loads(members["project.json"])
    bad_setting["state"]["settings"]["temperature"] = 99
    with Session.open_project(write(bad_setting, tmp_path / "odd.choreo"), device="cpu") as s:
        assert [(p.what, p.id) for p in s.project_problems] == [("setting", "temperature")]
        assert s.temperature == 1.0 and len(s.takes) == 1  # the rest opened
    with pytest.raises(ChoreoError, match=f"newer Choreo Studio \\(project version {VERSION + 1}"):
        read_project(write({**doc, "version": VERSION + 1}, tmp_path / "newer.choreo"))


def test_take_edits_fire_events_and_numbers_are_never_reused(session, tiny_model):
    session.load_model(tiny_model)
    for _ in range(3):
        session.generate(GenerationParams(frames=4))
        assert session.wait_idle(30)
    seen: list[tuple] = []
    session.events.takes.connect(lambda t: seen.append(("takes", [x.title for x in t])))
    session.events.current_take.connect(lambda i: seen.append(("current", i)))
    session.rename_take(2, "  the   turn ")
    session.rename_take(2, "the turn")  # no change: no event
    session.set_favourite(2)
    index, take = session.delete_take(3)
    assert (index, take.number) == (2, 3)
    session.generate(GenerationParams(frames=4))
    assert session.wait_idle(30)
    assert [t.number for t in session.takes] == [1, 2, 4]  # 3 is not reused
    session.delete_take(4)
    session.restore_take(take, index)
    assert [t.number for t in session.takes] == [1, 2, 3] and session.current_take == 2
    three = ("takes", ["take 1", "the turn", "take 3"])
    assert seen[:4] == [three, three, ("takes", ["take 1", "the turn"]), ("current", 1)]
    assert session.take(2).favourite and session.take(2).name == "the turn"
    with pytest.raises(ChoreoError, match="there is no take 9"):
        session.rename_take(9, "x")
    with pytest.raises(ChoreoError, match="already exists"):
        session.restore_take(take, 0)


def test_live_takes_keep_their_number(session, tiny_model):
    session.load_model(tiny_model)
    session.duration = 0.2
    session.live = True
    session.temperature = 0.5
    assert session.wait_idle(30)
    session.temperature = 0.6
    assert session.wait_idle(30)
    assert [(t.number, t.live) for t in session.takes] == [(1, True)]
    assert session.takes[0].params.temperature == 0.6


def test_modified_counts_changes_of_what_a_project_keeps(tmp_path, session, tiny_model):
    assert session.modified  # a clip was loaded
    session.save_project(tmp_path / "p.choreo")
    assert not session.modified
    session.playhead = 10  # where you look is not a change of the piece
    session.select_take(-1) if session.takes else None
    assert not session.modified
    session.temperature = 0.3
    assert session.modified
    session.load_project(tmp_path / "p.choreo")
    assert not session.modified and session.temperature == 1.0


def test_failed_open_changes_nothing(tmp_path, session, tiny_model):
    session.load_model(tiny_model)
    session.generate(GenerationParams(frames=4))
    assert session.wait_idle(30)
    bad = tmp_path / "bad.choreo"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    before = (session.motion, session.model, session.takes, session.project_path)
    with pytest.raises(ChoreoError, match=r"bad\.choreo"):
        session.load_project(bad)
    assert (session.motion, session.model, session.takes, session.project_path) == before


@pytest.mark.slow
def test_cmu_dance_project_regenerates_exactly(tmp_path, shared_data):
    """The real 120 fps CMU clip (31 joints): takes interpolated between network steps come back exactly."""
    from engine import DanceConfig, TrainConfig, train

    clip = shared_data / "cmu_05_01_modern_dance.bvh"
    train(clip, tmp_path / "cmu.pt", model_config=DanceConfig(hidden=24, layers=1, mixtures=3),
          config=TrainConfig(epochs=1, batch=8, seq_len=32, val_every=5, device="cpu", precision="fp32"))
    with Session(device="cpu") as s:
        s.load(clip)
        s.load_model(tmp_path / "cmu.pt")
        for p in (GenerationParams(frames=60, seed_frame=200), GenerationParams(frames=40, variations=2, rng=9)):
            s.generate(p)
            assert s.wait_idle(60)
        s.save_project(tmp_path / "cmu.choreo")
        frames = [t.positions.copy() for t in s.takes]
    with Session.open_project(tmp_path / "cmu.choreo", device="cpu") as s:
        assert s.motion.fps == 120 and s.motion.n_joints == 38  # 31 joints + 7 end sites
        for t, f in zip(s.takes, frames, strict=True):
            assert np.array_equal(t.positions, f) and np.array_equal(s.regenerate_take(t.number), f)


def test_the_song_comes_back_with_the_project(tmp_path, dancer, tiny_model, drum_song):
    song_file = tmp_path / "loop.flac"
    shutil.copy(drum_song, song_file)
    with Session(device="cpu") as s:
        s.load(dancer)
        s.load_model(tiny_model)
        song = s.load_song(song_file)
        s.duration, s.beat_align = 1.5, True
        s.generate()
        assert s.wait_idle(60)
        s.save_project(tmp_path / "p.choreo")
        frames = s.takes[0].positions.copy()
    with Session.open_project(tmp_path / "p.choreo", device="cpu") as s:
        assert s.song is not None and s.song.sha256 == song.sha256 and s.project_problems == ()
        assert s.duration == 1.5 and s.beat_align
        assert np.array_equal(s.regenerate_take(1), frames)
    song_file.rename(tmp_path / "elsewhere.flac")
    with Session.open_project(tmp_path / "p.choreo", device="cpu") as s:
        assert s.song is None and [(p.kind, p.what) for p in s.project_problems] == [("missing", "song")]
        assert np.array_equal(s.takes[0].positions, frames)  # the take itself is all there

