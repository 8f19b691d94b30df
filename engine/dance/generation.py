"""``DanceGenerator``: prime on a moment of a clip, then dance on one frame at a time.

The LSTM state is stepped once per network frame (never a whole look-back
window per frame), every parameter can change between frames, and several
variations run as one batch. Data faster than the model's rate (e.g. 120 fps
mocap with a 30 fps model) is primed on every ``frame_step``-th frame and the
take is interpolated back to the source rate, so a take plays at the data's fps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np
import torch

from ..core.errors import ChoreoError
from ..core.mdn import DiagMixtureSampler, MixtureChoice
from ..core.recurrent import NumpyLSTM, numpy_twin
from .axes import guess_up_axis, motion_up_axis
from .directing import Director
from .direction import Direction
from .knobs import GENERATION
from .model import DanceModel
from .motion import Motion
from .pose_guard import PoseGuard
from .representation import raw_features
from .skeleton import RigidProjector

_BLAS_LIMITED: list[object] = []  # the threadpoolctl limiter, kept for the life of the process


def _single_threaded_blas() -> None:
    """Run NumPy's BLAS on one thread (once per process).

    Generation is a few matrix-vector products per frame: BLAS threads only add hand-off, and
    on a busy 2-core machine their spin-waiting made a frame ~8x slower in CPU time (measured:
    5.5 ms vs 0.63 ms). Training runs in torch, which keeps its own threads.
    """
    if not _BLAS_LIMITED:
        from threadpoolctl import threadpool_limits

        _BLAS_LIMITED.append(threadpool_limits(limits=1, user_api="blas"))


STAGE_MARGIN = 0.1  # of the data's travel span: how far past it the body centre may go before turning back


class _AnchorHead:
    """NumPy copy of ``DanceModel.anchor`` (one small matrix-vector product per frame)."""

    def __init__(self, layer: torch.nn.Linear) -> None:
        self.w_t = np.ascontiguousarray(layer.weight.detach().float().cpu().numpy().T)
        self.b = layer.bias.detach().float().cpu().numpy()

    def __call__(self, h: np.ndarray) -> np.ndarray:
        return (h @ self.w_t + self.b).astype(np.float64)


def _guard_of(model: DanceModel, bank: np.ndarray, units: np.ndarray | None) -> PoseGuard:
    """The model's pose guard (its search index built once per model and bank, not per take)."""
    cache = model.__dict__.setdefault("_pose_guards", {})
    key = (id(bank), None if units is None else np.asarray(units).tobytes())
    if key not in cache:
        cache.clear()
        cache[key] = PoseGuard(bank, model.pose_radius, model.pose_up, 1.0, units)
    return cache[key]


