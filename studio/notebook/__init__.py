"""The Jupyter front end: ``StudioWidget`` puts ipywidgets over an :class:`engine.session.Session`.

```python
from engine.session import Session
from studio.notebook import StudioWidget

session = Session()
session.load_demo()
StudioWidget(session)          # the last expression of a cell displays it
```

The widget is thin: every control writes through a session setter and every
display reacts to ``session.events``; no model code lives here. The same
session can be driven from code in the next cell (``session.temperature = .5``)
and the sliders follow.

Threads. The session emits training progress and streamed frames from its
worker threads. The widget connects with ``thread="main"`` (psygnal queues
those calls) and, inside a running kernel, starts ``session.pump_in_asyncio()``
so the queue drains from the kernel's event loop between cells and while the
user clicks. All widget state therefore changes in the kernel's main thread.
A cell that blocks (``session.wait_idle()``) holds the updates until it ends;
:meth:`StudioWidget.wait` waits and then applies them. Without a running loop
(scripts, tests) call :meth:`StudioWidget.flush`.

The 3D view is the engine's :class:`engine.dance.render.FigureRenderer` (NumPy +
Pillow) shown as an ``ipywidgets.Image``: a frame takes a few milliseconds to
draw and encode, it needs no browser extension (ipympl, WebGL), it looks
exactly like the exported GIF/MP4, and the PNG bytes are part of the saved
widget state, so static exports (nbconvert HTML, screenshots) show it too.
The loss plot is a matplotlib figure rendered with the Agg canvas (no pyplot,
no GUI backend) into another ``Image``, throttled while training runs.
"""

from .images import loss_plot_png, png_bytes
from .sketch import SketchTrainer
from .widget import StudioWidget

__all__ = ["SketchTrainer", "StudioWidget", "loss_plot_png", "png_bytes"]
