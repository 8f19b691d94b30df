"""Command-line options built from a knob's one definition: the same range, words and default as
the studio's sliders, and a value outside the range is one clear line, not a traceback."""

from __future__ import annotations

import argparse
from typing import Any

from engine.core.errors import ChoreoError
from engine.core.knobs import Knob


def _parse(knob: Knob) -> Any:
    def parse(text: str) -> Any:
        try:
            if knob.kind == "int":
                value: Any = int(text)
            elif knob.kind == "float":
                value = float(text)
            else:
                value = text
            return knob.check(value)
        except (ValueError, ChoreoError) as err:
            raise argparse.ArgumentTypeError(
                str(err) if isinstance(err, ChoreoError) else f"{knob.label.lower()} must be a number, got {text!r}"
            ) from None

    parse.__name__ = knob.label.lower()  # argparse names the type in its messages
    return parse


def add_knob(parser: argparse.ArgumentParser, knob: Knob, default: Any = ..., help: str | None = None) -> None:
    """``parser.add_argument`` for ``knob`` (its flag, type, range check, default and tooltip as help)."""
    value = knob.default if default is ... else default
    kwargs: dict[str, Any] = dict(default=value, help=help or knob.help(), dest=knob.name)
    if knob.kind == "bool":
        parser.add_argument(knob.cli_flag, action="store_true", **kwargs)
        return
    if knob.kind == "choice":
        kwargs["metavar"] = "|".join(str(c) for c in knob.choices)
    parser.add_argument(knob.cli_flag, type=_parse(knob), **kwargs)
