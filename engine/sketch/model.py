"""Sketch-RNN (Ha & Eck 2017): bidirectional LSTM encoder, latent z, LSTM decoder with a bivariate mixture."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.func import functional_call

from ..core.mdn import BivariateMixture, BivariateMixtureHead
from ..core.recurrent import init_lstm_

POSITION_SCALE = 0.25  # positions and sizes (in offset-std units) are fed to the decoder times this


class DecoderState(NamedTuple):
    """What the decoder carries from one point to the next (all ``(B, ...)``, normalised units)."""

    h: Tensor  # LSTM hidden state (1, B, H)
    c: Tensor  # LSTM cell state (1, B, H)
    pos: Tensor  # (B, 2) where the pen is: the sum of the offsets so far (0 = where the drawing starts from)
    lo: Tensor  # (B, 2) lowest x, y of the points drawn so far (+inf before the first point)
    hi: Tensor  # (B, 2) highest x, y of the points drawn so far (-inf before the first point)
    size: Tensor  # (B, 2) width and height of the drawing to make (``size_input``; zeros without it)


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
    augment_scale: float = 0.05  # random per-axis stretch by up to +-5 % (paper: 15 %; the Sketch-RNN sets are
    # drawn on a fixed canvas -- larger side 255 -- whose size the decoder learns through position_input:
    # a +-15 % stretch blurs that canvas and the samples come out larger than the data)
    dropout: float = 0.0  # dropout on the decoder output before the mixture head (0 = off; a 4-minute model
    # underfits -- validation loss still falls steeply at the end -- and dropout only slows it down)
    prior_fraction: float = 0.25  # share of training rows decoded from z ~ N(0, I), not q(z|x) (see below)
    conditional: bool = True  # False: decoder only (no encoder, z unused), an unconditional model
    position_input: bool = True  # the decoder also sees where the pen is (running sum of offsets; see below)
    end_after_lift: bool = True  # "end of sketch" only right after a pen lift, as in the data (see below)
    extent_input: bool = True  # the decoder also sees how far the drawing so far reaches around the pen (see below)
    size_input: bool = True  # the decoder is told the width and height of the drawing to make (see below)
    pen_weight: float = 3.0  # training weight of the rare pen targets -- "lift after this point" and "end" --
    # against "pen stays down" at step 0, falling towards 1 (the paper's plain cross-entropy) by
    # pen_weight_decay per step; validation always uses 1 (see below)
    pen_weight_decay: float = 0.999  # per step (pen_weight - 1) shrinks by this factor: half after ~700 steps


# ``prior_fraction`` is not in the paper. With short CPU training the decoder only ever sees
# latents from the posterior, whose spread is narrower than N(0, I); unconditional samples
# then fall into "holes" and often end at the first step. Decoding a few rows per batch from
# the prior teaches the decoder that any prior z starts a real drawing. The aggregate posterior
# of a 4-minute model is shrunk (variance ~0.7 per dim under the KL floor), so a prior z is
# larger than any posterior z the decoder meets: a quarter of the rows (not a tenth) is needed
# before prior samples stop ending at once (~7 % empty drawings at 0.1 on one-class data).
#
# ``position_input`` is not in the paper either. The paper's decoder sees only the last offset
# and must integrate offsets in its LSTM state to know where the pen is; a small decoder after
# a few minutes does that poorly, and at low temperature (mixture weights sharpened) the
# layout errors compound stroke after stroke: the drawing drifts (kanji at temperature 0.4:
# horizontal strokes stacked ever lower, height/width 1.55 against the data's 1.0). Feeding the
# running position (the sum of the offsets so far, ``POSITION_SCALE`` times the normalised
# units) lets the decoder see where it is on the canvas and steer back (height/width ~1.2).
#
# ``extent_input`` and ``size_input``: the running position says where the pen is, not how big
# the drawing already is nor how big it is meant to be. A 4-minute decoder learns the size of the
# drawings in a set only roughly, and that error changes from one training to the next: on a
# Quick, Draw!-like set (larger side 255) the median size of samples at temperature 0.4 landed
# anywhere from 5 % below to 5 % above the data's median over five trainings without these inputs
# (two of them had sample sets outside the data's 5-95 % band).
# So the decoder sees the box of the points drawn so far (distances from the pen to its edges)
# and the width and height of the whole drawing it is making -- during training the drawing's
# own, when sampling one drawn from the training set's sizes (kept in the checkpoint) or given
# by the caller. Size becomes a condition the model follows, like z, instead of a guess. With
# both, four trainings put that median between 1 % and 6 % below the data's (cats) and all but
# one of 32 sample sets inside the data's 5-95 % band; validation loss also improved.
#
# ``end_after_lift``: in stroke-5 data the end-of-sketch row always follows a point after which
# the pen was lifted (the drawing is over when the pen is off the paper; training sketches are
# made so). The pen head gives "end" no mass after a pen-down point or the start token, so a
# sample cannot stop in the middle of a stroke or before drawing anything. This changes nothing
# the data can say (the loss of real sketches only drops by the mass removed), it only stops a
# short-trained decoder from wandering into endings the data never has.
# ``pen_weight``: a long drawing has ~10 lifts among ~120 points. At temperature 0.4 the pen
# logits are sharpened too, so a lift the decoder gives 30 % where a stroke should end is drawn
# ~10 % of the time: a few-minute model on long drawings made single-line scribbles that ran to the
# point limit. Weighting the lift and end targets makes the decoder commit to them early in training;
# the weight then decays, so a long training ends close to the plain likelihood. (A weight w multiplies
# the odds of a lift by about w: a stroke end at 30 % becomes ~55 %, a mid-stroke 5 % becomes ~14 %,
# which temperature 0.4 still draws less than 1 % of the time.)
END_MASK = -30.0  # pen logit of "end" where it is impossible: finite (exp(-30) ~ 1e-13), no NaN in the loss


def _lstm_direction(lstm: nn.LSTM, x: Tensor, suffix: str) -> Tensor:
    """Outputs ``(B, T, H)`` of one direction (``""`` or ``"_reverse"``) of a one-layer bidirectional
    ``lstm``, as a plain unidirectional pass with that direction's weights (gradients reach them)."""
    names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    shells = _ONE_WAY.__dict__.setdefault("shells", {})  # per thread: functional_call swaps weights in place
    key = (lstm.input_size, lstm.hidden_size)
    if key not in shells:
        with torch.device("meta"):  # no memory and no draw from the global random generator
            shells[key] = nn.LSTM(*key, batch_first=True)
    out, _ = functional_call(shells[key], {name: getattr(lstm, name + suffix) for name in names}, (x,))
    return out


