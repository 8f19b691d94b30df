"""What the dance network sees, and the exact way back to joint positions.

Each frame becomes ``[pose relative to the body centre (J*3), centre velocity (3)]``.
The network reads that (z-scored) and predicts the next frame as a *change*:
``[pose change (J*3), next centre velocity (3)]`` (z-scored with its own
statistics). Predicting changes keeps the output in the range a mixture head
resolves well at any frame rate, and the body centre's velocity lets the dancer
travel. The statistics live in the checkpoint, so decoding is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

STD_FLOOR = 1e-2  # relative to the median std: keeps near-constant coordinates from exploding


def centre_and_pose(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split ``(T, J, 3)`` into the body centre ``(T, 3)`` and the relative pose ``(T, J, 3)``."""
    centre = positions.mean(axis=1)
    return centre, positions - centre[:, None, :]


def raw_features(positions: np.ndarray) -> np.ndarray:
    """``(T, J*3 + 3)`` float32: relative pose and centre velocity (frame 0 copies frame 1's)."""
    positions = np.asarray(positions, dtype=np.float64)
    centre, pose = centre_and_pose(positions)
    vel = np.diff(centre, axis=0, prepend=centre[:1])
    if len(vel) > 1:
        vel[0] = vel[1]
    return np.concatenate([pose.reshape(len(pose), -1), vel], axis=1).astype(np.float32)


CHUNK = 32768  # frames per chunk when encoding long clips


class _Moments:
    """Running mean and standard deviation per column (float64, shifted for stability)."""

    def __init__(self) -> None:
        self.n, self.shift, self.s1, self.s2 = 0, None, 0.0, 0.0

    def add(self, x: np.ndarray) -> None:
        x = np.asarray(x, np.float64)
        if self.shift is None:
            self.shift = x[0].copy()
        d = x - self.shift
        self.n, self.s1, self.s2 = self.n + len(x), self.s1 + d.sum(0), self.s2 + (d * d).sum(0)

    @property
    def mean(self) -> np.ndarray:
        return self.shift + self.s1 / self.n

    def robust_std(self) -> np.ndarray:
        m = self.s1 / self.n
        std = np.sqrt(np.maximum(self.s2 / self.n - m * m, 0.0))
        return np.maximum(std, STD_FLOOR * max(float(np.median(std)), 1e-8))


def _feature_chunks(positions: np.ndarray):
    """Raw feature rows of a clip in overlapping chunks: each chunk's last row starts the next chunk.

    Every row equals the row ``raw_features`` gives on the whole clip, so consecutive chunks
    together hold every (input, target) pair exactly once.
    """
    n = len(positions)
    for start in range(0, max(n - 1, 1), CHUNK):
        end = min(n, start + CHUNK + 1)
        lo = max(0, start - 1)  # one frame before the chunk gives its first velocity
        feats = raw_features(positions[lo:end])
        yield feats[1:] if start > 0 else feats


