"""Training data and loss for dance models, and the public ``train`` function."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..core.checkpoint import read_checkpoint
from ..core.errors import ChoreoError
from ..core.fit import fit
from ..core.mdn import diag_mixture_nll
from ..core.training import Forward, TrainConfig, TrainEvent, TrainResult
from .axes import up_index
from .model import DanceConfig, DanceModel
from .motion import Motion, load_motions
from .pose_guard import build_pose_bank
from .representation import MotionCodec, raw_features
from .skeleton import mean_bone_lengths, motion_skeleton, rigid_bones, steady_bones

SEED_FRAMES = 1200  # frames of training data stored in the checkpoint to start generation from


@dataclass
class DanceBatch:
    inputs: Tensor  # (B, L, D) normalised frames
    targets: Tensor  # (B, L, D) normalised next-frame changes
    mask: Tensor  # (B, L) 1 where a real frame is, 0 in padding
    anchors: Tensor | None = None  # (B, L, J*3) the clean next pose, normalised like inputs (anchor head's target)


class DanceTask:
    """Crops of several clips, each split in time into training and validation parts."""

    kind = "dance"

    def __init__(self, model: DanceModel, clips: Sequence[np.ndarray], codec: MotionCodec,
                 val_fraction: float, extra: dict[str, Any]) -> None:
        self.model, self.codec, self.extra = model, codec, extra
        self.train_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.val_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        d = codec.n_joints * 3
        for clip in clips:
            x, y = codec.encode_clip(clip)
            # the anchor head's target: the next frame's clean pose, normalised as an input
            last = codec.encode_inputs(raw_features(clip[-2:]))[-1:, :d] if len(x) else np.zeros((0, d), np.float32)
            a = np.concatenate([x[1:, :d], last]) if len(x) else last
            n_val = int(len(x) * val_fraction) if len(x) * val_fraction >= 8 else 0
            self.train_parts.append((x[: len(x) - n_val], y[: len(y) - n_val], a[: len(a) - n_val]))
            if n_val:
                self.val_parts.append((x[len(x) - n_val :], y[len(y) - n_val :], a[len(a) - n_val :]))
        self.train_targets = sum(len(x) for x, _, _ in self.train_parts)
        if self.train_targets < 2:
            raise ChoreoError("not enough frames to train on (need at least a few seconds of motion)")
        # input noise in normalised units, per pose coordinate (see DanceConfig.input_noise)
        self.noise_scale = (model.config.input_noise * codec.out_std[:d] / codec.in_std[:d]).astype(np.float32)

    def sample_batch(self, batch: int, seq_len: int, rng: np.random.Generator, device: torch.device) -> DanceBatch:
        lengths = np.array([len(x) for x, _, _ in self.train_parts])
        weights = lengths.astype(np.float64)  # every frame equally likely to be seen, short clips included
        clip_ids = rng.choice(len(lengths), size=batch, p=weights / weights.sum())
        d_in = self.codec.dim
        xs = np.zeros((batch, seq_len, d_in), np.float32)
        ys = np.zeros((batch, seq_len, d_in), np.float32)
        d = self.codec.n_joints * 3
        anchors = np.zeros((batch, seq_len, d), np.float32)
        mask = np.zeros((batch, seq_len), np.float32)
        for b, c in enumerate(clip_ids):
            x, y, a = self.train_parts[c]
            start = int(rng.integers(0, max(1, len(x) - seq_len + 1)))
            n = min(seq_len, len(x) - start)
            xs[b, :n], ys[b, :n], mask[b, :n] = x[start : start + n], y[start : start + n], 1.0
            anchors[b, :n] = a[start : start + n]
        if self.model.config.input_noise > 0:
            # noisy inputs, targets that lead back to the clean next pose: the model learns to steer back
            noise = rng.standard_normal((batch, seq_len, d), dtype=np.float32)
            xs[..., :d] += noise * self.noise_scale
            ys[..., :d] -= noise * self.model.config.input_noise * mask[..., None]
        return DanceBatch(*(torch.from_numpy(a).to(device) for a in (xs, ys, mask, anchors)))

    def loss(self, forward: Forward, batch: DanceBatch, step: int) -> tuple[Tensor, int, dict[str, float]]:
        mix, _ = forward(batch.inputs)
        nll = diag_mixture_nll(mix, batch.targets) / self.codec.dim  # nats per number
        if mix.anchor is not None and batch.anchors is not None:
            nll = nll + self.model.config.anchor_weight * (mix.anchor - batch.anchors).pow(2).mean(-1)
        n = batch.mask.sum()
        return (nll * batch.mask).sum() / n.clamp(min=1), int(n), {}

    def val_batches(self, seq_len: int, device: torch.device) -> Iterable[DanceBatch]:
        windows = []
        for x, y, a in self.val_parts:
            for start in range(0, len(x), seq_len):
                windows.append((x[start : start + seq_len], y[start : start + seq_len], a[start : start + seq_len]))
        d = self.codec.n_joints * 3
        for i in range(0, len(windows), 64):
            chunk = windows[i : i + 64]
            length = max(len(x) for x, _, _ in chunk)
            xs = np.zeros((len(chunk), length, self.codec.dim), np.float32)
            ys, mask = np.zeros_like(xs), np.zeros((len(chunk), length), np.float32)
            anchors = np.zeros((len(chunk), length, d), np.float32)
            for b, (x, y, a) in enumerate(chunk):
                xs[b, : len(x)], ys[b, : len(y)], mask[b, : len(x)], anchors[b, : len(a)] = x, y, 1.0, a
            yield DanceBatch(*(torch.from_numpy(v).to(device) for v in (xs, ys, mask, anchors)))

    def checkpoint_extra(self) -> dict[str, Any]:
        return self.extra


MotionSource = Motion | str | Path


def frame_step_for(fps: float, model_fps: float) -> int:
    """Source frames per network step: 120 fps data and a 30 fps model step every 4th frame."""
    return max(1, round(fps / model_fps)) if model_fps > 0 else 1


def strided_clips(motions: Sequence[Motion], model_fps: float) -> list[np.ndarray]:
    """Every phase of every clip at the network's rate: ``clip[k::step]`` for k < step (all frames are used)."""
    clips = []
    for m in motions:
        step = frame_step_for(m.fps, model_fps)
        clips += [m.positions[k::step] for k in range(step) if len(m.positions[k::step]) >= 2]
    return clips


