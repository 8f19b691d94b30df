"""``DanceModel``: a stacked LSTM with a diagonal Gaussian mixture head.

nanoGPT-style: a config dataclass, a short module, and checkpoints that carry
their own config (``save`` / ``load``, through ``engine.core.checkpoint``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..core.checkpoint import read_checkpoint, save_checkpoint
from ..core.errors import ChoreoError
from ..core.mdn import DiagGaussianMixture, DiagGaussianMixtureHead
from ..core.recurrent import init_lstm_
from .bvh import rig_from_plain, rig_to_plain
from .motion import Motion
from .representation import MotionCodec

LSTMState = tuple[Tensor, Tensor]
CHECKPOINT_INFO = ("step", "frames_seen", "best_val", "elapsed")  # training figures a loaded model remembers
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
        self.checkpoint_info: dict[str, Any] = {}  # step, frames_seen, best_val, elapsed of the loaded checkpoint
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
        """Trainable parameter count."""
        return sum(p.numel() for p in self.parameters())

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def checkpoint_extra(self) -> dict[str, Any]:
        """What a dance checkpoint carries beside the weights: normalisation, skeleton, a seed stretch."""
        seed = self.seed
        if self.codec is None or seed is None or self.bones is None or self.bone_lengths is None:
            raise ValueError("a DanceModel needs codec, bones, bone_lengths and seed before it is saved")
        return {
            "codec": self.codec.state_dict(),
            "bones": torch.as_tensor(self.bones, dtype=torch.long).cpu(),
            "bone_lengths": torch.as_tensor(self.bone_lengths, dtype=torch.float64).cpu(),
            "seed_positions": torch.from_numpy(seed.positions.copy()),
            "seed_bones": torch.as_tensor(np.asarray(seed.bones), dtype=torch.long),
            "fps": float(seed.fps),
            "joint_names": list(seed.joint_names),
            "layout": seed.layout,
            "source": seed.source,
            "up_axis": seed.up_axis,
            "axis_scale": torch.as_tensor(seed.axis_scale, dtype=torch.float64),
            **({"rig": rig_to_plain(seed.rig)} if seed.rig else {}),
            **({} if self.pose_bank is None else {
                "pose_bank": torch.as_tensor(np.asarray(self.pose_bank, np.float32)),
                "pose_radius": float(self.pose_radius), "pose_up": int(self.pose_up)}),
        }

    def save(self, path: str | Path) -> Path:
        """Write a ready-to-generate checkpoint (weights, config, extras; no optimizer state)."""
        info = self.checkpoint_info
        return save_checkpoint(path, {
            "kind": "dance", "model_config": asdict(self.config), "train_config": {},
            "model": self.state_dict(), "optimizer": None, "step": int(info.get("step") or 0),
            "frames_seen": int(info.get("frames_seen") or 0), "elapsed": float(info.get("elapsed") or 0.0),
            "best_val": float(info["best_val"]) if info.get("best_val") is not None else float("inf"),
            "history": {}, "extra": self.checkpoint_extra(),
        })

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu") -> DanceModel:
        """A model ready to generate, from a checkpoint written by training or :meth:`save`."""
        payload = read_checkpoint(path, kind="dance")
        try:
            config = dict(payload["model_config"])
            if "anchor.weight" not in payload["model"]:
                config["anchor"] = 0.0  # written before the pose anchor existed
            model = cls(DanceConfig(**config))
            model.load_state_dict(payload["model"])
            extra = payload["extra"]
            model.codec = MotionCodec.from_state_dict(extra["codec"])
            model.bones = extra["bones"].long()
            model.bone_lengths = extra["bone_lengths"].double()
            model.seed = Motion(
                extra["seed_positions"].float().numpy(), fps=float(extra["fps"]),
                joint_names=list(extra["joint_names"]), bones=extra.get("seed_bones", extra["bones"]).numpy(),
                source=str(extra.get("source", "training data")), layout=str(extra.get("layout", "frames-first")),
                up_axis=str(extra.get("up_axis", "")),
                axis_scale=extra["axis_scale"].numpy() if "axis_scale" in extra else np.ones(3),
                rig=rig_from_plain(extra["rig"]) if "rig" in extra else None,
            )
            if "pose_bank" in extra:
                model.pose_bank = extra["pose_bank"].float().numpy()
                model.pose_radius, model.pose_up = float(extra["pose_radius"]), int(extra["pose_up"])
        except (KeyError, TypeError, RuntimeError, ValueError) as err:
            raise ChoreoError(f"checkpoint is incomplete or from another model ({err})"[:240], path) from err
        model.checkpoint_info = {k: payload.get(k) for k in CHECKPOINT_INFO}
        return model.to(device).eval()