@dataclass
class MotionCodec:
    """Normalisation statistics and the encode/decode rules for one skeleton."""

    n_joints: int
    in_mean: np.ndarray  # (D,) mean of raw features
    in_std: np.ndarray  # (D,)
    out_mean: np.ndarray  # (D,) mean of [pose change, next velocity]
    out_std: np.ndarray  # (D,)
    stage_lo: np.ndarray  # (3,) lowest body-centre position seen in the data
    stage_hi: np.ndarray  # (3,) highest
    up: int = 1  # up axis (index); turns about it are what ``turn_invariant`` statistics ignore

    @property
    def dim(self) -> int:
        return self.n_joints * 3 + 3

    @classmethod
    def fit(cls, clips: list[np.ndarray], up: int = 1, turn_invariant: bool = False) -> MotionCodec:
        """Statistics over several ``(T, J, 3)`` clips, streamed in chunks (an hour of mocap fits in memory).

        ``turn_invariant``: the statistics of the data turned to every facing about the ``up`` axis
        (for training on randomly turned crops): per joint, both floor coordinates get mean 0 and
        the spread of the two together, so any turn of the data is normalised alike.
        """
        acc_in, acc_out = _Moments(), _Moments()
        lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
        for clip in clips:
            for feats in _feature_chunks(clip):
                acc_in.add(feats[:-1] if len(feats) > 1 else feats)
                acc_out.add(_raw_targets(feats))
            for start in range(0, len(clip), CHUNK):
                centre = np.asarray(clip[start : start + CHUNK], np.float64).mean(axis=1)
                lo, hi = np.minimum(lo, centre.min(0)), np.maximum(hi, centre.max(0))
        moments = [(acc_in.mean, acc_in.robust_std()), (acc_out.mean, acc_out.robust_std())]
        if turn_invariant:
            moments = [_turn_symmetric(m, s, up) for m, s in moments]
        (in_mean, in_std), (out_mean, out_std) = moments
        return cls(
            n_joints=clips[0].shape[1],
            in_mean=in_mean.astype(np.float32), in_std=in_std.astype(np.float32),
            out_mean=out_mean.astype(np.float32), out_std=out_std.astype(np.float32),
            stage_lo=lo.astype(np.float32), stage_hi=hi.astype(np.float32), up=int(up),
        )

    def turn(self, rows: np.ndarray, angles: np.ndarray, targets: bool = False) -> np.ndarray:
        """Normalised rows ``(B, L, D)`` (inputs, or targets with ``targets``) turned about the up axis.

        ``angles`` ``(B,)``: one turn per row; every joint and the centre velocity turn together.
        Rows are un-normalised, turned and normalised again (``turn_invariant`` statistics make
        the normalisation itself indifferent to the turn).
        """
        mean, std = (self.out_mean, self.out_std) if targets else (self.in_mean, self.in_std)
        b, n, d = rows.shape
        raw = (rows * std + mean).reshape(b, n, d // 3, 3)
        h0, h1 = [a for a in range(3) if a != self.up]
        c, s = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
        x, z = raw[..., h0].copy(), raw[..., h1]
        raw[..., h0] = c * x - s * z
        raw[..., h1] = s * x + c * z
        return ((raw.reshape(b, n, d) - mean) / std).astype(np.float32)

    def encode_clip(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Network inputs and targets ``(T-1, D)`` float32 for a whole clip, built in chunks."""
        n = len(positions) - 1
        x = np.empty((max(n, 0), self.dim), np.float32)
        y = np.empty_like(x)
        start = 0
        for feats in _feature_chunks(positions):
            rows = len(feats) - 1
            x[start : start + rows] = self.encode_inputs(feats[:-1])
            y[start : start + rows] = self.encode_targets(feats)
            start += rows
        return x, y

    def encode_inputs(self, feats: np.ndarray) -> np.ndarray:
        return ((feats - self.in_mean) / self.in_std).astype(np.float32)

    def encode_targets(self, feats: np.ndarray) -> np.ndarray:
        """Targets for inputs ``feats[:-1]``: one row fewer than ``feats``."""
        return ((_raw_targets(feats) - self.out_mean) / self.out_std).astype(np.float32)

    def decode_step(self, feats: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Next raw feature row(s) from the current one(s) and a normalised prediction ``y`` (float64)."""
        change = y * self.out_std + self.out_mean
        d = self.n_joints * 3
        change[..., :d] += feats[..., :d]
        return change

    def state_dict(self) -> dict:
        """Plain tensors and ints, safe for ``torch.load(weights_only=True)``."""
        return {
            "n_joints": self.n_joints, "up": self.up,
            **{k: torch.from_numpy(np.asarray(getattr(self, k))) for k in _ARRAYS},
        }

    @classmethod
    def from_state_dict(cls, state: dict) -> MotionCodec:
        return cls(n_joints=int(state["n_joints"]), up=int(state.get("up", 1)),
                   **{k: state[k].numpy() for k in _ARRAYS})


_ARRAYS = ("in_mean", "in_std", "out_mean", "out_std", "stage_lo", "stage_hi")


def _turn_symmetric(mean: np.ndarray, std: np.ndarray, up: int) -> tuple[np.ndarray, np.ndarray]:
    """Moments of columns ``(J+1)*3`` as if the data were turned to every facing about ``up``."""
    mean, var = mean.reshape(-1, 3).copy(), (std * std).reshape(-1, 3).copy()
    h = [a for a in range(3) if a != up]
    second = (var[:, h] + mean[:, h] ** 2).mean(1, keepdims=True)  # E[x^2] averaged over both floor axes
    mean[:, h] = 0.0
    var[:, h] = second
    return mean.reshape(-1), np.sqrt(var).reshape(-1)


def _raw_targets(feats: np.ndarray) -> np.ndarray:
    d = feats.shape[1] - 3
    return np.concatenate([np.diff(feats[:, :d], axis=0), feats[1:, d:]], axis=1)


def positions_from_features(feats: np.ndarray, start_centre: np.ndarray, n_joints: int) -> np.ndarray:
    """Rebuild ``(T, J, 3)`` from raw feature rows; ``start_centre`` is the centre before row 0."""
    feats = np.asarray(feats, dtype=np.float64)
    d = n_joints * 3
    centre = np.asarray(start_centre, np.float64) + np.cumsum(feats[:, d:], axis=0)
    return (feats[:, :d].reshape(-1, n_joints, 3) + centre[:, None, :]).astype(np.float32)