def as_motions(data: MotionSource | Sequence[MotionSource]) -> list[Motion]:
    """Motions from a Motion, a path, a folder, or a list of those."""
    items = [data] if isinstance(data, (Motion, str, Path)) else list(data)
    motions = [m for m in items if isinstance(m, Motion)]
    paths = [p for p in items if not isinstance(p, Motion)]
    if paths:
        motions += load_motions(paths)
    if not motions:
        raise ChoreoError("no motion to train on")
    joints = {m.n_joints for m in motions}
    if len(joints) > 1:
        raise ChoreoError(f"clips have different joint counts {sorted(joints)}; train one skeleton at a time")
    return motions


def resumed_setup(resume: str | Path, n_joints: int) -> tuple[DanceConfig, MotionCodec]:
    """The model config and normalisation of a checkpoint to resume, checked against the data's joints."""
    payload = read_checkpoint(resume, kind="dance")
    model_config = DanceConfig(**payload["model_config"])
    codec = MotionCodec.from_state_dict(payload["extra"]["codec"])
    if codec.n_joints != n_joints:
        raise ChoreoError(f"model has {codec.n_joints} joints, data has {n_joints}", resume)
    return model_config, codec


def fitted_config(model_config: DanceConfig | None, first: Motion) -> DanceConfig:
    """``model_config`` (default: ``DanceConfig()``) with the joints and frame step of the data."""
    model_config = model_config or DanceConfig()
    step = frame_step_for(first.fps, model_config.model_fps)
    return DanceConfig(**{**asdict(model_config), "n_joints": first.n_joints, "frame_step": step})


