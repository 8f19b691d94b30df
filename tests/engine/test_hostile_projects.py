"""Hostile project files: pickles, zip bombs, absurd sizes, names that climb out with ``..``.

Each gets one ``ChoreoError`` (one line, naming the file), never runs a pickled payload, and
changes nothing on disk (the folder's files and their times are the same afterwards). Random
mutations of a real project either open or give that one error, nothing else.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.core.errors import ChoreoError
from engine.session import GenerationParams, Session, read_project
from engine.session.sources import ModelTree
from studio.cli import main


class Payload:
    """Unpickling this creates the marker file: the marker appearing means code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (str(self.marker), "w"))


@pytest.fixture(scope="module")
def good(tmp_path_factory, tiny_model) -> dict[str, bytes]:
    """The members of a small valid project: synthetic clip and model inside, two takes."""
    from engine.dance.synthetic import synthetic_dancer

    path = tmp_path_factory.mktemp("good") / "good.choreo"
    with Session(device="cpu") as s:
        s.load(synthetic_dancer(frames=120))
        s.load_model(tiny_model)
        for frames in (6, 8):
            s.generate(GenerationParams(frames=frames))
            assert s.wait_idle(30)
        s.save_project(path)
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _zip(path: Path, members: dict[str, bytes], compress: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compress) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _doc(members: dict[str, bytes]) -> dict:
    return json.loads(members["project.json"])


def _with_doc(members: dict[str, bytes], doc: dict) -> dict[str, bytes]:
    return {**members, "project.json": json.dumps(doc).encode()}


