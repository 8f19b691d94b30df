"""One definition per knob: its checks, and the session validating against the same table."""

from __future__ import annotations

import re

import pytest

from engine.core.errors import ChoreoError
from engine.core.knobs import Knob, table
from engine.dance.knobs import GENERATION, TRAINING, mixture_choices
from engine.session import Session
from engine.sketch.knobs import DRAWING


def test_checks_convert_and_refuse_with_the_range_in_the_message():
    k = Knob("speed", "Speed", "float", 1.0, "how fast", lo=0.0, hi=2.0, unit="x")
    assert k.check("1.5") == 1.5
    with pytest.raises(ChoreoError, match=r"speed must be 0 to 2 x, got 3"):
        k.check(3)
    with pytest.raises(ChoreoError, match="finite"):
        k.check(float("nan"))
    n = Knob("count", "Count", "int", 1, "how many", lo=1, hi=8)
    assert n.check(4.0) == 4 and isinstance(n.check(4.0), int)
    with pytest.raises(ChoreoError, match="whole number"):
        n.check(2.5)
    with pytest.raises(ChoreoError, match="whole number"):
        n.check(True)
    c = Knob("mode", "Mode", "choice", "a", "which", choices=("a", "b"))
    with pytest.raises(ChoreoError, match=re.escape("one of a | b, got")):
        c.check("z")
    with pytest.raises(ValueError, match="twice"):
        table([n, n])


@pytest.mark.parametrize("knobs", [GENERATION, TRAINING, DRAWING])
def test_every_knob_is_complete_and_its_default_passes_its_own_check(knobs):
    for name, k in knobs.items():
        assert k.name == name and k.label and len(k.tip) > 15
        assert k.check(k.default) == k.default
        if k.kind in ("int", "float"):
            assert k.lo is not None and k.hi is not None and k.lo < k.hi
        if k.scale == "log":
            assert 0 < k.slider_lo < k.hi


def test_the_session_uses_the_table_ranges():
    with Session(device="cpu") as s:
        s.temperature = GENERATION["temperature"].hi
        with pytest.raises(ChoreoError, match="temperature must be 0 to 5"):
            s.temperature = GENERATION["temperature"].hi + 0.01
        with pytest.raises(ChoreoError, match="variations must be 1 to 8"):
            s.variations = 9
        assert s.mixture == "auto"
        with pytest.raises(ChoreoError, match=re.escape("mixture must be one of auto | argmax, got")):
            s.mixture = "most"


def test_mixture_menu_words():
    assert mixture_choices(2) == [("auto (sample a mode)", "auto"), ("most likely", "argmax"),
                                  ("mode 0", 0), ("mode 1", 1)]


def test_every_generation_knob_is_a_session_field_with_a_signal_and_in_the_recipe():
    from dataclasses import fields

    from engine.session import GenerationParams, SessionEvents

    recipe = {f.name for f in fields(GenerationParams)}
    with Session(device="cpu") as s:
        for name, knob in GENERATION.items():
            assert getattr(s, name) == knob.default and hasattr(SessionEvents, name), name
            if name not in ("live", "continue_from_playhead", "duration"):  # duration is the recipe's frames
                assert name in recipe, name
