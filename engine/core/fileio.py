"""Atomic file writes: a half-written file never replaces a good one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import ChoreoError


def check_writable(path: str | Path, overwrite: bool = True) -> Path:
    """Return ``path`` as a Path if it may be written, else raise ChoreoError."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise ChoreoError("already exists (use --force to replace it)", path)
    if path.is_dir():
        raise ChoreoError("is a folder, expected a file name", path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ChoreoError(f"folder {parent} does not exist", path)
    return path


def check_checkpoint_out(path: str | Path, overwrite: bool, resume: str | Path | None) -> Path:
    """A training ``--out``: refuse an existing file unless replacing it or resuming that very run."""
    path = Path(path)
    resuming_own = resume is not None and Path(resume).resolve() in (
        path.resolve(), path.with_suffix(".last.pt").resolve())
    if path.exists() and not overwrite and not resuming_own:
        raise ChoreoError("already exists (use --force to replace it, or --resume to continue it)", path)
    return path


@contextlib.contextmanager
def atomic_path(path: str | Path, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    If the body raises (disk full, encoder crash, Ctrl-C) the temporary file
    is removed and any existing file at ``path`` is left untouched.
    """
    path = check_writable(path, overwrite)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent or ".")
    except OSError as err:
        raise ChoreoError(f"could not write: {err.strerror or err}", path) from err
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        # mkstemp makes the file 0600; a written export gets the mode any new file would have
        os.chmod(tmp_path, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except OSError as err:
        tmp_path.unlink(missing_ok=True)
        raise ChoreoError(f"could not write: {err.strerror or err}", path) from err
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting, then put back at once
    os.umask(mask)
    return mask


def next_free_path(stem: str, suffix: str) -> Path:
    """``stem.suffix``, or the first free ``stem-2.suffix``, ``stem-3.suffix``... (never an existing file).

    Also avoids names whose per-variation files (``stem_v0.suffix``) exist.
    """
    path, n = Path(stem + suffix), 2
    while path.exists() or path.with_name(f"{path.stem}_v0{suffix}").exists():
        path, n = Path(f"{stem}-{n}{suffix}"), n + 1
    return path
