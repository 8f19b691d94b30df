"""Atomic writes (issue 14): files get the permissions any other file the user creates gets."""

from __future__ import annotations

import os
import stat

import pytest

from engine.core.fileio import atomic_path
from engine.dance.export import export_motion
from engine.dance.synthetic import synthetic_dancer


@pytest.fixture
def umask():
    """Set the process umask for a test (restored afterwards)."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_a_new_file_gets_the_umask_mode(tmp_path, umask, mask):
    umask(mask)
    plain = tmp_path / "plain.txt"
    plain.write_text("made the usual way")
    with atomic_path(tmp_path / "atomic.txt") as tmp:
        tmp.write_text("made atomically")
    assert _mode(tmp_path / "atomic.txt") == _mode(plain) == 0o666 & ~mask


def test_a_replaced_file_keeps_its_mode(tmp_path, umask):
    umask(0o022)
    path = tmp_path / "kept.txt"
    path.write_text("old")
    path.chmod(0o640)
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text("new")
    assert path.read_text() == "new" and _mode(path) == 0o640


def test_exported_videos_and_data_are_readable_like_other_files(tmp_path, umask):
    umask(0o022)
    clip = synthetic_dancer(12, fps=12.0)
    for name in ("a.mp4", "a.gif", "a.npy", "a.csv"):
        export_motion(clip, tmp_path / name, size=(96, 64))
        assert _mode(tmp_path / name) == 0o644, name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left
