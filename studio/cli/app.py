"""``choreo studio``: open the desktop app."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("studio", help="open the desktop studio (the demo when no file is given)")
    s.add_argument("file", nargs="?", help="mocap clip or project (PIECE.choreo) to open")
    s.add_argument("--model", help="dance model checkpoint to load")
    s.set_defaults(func=cmd_studio)


def cmd_studio(args: argparse.Namespace) -> int:
    from studio import app  # Qt loads only when the studio opens, not for every choreo command

    return int(app.main(file=args.file, model=args.model) or 0)
