"""The ``choreo`` command line. Each sub-module registers its own commands.

Errors a user can cause (bad file, bad flag, missing model) are one line on
stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from engine.core.errors import ChoreoError

from . import app, bench, dance, evaluate, media, project, sketch, stream

# Modules that define ``register(subparsers)``; order is the order of ``choreo --help``.
COMMAND_MODULES = [dance, evaluate, media, project, stream, sketch, app, bench]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not the usage dump
        self.exit(2, f"choreo: {message} (see choreo --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="choreo", description="Choreo Studio: learn a dancer's movement and dance on.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``choreo`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # --nproc re-runs this very command line
    try:
        return int(args.func(args) or 0)
    except ChoreoError as err:
        print(f"choreo: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("choreo: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
