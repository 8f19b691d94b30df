"""``DanceModel``: a stacked LSTM with a diagonal Gaussian mixture head.

nanoGPT-style: a config dataclass, a short module, and checkpoints that carry
their own config (see ``engine.checkpoint``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import torch
from torch import Tensor, nn

from .mdn import DiagGaussianMixture, DiagGaussianMixtureHead

if TYPE_CHECKING:
    from .motion import Motion
    from .representation import MotionCodec

LSTMState = tuple[Tensor, Tensor]
T = TypeVar("T")
LOOK_BACK_STEPS = 32  # default priming length, in network steps


@dataclass
class DanceConfig:
    """Shape of a dance model. Every field is saved in the checkpoint."""

    n_joints: int = 0  # joints per frame; set from the training data
    hidden: int = 256  # LSTM units per layer
    layers: int = 3  # stacked LSTM layers
    mixtures: int = 8  # Gaussian components in the mixture head
    dropout: float = 0.0  # dropout between LSTM layers (training only)
    look_back: int | None = None  # source frames before the seed moment that prime generation by default;
    # None: LOOK_BACK_STEPS network steps (about a second)
    model_fps: float = 30.0  # the network steps at about this rate; faster data is strided, takes interpolated back
    frame_step: int = 1  # source frames per network step; set from the data's fps and model_fps
    input_noise: float = 0.5  # training-time noise on input poses, in units of a typical frame-to-frame step;
    # teaches the model to steer back when its own samples drift (exposure bias)
    anchor: float = 0.05  # pose anchor: a second, linear head predicts the next *absolute* centre-relative pose
    # (trained to the clean pose from noisy inputs); generation moves each sampled pose (previous pose + sampled
    # change) this fraction of the way to it per network step, so errors of integrated changes decay instead of
    # adding up while the motion keeps the smoothness of changes. 0: no anchor head (the checkpoint has none)
    turns: bool = True  # training crops are turned to random facings about the up axis (data augmentation:
    # a take that turns to a facing the clip never shows still gets poses the model knows)
    anchor_weight: float = 1.0  # weight of the anchor's mean squared error (z-scored poses) in the training loss

    @property
    def default_look_back(self) -> int:
        """Priming length in source frames."""
        return self.look_back or LOOK_BACK_STEPS * self.frame_step

    @property
    def frame_dim(self) -> int:
        """Numbers per frame: relative pose (joints x 3) + centre velocity (3)."""
        return self.n_joints * 3 + 3


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


class DanceModel(nn.Module):
    """Predicts a mixture over the next frame from the frames so far.

    ``forward`` runs whole sequences (training); ``step`` advances one frame
    with an explicit LSTM state (generation). After ``DanceModel.load`` the
    model also carries ``codec`` (normalisation), ``bones``/``bone_lengths`` (the
    joint pairs generation holds rigid) and ``seed`` (a stretch of its training
    data to start from, with the skeleton to draw it with).
    """

    def __init__(self, config: DanceConfig) -> None:
        super().__init__()
        if config.n_joints <= 0:
            raise ValueError("DanceConfig.n_joints must be set from the data")
        self.config = config
        self.lstm = nn.LSTM(
            config.frame_dim, config.hidden, config.layers, batch_first=True,
            dropout=config.dropout if config.layers > 1 else 0.0,
        )
        init_lstm_(self.lstm)
        self.head = DiagGaussianMixtureHead(config.hidden, config.frame_dim, config.mixtures)
        self.anchor = nn.Linear(config.hidden, config.n_joints * 3) if config.anchor > 0 else None
        self.codec: MotionCodec | None = None
        self.bones: Tensor | None = None
        self.bone_lengths: Tensor | None = None
        self.seed: Motion | None = None
        self.pose_bank: np.ndarray | None = None  # canonical training poses (M, J*3) for the pose guard
        self.pose_radius: float = 0.0  # how far unseen movement lies from the bank (the guard's radius)
        self.pose_up: int = 1  # up axis of the bank

    def forward(self, x: Tensor, state: LSTMState | None = None) -> tuple[DiagGaussianMixture, LSTMState]:
        """``x``: ``(batch, time, frame_dim)`` normalised frames -> mixture per step."""
        h, state = self.lstm(x, state)
        mix = self.head(h)
        if self.anchor is not None:
            mix.anchor = self.anchor(h).float()
        return mix, state

    @torch.no_grad()
    def step(self, x: Tensor, state: LSTMState | None) -> tuple[DiagGaussianMixture, LSTMState]:
        """One frame ``(batch, frame_dim)`` -> mixture over the next frame."""
        h, state = self.step_hidden(x, state)
        return self.head(h), state

    @torch.no_grad()
    def step_hidden(self, x: Tensor, state: LSTMState | None) -> tuple[Tensor, LSTMState]:
        """One frame ``(batch, frame_dim)`` -> the top LSTM output ``(batch, hidden)`` (the head's input).

        Runs one fused LSTM cell per layer: oneDNN's sequence kernel re-packs
        its weights on every call, which costs ~25x more than the step itself.
        """
        lstm = self.lstm
        if state is None:
            zeros = x.new_zeros(lstm.num_layers, x.shape[0], lstm.hidden_size)
            state = (zeros, zeros)
        hs, cs = [], []
        h = x
        for layer, w in enumerate(lstm.all_weights):  # [w_ih, w_hh, b_ih, b_hh] per layer
            h, c = torch.lstm_cell(h, (state[0][layer], state[1][layer]), *w)
            hs.append(h)
            cs.append(c)
        return h, (torch.stack(hs), torch.stack(cs))

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu") -> DanceModel:
        """A model ready to generate, from a checkpoint written by training."""
        from .checkpoint import load_dance_model

        return load_dance_model(path, device)


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
