"""The one error type users see: a file (or setting) and what is wrong with it."""

from __future__ import annotations

from pathlib import Path


class ChoreoError(Exception):
    """A problem the user can fix: bad file, bad flag, missing model.

    ``str(err)`` is one line that names the file (when there is one) and the
    problem, e.g. ``clip.npy: expected a 3-D array (frames, joints, 3), got shape (10, 4)``.
    Front ends show it as is; the CLI prints it on stderr and exits non-zero.
    """

    def __init__(self, problem: str, path: str | Path | None = None) -> None:
        self.problem = problem
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {problem}" if self.path else problem)
