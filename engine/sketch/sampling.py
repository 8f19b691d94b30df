"""Drawing with a trained SketchRNN: sample, reconstruct, complete a drawing, interpolate.

Every function takes and returns stroke-3 arrays in the *data's* units (the model's
``scale`` is applied both ways; integer data gives int16 sketches). All randomness
comes from ``rng``: the same call gives the same drawings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from ..core.errors import ChoreoError
from ..core.mdn import sample_bivariate
from .model import DecoderState, SketchRNN
from .strokes import drawing_sizes, normalize, sketch_sizes, stroke3_to_stroke5, to_data_units

MAX_POINTS = 250  # a sample that has not ended after this many points is cut (and counts as unfinished)


def _check_model(model: SketchRNN, temperature: float) -> torch.device:
    if temperature < 0:
        raise ChoreoError(f"temperature must be >= 0, got {temperature}")
    return next(model.parameters()).device


@torch.no_grad()
def encode(model: SketchRNN, sketches: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Posterior ``(mu, logvar)``, each ``(n, z_size)``, of stroke-3 sketches in data units."""
    if not model.config.conditional:
        raise ChoreoError("this model is unconditional (no encoder): it cannot encode a sketch")
    if not len(sketches):
        raise ChoreoError("no sketch to encode")
    device = next(model.parameters()).device
    x5, lengths = stroke3_to_stroke5(normalize(sketches, model.scale), max(len(s) for s in sketches))
    mu, logvar = model.eval().encode(torch.from_numpy(x5[:, 1:]).to(device), torch.from_numpy(lengths))
    return mu.float().cpu().numpy(), logvar.float().cpu().numpy()


def _drawing_size(model: SketchRNN, n: int, size: np.ndarray | Sequence[float] | None, g: torch.Generator,
                  device: torch.device) -> Tensor | None:
    """Width and height ``(n, 2)`` (normalised) of each drawing to make, for a ``size_input`` model.

    ``size`` (data units, ``(2,)`` or ``(n, 2)``) is used as given; without it each drawing
    gets the size of a random training drawing (kept in the checkpoint).
    """
    if not model.config.size_input:
        return None
    if size is not None:
        out = torch.as_tensor(np.asarray(size, np.float32) / model.scale, device=device).reshape(-1, 2)
        if not bool(torch.isfinite(out).all()) or bool((out < 0).any()) or len(out) not in (1, n):
            raise ChoreoError(f"drawing size must be one (width, height) >= 0 or one per drawing, "
                              f"got {np.asarray(size).tolist()}"[:200])
        return out.expand(n, 2)
    idx = torch.randint(len(model.sizes), (n,), generator=g, device=device)
    return model.sizes.to(device)[idx]


@torch.no_grad()
def _run(model: SketchRNN, z: Tensor, prefix5: Tensor | None, max_points: int, temperature: float,
         sigma_temperature: float | None, greedy: bool, generator: torch.Generator,
         size: Tensor | None = None) -> list[np.ndarray]:
    """Sample stroke-5 continuations (normalised units, no start token) for each row of ``z``."""
    n, device = len(z), z.device
    start = torch.zeros(n, 1, 5, device=device)
    start[:, 0, 2] = 1.0
    inputs = start if prefix5 is None else torch.cat([start, prefix5], 1)
    mix_seq, state = model.decode(inputs, z, size=size)
    mix = type(mix_seq)(*(t[:, -1] for t in (mix_seq.logits, mix_seq.mu, mix_seq.log_sigma, mix_seq.rho,
                                             mix_seq.pen_logits)))
    rows = torch.zeros(n, max_points, 5)
    rows[:, :, 4] = 1.0
    done = torch.zeros(n, dtype=torch.bool)
    s: DecoderState = state
    for t in range(max_points):
        offset, pen = sample_bivariate(mix, temperature, sigma_temperature, greedy, generator)
        x = torch.zeros(n, 5, device=device)
        x[:, :2] = offset
        x[torch.arange(n), 2 + pen] = 1.0
        live = ~done
        rows[live, t] = x[live].cpu()
        done |= (pen == 2).cpu()
        if bool(done.all()):
            break
        mix, s = model.step(x, z, s)
    return [r.numpy() for r in rows]


def _to_stroke3(rows5: np.ndarray) -> tuple[np.ndarray, bool]:
    end = np.flatnonzero(rows5[:, 4] > 0.5)
    n = int(end[0]) if len(end) else len(rows5)
    out = np.zeros((n, 3), np.float32)
    out[:, :2], out[:, 2] = rows5[:n, :2], rows5[:n, 3]
    return out, bool(len(end))


def _generator(rng: int | None, device: torch.device) -> torch.Generator:
    g = torch.Generator(device=device)
    g.manual_seed(0 if rng is None else int(rng))
    return g


def _units(model: SketchRNN, s3: np.ndarray) -> np.ndarray:
    s3 = s3.copy()
    s3[:, :2] *= model.scale
    return to_data_units(s3, model.integer_units)


