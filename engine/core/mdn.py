"""Mixture density heads: likelihoods by log-sum-exp and sampling with temperatures.

Two mixtures share one set of sampling controls:

* ``DiagGaussianMixture`` over a whole pose vector (dance),
* ``BivariateMixture`` over a pen offset (dx, dy) with correlation (sketches).

Temperatures follow Sketch-RNN: ``temperature`` divides the mixture logits
(→ 0 always picks the most likely component), ``sigma_temperature`` scales
each component's variance (→ 0 returns its mean, 1 is the learned spread).
The negative log-likelihood of a continuous density can be negative: a
narrow density has values above 1, so ``-log p`` drops below zero as the
model grows confident. That is normal and a sign of a sharp fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

import numpy as np
import torch
from torch import Tensor, nn

LOG_2PI = math.log(2 * math.pi)
MixtureChoice = Union[str, int]  # noqa: UP007 (a runtime alias) "auto" (sample) | "argmax" (most likely) | fixed index


@dataclass
class DiagGaussianMixture:
    """Parameters of K diagonal Gaussians over D dims; leading dims are free."""

    logits: Tensor  # (..., K) unnormalised mixture weights
    mu: Tensor  # (..., K, D)
    log_sigma: Tensor  # (..., K, D)
    anchor: Tensor | None = None  # (..., A) a model's extra point prediction beside the mixture (dance: the next pose)

    @property
    def n_components(self) -> int:
        return self.logits.shape[-1]


@dataclass
class BivariateMixture:
    """K correlated 2-D Gaussians (pen offsets) plus the pen-state logits."""

    logits: Tensor  # (..., K)
    mu: Tensor  # (..., K, 2)
    log_sigma: Tensor  # (..., K, 2)
    rho: Tensor  # (..., K) correlation in (-1, 1)
    pen_logits: Tensor  # (..., 3) pen down / pen up / end of sketch

    @property
    def n_components(self) -> int:
        return self.logits.shape[-1]


class DiagGaussianMixtureHead(nn.Module):
    """Linear layer from features to a ``DiagGaussianMixture`` over ``dim`` values."""

    def __init__(self, in_features: int, dim: int, n_components: int, log_sigma_range=(-7.0, 3.0)) -> None:
        super().__init__()
        self.dim, self.k = dim, n_components
        self.log_sigma_range = log_sigma_range
        self.proj = nn.Linear(in_features, n_components * (1 + 2 * dim))

    def forward(self, h: Tensor) -> DiagGaussianMixture:
        out = self.proj(h).float()  # the likelihood is always computed in fp32
        k, d = self.k, self.dim
        logits = out[..., :k]
        mu = out[..., k : k + k * d].unflatten(-1, (k, d))
        log_sigma = out[..., k + k * d :].unflatten(-1, (k, d)).clamp(*self.log_sigma_range)
        return DiagGaussianMixture(logits, mu, log_sigma)


class BivariateMixtureHead(nn.Module):
    """Linear layer to a ``BivariateMixture`` (6 numbers per component + 3 pen logits)."""

    def __init__(self, in_features: int, n_components: int, log_sigma_range=(-7.0, 3.0)) -> None:
        super().__init__()
        self.k = n_components
        self.log_sigma_range = log_sigma_range
        self.proj = nn.Linear(in_features, 6 * n_components + 3)

    def forward(self, h: Tensor) -> BivariateMixture:
        out = self.proj(h).float()
        k = self.k
        logits = out[..., :k]
        mu = out[..., k : 3 * k].unflatten(-1, (k, 2))
        log_sigma = out[..., 3 * k : 5 * k].unflatten(-1, (k, 2)).clamp(*self.log_sigma_range)
        rho = torch.tanh(out[..., 5 * k : 6 * k]) * (1 - 1e-4)
        return BivariateMixture(logits, mu, log_sigma, rho, out[..., 6 * k :])


def diag_mixture_nll(mix: DiagGaussianMixture, target: Tensor) -> Tensor:
    """``-log p(target)`` per leading index; target is ``(..., D)``."""
    z = (target.unsqueeze(-2) - mix.mu) * torch.exp(-mix.log_sigma)
    log_comp = -0.5 * (z * z).sum(-1) - mix.log_sigma.sum(-1) - 0.5 * LOG_2PI * mix.mu.shape[-1]
    return -torch.logsumexp(torch.log_softmax(mix.logits, -1) + log_comp, dim=-1)


def bivariate_nll(mix: BivariateMixture, dxdy: Tensor) -> Tensor:
    """``-log p(dx, dy)`` of the offsets only (the pen state is a separate cross-entropy)."""
    sigma = torch.exp(mix.log_sigma)
    z = (dxdy.unsqueeze(-2) - mix.mu) / sigma
    one_minus_rho2 = 1 - mix.rho**2
    q = (z[..., 0] ** 2 + z[..., 1] ** 2 - 2 * mix.rho * z[..., 0] * z[..., 1]) / one_minus_rho2
    log_comp = -0.5 * q - mix.log_sigma.sum(-1) - 0.5 * torch.log(one_minus_rho2) - LOG_2PI
    return -torch.logsumexp(torch.log_softmax(mix.logits, -1) + log_comp, dim=-1)


def choose_component(
    logits: Tensor, temperature: float, choice: MixtureChoice, generator: torch.Generator | None
) -> Tensor:
    """Index of the component to draw from, per leading index of ``logits``."""
    k = logits.shape[-1]
    if isinstance(choice, int) and not isinstance(choice, bool):
        if not 0 <= choice < k:
            raise ValueError(f"mixture component {choice} is out of range: this model has {k} (0..{k - 1})")
        return torch.full(logits.shape[:-1], choice, dtype=torch.long, device=logits.device)
    if choice == "argmax" or temperature <= 1e-4:
        return logits.argmax(-1)
    if choice != "auto":
        raise ValueError(f"mixture must be 'auto', 'argmax' or a component index, got {choice!r}")
    probs = torch.softmax(logits.float() / temperature, -1).reshape(-1, k)
    return torch.multinomial(probs, 1, generator=generator).reshape(logits.shape[:-1])


def _gather(x: Tensor, idx: Tensor) -> Tensor:
    """Pick component ``idx`` from ``x`` of shape ``(..., K, *rest)``."""
    index = idx.reshape(*idx.shape, 1, *([1] * (x.dim() - idx.dim() - 1)))
    index = index.expand(*idx.shape, 1, *x.shape[idx.dim() + 1 :])
    return x.gather(idx.dim(), index).squeeze(idx.dim())


def sample_diag_mixture(
    mix: DiagGaussianMixture,
    temperature: float = 1.0,
    sigma_temperature: float = 1.0,
    mixture: MixtureChoice = "auto",
    generator: torch.Generator | None = None,
) -> Tensor:
    """Draw one ``(..., D)`` sample per leading index."""
    idx = choose_component(mix.logits, temperature, mixture, generator)
    mu, log_sigma = _gather(mix.mu, idx), _gather(mix.log_sigma, idx)
    if sigma_temperature <= 0:
        return mu
    noise = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + noise * torch.exp(log_sigma) * math.sqrt(sigma_temperature)


class DiagMixtureSampler:
    """``sample_diag_mixture(head(h), ...)`` for a few rows at a time, in NumPy, without the full head.

    Generation draws one frame per network step. Only the mixture weights and the chosen
    component's mean and spread are computed (``k + 2 * dim`` of the head's
    ``k * (1 + 2 * dim)`` outputs), and NumPy's per-call cost is a fraction of torch's on
    arrays this small. Each component's mean and log-spread rows are copied next to each
    other once, so a draw reads one contiguous block of weights.
    """

    def __init__(self, head: DiagGaussianMixtureHead) -> None:
        k, d = head.k, head.dim
        w = head.proj.weight.detach().float().cpu().numpy()
        b = head.proj.bias.detach().float().cpu().numpy()
        self.k, self.dim, self.log_sigma_range = k, d, head.log_sigma_range
        self.w_logits, self.b_logits = w[:k], b[:k]
        # (k, 2 * dim, in_features): component i's mean rows, then its log-spread rows
        self.w_comp = np.concatenate([w[k : k + k * d].reshape(k, d, -1), w[k + k * d :].reshape(k, d, -1)], 1)
        self.b_comp = np.concatenate([b[k : k + k * d].reshape(k, d), b[k + k * d :].reshape(k, d)], 1)

    def __call__(self, h: np.ndarray, temperature: float = 1.0, sigma_temperature: float = 1.0,
                 mixture: MixtureChoice = "auto", rng: np.random.Generator | None = None) -> np.ndarray:
        """One draw ``(B, dim)`` (float64) per row of ``h`` ``(B, in_features)``."""
        rng = rng or np.random.default_rng()
        logits = h @ self.w_logits.T + self.b_logits
        if isinstance(mixture, int) and not isinstance(mixture, bool):
            if not 0 <= mixture < self.k:
                raise ValueError(f"mixture component {mixture} is out of range: this model has {self.k}")
            idx = np.full(len(h), mixture)
        elif mixture == "argmax" or temperature <= 1e-4:
            idx = logits.argmax(-1)
        elif mixture == "auto":
            z = logits / temperature
            p = np.exp(z - z.max(-1, keepdims=True))
            cdf = np.cumsum(p, -1)
            idx = np.minimum((cdf < rng.random(len(h))[:, None] * cdf[:, -1:]).sum(-1), self.k - 1)
        else:
            raise ValueError(f"mixture must be 'auto', 'argmax' or a component index, got {mixture!r}")
        if len(h) == 1:  # one take: no list, no stack (the common case, once per frame)
            i = int(idx[0])
            out = (self.w_comp[i] @ h[0] + self.b_comp[i])[None]
        else:
            out = np.stack([self.w_comp[i] @ x + self.b_comp[i] for i, x in zip(idx, h, strict=True)])
        mu = out[:, : self.dim].astype(np.float64)
        if sigma_temperature <= 0:
            return mu
        sigma = np.exp(np.clip(out[:, self.dim :], *self.log_sigma_range)) * math.sqrt(sigma_temperature)
        return mu + rng.standard_normal(mu.shape) * sigma


def sample_bivariate(
    mix: BivariateMixture,
    temperature: float = 1.0,
    sigma_temperature: float | None = None,
    greedy: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Draw ``(dx, dy)`` and a pen state index (0 down, 1 up, 2 end) per leading index.

    As in Sketch-RNN, one ``temperature`` scales both the weights and the variance
    unless ``sigma_temperature`` is given; ``greedy`` takes the most likely of everything.
    """
    sig_t = temperature if sigma_temperature is None else sigma_temperature
    choice: MixtureChoice = "argmax" if greedy else "auto"
    idx = choose_component(mix.logits, temperature, choice, generator)
    mu, log_sigma, rho = _gather(mix.mu, idx), _gather(mix.log_sigma, idx), _gather(mix.rho, idx)
    if greedy or sig_t <= 0:
        offset = mu
    else:
        sigma = torch.exp(log_sigma) * math.sqrt(sig_t)
        n = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        x = n[..., 0]
        y = rho * n[..., 0] + torch.sqrt(1 - rho**2) * n[..., 1]
        offset = mu + sigma * torch.stack([x, y], -1)
    if greedy or temperature <= 1e-4:
        pen = mix.pen_logits.argmax(-1)
    else:
        probs = torch.softmax(mix.pen_logits / temperature, -1).reshape(-1, 3)
        pen = torch.multinomial(probs, 1, generator=generator).reshape(mix.pen_logits.shape[:-1])
    return offset, pen
