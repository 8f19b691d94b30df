"""How ``DanceGenerator`` honours a :class:`~engine.dance.direction.Direction`, step by step.

The generator calls four hooks per network step and one per handed-out chunk of frames:

* :meth:`Director.next_key` first: a keyframe entering its approach window forks the LSTM state
  ``CANDIDATES`` times (NumPy arrays: copying is cheap), rolls all candidates to the keyframe as one
  batch with the pull below, and keeps, per variation, the candidate that needed the least pull (the
  one whose own movement already went there); its frames are then handed out as they are.
* :meth:`Director.sample` instead of the plain mixture draw. **Kept joints**: in the change
  representation their "observation" is (reference's next centre-relative pose - current pose),
  normalised like the network's output; every component is weighted by how well it explains those
  dims and the free dims are drawn from the chosen one (``DiagMixtureSampler.given``: the exact
  conditional of a diagonal-Gaussian mixture). **Part temperatures** multiply the spread of the
  sampled change of the part's joints by ``sqrt(T)`` (a per-part sigma temperature).
* :meth:`Director.guard` instead of the plain pose guard: parts with a temperature are left to
  themselves and the rest of the body is completed around them from the pose bank.
* :meth:`Director.shape` after the anchor and the pose guard, instead of the plain rigid projection.
  **Keyframes**: over the last ``PLAN_SECONDS`` before a keyframe the pose is turned about the up
  axis by a fraction ``a`` of the angle to the keyframe's facing and moved ``a`` of the way to its
  pose, ``a = ramp / (1 + steps left)`` (a proportional approach that lands exactly: at the keyframe's
  network step(s) ``a = 1``, and with data faster than the model both steps around a keyframe between
  two network steps hold it). **Kept joints** are then set to the reference exactly and the free
  joints shifted so the pose stays centre-relative; the rigid projection starts from the held joints
  (a tree re-rooted at them), so only free joints move and the anchor, guard and bones never drag a
  held joint off its reference.
* :meth:`Director.travel` after the stage guard: on a **floor path** the centre's floor velocity is the
  path's, and that is what the network reads next, so the pose follows the travel. A path that does
  not start where the dancer stands is joined smoothly (the offset fades out over about a second, or as
  long as walking it at the data's typical speed takes).
* :meth:`Director.finish` on the frames handed out (after interpolation for data faster than the
  model): held joints, the keyframe pose at its frame and the path are exact on every frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ..core.errors import ChoreoError
from .direction import Direction, floor_axes, typical_travel
from .held import guard_free, held_projector
from .skeleton import RigidProjector, frame_speeds

PLAN_SECONDS = 1.0  # keyframes: the approach (pull and forked rollouts) starts this long before
CANDIDATES = 8  # rollouts forked per keyframe approach; the one that needed the least pull is kept
APPROACH_SPEED = 0.35  # ... or earlier, when the way to go would need more than this times the data's p99 speed
ENERGY = 0.5  # part temperatures: a part's movement is scaled by T ** ENERGY (after the guard), its spread by sqrt(T)
SLOW_SECONDS = 0.5  # keyframes: over this long before one the dancer's own movement fades (smoothstep) ...
MIN_OWN = 0.15  # ... to this share of itself
SETTLE = 0.85  # keyframes: after one, the dancer's own movement starts at 1 - SETTLE of itself ...
SETTLE_SECONDS, SETTLE_FRAMES = 0.25, 8  # ... and comes back over this long (at least this many frames)
EASE_SECONDS = 1.0  # a path not starting under the dancer is joined over at least this long


def _smooth(u: float) -> float:
    """0 below 0, 1 above 1, smoothstep between."""
    u = min(1.0, max(0.0, u))
    return u * u * (3 - 2 * u)


def _repeat(x: Any, n: int, axis: int) -> Any:
    return torch.repeat_interleave(x, n, dim=axis) if isinstance(x, torch.Tensor) else np.repeat(x, n, axis)


def _rows(x: Any, idx: np.ndarray, axis: int) -> Any:
    if isinstance(x, torch.Tensor):
        return x.index_select(axis, torch.as_tensor(idx, device=x.device))
    return np.take(x, idx, axis=axis)


def _yaw(pose: np.ndarray, target: np.ndarray, floor: tuple[int, int]) -> np.ndarray:
    """Angle ``(B,)`` about the up axis that best turns centre-relative ``pose`` ``(B, J, 3)`` onto ``target``."""
    a, b = floor
    px, py, tx, ty = pose[..., a], pose[..., b], target[..., a], target[..., b]
    return np.arctan2((px * ty - py * tx).sum(-1), (px * tx + py * ty).sum(-1))


def _turn(pose: np.ndarray, angle: np.ndarray, floor: tuple[int, int]) -> np.ndarray:
    a, b = floor
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    out = pose.copy()
    out[..., a] = c * pose[..., a] - s * pose[..., b]
    out[..., b] = s * pose[..., a] + c * pose[..., b]
    return out


class Director:
    """The per-step hooks ``DanceGenerator`` calls when it has a Direction (see the module docstring).

    ``references``: reference motions ``(frames, joints, 3)`` by the names ``Keep.source`` uses ("" is
    always the clip the take continues).
    """

    def __init__(self, gen: Any, direction: Direction, references: Mapping[str, np.ndarray],
                 fps: float = 30.0, candidates: int | None = None) -> None:
        self.gen = gen
        j = gen.codec.n_joints
        direction.check(j)
        self.s = gen.frame_step
        self.floor = floor_axes(gen._floor[0])
        self.candidates = max(1, int(CANDIDATES if candidates is None else candidates))
        self.horizon = max(self.s, round(PLAN_SECONDS * fps))  # frames
        self._lengths: dict[int, float] = {}  # keyframe (network frame) -> frames of its approach, once begun
        self.keyframes = sorted(((int(k.frame), k.array) for k in direction.keyframes), key=lambda k: k[0])
        self.p99 = float(np.percentile(frame_speeds(gen.seed_positions), 99)) if self.keyframes else 0.0
        self.settle = max(SETTLE_FRAMES, SETTLE_SECONDS * fps)  # frames after a keyframe the dancer speeds up again
        self.slow = max(SETTLE_FRAMES, SLOW_SECONDS * fps)  # frames before one it slows down
        self._keeps = []
        for keep in direction.keep:
            if keep.source:
                if keep.source not in references:
                    raise ChoreoError(f"no reference motion {keep.source!r} to keep joints from")
                ref = np.asarray(references[keep.source], np.float64)
                start = 0 if keep.start is None else int(keep.start)
            else:
                ref = np.asarray(gen.seed_positions, np.float64)
                start = gen.seed_frame if keep.start is None else int(keep.start)
            if ref.ndim != 3 or ref.shape[1:] != (j, 3):
                raise ChoreoError(f"reference {keep.source or 'clip'} has shape {ref.shape}, the model dances "
                                  f"{j} joints")
            mask = np.zeros(j, bool)
            mask[list(keep.joints)] = True
            self._keeps.append((ref, start, mask))
        self._held_cache: tuple[int, Any] = (-1, None)
        self._bank_row: np.ndarray | None = None  # the bank pose guarding the free joints of each row
        self._parted_row: np.ndarray | None = None  # ... of the joints around parts with a temperature
        self._projectors: dict[bytes, RigidProjector] = {}
        self.spread: np.ndarray | None = None  # per-dim multiplier of the sampled change's spread
        self.energy: np.ndarray | None = None  # per-dim multiplier of the sampled change itself
        if direction.part_temperatures:
            spread, energy = np.ones(gen.codec.dim), np.ones(gen.codec.dim)
            for part in direction.part_temperatures:
                dims = (3 * np.asarray(part.joints)[:, None] + np.arange(3)).reshape(-1)
                spread[dims] = np.sqrt(part.temperature)
                energy[dims] = part.temperature ** ENERGY
            self.spread = spread
            self.energy = energy if ENERGY else None
            k = energy[: 3 * j : 3]
            self._cold, self._k_cold = k < 1.0, k[k < 1.0]
            self._hot, self._k_hot = k > 1.0, k[k > 1.0]
        self.path = np.asarray(direction.path, np.float64).reshape(-1, 2) if direction.path else None
        if self.path is not None:
            here = gen._centre[:, list(self.floor)]
            self._offset = self.path[0][None] - here  # (V, 2): faded out while joining the path
            speed = typical_travel(gen.seed_positions, fps, gen._floor[0])
            gap = float(np.linalg.norm(self._offset, axis=1).max())
            self._ease = max(EASE_SECONDS * fps, gap / max(speed, 1e-12), 1.0)
        self.j = 0  # network steps taken
        self.out = 0  # frames handed out
        self._f = self.s - 1  # take frame of the current network step's pose
        self._plan: list[np.ndarray] = []
        self._planned: set[int] = set()
        self._rolling = False
        self.effort: np.ndarray | None = None

    # -- per-frame targets -------------------------------------------------------------

    def _held_at(self, t: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(held mask ``(J,)``, reference centre-relative pose ``(J, 3)``) at take frame ``t``, or None.

        The pose is the first active reference's whole pose with every reference's held joints on it.
        """
        if self._held_cache[0] == t:
            return self._held_cache[1]
        mask, rel = None, None
        for ref, start, m in self._keeps:
            k = start + t
            if 0 <= k < len(ref):
                r = ref[k] - ref[k].mean(0)
                if mask is None:  # the first reference's whole pose: its free joints say where the rest goes
                    mask, rel = np.zeros_like(m), r.copy()
                mask = mask | m
                rel[m] = r[m]
        out = None if mask is None else (mask, rel)
        self._held_cache = (t, out)
        return out

    def _path_at(self, t: int) -> np.ndarray | None:
        """Where the centre stands on the floor at take frame ``t`` ``(V, 2)``, or None off the path."""
        if self.path is None or t >= len(self.path):
            return None
        u = min(1.0, (t + 1) / self._ease)
        fade = 1.0 - u * u * (3 - 2 * u)
        return self.path[t][None] - fade * self._offset

    def _next_keyframe(self, f: int) -> tuple[int, np.ndarray] | None:
        """(network key frame, pose) of the first keyframe whose key is at or after take frame ``f``."""
        for frame, pose in self.keyframes:
            key = self._key_of(frame)
            if key >= f:
                return key, pose
        return None

    def _keyframe_near(self, t: int) -> tuple[float, np.ndarray] | None:
        """(blend weight, pose) of a keyframe less than a network step from take frame ``t``, or None."""
        for frame, pose in self.keyframes:
            if abs(frame - t) < self.s:
                return 1.0 - abs(frame - t) / self.s, pose
        return None

    def _key_of(self, frame: int) -> int:
        """The take frame of the network step nearest to ``frame`` (steps produce frames ``k * s + s - 1``)."""
        s = self.s
        return max(0, round((frame - (s - 1)) / s)) * s + s - 1

    # -- hooks -------------------------------------------------------------------------

    def next_key(self) -> np.ndarray | None:
        """A planned pose to hand out instead of stepping (plans a keyframe's approach when one comes near)."""
        if self._plan:
            return self._plan.pop(0)
        if self._rolling or self.candidates < 2 or self.j < 1:  # never before the first frame: it must be quick
            return None
        f = self.j * self.s + self.s - 1
        nxt = self._next_keyframe(f)
        if nxt is None or nxt[0] in self._planned or nxt[0] - f < 2 * self.s:
            return None
        g = self.gen
        if self._length(nxt[0], nxt[1], f, g._feats[:, : 3 * len(nxt[1])].reshape(-1, len(nxt[1]), 3)) is None:
            return None
        self._planned.add(nxt[0])
        self._rollout(nxt[0])
        return self._plan.pop(0) if self._plan else None

    def sample(self, h: np.ndarray, feats: np.ndarray) -> np.ndarray:
        """The network's next (normalised) change, drawn under the kept joints and part temperatures."""
        g = self.gen
        self._f = f = self.j * self.s + self.s - 1
        self.j += 1
        held = self._held_at(f)
        if held is None and self.spread is None:
            return g._sampler(h, g.temperature, g.sigma_temperature, g.mixture, g._rng)
        if held is None:
            dims, values = np.zeros(0, np.int64), np.zeros((len(h), 0))
        else:
            mask, rel = held
            dims = (3 * np.flatnonzero(mask)[:, None] + np.arange(3)).reshape(-1)
            change = rel.reshape(-1)[dims][None] - feats[:, dims]
            values = (change - g.codec.out_mean[dims]) / g.codec.out_std[dims]
        y = g._sampler.given(h, dims, values, g.temperature, g.sigma_temperature, g.mixture, g._rng,
                             spread=self.spread)
        return y

    def guard(self, pose: np.ndarray) -> np.ndarray:
        """The pose guard, which leaves the parts with a temperature to themselves: it completes the rest of
        the body around them. (Guarding the whole pose undid the temperatures where the data always moves
        arms and legs together: on the procedural dancer, legs at 0.3 beside arms at 3 moved 1.15x as
        fast as without temperatures; left to themselves 0.73x, and the body stays a body, standing
        calmly while the arms fly.)"""
        g = self.gen
        if self.energy is None:
            return g._guard(pose)
        parted = self._cold | self._hot
        pose, self._parted_row = guard_free(g._guard, pose, parted, self._parted_row)
        return pose

    def guarding(self) -> bool:
        """False while a keyframe's approach runs: the keyframe is a pose of the data and the approach leads
        there; the pose guard moving the pose in between would make it jump."""
        nxt = self._next_keyframe(self._f)
        return nxt is None or nxt[0] not in self._lengths

    def shape(self, pose: np.ndarray, vel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keyframe approach, held joints and the rigid projection of one network step's poses ``(B, J, 3)``."""
        g = self.gen
        if self.energy is not None:  # after the anchor and guard, which move every joint
            prev = g._feats[:, : 3 * len(self._cold)].reshape(pose.shape)
            pose = pose.copy()
            if self._cold.any():  # a cold part's movement in the world shrinks (a planted foot stays planted)
                moved = pose[:, self._cold] - prev[:, self._cold] + vel[:, None]
                pose[:, self._cold] = prev[:, self._cold] + self._k_cold[None, :, None] * moved - vel[:, None]
            if self._hot.any():  # a hot part's movement relative to the body grows (more gesture, not more travel)
                pose[:, self._hot] = prev[:, self._hot] + self._k_hot[None, :, None] * (pose - prev)[:, self._hot]
        pose, settle = self._pull(pose, self._f)
        if settle > 0:  # the body's travel slows around a keyframe as well
            vel = vel * (1.0 - settle)
        held = self._held_at(self._f)
        if held is not None:
            pose = self._hold(pose, held)
            if g._guard is not None and self.guarding():  # (a keyframe's approach leads the free joints)
                mask, ref = held
                rest = ref[~mask].mean(0) - ref[mask].mean(0) if (~mask).any() else None
                pose, self._bank_row = guard_free(g._guard, pose, mask, self._bank_row, rest)
        if g._projector is not None and g.rigid:
            pose = g._projector.project(pose) if held is None else self._projector(held[0]).project(pose)
        if held is not None or (g._projector is not None and g.rigid):
            shift = pose.mean(1)  # keep the pose centred: the projection may move its centre
            pose = pose - shift[:, None]
            vel = vel + shift
        return pose, vel

    def travel(self, vel: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """On the floor path, the centre goes where the path says (the network reads this velocity next)."""
        target = self._path_at(self._f)
        if target is None:
            return vel, centre
        floor = list(self.floor)
        vel, centre = vel.copy(), centre.copy()
        centre[:, floor] = target
        vel[:, floor] = target - self.gen._centre[:, floor]
        return vel, centre

    def finish(self, frames: np.ndarray) -> np.ndarray:
        """Frames ``(n, V, J, 3)`` about to be handed out, with held joints, keyframes and the path exact."""
        frames = np.array(frames, np.float64)
        g = self.gen
        for i in range(len(frames)):
            t = self.out + i
            key, held, spot = self._keyframe_near(t), self._held_at(t), self._path_at(t)
            if key is None and held is None and spot is None:
                continue
            centre = frames[i].mean(1)
            rel = frames[i] - centre[:, None]
            if key is not None:  # exact at the keyframe, blended in over the frames of a network step around it
                w, target = key
                rel = rel + w * (target[None] - rel)
            if held is not None:  # the reference's shape of the held joints about where they are (the keys
                mask, ref = held  # either side already hold them; a shift of all joints would bend the body)
                rel[:, mask] = ref[mask] + (rel[:, mask] - ref[mask]).mean(1, keepdims=True)
            if (held is not None or (key is not None and key[0] < 1.0)) and g._projector is not None and g.rigid:
                rel = g._projector.project(rel) if held is None else self._projector(held[0]).project(rel)
                rel = rel - rel.mean(1, keepdims=True)
            if spot is not None:
                centre[:, list(self.floor)] = spot
            frames[i] = rel + centre[:, None]
        self.out += len(frames)
        return frames

    # -- pieces ------------------------------------------------------------------------

    def _length(self, key: int, target: np.ndarray, f: int, pose: np.ndarray) -> float | None:
        """Frames of the approach to the keyframe at network frame ``key`` once it has begun, else None.

        It begins ``PLAN_SECONDS`` before, or earlier when the way from the current ``pose`` (mean joint
        distance) would need more than ``APPROACH_SPEED`` of the data's 99th-percentile speed on average.
        """
        if key in self._lengths:
            return self._lengths[key]
        frames = key - f
        rel = pose - pose.mean(-2, keepdims=True)
        gap = float(np.linalg.norm(rel - target, axis=-1).mean(-1).max())
        if frames <= self.horizon or gap > frames * APPROACH_SPEED * self.p99:
            self._lengths[key] = float(max(frames, self.s))
            return self._lengths[key]
        return None

    def _left(self, r: int, length: float) -> float:
        """Share of the way to a keyframe still to go ``r`` network steps before it, on an approach of
        ``length`` frames: 1 - smoothstep, so the approach eases in and lands gently."""
        return 1.0 - _smooth(1.0 - r * self.s / length)

    def _pull(self, pose: np.ndarray, f: int) -> tuple[np.ndarray, float]:
        """Approach the next keyframe and settle after one (module docstring); returns the poses and how
        much the dancer's own movement (pose and travel) was slowed (0..1)."""
        g = self.gen
        prev = g._feats[:, : pose.shape[1] * 3].reshape(pose.shape)
        nxt = self._next_keyframe(f)
        r = (nxt[0] - f) // self.s if nxt is not None else None  # network steps left until the keyframe's own
        # the dancer's own movement shrinks with the way left to a keyframe and comes back over ``settle`` after it
        keep = min((1.0 - SETTLE * _smooth(1.0 - (f - frame) / self.settle) for frame, _ in self.keyframes
                    if 0 <= f - frame < self.settle), default=1.0)
        length = None if nxt is None else self._length(nxt[0], nxt[1], f, prev)
        if length is not None:
            keep = min(keep, max(_smooth(r * self.s / self.slow), MIN_OWN))
        if keep < 1.0:
            pose = prev + keep * (pose - prev)
        if length is None:
            return pose, 1.0 - keep
        target = nxt[1]
        centre = pose.mean(1, keepdims=True)
        rel = pose - centre
        alpha = 1.0 if r <= 0 else 1.0 - self._left(r, length) / max(self._left(r + 1, length), 1e-12)
        if alpha >= 1.0:
            new = np.broadcast_to(target, pose.shape) + centre
        else:
            rel = _turn(rel, alpha * _yaw(rel, target[None], self.floor), self.floor)
            new = rel + alpha * (target[None] - rel) + centre
        if self._rolling and self.effort is not None:
            self.effort += np.linalg.norm(new - pose, axis=-1).mean(-1)
        return new, 1.0 - keep

    def _hold(self, pose: np.ndarray, held: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Held joints at the reference exactly; the free joints shifted so the pose stays centre-relative."""
        mask, rel = held
        out = pose.copy()
        out[:, mask] = rel[mask]
        free = ~mask
        if free.any():
            out[:, free] -= out.sum(1)[:, None] / free.sum()
        return out

    def _projector(self, mask: np.ndarray) -> RigidProjector:
        key = mask.tobytes()
        if key not in self._projectors:
            g = self.gen
            self._projectors[key] = held_projector(np.asarray(g.model.bones), np.asarray(g.model.bone_lengths), mask)
        return self._projectors[key]

    def _rollout(self, frame: int) -> None:
        """Fork the state ``candidates`` times, roll all to ``frame``, keep the least-pulled per variation."""
        g, n = self.gen, self.candidates
        v = len(g._h)
        offset = self.path is not None and self._offset
        g._h, g._feats, g._centre = (_repeat(x, n, 0) for x in (g._h, g._feats, g._centre))
        g._state = tuple(_repeat(x, n, 1) for x in g._state)
        if self.path is not None:
            self._offset = np.repeat(self._offset, n, 0)
        self.effort = np.zeros(v * n)
        keys: list[np.ndarray] = []
        self._rolling = True
        try:
            while True:
                keys.append(g._network_step())
                if self._f >= frame:
                    break
        finally:
            self._rolling = False
        best = self.effort.reshape(v, n).argmin(1) + n * np.arange(v)
        g._h, g._feats, g._centre = (_rows(x, best, 0) for x in (g._h, g._feats, g._centre))
        g._state = tuple(_rows(x, best, 1) for x in g._state)
        if self.path is not None:
            self._offset = offset
        if getattr(g, "_guard", None) is not None:
            g._guard._nearest = None  # its cache of nearest bank poses was for the forked rows
        self._plan = [k[best] for k in keys]
        self.effort = None
