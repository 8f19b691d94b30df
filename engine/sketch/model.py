"""Sketch-RNN (Ha & Eck 2017): bidirectional LSTM encoder, latent z, LSTM decoder with a bivariate mixture."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from ..mdn import BivariateMixture, BivariateMixtureHead
from ..models import init_lstm_

LSTMState = tuple[Tensor, Tensor]


@dataclass
class SketchConfig:
    """Size of the network and the shape of its loss. Saved in the checkpoint."""

    enc_hidden: int = 96  # units per direction of the bidirectional encoder LSTM (paper: 256)
    dec_hidden: int = 192  # units of the decoder LSTM (paper: 2048; far too slow on a 2-core CPU)
    z_size: int = 64  # latent dimensions (paper: 128)
    mixtures: int = 20  # bivariate Gaussian components for the pen offset (paper: 20)
    max_seq_len: int = 250  # longest sketch (points) trained on; longer ones are dropped
    kl_weight: float = 1.0  # weight of the KL term once annealing is done (paper: 0.5 .. 1.0)
    kl_min: float = 0.1  # KL floor (mean over latent dims): no KL gradient below it (paper: 0.2)
    kl_eta_min: float = 0.01  # KL annealing starts at this fraction of kl_weight (paper: 0.01)
    kl_decay: float = 0.997  # per step (1 - eta) shrinks by this factor: ~1000 CPU steps (paper: 0.99995)
    augment_scale: float = 0.05  # random per-axis stretch by up to +-5 % (paper: 15 %; datasets with a
    # fixed canvas have a narrow size spread that a bigger stretch would blur)
    dropout: float = 0.1  # dropout on the decoder output before the mixture head (0 = off)
    prior_fraction: float = 0.1  # share of training rows decoded from z ~ N(0, I), not q(z|x) (see below)
    conditional: bool = True  # False: decoder only (no encoder, z unused), an unconditional model


# ``prior_fraction`` is not in the paper. With short CPU training the decoder only ever sees
# latents from the posterior, whose spread is narrower than N(0, I); unconditional samples
# then fall into "holes" and often end at the first step. Decoding a few rows per batch from
# the prior teaches the decoder that any prior z starts a real drawing.


class SketchRNN(nn.Module):
    """Encoder ``q(z | sketch)`` and decoder ``p(next point | points so far, z)``.

    ``forward`` runs a whole teacher-forced batch (training); ``encode``,
    ``initial_state`` and ``step`` drive sampling one point at a time. After
    ``load_sketch_model`` the model carries ``scale`` (the data's offset std) and
    ``integer_units`` (whether the data used whole-number offsets).
    """

    def __init__(self, config: SketchConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        if c.conditional:
            self.encoder = nn.LSTM(5, c.enc_hidden, batch_first=True, bidirectional=True)
            init_lstm_(self.encoder)
            self.to_latent = nn.Linear(2 * c.enc_hidden, 2 * c.z_size)
        z_in = c.z_size if c.conditional else 0
        self.to_state = nn.Linear(c.z_size, 2 * c.dec_hidden)
        self.decoder = nn.LSTM(5 + z_in, c.dec_hidden, batch_first=True)
        init_lstm_(self.decoder)
        self.drop = nn.Dropout(c.dropout)
        self.head = BivariateMixtureHead(c.dec_hidden, c.mixtures)
        self.scale: float = 1.0
        self.integer_units: bool = True
        self.max_len: int = config.max_seq_len

    def encode(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """``x``: ``(B, T, 5)`` stroke-5 points (no start token), ``lengths`` ``(B,)`` -> (mu, logvar)."""
        packed = pack_padded_sequence(x, lengths.cpu().clamp(min=1), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.encoder(packed)
        out = self.to_latent(torch.cat([h[0], h[1]], dim=-1))
        mu, logvar = out.chunk(2, dim=-1)
        return mu, logvar

    def initial_state(self, z: Tensor) -> LSTMState:
        """Decoder (h, c) from z through a tanh layer."""
        h, c = torch.tanh(self.to_state(z)).chunk(2, dim=-1)
        return h.unsqueeze(0).contiguous(), c.unsqueeze(0).contiguous()

    def decode(self, inputs: Tensor, z: Tensor, state: LSTMState | None = None
               ) -> tuple[BivariateMixture, LSTMState]:
        """``inputs`` ``(B, T, 5)`` (start token first) -> mixture over each next point, final state."""
        if state is None:
            state = self.initial_state(z)
        if self.config.conditional:
            inputs = torch.cat([inputs, z.unsqueeze(1).expand(-1, inputs.shape[1], -1).to(inputs.dtype)], -1)
        h, state = self.decoder(inputs, state)
        return self.head(self.drop(h)), state

    def forward(self, x5: Tensor, lengths: Tensor, eps: Tensor, prior: Tensor | None = None
                ) -> tuple[BivariateMixture, Tensor, Tensor]:
        """Teacher-forced pass. ``x5`` ``(B, T+1, 5)`` starts with the start token; ``eps`` ``(B, z)`` noise.

        ``prior`` (bool ``(B,)``): rows decoded from ``z = eps`` instead of the posterior.
        Returns the mixture over points ``1..T``, and the posterior's mu and logvar.
        """
        if self.config.conditional:
            mu, logvar = self.encode(x5[:, 1:], lengths)
            z = mu + torch.exp(0.5 * logvar) * eps.to(mu.dtype)
            if prior is not None:
                z = torch.where(prior[:, None], eps.to(z.dtype), z)
        else:
            mu = logvar = torch.zeros_like(eps)
            z = torch.zeros_like(eps)
        mix, _ = self.decode(x5[:, :-1], z)
        return mix, mu.float(), logvar.float()

    @torch.no_grad()
    def step(self, x: Tensor, z: Tensor, state: LSTMState) -> tuple[BivariateMixture, LSTMState]:
        """One point ``(B, 5)`` -> mixture over the next point."""
        mix, state = self.decode(x.unsqueeze(1), z, state)
        return BivariateMixture(mix.logits[:, 0], mix.mu[:, 0], mix.log_sigma[:, 0], mix.rho[:, 0],
                                mix.pen_logits[:, 0]), state

    def n_parameters(self) -> int:
        """Trainable parameter count."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


def load_sketch_model(path, device: str | torch.device = "cpu") -> SketchRNN:
    """Rebuild a ready-to-sample ``SketchRNN`` from a checkpoint written by ``train_sketch``."""
    from ..checkpoint import read_checkpoint
    from ..errors import ChoreoError

    payload = read_checkpoint(path, kind="sketch")
    try:
        model = SketchRNN(SketchConfig(**payload["model_config"]))
        model.load_state_dict(payload["model"])
        extra = payload["extra"]
        model.scale = float(extra["scale"])
        model.integer_units = bool(extra["integer_units"])
        model.max_len = int(extra["max_len"])
    except (KeyError, TypeError, RuntimeError, ValueError) as err:
        raise ChoreoError(f"checkpoint is incomplete or from another model ({err})"[:240], path) from err
    model.checkpoint_info = {k: payload.get(k) for k in ("step", "frames_seen", "best_val", "elapsed")}
    return model.to(device).eval()
