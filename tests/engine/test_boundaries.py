"""The engine never pulls in a GUI toolkit, and the notebook front end never pulls in Qt."""

from __future__ import annotations

import subprocess
import sys

import pytest

GUI = ("PyQt6", "vispy", "pyqtgraph", "ipywidgets")


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return {m.split(".")[0] for m in out.stdout.split()}


def test_engine_and_the_command_line_import_no_gui_package():
    loaded = _loaded_after("import engine, engine.session, engine.dance.export, engine.sketch, studio.cli; "
                           "studio.cli.build_parser()")
    assert not loaded & set(GUI)


@pytest.mark.parametrize("module", ["studio", "studio.notebook"])
def test_studio_and_notebook_import_no_qt(module):
    loaded = _loaded_after(f"import {module}")
    assert not loaded & {"PyQt6", "pyqtgraph"}
