"""ipywidgets built from a knob's one definition (``engine.core.knobs.Knob``): the notebook's
sliders have the ranges, labels, scales and tooltips of the desktop studio's."""

from __future__ import annotations

import math

import ipywidgets as W

from engine.core.knobs import Knob

STYLE = {"description_width": "130px"}
WIDE_RANGE = 10_000  # int knobs spanning more than this get a number box, not a slider


def knob_widget(knob: Knob, value: object = None) -> W.ValueWidget:
    """A widget for ``knob`` showing ``value`` (default: the knob's default)."""
    value = knob.default if value is None else value
    common = dict(description=knob.label.lower() + (f" ({knob.unit})" if knob.unit else ""),
                  tooltip=knob.tip, style=STYLE)
    if knob.kind == "bool":
        return W.Checkbox(value=bool(value), indent=False, description=knob.label.lower(),
                          tooltip=knob.tip)
    if knob.kind == "choice":
        return W.Dropdown(options=[(str(c), c) for c in knob.choices], value=value, **common)
    if knob.kind == "int":
        if knob.hi - knob.lo > WIDE_RANGE:
            return W.BoundedIntText(value=int(value), min=int(knob.lo), max=int(knob.hi), **common)
        return W.IntSlider(value=int(value), min=int(knob.lo), max=int(knob.hi), step=int(knob.step),
                           continuous_update=False, **common)
    if knob.scale == "log":
        return W.FloatLogSlider(value=max(float(value), knob.slider_lo), base=10, min=math.log10(knob.slider_lo),
                                max=math.log10(knob.hi), step=0.01, readout_format=f".{knob.decimals}f",
                                continuous_update=False, **common)
    return W.FloatSlider(value=float(value), min=float(knob.lo), max=float(knob.hi), step=knob.step,
                         readout_format=f".{knob.decimals}f", continuous_update=False, **common)
