"""Mixture likelihoods against torch.distributions, and sampling semantics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import distributions as D

from engine.core.mdn import (
    BivariateMixture,
    DiagGaussianMixture,
    DiagGaussianMixtureHead,
    DiagMixtureSampler,
    bivariate_nll,
    diag_mixture_nll,
    sample_bivariate,
    sample_diag_mixture,
)


def _random_mix(batch=5, k=4, d=6, seed=0) -> DiagGaussianMixture:
    g = torch.Generator().manual_seed(seed)
    return DiagGaussianMixture(torch.randn(batch, k, generator=g), torch.randn(batch, k, d, generator=g),
                               0.3 * torch.randn(batch, k, d, generator=g))


def test_diag_nll_matches_torch_distributions():
    mix = _random_mix()
    target = torch.randn(5, 6)
    reference = D.MixtureSameFamily(
        D.Categorical(logits=mix.logits),
        D.Independent(D.Normal(mix.mu, mix.log_sigma.exp()), 1),
    )
    assert torch.allclose(diag_mixture_nll(mix, target), -reference.log_prob(target), atol=1e-5)


def test_diag_nll_is_stable_far_from_every_component():
    mix = _random_mix()
    nll = diag_mixture_nll(mix, torch.full((5, 6), 1e3))
    assert torch.isfinite(nll).all() and (nll > 1e4).all()  # log(sum(prob)) would give inf here


def test_bivariate_nll_matches_torch_distributions():
    g = torch.Generator().manual_seed(1)
    k = 3
    mix = BivariateMixture(torch.randn(4, k, generator=g), torch.randn(4, k, 2, generator=g),
                           0.2 * torch.randn(4, k, 2, generator=g), torch.tanh(torch.randn(4, k, generator=g)),
                           torch.randn(4, 3, generator=g))
    s = mix.log_sigma.exp()
    cov = torch.stack([
        torch.stack([s[..., 0] ** 2, mix.rho * s[..., 0] * s[..., 1]], -1),
        torch.stack([mix.rho * s[..., 0] * s[..., 1], s[..., 1] ** 2], -1),
    ], -2)
    reference = D.MixtureSameFamily(D.Categorical(logits=mix.logits), D.MultivariateNormal(mix.mu, cov))
    x = torch.randn(4, 2, generator=g)
    assert torch.allclose(bivariate_nll(mix, x), -reference.log_prob(x), atol=1e-4)


def test_zero_temperatures_give_the_mode_of_the_most_likely_component():
    mix = _random_mix()
    out = sample_diag_mixture(mix, temperature=0.0, sigma_temperature=0.0)
    best = mix.logits.argmax(-1)
    assert torch.equal(out, mix.mu[torch.arange(5), best])


def test_fixed_component_is_respected_and_checked():
    mix = _random_mix()
    g = torch.Generator().manual_seed(0)
    out = sample_diag_mixture(mix, temperature=1.0, sigma_temperature=0.0, mixture=2, generator=g)
    assert torch.equal(out, mix.mu[:, 2])
    with pytest.raises(ValueError, match="out of range"):
        sample_diag_mixture(mix, mixture=4)


def test_sigma_temperature_scales_the_variance():
    mix = DiagGaussianMixture(torch.zeros(1, 1), torch.zeros(1, 1, 20000), torch.zeros(1, 1, 20000))
    g = torch.Generator().manual_seed(0)
    for t in (0.25, 1.0):
        std = sample_diag_mixture(mix, sigma_temperature=t, generator=g).std().item()
        assert std == pytest.approx(math.sqrt(t), rel=0.05)


def test_high_temperature_flattens_the_mixture_weights():
    mix = DiagGaussianMixture(torch.tensor([[4.0, 0.0]]).repeat(4000, 1),
                              torch.tensor([[[0.0], [1.0]]]).repeat(4000, 1, 1), torch.full((4000, 2, 1), -9.0))
    g = torch.Generator().manual_seed(0)
    cold = (sample_diag_mixture(mix, temperature=0.5, generator=g) > 0.5).float().mean().item()
    hot = (sample_diag_mixture(mix, temperature=5.0, generator=g) > 0.5).float().mean().item()
    assert cold < 0.01 and 0.25 < hot < 0.45  # softmax([4,0]/5) gives 0.31 to the second


def test_bivariate_sampling_greedy_and_seeded():
    mix = BivariateMixture(torch.zeros(3, 2), torch.randn(3, 2, 2), torch.zeros(3, 2, 2), torch.zeros(3, 2),
                           torch.tensor([[5.0, 0.0, 0.0]] * 3))
    offset, pen = sample_bivariate(mix, greedy=True)
    assert torch.equal(offset, mix.mu[:, 0]) and torch.equal(pen, torch.zeros(3, dtype=torch.long))
    a = sample_bivariate(mix, 0.7, generator=torch.Generator().manual_seed(3))
    b = sample_bivariate(mix, 0.7, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


@pytest.mark.parametrize("rows", [1, 3])
def test_numpy_sampler_matches_the_full_mixture(rows):
    """Generation's sampler computes only the chosen component, in NumPy: the modes must be the full
    head's, and the draws must follow its mixture weights and spreads."""
    torch.manual_seed(0)
    head = DiagGaussianMixtureHead(16, 7, 4)
    with torch.no_grad():
        head.proj.bias[:4] = torch.tensor([0.0, 1.0, -1.0, 0.5])  # unequal weights
    h = torch.randn(rows, 16)
    sampler = DiagMixtureSampler(head)
    with torch.no_grad():
        mix = head(h)
    hn = h.numpy()
    for choice in ("argmax", 2):
        want = sample_diag_mixture(mix, 0.7, 0.0, choice).numpy()
        assert np.allclose(sampler(hn, 0.7, 0.0, choice), want, atol=1e-5)
    assert np.allclose(sampler(hn, 0.0, 0.0), sample_diag_mixture(mix, 0.0, 0.0).numpy(), atol=1e-5)
    # component frequencies follow softmax(logits / T); spread is exp(log_sigma) * sqrt(sigma_temperature)
    rng = np.random.default_rng(0)
    t, n = 0.7, 4000
    draws = np.stack([sampler(hn[:1], t, 0.0, "auto", rng)[0] for _ in range(n)])
    modes = mix.mu[0].numpy()
    picked = np.abs(draws[:, None, :] - modes[None]).sum(-1).argmin(-1)
    want_p = torch.softmax(mix.logits[0] / t, -1).numpy()
    assert np.allclose(np.bincount(picked, minlength=4) / n, want_p, atol=0.03)
    noisy = np.stack([sampler(hn[:1], 1.0, 0.25, 1, rng)[0] for _ in range(n)])
    want_std = np.exp(mix.log_sigma[0, 1].numpy()) * 0.5
    assert np.allclose(noisy.std(0), want_std, rtol=0.1)
    with pytest.raises(ValueError, match="out of range"):
        sampler(hn, mixture=4)


