"""The notebooks in ``notebooks/`` run top to bottom in quick mode (``CHOREO_QUICK=1``) and are stored stripped."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from engine.session import Session

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ["01_dance_quickstart.ipynb", "02_mdn_intuition.ipynb", "03_sketch_rnn.ipynb"]


def test_all_notebooks_are_here_and_stored_without_outputs():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == NAMES
    for name in NAMES:
        book = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(book)
        for cell in book.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{name}: outputs not stripped"
        assert "widgets" not in book.metadata, f"{name}: widget state not stripped"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom_in_quick_mode(name, tmp_path, monkeypatch):
    monkeypatch.setenv("CHOREO_QUICK", "1")
    monkeypatch.setenv("CHOREO_OUT", str(tmp_path))
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(book, kernel_name="python3", timeout=240,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    t0 = time.monotonic()
    client.execute()  # raises CellExecutionError (with the cell and traceback) on any failure
    seconds = time.monotonic() - t0
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    print(f"{name}: {seconds:.1f} s")
    produced = {p.name for p in tmp_path.iterdir()}
    expected = {"01_dance_quickstart.ipynb": {"take.gif", "my_dance.pt", "piece.choreo"},
                "02_mdn_intuition.ipynb": set(),
                "03_sketch_rnn.ipynb": {"sketch.pt", "endings.svg", "drawings.png"}}[name]
    assert expected <= produced
    images = [o for c in book.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {}) or "image/gif" in o.get("data", {})]
    assert images, "the notebook shows no pictures"
    if name.startswith("01"):
        text = "".join(o.get("text", "") for c in book.cells if c.cell_type == "code" for o in c.outputs)
        assert "regenerated from its recipe alone, identical: True" in text
        with Session.open_project(tmp_path / "piece.choreo", device="cpu") as s:  # the kernel's file, read here
            assert s.take(1).title == "first try" and s.take(1).favourite
            assert np.array_equal(s.regenerate_take(1), s.take(1).positions)
        widget_views = [o for c in book.cells for o in c.get("outputs", [])
                        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        assert widget_views, "the studio widget was not displayed"
