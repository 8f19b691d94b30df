"""Atomic file writes: a half-written file never replaces a good one."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
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


def _create_beside(path: Path) -> Path:
    """Create a new empty temporary file in ``path``'s folder, as a plain ``open(path, "w")`` would.

    ``tempfile.mkstemp`` creates files with mode 0600 whatever the umask, and the rename kept that
    mode: exported videos could not be read by anyone else. Creating with 0666 lets the umask decide,
    like any other file the user makes (a file replaced in place keeps its own mode, see below).
    """
    folder = path.parent if str(path.parent) else Path(".")
    for _ in range(100):
        tmp = folder / f".{path.name}.{secrets.token_hex(4)}.tmp{path.suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"no free temporary name beside {path}")


@contextlib.contextmanager
def atomic_path(path: str | Path, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    If the body raises (disk full, encoder crash, Ctrl-C) the temporary file
    is removed and any existing file at ``path`` is left untouched. The new file gets the
    permissions a normally written file gets: the umask's for a new file, the old file's
    own when one is replaced.
    """
    path = check_writable(path, overwrite)
    try:
        tmp_path = _create_beside(path)
    except OSError as err:
        raise ChoreoError(f"could not write: {err.strerror or err}", path) from err
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp_path, stat.S_IMODE(os.stat(path).st_mode))  # replacing: keep the file's mode
        os.replace(tmp_path, path)
    except OSError as err:
        tmp_path.unlink(missing_ok=True)
        raise ChoreoError(f"could not write: {err.strerror or err}", path) from err
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def next_free_path(stem: str, suffix: str) -> Path:
    """``stem.suffix``, or the first free ``stem-2.suffix``, ``stem-3.suffix``... (never an existing file).

    Also avoids names whose per-variation files (``stem_v0.suffix``) exist.
    """
    path, n = Path(stem + suffix), 2
    while path.exists() or path.with_name(f"{path.stem}_v0{suffix}").exists():
        path, n = Path(f"{stem}-{n}{suffix}"), n + 1
    return path