def _npy(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def _refused(path: Path, *words: str) -> str:
    """read_project, Session.load_project and the CLI all refuse ``path`` with one line; nothing on disk changes."""
    folder = path.parent
    before = _listing(folder)
    with pytest.raises(ChoreoError) as err:
        read_project(path)
    text = str(err.value)
    assert text.startswith(str(path)) and "\n" not in text, text
    for w in words:
        assert w in text, text
    with Session(device="cpu") as s, pytest.raises(ChoreoError):
        s.load_project(path)
    assert main(["project", "info", str(path)]) == 2
    assert _listing(folder) == before
    assert not (folder / "ran").exists(), "a pickled payload ran"
    return text


def test_good_project_opens(tmp_path, good):
    project = read_project(_zip(tmp_path / "ok.choreo", good))
    assert [t.number for t in project.takes] == [1, 2]


def test_a_pickle_under_a_project_name(tmp_path):
    path = tmp_path / "evil.choreo"
    path.write_bytes(pickle.dumps({"project": Payload(tmp_path / "ran")}))
    _refused(path, "pickle")


@pytest.mark.parametrize("member", ["takes/1.npy", "clips", "models"])
def test_pickled_arrays_inside(tmp_path, good, member):
    name = member if member.endswith(".npy") else next(n for n in good if n.startswith(member) and n.endswith(".npy"))
    evil = np.empty(2, dtype=object)
    evil[0], evil[1] = Payload(tmp_path / "ran"), np.zeros(3)
    _refused(_zip(tmp_path / "evil.choreo", {**good, name: _npy(evil, allow_pickle=True)}), "pickled")


def test_zip_bomb_array(tmp_path, good):
    bomb = _npy(np.zeros((1, 200_000, 30, 3), np.float32))  # 72 MB of zeros: ~70 KB deflated
    path = _zip(tmp_path / "bomb.choreo", {**good, "takes/1.npy": bomb})
    assert path.stat().st_size < 1 << 20
    _refused(path, "zip bomb")


def test_zip_bomb_json(tmp_path, good):
    doc = json.dumps(_doc(good)) + " " * (20 << 20)  # valid JSON, 20 MB of padding
    _refused(_zip(tmp_path / "bomb.choreo", {**good, "project.json": doc.encode()}), "zip bomb")


def test_absurd_sizes(tmp_path, good):
    header = _npy(np.zeros((1, 2, 3, 3), np.float32))
    claim = header.replace(b"(1, 2, 3, 3)", b"(1, 999999999, 3, 3)")  # a header claiming 36 GB
    _refused(_zip(tmp_path / "a.choreo", {**good, "takes/1.npy": claim}), "header claims")
    doc = _doc(good)
    doc["takes"][0]["recipe"]["frames"] = 10**12
    _refused(_zip(tmp_path / "b.choreo", _with_doc(good, doc)), "frames")
    deep = "[" * 100_000 + "]" * 100_000
    _refused(_zip(tmp_path / "c.choreo", {**good, "project.json": deep.encode()}), "not valid JSON")
    doc = _doc(good)
    doc["takes"][0]["recipe"]["variations"] = 3  # stored frames do not match their recipe
    _refused(_zip(tmp_path / "d.choreo", _with_doc(good, doc)), "shape")


def test_embedded_model_claiming_huge_weights(tmp_path, good):
    name = next(n for n in good if n.startswith("models/") and n.endswith(".json"))
    tree = json.loads(good[name])
    tree["model_config"]["hidden"] = 100_000  # 10^11 weights claimed, a few thousand stored
    members = {**good, name: json.dumps(tree).encode()}
    # the fingerprint no longer matches: refused as damaged before anything is built
    _refused(_zip(tmp_path / "huge.choreo", members), "damaged")
    # a forger who recomputes the fingerprint is refused too, still before anything is allocated
    old = name.removeprefix("models/").removesuffix(".json")
    arrays = tuple(np.load(io.BytesIO(good[f"models/{old}/{i}.npy"]))
                   for i in range(sum(n.startswith(f"models/{old}/") for n in good)))
    new = ModelTree(tree, arrays).fingerprint().removeprefix("sha256:")
    forged = {n.replace(old, new): (d.replace(old.encode(), new.encode()) if n == "project.json" else d)
              for n, d in members.items()}
    text = _refused(_zip(tmp_path / "forged.choreo", forged), "weights but", "are stored")
    assert int(text.split("needs ")[1].split(" ")[0].replace(",", "")) > 10**10


@pytest.mark.parametrize("name", ["../../evil.npy", "/etc/evil.npy", "takes/../../x.npy", "C:/evil.npy",
                                  "takes\\..\\x.npy"])
def test_member_names_that_climb_out(tmp_path, good, name):
    _refused(_zip(tmp_path / "climb.choreo", {**good, name: b"x"}), "climbs out")


def test_clip_path_that_climbs_out(tmp_path, good):
    doc = _doc(good)
    doc["clips"][0]["path"] = "../../../etc/dance.bvh"
    _refused(_zip(tmp_path / "climb.choreo", _with_doc(good, doc)), "climbs out")


@pytest.mark.parametrize("change", ["not json", "no format", "format", "take number", "bones"])
def test_damaged_json(tmp_path, good, change):
    doc = _doc(good)
    if change == "not json":
        members = {**good, "project.json": b"{"}
    else:
        if change == "no format":
            del doc["format"]
        elif change == "format":
            doc["format"] = 3
        elif change == "take number":
            doc["takes"][1]["number"] = 1
        else:
            doc["clips"][0]["skeleton"]["bones"] = [[0, 10**6]]
        members = _with_doc(good, doc)
    _refused(_zip(tmp_path / "bad.choreo", members))


def test_generate_into_a_hostile_project_changes_nothing(tmp_path, good, capsys):
    path = _zip(tmp_path / "climb.choreo", {**good, "../x.npy": b"x"})
    before = path.read_bytes()
    assert main(["project", "generate", str(path), "--frames", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("choreo: ") and "\n" not in err and "climbs out" in err
    assert path.read_bytes() == before


FUZZ = settings(max_examples=40, deadline=10_000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.data())
def test_mutated_projects_open_or_give_one_error(tmp_path, good, data):
    raw = _zip(tmp_path / "src.choreo", good).read_bytes()
    kind = data.draw(st.sampled_from(["flip", "truncate", "json"]))
    if kind == "flip":
        buf = bytearray(raw)
        for _ in range(data.draw(st.integers(1, 8))):
            buf[data.draw(st.integers(0, len(buf) - 1))] = data.draw(st.integers(0, 255))
        mutated = bytes(buf)
    elif kind == "truncate":
        mutated = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:
        text = good["project.json"].decode()
        i = data.draw(st.integers(0, len(text) - 1))
        text = text[:i] + data.draw(st.sampled_from(["0", "-1", "null", "\"", "1e400", "true", "[]", "{}"])) + \
            text[i + 1:]
        mutated = _zip(tmp_path / "j.choreo", {**good, "project.json": text.encode()}).read_bytes()
    path = tmp_path / "m.choreo"
    path.write_bytes(mutated)
    try:
        project = read_project(path)
    except ChoreoError as err:
        assert str(err).startswith(str(path)) and "\n" not in str(err)
    else:
        assert all(t.positions.dtype == np.float32 for t in project.takes)
