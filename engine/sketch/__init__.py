"""Sketch-RNN in the engine: stroke data, the model, training on the shared trainer, drawing.

```python
from . import load_strokes, train_sketch, load_sketch_model, sample, complete
model = load_sketch_model("s.pt")
drawings = sample(model, 16, temperature=0.4, rng=0)      # stroke-3 arrays, data units
endings = complete(model, drawings[0][:10], n=4)         # the prefix is kept exactly
```
"""

from .animals import animal_sketches, animal_svgs
from .model import SketchConfig, SketchRNN, load_sketch_model
from .progress import SketchSamples
from .quality import sketch_quality, sketch_size, stroke_count
from .recipe import TrainingPlan, plan_training
from .render import render_png, save_sketches, sketches_to_svg
from .sampling import complete, encode, interpolate, reconstruct, sample, slerp
from .strokes import (
    filter_by_length,
    load_split,
    load_strokes,
    offset_scale,
    save_strokes,
    stroke3_to_stroke5,
    stroke5_to_stroke3,
)
from .synthetic import synthetic_sketches
from .task import SketchTask, evaluate_sketch, sketch_losses, sketch_train_config, train_sketch

__all__ = [
    "SketchConfig",
    "SketchRNN",
    "SketchSamples",
    "SketchTask",
    "TrainingPlan",
    "animal_sketches",
    "animal_svgs",
    "complete",
    "encode",
    "evaluate_sketch",
    "filter_by_length",
    "interpolate",
    "load_sketch_model",
    "load_split",
    "load_strokes",
    "offset_scale",
    "plan_training",
    "reconstruct",
    "render_png",
    "sample",
    "save_sketches",
    "save_strokes",
    "sketch_losses",
    "sketch_quality",
    "sketch_size",
    "sketch_train_config",
    "sketches_to_svg",
    "slerp",
    "stroke3_to_stroke5",
    "stroke5_to_stroke3",
    "stroke_count",
    "synthetic_sketches",
    "train_sketch",
]
