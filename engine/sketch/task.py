"""Training data and loss for Sketch-RNN on the engine's one trainer (``engine.training.fit``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..core.checkpoint import read_checkpoint
from ..core.distributed import Team
from ..core.errors import ChoreoError
from ..core.fit import fit
from ..core.mdn import BivariateMixture, bivariate_nll
from ..core.training import Forward, TrainConfig, TrainEvent, TrainResult
from .model import LEGACY_CONFIG, SketchConfig, SketchRNN
from .progress import SAMPLE_EVERY_S, SampleMonitor
from .recipe import fit_to_length, plan_training, prepare
from .strokes import (
    drawing_sizes,
    filter_by_length,
    lift_last_point,
    load_strokes,
    normalize,
    offset_scale,
    sketch_sizes,
    stroke3_to_stroke5,
)

StrokeData = str | Path | dict[str, Sequence[np.ndarray]] | Sequence[np.ndarray]

BUCKET_WINDOW = 4  # a batch draws from this many batches' worth of neighbours in length order
SIZES_KEPT = 2000  # training drawings' widths and heights kept in the checkpoint (size_input samples from them)


@dataclass
class SketchBatch:
    x5: Tensor  # (B, Nmax+1, 5) stroke-5 with start token, normalised offsets
    lengths: Tensor  # (B,) real points per sketch (int64, on the CPU for packing)
    eps: Tensor  # (B, z) reparameterisation noise
    validation: bool = False  # validation: the KL term is fully weighted (no annealing)
    prior: Tensor | None = None  # (B,) bool: rows decoded from z ~ N(0, I) (SketchConfig.prior_fraction)
    size: Tensor | None = None  # (B, 2) width and height of each drawing (SketchConfig.size_input)


def kl_eta(config: SketchConfig, step: int) -> float:
    """KL annealing weight at ``step``: ``1 - (1 - eta_min) * decay**step`` (rises to 1)."""
    return 1.0 - (1.0 - config.kl_eta_min) * config.kl_decay**step


def pen_weight_at(config: SketchConfig, step: int) -> float:
    """Weight of the lift and end targets at ``step``: ``1 + (pen_weight - 1) * pen_weight_decay**step``."""
    return 1.0 + (config.pen_weight - 1.0) * config.pen_weight_decay**step


def sketch_losses(mix: BivariateMixture, x5: Tensor, lengths: Tensor, mu: Tensor, logvar: Tensor,
                  n_max: int | None = None, pen_weight: float = 1.0) -> dict[str, Tensor]:
    """Per-batch loss terms as in the paper (all fp32 scalars).

    ``offset``: ``-log p(dx, dy)`` summed over each sketch's real points, divided by
    ``Nmax`` (the padded length); ``pen``: cross-entropy of the pen state over all ``Nmax``
    steps (padding teaches "the sketch has ended"), divided by ``Nmax``, with the "lift" and
    "end" targets weighted by ``pen_weight`` (``SketchConfig.pen_weight``; 1 = the paper);
    both averaged over the batch (``n_max`` defaults to the padded length of ``x5``).
    ``kl``: KL(q(z|x) || N(0, I)) averaged over latent dims and batch.
    """
    target = x5[:, 1:].float()
    n_max = target.shape[1] if n_max is None else n_max
    mask = (torch.arange(target.shape[1], device=target.device)[None, :] < lengths.to(target.device)[:, None]).float()
    offset = (bivariate_nll(mix, target[..., :2]) * mask).sum(1) / n_max
    pen_target = target[..., 2:]
    if pen_weight != 1.0:
        pen_target = pen_target * pen_target.new_tensor([1.0, pen_weight, pen_weight])
    pen = -(torch.log_softmax(mix.pen_logits.float(), -1) * pen_target).sum(-1).sum(1) / n_max
    kl = -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp())
    return {"offset": offset.mean(), "pen": pen.mean(), "recon": offset.mean() + pen.mean(), "kl": kl}


class SketchTask:
    """Whole sketches (padded to ``Nmax``) as training targets for ``fit``."""

    kind = "sketch"

    def __init__(self, model: SketchRNN, train: Sequence[np.ndarray], valid: Sequence[np.ndarray],
                 max_len: int, extra: dict[str, Any]) -> None:
        self.model, self.extra, self.max_len = model, extra, max_len
        self.x5, self.lengths = stroke3_to_stroke5(train, max_len)
        self._by_length: np.ndarray | None = None
        self.val_x5, self.val_lengths = stroke3_to_stroke5(valid, max_len) if len(valid) else (None, None)
        self.train_targets = int(self.lengths.sum())

    def sample_batch(self, batch: int, seq_len: int, rng: np.random.Generator, device: torch.device
                     ) -> SketchBatch:
        if self._by_length is None:
            self._by_length = np.argsort(self.lengths, kind="stable")
        # sketches of similar length together: far less padding, so more steps per minute
        window = min(len(self.x5), BUCKET_WINDOW * batch)
        start = int(rng.integers(0, len(self.x5) - window + 1))
        idx = self._by_length[start + rng.integers(0, window, size=batch)]
        # crop the padding to this batch's longest sketch + one end row: the rows cut are
        # "still ended" steps that sampling never reaches (the loss is still divided by Nmax)
        x5 = self.x5[idx, : int(self.lengths[idx].max()) + 2].copy()
        a = self.model.config.augment_scale
        if a > 0:
            x5[..., :2] *= rng.uniform(1 - a, 1 + a, size=(batch, 1, 2)).astype(np.float32)
        eps = rng.standard_normal((batch, self.model.config.z_size), dtype=np.float32)
        prior = torch.from_numpy(rng.random(batch) < self.model.config.prior_fraction).to(device)
        size = torch.from_numpy(drawing_sizes(x5, self.lengths[idx])).to(device)  # after the stretch
        return SketchBatch(torch.from_numpy(x5).to(device), torch.from_numpy(self.lengths[idx]),
                           torch.from_numpy(eps).to(device), prior=prior, size=size)

    def loss(self, forward: Forward, batch: SketchBatch, step: int) -> tuple[Tensor, int, dict[str, float]]:
        mix, mu, logvar = forward(batch.x5, batch.lengths, batch.eps, batch.prior, batch.size)
        c = self.model.config
        parts = sketch_losses(mix, batch.x5, batch.lengths, mu, logvar, self.max_len,
                              1.0 if batch.validation else pen_weight_at(c, step))
        eta = 1.0 if batch.validation else kl_eta(c, step)
        kl_term = torch.clamp(parts["kl"], min=c.kl_min) if c.conditional else parts["kl"] * 0
        total = parts["recon"] + c.kl_weight * eta * kl_term
        info = {k: float(v.detach()) for k, v in parts.items()}
        info["eta"] = eta
        return total, int(batch.lengths.sum()), info

    def val_batches(self, seq_len: int, device: torch.device) -> Iterable[SketchBatch]:
        if self.val_x5 is None:
            return []
        g = np.random.default_rng(12345)
        out = []
        for i in range(0, len(self.val_x5), 100):
            x5, lengths = self.val_x5[i : i + 100], self.val_lengths[i : i + 100]
            eps = g.standard_normal((len(x5), self.model.config.z_size), dtype=np.float32)
            out.append(SketchBatch(torch.from_numpy(x5).to(device), torch.from_numpy(lengths),
                                   torch.from_numpy(eps).to(device), validation=True,
                                   size=torch.from_numpy(drawing_sizes(x5, lengths)).to(device)))
        return out

    def checkpoint_extra(self) -> dict[str, Any]:
        return self.extra


def resolve_splits(data: StrokeData, val_fraction: float = 0.05) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(train, valid) sketches from a path, a dict of splits or a list (valid carved off the end)."""
    if isinstance(data, (str, Path)):
        splits: dict[str, Sequence[np.ndarray]] = load_strokes(data)
    elif isinstance(data, dict):
        splits = data
    else:
        splits = {"sketches": list(data)}
    if "train" in splits:
        train, valid = list(splits["train"]), list(splits.get("valid", []))
    else:
        train, valid = list(next(iter(splits.values()))), []
    if not valid and len(train) >= 20:
        n_val = max(1, int(len(train) * val_fraction))
        train, valid = train[:-n_val], train[-n_val:]
    return train, valid


