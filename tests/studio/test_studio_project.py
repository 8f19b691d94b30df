"""Keeping the work in the desktop studio: the Takes panel and undo, the unsaved mark and the question
before quitting, project files in and out (also in a new process), autosave, recovery after SIGKILL.
GUI tests run under Xvfb (pytest-xvfb); subprocesses inherit its display."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PyQt6")
pytest.importorskip("vispy")

from PyQt6.QtCore import QPoint, Qt

from engine.session import GenerationParams, Session, read_project
from studio.qt import project as keeping
from studio.qt import project_dialogs as dialogs
from studio.qt.takelist import NAME, STAR
from studio.qt.window import MainWindow

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def autosaves(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "autosave"
    monkeypatch.setenv("CHOREO_AUTOSAVE_DIR", str(folder))
    monkeypatch.setattr(keeping, "AUTOSAVE_SECONDS", 0.3)
    return folder


@pytest.fixture
def session():
    s = Session(device="cpu")
    yield s
    s.close()


@pytest.fixture
def win(qtbot, session, autosaves):
    w = MainWindow(session)
    qtbot.addWidget(w)
    w.resize(1000, 640)
    w.show()
    qtbot.waitExposed(w)
    yield w
    session.cancel_training()
    session.wait_idle(30)
    w.project.ask_on_close = False
    w.close()


def _takes(s: Session, n: int, qtbot, **params) -> None:
    for i in range(n):
        s.generate(GenerationParams(frames=12, rng=i, **params))
        qtbot.waitUntil(lambda: s.generation_status == "idle", timeout=20000)
    qtbot.waitUntil(lambda: all(t.status == "done" for t in s.takes), timeout=20000)


def digest(s: Session) -> list:
    return [(t.number, t.name, t.favourite, hashlib.sha256(np.ascontiguousarray(t.positions).tobytes()).hexdigest())
            for t in s.takes]


def test_take_edits_in_the_panel_undo_and_redo(qtbot, win, bvh_piece):
    clip, model = bvh_piece
    s, h, panel = win.session, win.history, win.takelist
    s.load(clip)
    s.load_model(model)
    _takes(s, 3, qtbot)
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 3)
    item = panel.tree.topLevelItem(1)
    item.setText(NAME, "the fall")  # what the name editor does when Enter is pressed
    assert s.take(2).name == "the fall"
    rect = panel.tree.visualItemRect(panel.tree.topLevelItem(2))
    star = panel.tree.header().sectionPosition(STAR) + 5
    qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(star, rect.center().y()))
    assert s.take(3).favourite and s.current_take == 2
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    assert s.current_take == 0
    panel.delete_btn.click()
    assert [t.number for t in s.takes] == [2, 3]
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 2)
    assert [panel.tree.topLevelItem(i).text(NAME) for i in range(2)] == ["the fall", "take 3"]
    assert h.stack.undoText() == "delete take 1"
    h.stack.undo()
    assert [t.number for t in s.takes] == [1, 2, 3] and s.current_take == 0
    h.stack.undo()
    assert not s.take(3).favourite
    h.stack.undo()
    assert s.take(2).name == ""
    h.stack.redo()
    h.stack.redo()
    h.stack.redo()
    assert [(t.number, t.name, t.favourite) for t in s.takes] == [(2, "the fall", False), (3, "", True)]


def test_knob_changes_are_undoable_and_a_drag_is_one_step(qtbot, win, bvh_piece):
    clip, model = bvh_piece
    s, h = win.session, win.history
    s.load(clip)
    s.load_model(model)  # loading a model sets the look-back: a consequence, not an undo step
    qtbot.wait(50)
    assert h.stack.count() == 0
    editor = win.controls.editors["temperature"]
    for pos in range(500, 600, 10):  # a slider drag: many changes in a row
        editor.slider.setValue(pos)
        qtbot.wait(5)
    dragged = s.temperature
    win.controls.editors["variations"].spin.setValue(3)
    qtbot.waitUntil(lambda: h.stack.count() == 2)
    assert s.variations == 3 and dragged != 1.0
    h.stack.undo()
    assert s.variations == 1
    h.stack.undo()
    assert s.temperature == 1.0 and editor.spin.value() == 1.0  # the panel follows the session
    h.stack.redo()
    assert s.temperature == dragged
    s.temperature = 2.0  # a script or the notebook on this session: undoable too (GUI thread)
    qtbot.waitUntil(lambda: h.stack.count() == 2 and h.stack.undoText().startswith("temperature"))


def test_unsaved_mark_save_and_the_question_before_quitting(qtbot, session, autosaves, tmp_path, bvh_piece,
                                                            monkeypatch):
    clip, model = bvh_piece
    w = MainWindow(session)
    qtbot.addWidget(w)
    w.project.enable()
    w.show()
    session.load(clip)
    session.load_model(model)
    _takes(session, 1, qtbot)
    qtbot.waitUntil(w.isWindowModified)
    assert w.windowTitle() == "dance.bvh[*] — Choreo Studio"
    asked = []
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda _p, name: asked.append(name) or "cancel")
    w.close()
    assert asked == ["dance.bvh"] and w.isVisible()  # cancel: stays open, nothing lost
    monkeypatch.setattr(dialogs, "ask_project_path", lambda *a: str(tmp_path / "piece"))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda _p, name: asked.append(name) or "save")
    w.close()
    assert not w.isVisible() and (tmp_path / "piece.choreo").exists()
    assert read_project(tmp_path / "piece.choreo").takes[0].number == 1
    assert not autosaves.exists() or not list(autosaves.glob("*.choreo"))  # a clean close leaves no autosave


def test_studio_project_survives_a_new_process(qtbot, win, tmp_path, bvh_piece):
    clip, model = bvh_piece
    s = win.session
    s.load(clip)
    s.load_model(model)
    _takes(s, 2, qtbot, variations=2)
    win.history.rename_take(1, "opening")
    win.history.set_favourite(2, True)
    win.panels.setCurrentIndex(2)
    assert win.project._save(tmp_path / "piece.choreo")
    assert not win.isWindowModified() and win.windowTitle() == "piece.choreo[*] — Choreo Studio"
    script = textwrap.dedent("""
        import hashlib, json, sys
        import numpy as np
        from PyQt6.QtWidgets import QApplication
        app = QApplication([])
        from studio.app import create_window
        win = create_window(sys.argv[1])
        s = win.session
        print(json.dumps({"takes": [[t.number, t.name, t.favourite,
                                     hashlib.sha256(np.ascontiguousarray(t.positions).tobytes()).hexdigest()]
                                    for t in s.takes],
                          "panel": win.panels.currentIndex(), "title": win.windowTitle(),
                          "model": s.model is not None, "clip": s.motion.n_frames}))
        win.project.ask_on_close = False
        win.close()
        s.close()
    """)
    run = subprocess.run([sys.executable, "-c", script, str(tmp_path / "piece.choreo")], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert [tuple(t) for t in got["takes"]] == digest(s)
    assert got["panel"] == 2 and got["title"] == "piece.choreo[*] — Choreo Studio" and got["model"]
    assert got["clip"] == 240


def test_autosave_while_unsaved_then_recovery(qtbot, win, autosaves, bvh_piece, monkeypatch):
    clip, model = bvh_piece
    s = win.session
    win.project.enable(ask_on_close=False)
    s.load(clip)
    s.load_model(model)
    _takes(s, 2, qtbot)
    win.history.rename_take(2, "kept")
    qtbot.waitUntil(lambda: win.project._autosaved == s.revision, timeout=10000)
    files = list(autosaves.glob("*.choreo"))
    assert len(files) == 1 and Path(str(files[0]) + ".lock").exists()
    assert [t.title for t in read_project(files[0]).takes] == ["take 1", "kept"]
    assert keeping.find_orphans(autosaves) == []  # held by this studio: not an orphan
    win.project._lock.unlock()  # as if this studio had died
    [orphan] = keeping.find_orphans(autosaves)
    assert orphan.takes == 2 and orphan.of is None
    other = Session(device="cpu")
    try:
        w2 = MainWindow(other)
        qtbot.addWidget(w2)
        monkeypatch.setattr(dialogs, "ask_recover", lambda _p, o: "recover")
        assert w2.project.offer_recovery()
        assert digest(other) == digest(s) and other.modified and w2.isWindowModified()
        assert keeping.find_orphans(autosaves) == []  # the recovered autosave now belongs to w2
        w2.project.ask_on_close = False
        w2.close()
    finally:
        other.close()
    assert not files[0].exists()


def test_hostile_project_in_the_studio_is_one_message(qtbot, win, tmp_path, bvh_piece):
    clip, _ = bvh_piece
    win.session.load(clip)
    bad = tmp_path / "evil.choreo"
    import zipfile

    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("project.json", "{}")
        z.writestr("../../escape.npy", b"x")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert win.project.open(bad) is None
    assert "climbs out" in win.last_message and str(bad) in win.last_message
    assert win.session.motion is not None and win.session.project_path is None
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_missing_files_are_located_from_the_problems_dialog(qtbot, win, tmp_path, bvh_piece, monkeypatch):
    clip, model = bvh_piece
    work = tmp_path / "work"
    work.mkdir()
    for f in (clip, model):
        (work / f.name).write_bytes(f.read_bytes())
    s = win.session
    s.load(work / "dance.bvh")
    s.load_model(work / "dance.pt")
    _takes(s, 1, qtbot)
    win.project._save(tmp_path / "p.choreo")
    work.rename(tmp_path / "moved")
    opened = win.project.open(tmp_path / "p.choreo")
    assert len(opened.problems) == 2 and s.model is None and len(s.takes) == 1
    dialog = win.project.problems_dialog
    assert dialog is not None and dialog.isVisible()
    monkeypatch.setattr(dialogs, "ask_locate", lambda _p, problem: str(
        tmp_path / "moved" / ("dance.pt" if problem.what == "model" else "dance.bvh")))
    for _, button in dialog.rows.values():
        button.click()
    assert s.model is not None and s.motion is not None and s.project_problems == ()
    assert all(not b.isEnabled() for _, b in dialog.rows.values())


HARNESS = """
import hashlib, json, sys, time
import numpy as np
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication
app = QApplication([])
from studio.app import create_window
win = create_window(sys.argv[1], sys.argv[2])
win.show()
s, h = win.session, win.history
steps = ["load", "take", "wait", "take", "wait", "edit", "done"]

