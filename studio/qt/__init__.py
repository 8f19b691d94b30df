"""The Qt desktop studio: main window, 3D stage, timeline, controls, training panel, sketch tab.

Importing this package imports PyQt6 (``studio`` itself never does).
"""

from .window import MainWindow

__all__ = ["MainWindow"]