def sketch_train_config(**overrides: Any) -> TrainConfig:
    """``TrainConfig`` defaults for Sketch-RNN on a CPU (batch 64, lr 2e-3, validation every 100 steps)."""
    base = {"batch": 64, "lr": 2e-3, "lr_final": 0.1, "warmup_steps": 50, "val_every": 100, "patience": 20,
            "grad_clip": 1.0}
    base.update(overrides)
    return TrainConfig(**base)


def train_sketch(
    data: StrokeData,
    out: str | Path | None = None,
    *,
    model_config: SketchConfig | None = None,
    config: TrainConfig | None = None,
    on_event: Callable[[TrainEvent], None] | None = None,
    cancel: threading.Event | None = None,
    resume: str | Path | None = None,
    simplify: bool = True,
    sample_every_s: float = SAMPLE_EVERY_S,
) -> TrainResult:
    """Train a ``SketchRNN`` on stroke-3 data; ``result.model`` holds the best weights.

    The data is first looked at (``recipe.plan_training``): long sets are re-simplified,
    over-long drawings fitted to ``max_seq_len``, and without ``config.minutes`` /
    ``config.epochs`` the budget is chosen from the data; a ``TrainEvent("plan")`` says what
    was decided (``simplify=False`` trains the drawings as given). Every ``sample_every_s``
    seconds (0: never) a few drawings are sampled and emitted as a ``SketchSamples`` event.
    Offsets are divided by the training set's standard deviation; that scale (and
    the padded length) travels in the checkpoint and is reused for sampling and eval.
    """
    config = config or sketch_train_config()
    emit = on_event or (lambda e: None)
    train, valid = resolve_splits(data)
    scale = None
    if resume is not None:
        payload = read_checkpoint(resume, kind="sketch")
        model_config = SketchConfig(**{**LEGACY_CONFIG, **payload["model_config"]})
        scale = float(payload["extra"]["scale"])
    model_config = model_config or SketchConfig()
    src = str(data) if isinstance(data, (str, Path)) else "sketches"
    n_in = len(train)
    train = filter_by_length(train, 2, 10**9)
    plan = plan_training(train, model_config.max_seq_len, config.minutes if config.epochs is None else 0.0,
                         simplify)
    train, valid = prepare(train, plan, simplify), prepare(filter_by_length(valid, 2, 10**9), plan, simplify)
    if len(train) < 2:
        raise ChoreoError(f"need at least 2 training sketches of 2..{model_config.max_seq_len} points, "
                          f"found {len(train)} of {n_in}", src if isinstance(data, (str, Path)) else None)
    if config.minutes is None and config.epochs is None:
        config = replace(config, minutes=plan.minutes)
    emit(TrainEvent("plan", message=plan.describe() if config.epochs is None else "; ".join(plan.notes[:-1])))
    if model_config.end_after_lift:  # a drawing ends with the pen off the paper (the model's end rule)
        train, valid = lift_last_point(train), lift_last_point(valid)
    integer = all(np.issubdtype(np.asarray(s).dtype, np.integer) for s in train[:100])
    scale = scale or offset_scale(train)
    max_len = max(len(s) for s in train + valid)
    if resume is not None:
        max_len = int(payload["extra"]["max_len"])
    train_n = normalize(train, scale)
    pick = np.random.default_rng(0).permutation(len(train_n))[:SIZES_KEPT]
    sizes = torch.from_numpy(sketch_sizes([train_n[i] for i in pick], max_len))
    extra = {"scale": scale, "integer_units": integer, "max_len": max_len, "source": src, "sizes": sizes,
             "epsilon": plan.epsilon}
    torch.manual_seed(config.rng)
    model = SketchRNN(model_config)
    model.scale, model.integer_units, model.max_len, model.sizes = scale, integer, max_len, sizes
    model.epsilon = plan.epsilon
    team = Team.current()  # in a team (torchrun, --nproc) each process trains and validates on its share
    task = SketchTask(model, team.shard(train_n), team.shard(normalize(valid, scale)), max_len, extra)
    config = TrainConfig(**{**asdict(config), "seq_len": max_len})
    stub = max(2, int(np.percentile([len(s) for s in train], 5) / 2))
    monitor = SampleMonitor(model, emit, every_s=sample_every_s, shortest=stub)
    return fit(task, config, out, model_config=asdict(model_config), on_event=monitor, cancel=cancel,
               resume=resume)


