"""``choreo studio [FILE|PIECE.choreo] [--model ckpt]``: the desktop app (PyQt6 + vispy + pyqtgraph).

With no file it opens the built-in demo dancing; first it offers to recover work a crashed studio
left behind. Qt is imported only when :func:`main` runs, so importing ``studio`` never pulls in a GUI
toolkit.
"""

from __future__ import annotations

import logging
import sys
import traceback

log = logging.getLogger(__name__)


def create_window(file: str | None = None, model: str | None = None):
    """Build the main window with ``file`` (or the demo) and ``model`` loaded; needs a ``QApplication``."""
    from engine.core.errors import ChoreoError

    from .qt.window import MainWindow

    win = MainWindow()
    win.project.enable()  # autosave and the question before quitting
    if win.project.offer_recovery():  # work a crashed or killed studio left behind
        pass
    elif file:
        win.open_path(file)
    else:
        win.load_demo()
    if model:
        try:
            win.session.load_model(model)
        except ChoreoError as err:
            win.show_error(str(err))
    return win


def main(file: str | None = None, model: str | None = None) -> int:
    """Open the studio and run the Qt event loop; returns the exit code."""
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Choreo Studio")
    win = create_window(file, model)

    def report(kind: type[BaseException], err: BaseException, tb: object) -> None:
        # PyQt aborts on an exception escaping a slot unless sys.excepthook is replaced: show it instead
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, err, tb)))
        win.show_error(f"Unexpected error: {kind.__name__}: {str(err).splitlines()[0] if str(err) else ''}")

    previous, sys.excepthook = sys.excepthook, report
    try:
        win.show()
        return int(app.exec())
    finally:
        sys.excepthook = previous


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(*(sys.argv[1:2] or [None])))
