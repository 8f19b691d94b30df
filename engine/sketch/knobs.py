"""The sketch knobs: how a Sketch-RNN draws (one definition each, see ``engine.core.knobs``)."""

from __future__ import annotations

from ..core.knobs import Knob, table

DRAWING = table([
    Knob("temperature", "Temperature", "float", 0.4, lo=0.0, hi=2.0, scale="log", log_floor=0.05,
         tip="Low = tidy, typical shapes; high = freer, wobblier, surprising drawings; 0 = the most likely "
             "stroke every time"),
    Knob("endings", "Endings", "int", 4, lo=1, hi=6,
         tip="How many different endings (or drawings) to make side by side"),
    Knob("rng", "Random seed", "int", 0, lo=0, hi=2**31 - 1, flag="--seed",
         tip="The same seed and settings give the same drawings again"),
])