class DanceGenerator:
    """Generates new frames in the source's coordinates.

    seed:              the clip to continue (Motion or ``(frames, joints, 3)``); default: the
                       stretch of training data stored in the checkpoint.
    seed_frame:        generation continues *from* this frame (primed on the frames before it).
    look_back:         how many source frames before ``seed_frame`` prime the LSTM
                       (default: the model's, about a second).
    temperature:       mixture-weight temperature (0 = always the most likely component).
    sigma_temperature: variance scale of the chosen component (0 = its mean, 1 = learned spread).
    mixture:           "auto" (sample), "argmax" or a fixed component index.
    rng:               seed for reproducible takes.
    variations:        takes generated side by side in one batch.
    rigid:             keep bone lengths at the training data's lengths.
    pose_guard:        radius of the pose-space guard in units of the model's held-out pose distance
                       (``engine.dance.pose_guard``; default: the knob's, 0.5; 0 = off; models without a
                       pose bank have none).
    anchor:            fraction of the way each sampled pose moves to the anchor head's predicted pose per
                       network step (default: the model's ``DanceConfig.anchor``; 0 = off).
    stay_on_stage:     turn the dancer back when the body centre leaves the data's floor area, and
                       keep the body's lowest point within the seed clip's range of heights
                       (no floating up, no sinking through the floor).
    direction:         keyframes, kept joints, a floor path and part temperatures
                       (``engine.dance.direction``; honoured by ``engine.dance.directing``).
    references:        motions ``(frames, joints, 3)`` that ``direction.keep`` entries name as their source.
    torch_step:        step the LSTM with torch (``DanceModel.step_hidden``) even on the CPU; it always
                       does on a GPU. Tests use it to check the GPU path against the NumPy one.

    Parameter changes take effect at the next network step (the next frame, or within
    ``frame_step`` frames for data faster than the model's rate).
    """

    def __init__(
        self,
        model: DanceModel,
        seed: Motion | np.ndarray | None = None,
        seed_frame: int | None = None,
        look_back: int | None = None,
        temperature: float = 1.0,
        sigma_temperature: float = 1.0,
        mixture: MixtureChoice = "auto",
        rng: int | None = 0,
        variations: int = 1,
        rigid: bool = True,
        stay_on_stage: bool = True,
        pose_guard: float | None = None,
        anchor: float | None = None,
        direction: Direction | None = None,
        references: Mapping[str, np.ndarray] | None = None,
        *,
        torch_step: bool = False,
    ) -> None:
        if model.codec is None:
            raise ChoreoError("model has no normalisation statistics; load it with DanceModel.load")
        self.model = model.eval()
        self.codec = model.codec
        self.frame_step = max(1, int(model.config.frame_step))
        seed = model.seed if seed is None else seed
        if seed is None:
            raise ChoreoError("no seed motion given and the model carries none")
        self.seed_positions = seed.positions if isinstance(seed, Motion) else np.asarray(seed, np.float32)
        if self.seed_positions.ndim != 3 or self.seed_positions.shape[1:] != (self.codec.n_joints, 3):
            raise ChoreoError(
                f"seed has shape {self.seed_positions.shape}, the model expects (frames, {self.codec.n_joints}, 3)")
        n = len(self.seed_positions)
        look_back = model.config.default_look_back if look_back is None else int(look_back)
        if look_back < 1:
            raise ChoreoError(f"look-back must be at least 1 frame, got {look_back}")
        self.look_back = look_back
        if n < self.frame_step + 1:
            raise ChoreoError(f"seed needs at least {self.frame_step + 1} frames")
        self.seed_frame = min(n, look_back + self.frame_step) if seed_frame is None else int(seed_frame)
        if not self.frame_step + 1 <= self.seed_frame <= n:
            raise ChoreoError(f"seed frame {seed_frame} is outside the seed clip ({self.frame_step + 1}..{n})")
        self.temperature, self.sigma_temperature = float(temperature), float(sigma_temperature)
        self.mixture = mixture
        self.variations = int(variations)
        if self.variations < 1:
            raise ChoreoError(f"variations must be at least 1, got {variations}")
        self.rigid, self.stay_on_stage = rigid, stay_on_stage
        self.device = model.device
        self._rng = np.random.default_rng(rng)
        _single_threaded_blas()
        self._sampler = numpy_twin(model.head, DiagMixtureSampler)
        # on the CPU the LSTM steps in NumPy too; elsewhere (CUDA) torch steps it on the device
        on_cpu = self.device.type == "cpu" and not torch_step
        self._numpy_lstm = numpy_twin(model.lstm, NumpyLSTM) if on_cpu else None
        self._projector = (
            RigidProjector(model.bones, model.bone_lengths) if model.bones is not None and len(model.bones) else None
        )
        self._anchor = numpy_twin(model.anchor, _AnchorHead) if model.anchor is not None else None
        self.anchor = float(model.config.anchor if anchor is None else anchor)
        d = 3 * self.codec.n_joints
        self._pose_std = self.codec.in_std[:d].astype(np.float64)
        self._pose_mean = self.codec.in_mean[:d].astype(np.float64)
        bank = getattr(model, "pose_bank", None)
        if pose_guard is None:
            pose_guard = float(GENERATION["pose_guard"].default)
        units = model.seed.axis_scale if model.seed is not None else None  # the bank is in the file's units
        self._guard = _guard_of(model, bank, units).fresh(pose_guard) if bank is not None and pose_guard > 0 else None
        span = self.codec.stage_hi - self.codec.stage_lo
        margin = STAGE_MARGIN * span + 1e-3 * float(span.max() + 1e-6)
        self._stage_lo = (self.codec.stage_lo - margin).astype(np.float64)
        self._stage_hi = (self.codec.stage_hi + margin).astype(np.float64)
        self._floor = self._floor_band(seed)
        self._pending: list[np.ndarray] = []  # interpolated frames not handed out yet
        self._prime()
        fps = float(seed.fps) if isinstance(seed, Motion) else float(model.seed.fps) if model.seed else 30.0
        self.direction = direction or Direction()
        self._direct = Director(self, self.direction, references or {}, fps) if direction else None

    def _floor_band(self, seed: Motion | np.ndarray) -> tuple[int, float, float, float]:
        """(up axis, its sign, lowest and highest height of the body's lowest point in the seed clip).

        The body centre moves by integrated velocities, so its height drifts over a long take
        while the pose says nothing about the floor: the dancer floats or sinks. The seed clip
        shows how high the lowest joint goes (feet on the floor, jumps); the take is held there.
        """
        up = motion_up_axis(seed) if isinstance(seed, Motion) else guess_up_axis(self.seed_positions)
        axis, sign = "xyz".index(up[-1]), -1.0 if up.startswith("-") else 1.0
        pos = self.seed_positions.astype(np.float64)
        lowest = (sign * pos[..., axis]).min(1)
        lo, hi = np.percentile(lowest, [1, 99])
        body = float(np.median(np.ptp(sign * pos[..., axis], axis=1)))
        margin = STAGE_MARGIN * (hi - lo) + 0.01 * body
        return axis, sign, float(lo - margin), float(hi + margin)

    @property
    def mixture(self) -> MixtureChoice:
        return self._mixture

    @mixture.setter
    def mixture(self, value: MixtureChoice) -> None:
        k = self.model.config.mixtures
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, int) and not 0 <= value < k:
            raise ChoreoError(f"mixture component {value} is out of range: this model has {k} (0..{k - 1})")
        if isinstance(value, str) and value not in ("auto", "argmax"):
            raise ChoreoError(f"mixture must be auto, argmax or a component index 0..{k - 1}, got {value!r}")
        self._mixture = value

    def _prime(self) -> None:
        """Run the look-back frames through the LSTM; the next sample continues the seed."""
        s = self.frame_step
        steps = max(1, -(-self.look_back // s))  # network steps covering look_back source frames
        last = self.seed_frame - 1
        idx = last - s * np.arange(steps + 1)[::-1]  # one extra frame before: the first velocity
        window = self.seed_positions[idx[idx >= 0]]
        # decoding runs in float64 so a take's bones are as exact as the data's; the network runs in float32
        feats = raw_features(window).astype(np.float64)
        x = torch.from_numpy(self.codec.encode_inputs(feats)[-steps:]).to(self.device)
        x = x.unsqueeze(0).expand(self.variations, -1, -1).contiguous()
        with torch.no_grad():
            h, state = self.model.lstm(x)
        self._h = h[:, -1].float().cpu().numpy()  # the head's input for the next frame
        self._state = state if self._numpy_lstm is None else tuple(s.float().cpu().numpy() for s in state)
        self._feats = np.repeat(feats[-1:], self.variations, 0)
        key = window[-1].astype(np.float64)
        self._centre = np.repeat(key.mean(0)[None], self.variations, 0)
        self._key = np.repeat(key[None], self.variations, 0)  # last keyframe, (V, J, 3)

    def _network_step(self) -> np.ndarray:
        """Sample the next keyframe ``(V, J, 3)`` (float64) and advance the LSTM.

        Everything runs in NumPy on the CPU (the LSTM too, unless the model is on a GPU): one
        frame at a time these are dozens of tiny array operations, where torch's per-call cost
        would dominate.
        """
        d = self._direct
        if d is None:
            y = self._sampler(self._h, self.temperature, self.sigma_temperature, self.mixture, self._rng)
        else:
            planned = d.next_key()  # a keyframe's approach, rolled out ahead
            if planned is not None:
                return planned
            y = d.sample(self._h, self._feats)
        feats = self.codec.decode_step(self._feats, y)
        j = self.codec.n_joints
        if self._anchor is not None and self.anchor > 0:  # errors of integrated changes decay towards the anchor
            target = self._anchor(self._h) * self._pose_std + self._pose_mean
            feats[:, : 3 * j] += self.anchor * (target - feats[:, : 3 * j])
        pose = feats[:, : 3 * j].reshape(-1, j, 3)
        vel = feats[:, 3 * j :]
        if self._guard is not None and (d is None or d.guarding()):
            pose = self._guard(pose) if d is None else d.guard(pose)
        if d is not None:  # keyframes, held joints and a projection that keeps them
            pose, vel = d.shape(pose, vel)
        elif self._projector is not None and self.rigid:
            pose = self._projector.project(pose)
            shift = pose.mean(1)  # keep the pose centred: the projection may move its centre
            pose = pose - shift[:, None]
            vel = vel + shift
        centre = self._centre + vel
        if self.stay_on_stage:
            axis, sign, floor_lo, floor_hi = self._floor
            lowest = (sign * (pose[..., axis] + centre[:, axis, None])).min(1)
            lift = np.clip(lowest, floor_lo, floor_hi) - lowest  # back into the seed's range of heights
            if lift.any():
                vel = vel.copy()
                vel[:, axis] += sign * lift
                centre = self._centre + vel
            # across the floor, turn back only what moves further out (a centre already outside and
            # coming back keeps going); height is the floor band's business
            outward = ((centre < self._stage_lo) & (vel < 0)) | ((centre > self._stage_hi) & (vel > 0))
            outward[:, axis] = False
            if outward.any():
                vel = np.where(outward, -vel, vel)  # bounce back towards the stage
                centre = self._centre + vel
        if d is not None:  # a floor path sets the travel
            vel, centre = d.travel(vel, centre)
        self._feats = np.concatenate([pose.reshape(len(pose), -1), vel], axis=1)
        self._centre = centre
        x = self.codec.encode_inputs(self._feats)
        if self._numpy_lstm is not None:
            self._h, self._state = self._numpy_lstm.step(x, self._state)
        else:
            with torch.no_grad():
                h, self._state = self.model.step_hidden(torch.from_numpy(x).to(self.device), self._state)
            self._h = h.float().cpu().numpy()
        return pose + centre[:, None]

    def step(self) -> np.ndarray:
        """The next frame: ``(variations, joints, 3)`` float32 in source coordinates."""
        if not self._pending:
            prev, key = self._key, self._network_step()
            s = self.frame_step
            frames = key[None] if s == 1 else self._between(prev, key, s)
            if self._direct is not None:
                frames = self._direct.finish(frames)
            self._key = key
            if self._projector is not None and self.rigid:  # bones as exact as float32 holds them
                frames = self._projector.to_float32(frames)
            self._pending = list(frames[::-1].astype(np.float32))
        return self._pending.pop()

    def _between(self, prev: np.ndarray, key: np.ndarray, s: int) -> np.ndarray:
        """Frames 1..s ``(s, V, J, 3)`` of the way from ``prev`` to ``key`` (linear, then bones made rigid again)."""
        w = np.arange(1, s + 1, dtype=np.float64).reshape(s, 1, 1, 1) / s
        frames = prev[None] + w * (key - prev)[None]
        if self._projector is not None and self.rigid:
            frames = self._projector.project(frames)
        return frames

    def stream(self, frames: int) -> Iterator[np.ndarray]:
        """Yield ``frames`` frames one at a time (each ``(variations, joints, 3)``)."""
        for _ in range(frames):
            yield self.step()

    def generate(self, frames: int, on_frame: Callable[[int, np.ndarray], None] | None = None) -> np.ndarray:
        """``(frames, joints, 3)`` float32, or ``(variations, frames, joints, 3)`` with variations > 1."""
        out = np.empty((self.variations, frames, self.codec.n_joints, 3), np.float32)
        for i, frame in enumerate(self.stream(frames)):
            out[:, i] = frame
            if on_frame is not None:
                on_frame(i, frame)
        return out[0] if self.variations == 1 else out