def report(event):
    takes = [[t.number, t.name, t.favourite, hashlib.sha256(np.ascontiguousarray(t.positions).tobytes()).hexdigest()]
             for t in s.takes]
    print(json.dumps({"event": event, "t": time.time(), "takes": takes, "temperature": s.temperature}), flush=True)

def tick():
    if not steps:
        return
    step = steps[0]
    if step == "load" and (s.motion is None or s.model is None):
        return
    if step == "wait" and (s.generation_status != "idle" or any(t.status != "done" for t in s.takes)):
        return
    steps.pop(0)
    if step == "take":
        win.controls.editors["temperature"].spin.setValue(0.5 + 0.25 * len(s.takes))
        s.duration = 0.5
        win.controls.generate()
    elif step == "edit":
        h.rename_take(2, "the fall")
        h.set_favourite(1, True)
    elif step == "done":
        report("edits done")

timer = QTimer()
timer.timeout.connect(tick)
timer.start(20)
app.exec()
"""


def _edit_then_kill(proc: subprocess.Popen, autosaves: Path) -> tuple[dict, Path]:
    """Wait for the harness's edits, then for an autosave that holds them (within a few seconds), then
    SIGKILL it. Returns (the harness's state after its edits, the autosave)."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""
    state = json.loads(line)
    assert state["event"] == "edits done" and len(state["takes"]) == 2
    deadline = state["t"] + 8.0  # "a few seconds": the autosave interval (1 s) plus a slow machine's slack
    while True:
        assert time.time() < deadline, "no autosave of the last edits within a few seconds"
        for f in autosaves.glob("[!.]*.choreo") if autosaves.is_dir() else ():  # not a write in progress
            try:
                p = read_project(f)
            except Exception:  # being replaced right now
                continue
            if [t.title for t in p.takes] == ["take 1", "the fall"] and p.takes[0].favourite:
                print(f"autosave of the last edits {time.time() - state['t']:.2f} s after them")
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                return state, f
        time.sleep(0.05)


@pytest.mark.slow
def test_sigkill_mid_session_then_recover(qtbot, tmp_path, autosaves, bvh_piece, monkeypatch):
    """The real app in a subprocess: edits, an autosave within seconds, kill -9, a new studio recovers them."""
    clip, model = bvh_piece
    env = {**os.environ, "PYTHONPATH": str(REPO), "CHOREO_AUTOSAVE_DIR": str(autosaves),
           "CHOREO_AUTOSAVE_SECONDS": "1", "OMP_NUM_THREADS": "1"}
    with subprocess.Popen([sys.executable, "-c", HARNESS, str(clip), str(model)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path) as proc:  # waits, closes pipes
        try:
            state, saved = _edit_then_kill(proc, autosaves)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert Path(str(saved) + ".lock").exists()  # the dead studio's lock is still there: stale

    from studio.app import create_window

    offered = []
    monkeypatch.setattr(dialogs, "ask_recover", lambda _p, o: offered.append(o) or "recover")
    w = create_window()
    qtbot.addWidget(w)
    try:
        assert [o.path for o in offered] == [saved]
        s = w.session
        assert [list(t) for t in digest(s)] == state["takes"]
        assert s.temperature == state["temperature"] and s.modified and w.isWindowModified()
        assert s.motion is not None and s.model is not None
    finally:
        w.project.ask_on_close = False
        w.close()
        w.session.close()
