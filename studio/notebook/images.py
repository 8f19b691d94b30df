"""Pictures for the notebook: PNG frames, the loss plot and an empty-state placeholder (no pyplot, no GUI backend)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from engine.dance.render import BACKGROUND
from engine.session import LossHistory


def png_bytes(rgb: np.ndarray, compress_level: int = 1) -> bytes:
    """Encode an ``(H, W, 3)`` uint8 image as PNG (fast compression: it is redrawn often)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def plot_axes(size: tuple[int, int]) -> Any:
    """One matplotlib Axes on an Agg canvas of ``size`` pixels (no pyplot, no GUI backend); see :func:`axes_png`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 100
    fig = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig.add_subplot(1, 1, 1)


def axes_png(ax: Any) -> bytes:
    """The figure of ``ax`` (from :func:`plot_axes`), laid out tightly, as PNG bytes."""
    fig = ax.figure
    fig.tight_layout(pad=0.4)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def loss_plot_png(history: LossHistory, size: tuple[int, int] = (420, 220)) -> bytes:
    """Training and validation loss curves as PNG bytes (matplotlib's Agg canvas, no pyplot)."""
    ax = plot_axes(size)
    if history.train:
        ax.plot(history.train_steps, history.train, color="#f06e50", lw=1.5, label="train")
    if history.val:
        ax.plot(history.val_steps, history.val, "o-", color="#50a0f5", lw=1.5, ms=3, label="validation")
    if history.train or history.val:
        ax.legend(loc="upper right", fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "no training yet", ha="center", va="center", color="#888", transform=ax.transAxes)
    ax.set_xlabel("step", fontsize=8)
    ax.set_ylabel("loss (nats per number)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    return axes_png(ax)


def blank_png(size: tuple[int, int], text: str = "") -> bytes:
    from PIL import ImageDraw

    img = Image.new("RGB", size, BACKGROUND)
    if text:
        ImageDraw.Draw(img).text((12, size[1] // 2 - 6), text, fill=(170, 176, 190))
    return png_bytes(np.asarray(img))
