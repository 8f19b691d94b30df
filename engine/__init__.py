"""Choreo Studio engine: motion data, LSTM + MDN models, training, generation.

Pure Python + PyTorch + NumPy; never imports a GUI toolkit.
"""

from .core.errors import ChoreoError
from .core.training import TrainConfig, TrainEvent, TrainResult
from .dance.generation import DanceGenerator
from .dance.model import DanceConfig, DanceModel
from .dance.motion import Motion, load_motion
from .dance.task import train

__all__ = [
    "ChoreoError", "DanceConfig", "DanceGenerator", "DanceModel", "Motion", "TrainConfig",
    "TrainEvent", "TrainResult", "load_motion", "train",
]