def fitted_codec(clips: Sequence[np.ndarray], first: Motion, model_config: DanceConfig) -> MotionCodec:
    """Normalisation statistics of ``clips`` for ``model_config`` (the up axis of ``first``, turns or not)."""
    return MotionCodec.fit(clips, up=up_index(first), turn_invariant=model_config.turns)


def new_dance_model(model_config: DanceConfig, codec: MotionCodec, first: Motion, rng: int,
                    bank_clips: Sequence[np.ndarray] | None) -> DanceModel:
    """A model initialised from ``rng``, carrying what its checkpoints need: the normalisation, the joint
    pairs generation keeps rigid, a stretch of ``first`` (the first training clip) to start from, and the
    pose guard's bank of ``bank_clips`` (none when None: a process that writes no checkpoint needs none)."""
    torch.manual_seed(rng)
    model = DanceModel(model_config)
    model.codec = codec
    # generation keeps rigid what the data keeps rigid: a BVH's own bones (rigid by construction, and
    # the ones a BVH export of the take writes rotations for), else the pairs of the spanning tree of its
    # steadiest joint distances that really stay rigid (a marker cloud's tree also links markers across
    # joints; for BVH data the tree may hold e.g. arm-to-arm instead of spine-to-arm)
    if first.rig is not None and len(first.bones):
        bones = np.asarray(first.bones, dtype=np.int64)
        lengths = mean_bone_lengths(first.positions, bones)
    else:
        bones, lengths = steady_bones(first.positions)
        keep = rigid_bones(first.positions, bones)
        bones, lengths = bones[keep], lengths[keep]
    model.bones, model.bone_lengths = torch.as_tensor(bones), torch.as_tensor(lengths, dtype=torch.float64)
    model.seed = Motion(first.positions[:SEED_FRAMES], fps=first.fps, joint_names=first.joint_names,
                        bones=motion_skeleton(first)[0], source=first.source, layout=first.layout,
                        up_axis=first.up_axis, axis_scale=first.axis_scale, rig=first.rig)
    if bank_clips is not None:
        # the pose guard's bank: the data's poses (facing-normalised) and how far unseen movement lies from them,
        # measured in the data file's own units (a per-axis-normalised clip is judged as it is stored)
        up = up_index(first)
        units = first.axis_scale
        model.pose_bank, model.pose_radius = build_pose_bank([c / units for c in bank_clips] if first.restored
                                                             else bank_clips, up)
        model.pose_up = up
    return model


def train(
    data: MotionSource | Sequence[MotionSource],
    out: str | Path | None = None,
    *,
    model_config: DanceConfig | None = None,
    config: TrainConfig | None = None,
    on_event: Callable[[TrainEvent], None] | None = None,
    cancel: threading.Event | None = None,
    resume: str | Path | None = None,
) -> TrainResult:
    """Train a ``DanceModel`` on one or more clips; ``result.model`` holds the best weights.

    With ``resume`` the model config and normalisation come from that checkpoint.
    """
    motions = as_motions(data)
    config = config or TrainConfig()
    if resume is not None:
        model_config, codec = resumed_setup(resume, motions[0].n_joints)
        clips = strided_clips(motions, model_config.model_fps)
    else:
        model_config = fitted_config(model_config, motions[0])
        clips = strided_clips(motions, model_config.model_fps)
        codec = fitted_codec(clips, motions[0], model_config)
    model = new_dance_model(model_config, codec, motions[0], config.rng, clips)
    task = DanceTask(model, clips, codec, config.val_fraction, model.checkpoint_extra())
    result = fit(task, config, out, model_config=asdict(model_config), on_event=on_event,
                 cancel=cancel, resume=resume)
    return result
