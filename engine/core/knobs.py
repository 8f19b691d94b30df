"""Knobs: every setting a person can turn, defined once (name, label, unit, range, default,
scale, tooltip). The session validates against these definitions; the desktop studio, the
notebook and the command line's help are built from them, so the same knob has the same
range, words and default everywhere.

The tables themselves live with what they control (``engine.dance.knobs``,
``engine.sketch.knobs``); this module holds the definition and its checks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import ChoreoError


@dataclass(frozen=True)
class Knob:
    """One setting.

    ``kind`` is ``float``, ``int``, ``bool`` or ``choice``. ``lo``/``hi`` bound numbers
    (inclusive). ``scale="log"`` makes sliders logarithmic between ``log_floor`` (the smallest
    non-zero value a slider reaches; typed values may still be ``lo``) and ``hi``.
    ``step`` is the spin/slider increment of linear knobs, ``decimals`` the shown precision.
    ``flag`` is the command-line spelling (default ``--name-with-dashes``).
    """

    name: str
    label: str
    kind: str
    default: Any
    tip: str
    lo: float | None = None
    hi: float | None = None
    unit: str = ""
    scale: str = "linear"
    log_floor: float | None = None
    step: float = 1.0
    decimals: int = 2
    choices: tuple[Any, ...] = ()
    flag: str = ""

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def slider_lo(self) -> float:
        """Lowest value of a slider (``log_floor`` for log knobs that allow 0)."""
        if self.scale == "log":
            return float(self.log_floor if self.log_floor is not None else self.lo)  # type: ignore[arg-type]
        return float(self.lo if self.lo is not None else 0.0)

    def range_text(self) -> str:
        """``"0 to 5"`` style text for help and errors."""
        if self.kind == "choice":
            return " | ".join(str(c) for c in self.choices)
        unit = f" {self.unit}" if self.unit else ""
        return f"{_fmt(self.lo)} to {_fmt(self.hi)}{unit}"

    def help(self) -> str:
        """Command-line help: the tooltip, the range and the default."""
        return f"{self.tip} ({self.range_text()}; default {_fmt(self.default)})"

    def check(self, value: Any) -> Any:
        """``value`` converted to this knob's type, or a ChoreoError naming the knob and its range."""
        if self.kind == "bool":
            return bool(value)
        if self.kind == "choice":
            if value not in self.choices:
                raise ChoreoError(f"{self.label.lower()} must be one of {self.range_text()}, got {value!r}")
            return value
        if self.kind == "int":
            whole_float = isinstance(value, float) and value.is_integer()
            if isinstance(value, bool) or not (_is_int(value) or whole_float):
                raise ChoreoError(f"{self.label.lower()} must be a whole number, got {value!r}")
            v: float = int(value)
        else:
            try:
                v = float(value)
            except (TypeError, ValueError) as err:
                raise ChoreoError(f"{self.label.lower()} must be a number, got {value!r}") from err
            if not math.isfinite(v):
                raise ChoreoError(f"{self.label.lower()} must be a finite number, got {value!r}")
        if (self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi):
            raise ChoreoError(f"{self.label.lower()} must be {self.range_text()}, got {_fmt(v)}")
        return v


def _is_int(value: Any) -> bool:
    return isinstance(value, int) or type(value).__name__ in ("int64", "int32", "int16", "int8", "uint8")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def table(knobs: Iterable[Knob]) -> dict[str, Knob]:
    """Knobs by name (a name must be unique)."""
    out: dict[str, Knob] = {}
    for k in knobs:
        if k.name in out:
            raise ValueError(f"knob {k.name!r} defined twice")
        out[k.name] = k
    return out
