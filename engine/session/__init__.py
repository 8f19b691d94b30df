"""The evented state both front ends observe (:class:`Session`) and the background worker it runs on."""

from .session import Session
from .state import LossHistory, SessionEvents, Take, TakeFrames, TrainingProgress
from .worker import GenerationParams, Worker, WorkerError

__all__ = ["GenerationParams", "LossHistory", "Session", "SessionEvents", "Take", "TakeFrames",
           "TrainingProgress", "Worker", "WorkerError"]