@torch.no_grad()
def evaluate_sketch(model: SketchRNN, sketches: Sequence[np.ndarray], batch: int = 100, rng: int = 0
                    ) -> dict[str, float]:
    """Reconstruction (offset + pen) and KL loss per sketch, averaged over ``sketches``.

    The sketches are prepared as the training drawings were (re-simplified with the model's
    ``epsilon``, over-long ones simplified further to fit); those that still do not fit the
    model's padded length are skipped (reported as ``skipped``).
    """
    fitted = [fit_to_length(s, model.max_len, model.epsilon) if len(s) else None for s in sketches]
    usable = [s for s in fitted if s is not None]
    if model.config.end_after_lift:  # as in training: the pen is off the paper when a drawing ends
        usable = lift_last_point(usable)
    if not usable:
        raise ChoreoError(f"no sketch of at most {model.max_len} points to evaluate")
    device = next(model.parameters()).device
    x5_all, len_all = stroke3_to_stroke5(normalize(usable, model.scale), model.max_len)
    size_all = drawing_sizes(x5_all, len_all)
    g = torch.Generator().manual_seed(rng)
    totals = {"offset": 0.0, "pen": 0.0, "recon": 0.0, "kl": 0.0}
    model.eval()
    for i in range(0, len(usable), batch):
        x5 = torch.from_numpy(x5_all[i : i + batch]).to(device)
        lengths = torch.from_numpy(len_all[i : i + batch])
        eps = torch.randn(len(x5), model.config.z_size, generator=g).to(device)
        mix, mu, logvar = model(x5, lengths, eps, size=torch.from_numpy(size_all[i : i + batch]).to(device))
        for k, v in sketch_losses(mix, x5, lengths, mu, logvar).items():
            totals[k] += float(v) * len(x5)
    out = {k: v / len(usable) for k, v in totals.items()}
    out.update(sketches=len(usable), skipped=len(sketches) - len(usable))
    return out