_ONE_WAY = threading.local()  # weightless one-direction LSTMs that ``_lstm_direction`` runs with given weights


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
        pos_in = (2 if c.position_input else 0) + (4 if c.extent_input else 0) + (2 if c.size_input else 0)
        self.to_state = nn.Linear(c.z_size, 2 * c.dec_hidden)
        self.decoder = nn.LSTM(5 + pos_in + z_in, c.dec_hidden, batch_first=True)
        init_lstm_(self.decoder)
        self.drop = nn.Dropout(c.dropout)
        self.head = BivariateMixtureHead(c.dec_hidden, c.mixtures)
        self.scale: float = 1.0
        self.integer_units: bool = True
        self.max_len: int = config.max_seq_len
        self.epsilon: float = 0.0  # RDP tolerance (data units) the training drawings were re-simplified with
        # (n, 2) widths and heights of training drawings (normalised), that size_input samples from;
        # training and loading set it, an untrained model draws at one offset-std
        self.sizes: Tensor = torch.ones(1, 2)

    def encode(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """``x``: ``(B, T, 5)`` stroke-5 points (no start token), ``lengths`` ``(B,)`` -> (mu, logvar).

        Each direction of the bidirectional encoder runs as one plain (unpacked) LSTM pass: the
        forward one over the padded batch, read at each sketch's last point; the backward one over
        each sketch reversed within its own length, read at the same place. That is exactly what
        a packed pass computes, but a packed sequence takes PyTorch's per-step CPU path, whose
        backward pass zero-fills a full-size gradient for every step (quadratic in the length:
        3.9 s of a 4.5 s training step at 221 points, batch 64); the plain pass runs oneDNN's
        fused LSTM kernel, in bf16 where the trainer uses it.
        """
        t = x.shape[1]
        last = (lengths.to(x.device).clamp(1, t) - 1).long()
        steps = torch.arange(t, device=x.device)
        rev = torch.where(steps[None] <= last[:, None], last[:, None] - steps[None], steps[None])  # (B, T)
        x_rev = x.gather(1, rev[..., None].expand(-1, -1, x.shape[2]))
        enc = self.encoder
        h_fwd = _lstm_direction(enc, x, "")
        h_bwd = _lstm_direction(enc, x_rev, "_reverse")
        pick = last[:, None, None].expand(-1, 1, enc.hidden_size)
        h = torch.cat([h_fwd.gather(1, pick), h_bwd.gather(1, pick)], -1).squeeze(1)
        out = self.to_latent(h)
        mu, logvar = out.chunk(2, dim=-1)
        return mu, logvar

    def initial_state(self, z: Tensor, size: Tensor | None = None) -> DecoderState:
        """Decoder (h, c) from z through a tanh layer, the pen at the origin, nothing drawn yet.

        ``size`` ``(B, 2)``: width and height of the drawing to make (normalised units).
        """
        h, c = torch.tanh(self.to_state(z)).chunk(2, dim=-1)
        pos = torch.zeros(z.shape[0], 2, dtype=torch.float32, device=z.device)
        size = pos if size is None else size.float().to(z.device).reshape(-1, 2).expand(z.shape[0], 2)
        return DecoderState(h.unsqueeze(0).contiguous(), c.unsqueeze(0).contiguous(), pos,
                            torch.full_like(pos, torch.inf), torch.full_like(pos, -torch.inf), size)

    def decode(self, inputs: Tensor, z: Tensor, state: DecoderState | None = None, size: Tensor | None = None
               ) -> tuple[BivariateMixture, DecoderState]:
        """``inputs`` ``(B, T, 5)`` -> mixture over each next point, and the state after them.

        Without ``state`` the decoding starts afresh (``initial_state(z, size)``) and
        ``inputs`` must begin with the start token.
        """
        fresh = state is None
        if state is None:
            state = self.initial_state(z, size)
        pos = state.pos.float().unsqueeze(1) + torch.cumsum(inputs[..., :2].float(), 1)
        drawn_lo, drawn_hi = pos, pos
        if fresh:  # the start token leaves the pen at the origin without drawing there
            drawn_lo, drawn_hi = pos.clone(), pos.clone()
            drawn_lo[:, 0], drawn_hi[:, 0] = torch.inf, -torch.inf
        lo = torch.minimum(torch.cummin(drawn_lo, 1).values, state.lo.unsqueeze(1))
        hi = torch.maximum(torch.cummax(drawn_hi, 1).values, state.hi.unsqueeze(1))
        parts = [inputs]
        if self.config.position_input:
            parts.append(pos * POSITION_SCALE)
        if self.config.extent_input:
            box = torch.cat([pos - lo, hi - pos], -1)
            parts.append(torch.nan_to_num(box, posinf=0.0, neginf=0.0) * POSITION_SCALE)  # 0 before any point
        if self.config.size_input:
            parts.append(state.size.unsqueeze(1).expand(-1, inputs.shape[1], -1) * POSITION_SCALE)
        if self.config.conditional:
            parts.append(z.unsqueeze(1).expand(-1, inputs.shape[1], -1))
        h, (h1, c1) = self.decoder(torch.cat([p.to(inputs.dtype) for p in parts], -1), (state.h, state.c))
        mix = self.head(self.drop(h))
        if self.config.end_after_lift:
            pen_down = (inputs[..., 2] > 0.5).unsqueeze(-1)  # the point just drawn (or the start token)
            end = torch.tensor([False, False, True], device=mix.pen_logits.device)
            mix.pen_logits = mix.pen_logits.masked_fill(pen_down & end, END_MASK)
        return mix, DecoderState(h1, c1, pos[:, -1], lo[:, -1], hi[:, -1], state.size)

    def forward(self, x5: Tensor, lengths: Tensor, eps: Tensor, prior: Tensor | None = None,
                size: Tensor | None = None) -> tuple[BivariateMixture, Tensor, Tensor]:
        """Teacher-forced pass. ``x5`` ``(B, T+1, 5)`` starts with the start token; ``eps`` ``(B, z)`` noise.

        ``prior`` (bool ``(B,)``): rows decoded from ``z = eps`` instead of the posterior.
        ``size`` ``(B, 2)``: each drawing's width and height (``drawing_sizes``), for ``size_input``.
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
        mix, _ = self.decode(x5[:, :-1], z, size=size)
        return mix, mu.float(), logvar.float()

    @torch.no_grad()
    def step(self, x: Tensor, z: Tensor, state: DecoderState) -> tuple[BivariateMixture, DecoderState]:
        """One point ``(B, 5)`` -> mixture over the next point."""
        mix, state = self.decode(x.unsqueeze(1), z, state)
        return BivariateMixture(mix.logits[:, 0], mix.mu[:, 0], mix.log_sigma[:, 0], mix.rho[:, 0],
                                mix.pen_logits[:, 0]), state

    @property
    def n_parameters(self) -> int:
        """Trainable parameter count."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


# options added after the first checkpoints were written: those were trained without them
LEGACY_CONFIG = {"position_input": False, "end_after_lift": False, "extent_input": False, "size_input": False,
                 "pen_weight": 1.0, "pen_weight_decay": 1.0}


def load_sketch_model(path, device: str | torch.device = "cpu") -> SketchRNN:
    """Rebuild a ready-to-sample ``SketchRNN`` from a checkpoint written by ``train_sketch``."""
    from ..core.checkpoint import read_checkpoint
    from ..core.errors import ChoreoError

    payload = read_checkpoint(path, kind="sketch")
    try:
        # checkpoints from before ``position_input`` existed were trained without it
        model = SketchRNN(SketchConfig(**{**LEGACY_CONFIG, **payload["model_config"]}))
        model.load_state_dict(payload["model"])
        extra = payload["extra"]
        model.scale = float(extra["scale"])
        model.integer_units = bool(extra["integer_units"])
        model.max_len = int(extra["max_len"])
        model.epsilon = float(extra.get("epsilon", 0.0))
        if model.config.size_input:
            model.sizes = torch.as_tensor(extra["sizes"], dtype=torch.float32).reshape(-1, 2)
    except (KeyError, TypeError, RuntimeError, ValueError) as err:
        raise ChoreoError(f"checkpoint is incomplete or from another model ({err})"[:240], path) from err
    model.checkpoint_info = {k: payload.get(k) for k in ("step", "frames_seen", "best_val", "elapsed")}
    return model.to(device).eval()
