"""LSTM helpers shared by the dance and sketch models: initialisation and a NumPy one-step twin."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch
from torch import nn

T = TypeVar("T")


def init_lstm_(lstm: nn.LSTM) -> None:
    """Orthogonal recurrent weights, Xavier input weights, forget-gate bias 1."""
    for name, p in lstm.named_parameters():
        if "weight_hh" in name:
            for gate in p.data.chunk(4, 0):
                nn.init.orthogonal_(gate)
        elif "weight_ih" in name:
            nn.init.xavier_uniform_(p.data)
        elif "bias" in name:
            p.data.zero_()
            if "bias_ih" in name:  # PyTorch gate order: input, forget, cell, output
                p.data[lstm.hidden_size : 2 * lstm.hidden_size] = 1.0


def numpy_twin(module: nn.Module, build: Callable[[nn.Module], T]) -> T:
    """``build(module)``, made once per set of the module's weights and kept on it.

    For NumPy copies of weights (``NumpyLSTM``, ``DiagMixtureSampler``): a new generator per
    live parameter change reuses them, and changing the weights in place rebuilds them.
    """
    key = tuple((p.data_ptr(), p._version) for p in module.parameters())
    cache = module.__dict__.setdefault("_numpy_twins", {})
    if build not in cache or cache[build][0] != key:
        cache[build] = (key, build(module))
    return cache[build][1]


class NumpyLSTM:
    """``DanceModel.step_hidden`` in NumPy, for generating one frame at a time on the CPU.

    Per frame each layer is one matrix-vector product over ``[input, h]`` and a few
    element-wise operations; NumPy's per-call cost is a fraction of torch's at this size
    (three ``torch.lstm_cell`` calls take 2.3-2.5x as long as this whole step). The weights
    are copied once, ``[W_ih | W_hh]`` side by side and transposed (``numpy_twin`` keeps one per model).
    State is ``(h, c)``, each ``(layers, batch, hidden)`` float32, like the torch path's.
    """

    def __init__(self, lstm: nn.LSTM) -> None:
        self.hidden = lstm.hidden_size
        self.layers = []  # (W^T (in + hidden, 4 * hidden), bias (4 * hidden,)) per layer
        for w_ih, w_hh, b_ih, b_hh in lstm.all_weights:
            w = torch.cat([w_ih, w_hh], 1).detach().float().cpu().numpy()
            self.layers.append((np.ascontiguousarray(w.T), (b_ih + b_hh).detach().float().cpu().numpy()))

    def step(self, x: np.ndarray, state: tuple[np.ndarray, np.ndarray]
             ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """One frame ``(batch, frame_dim)`` -> top output ``(batch, hidden)`` and the new state."""
        n = self.hidden
        h_in, hs, cs = x, [], []
        for layer, (w_t, b) in enumerate(self.layers):
            gates = np.concatenate([h_in, state[0][layer]], 1) @ w_t + b  # PyTorch gate order: i, f, g, o
            s = 0.5 + 0.5 * np.tanh(0.5 * gates)  # the sigmoid, without exp overflow
            c = s[:, n : 2 * n] * state[1][layer] + s[:, :n] * np.tanh(gates[:, 2 * n : 3 * n])
            h_in = s[:, 3 * n :] * np.tanh(c)
            hs.append(h_in)
            cs.append(c)
        return h_in, (np.stack(hs), np.stack(cs))
