"""A notice above the stage when the model and the clip on stage do not fit each other.

Both stay loaded and the stage keeps working; the notice says which does not fit and offers
what to do: train on the clip, or load another model.
"""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from engine.session.state import Fit


class FitNotice(QFrame):
    """Says what does not fit (``session.fit``) with a Train and a Load button; hidden when all fits."""

    train_requested = pyqtSignal()
    load_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet("FitNotice { background: #3a3322; border-bottom: 1px solid #6b5a2e; } "
                           "QLabel { color: #f0dca0; }")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.train_btn = QPushButton("Train on this clip")
        self.train_btn.setToolTip("Open the Train tab to train a model on the clip on stage")
        self.load_btn = QPushButton("Load a model…")
        self.load_btn.setToolTip("Load a dance model made for this body")
        self.train_btn.clicked.connect(self.train_requested)
        self.load_btn.clicked.connect(self.load_requested)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.train_btn)
        lay.addWidget(self.load_btn)
        self.hide()

    def show_fit(self, fit: Fit) -> None:
        """Show ``fit``'s message, or hide when the model fits the clip."""
        self.text.setText(fit.message)
        self.setVisible(not fit.ok)