def test_draw_given_known_dims_weights_components_by_their_likelihood():
    """The exact conditional of a diagonal mixture: component weights ∝ prior x likelihood of the known
    dims; known dims come back as given; the free dims are drawn from the chosen component."""
    torch.manual_seed(1)
    head = DiagGaussianMixtureHead(8, 5, 3)
    h = torch.randn(1, 8)
    sampler = DiagMixtureSampler(head)
    with torch.no_grad():
        mix = head(h)
    mu, ls, logits = mix.mu[0].numpy(), mix.log_sigma[0].numpy(), mix.logits[0].numpy()
    known = np.array([0, 3])
    values = mu[2, known][None] + 0.1  # near component 2's mean
    post = logits + (-0.5 * ((values[0] - mu[:, known]) / np.exp(ls[:, known])) ** 2 - ls[:, known]).sum(-1)
    want = np.exp(post - post.max()) / np.exp(post - post.max()).sum()
    rng = np.random.default_rng(0)
    hn = h.numpy()
    draws = np.stack([sampler.given(hn, known, values, 1.0, 0.0, "auto", rng)[0] for _ in range(3000)])
    assert np.allclose(draws[:, known], values)  # the known dims are the given values
    free = [1, 2, 4]
    picked = np.abs(draws[:, None, free] - mu[None, :, free]).sum(-1).argmin(-1)
    assert np.allclose(np.bincount(picked, minlength=3) / len(draws), want, atol=0.03)
    # argmax takes the most likely component given the known dims; spread multiplies each dim's spread
    top = sampler.given(hn, known, values, 1.0, 0.0, "argmax")
    assert np.allclose(top[0, free], mu[int(np.argmax(post)), free], atol=1e-5)
    spread = np.array([1.0, 3.0, 1.0, 1.0, 0.0])
    wide = np.stack([sampler.given(hn, known[:0], np.zeros((1, 0)), 1.0, 1.0, 1, rng, spread)[0]
                     for _ in range(3000)])
    assert np.allclose(wide.std(0)[[1, 4]], [3 * np.exp(ls[1, 1]), 0.0], rtol=0.1, atol=1e-9)
