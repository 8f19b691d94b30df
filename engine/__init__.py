"""Choreo Studio engine: motion data, LSTM + MDN models, training, generation.

Pure Python + PyTorch + NumPy; never imports a GUI toolkit.
"""

from .dance_training import train
from .errors import ChoreoError
from .generation import DanceGenerator
from .models import DanceConfig, DanceModel
from .motion import Motion, load_motion
from .training import TrainConfig, TrainEvent, TrainResult

__all__ = [
    "ChoreoError", "DanceConfig", "DanceGenerator", "DanceModel", "Motion", "TrainConfig",
    "TrainEvent", "TrainResult", "load_motion", "train",
]