def sample(model: SketchRNN, n: int = 1, *, temperature: float = 1.0, sigma_temperature: float | None = None,
           greedy: bool = False, rng: int | None = 0, z: np.ndarray | None = None,
           size: np.ndarray | Sequence[float] | None = None, max_points: int = MAX_POINTS,
           return_ended: bool = False):
    """Draw ``n`` sketches: unconditional (``z ~ N(0, I)``) or from the given latents ``z`` ``(n, z_size)``.

    ``size``: width and height (data units, ``(2,)`` or ``(n, 2)``) of the drawings to make,
    for models trained with ``size_input``; default: each the size of a random training drawing.

    Returns a list of stroke-3 arrays (and, with ``return_ended``, a list of bools: did the
    model end the sketch itself before ``max_points``).
    """
    device = _check_model(model, temperature)
    model.eval()
    g = _generator(rng, device)
    if z is None:
        zt = torch.randn(n, model.config.z_size, generator=g, device=device)
        if not model.config.conditional:
            zt = torch.zeros_like(zt)
    else:
        zt = torch.as_tensor(np.asarray(z, np.float32), device=device).reshape(-1, model.config.z_size)
    wh = _drawing_size(model, len(zt), size, g, device)
    rows = _run(model, zt, None, max_points, temperature, sigma_temperature, greedy, g, wh)
    out, ended = [], []
    for r in rows:
        s3, e = _to_stroke3(r)
        out.append(_units(model, s3))
        ended.append(e)
    return (out, ended) if return_ended else out


def reconstruct(model: SketchRNN, sketches: Sequence[np.ndarray], *, temperature: float = 0.4,
                rng: int | None = 0, use_mean: bool = True, max_points: int = MAX_POINTS
                ) -> list[np.ndarray]:
    """Conditional sampling: encode each sketch and draw from its latent (the mean, or a posterior sample)
    at the sketch's own size."""
    mu, logvar = encode(model, sketches)
    z = mu if use_mean else mu + np.exp(0.5 * logvar) * np.random.default_rng(rng).standard_normal(mu.shape)
    return sample(model, len(mu), temperature=temperature, rng=rng, z=z.astype(np.float32),
                  size=sketch_sizes(sketches), max_points=max_points)


def complete(model: SketchRNN, prefix: np.ndarray, n: int = 4, *, temperature: float = 0.4,
             sigma_temperature: float | None = None, greedy: bool = False, rng: int | None = 0,
             max_points: int = MAX_POINTS) -> list[np.ndarray]:
    """Finish a drawing ``n`` ways at once: the prefix is fed through the decoder, then sampling goes on.

    The latent comes from the encoded prefix (a posterior draw per ending, so the endings
    differ), or from ``N(0, I)`` for an unconditional model. Each result starts with the
    prefix's rows exactly as given. A ``size_input`` model aims for the size of a random
    training drawing, or the prefix's own where that is larger.
    """
    device = _check_model(model, temperature)
    prefix = np.asarray(prefix)
    if prefix.ndim != 2 or prefix.shape[1] != 3 or len(prefix) == 0:
        raise ChoreoError(f"the drawing to complete must be stroke-3 rows (points, 3), "
                          f"got shape {prefix.shape}")
    g = _generator(rng, device)
    if model.config.conditional:
        mu, logvar = encode(model, [prefix])
        noise = torch.randn(n, model.config.z_size, generator=g, device=device)
        z = torch.from_numpy(mu).to(device) + torch.exp(0.5 * torch.from_numpy(logvar).to(device)) * noise
    else:
        z = torch.zeros(n, model.config.z_size, device=device)
    x5, lengths = stroke3_to_stroke5(normalize([prefix], model.scale), len(prefix))
    prefix5 = torch.from_numpy(x5[:, 1:]).to(device).expand(n, -1, -1)
    wh = _drawing_size(model, n, None, g, device)
    if wh is not None:
        wh = torch.maximum(wh, torch.from_numpy(drawing_sizes(x5, lengths)).to(device))
    rows = _run(model.eval(), z, prefix5, max(0, max_points - len(prefix)), temperature, sigma_temperature,
                greedy, g, wh)
    integer = np.issubdtype(prefix.dtype, np.integer) and model.integer_units
    out = []
    for r in rows:
        tail = _units(model, _to_stroke3(r)[0])
        dtype = np.int16 if integer else np.float32
        out.append(np.concatenate([prefix.astype(dtype), tail.astype(dtype)]))
    return out


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation between latent vectors (linear when they are parallel)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-9 or nb < 1e-9:
        return (1 - t) * a + t * b
    omega = np.arccos(np.clip(np.dot(a / na, b / nb), -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


def interpolate(model: SketchRNN, a: np.ndarray, b: np.ndarray, steps: int = 5, *, method: str = "slerp",
                temperature: float = 0.1, rng: int | None = 0) -> tuple[np.ndarray, list[np.ndarray]]:
    """Latents ``(steps, z_size)`` from sketch ``a``'s to ``b``'s (posterior means) and the drawings there
    (sizes go linearly from ``a``'s to ``b``'s)."""
    if steps < 2:
        raise ChoreoError(f"interpolation needs at least 2 steps, got {steps}")
    if method not in ("slerp", "lerp"):
        raise ChoreoError(f"interpolation method must be slerp or lerp, got {method!r}")
    mu, _ = encode(model, [a, b])
    ts = np.linspace(0.0, 1.0, steps)
    if method == "slerp":
        z = np.stack([slerp(mu[0], mu[1], t) for t in ts])
    else:
        z = np.stack([(1 - t) * mu[0] + t * mu[1] for t in ts])
    z[0], z[-1] = mu[0], mu[1]
    z = z.astype(np.float32)
    wh = sketch_sizes([a, b])
    size = (1 - ts[:, None]) * wh[0] + ts[:, None] * wh[1]
    return z, sample(model, steps, temperature=temperature, rng=rng, z=z, size=size)
