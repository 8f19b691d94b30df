"""The evented state both front ends observe (:class:`Session`) and the background worker it runs on.

Threads. Signals fire in the thread that made the change: setters and
methods in the caller's thread; training progress, streamed frames, new
takes' completion and errors in a worker thread. Values handed out are
immutable snapshots (tuples, frozen dataclasses), so reading the session from
any thread is safe. Emission never waits on a front end. Pick one of:

* **Qt** (slots must run in the GUI thread)::

      session.events.training_progress.connect(panel.show_progress, thread="main")
      # ... every connection with thread="main", then drain the queue from the Qt loop:
      timer = QTimer(); timer.timeout.connect(psygnal.emit_queued); timer.start(15)
      # (``psygnal.qt.start_emitting_from_queue()`` does the same but needs ``qtpy``)

  A queued connection only appends to a ``queue.Queue``; the worker never waits.
  Alternatively connect directly to a ``pyqtSignal.emit`` (Qt queues across threads).

* **Jupyter / ipywidgets**: direct connections work (ipykernel sends widget
  messages from any thread), but keep such slots quick. To run slots in the
  kernel's main thread instead, connect with ``thread="main"`` and call
  ``session.pump_in_asyncio()`` once: it drains the queue from the kernel's
  asyncio loop every ~30 ms.

* **Polling** (scripts, tests, any loop): ``q = session.event_queue()`` gives
  a ``queue.SimpleQueue`` of ``(signal_name, args)`` for every event.
"""

from .keeping import OpenedProject
from .project import Problem, Project, write_project
from .project_reader import read_project
from .recipe import Recipe, regenerate
from .session import Session
from .state import LossHistory, SessionEvents, Take, TakeFrames, TrainingProgress
from .worker import GenerationParams, Worker, WorkerError

__all__ = ["GenerationParams", "LossHistory", "OpenedProject", "Problem", "Project", "Recipe", "Session",
           "SessionEvents", "Take", "TakeFrames", "TrainingProgress", "Worker", "WorkerError", "read_project",
           "regenerate", "write_project"]
