"""A procedural dancer: the embedded default training data.

``synthetic_dancer`` drives an articulated skeleton (23 joints, Y up, metres,
about 1.7 m tall) by forward kinematics from joint angles, so bone lengths are
exactly constant. It dances a sequence of "moves" (arm waves, steps and sways,
turns, pliés, reaches, spins, grooves) chosen by a seeded random generator, on a
beat of 100-120 bpm, with smooth cross-fades between moves, while the body
travels around a stage of a few metres. Everything is rhythmic and structured
so that a small model can learn it.

``synthetic_markers`` gives the same kind of motion as a bare cloud of optical
markers (no bones), rigidly attached around the body segments.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.spatial.transform import Rotation

from .motion import Motion

# name, parent, rest offset from the parent (metres, Y up, the dancer faces +Z, its left is +X)
_SKELETON: list[tuple[str, str | None, tuple[float, float, float]]] = [
    ("hips", None, (0.0, 0.0, 0.0)),
    ("spine", "hips", (0.0, 0.12, 0.0)),
    ("chest", "spine", (0.0, 0.20, 0.0)),
    ("neck", "chest", (0.0, 0.20, 0.0)),
    ("head", "neck", (0.0, 0.18, 0.02)),
    ("l_collar", "chest", (0.03, 0.14, 0.0)),
    ("l_shoulder", "l_collar", (0.15, 0.0, -0.01)),
    ("l_elbow", "l_shoulder", (0.0, -0.28, 0.0)),
    ("l_wrist", "l_elbow", (0.0, -0.26, 0.0)),
    ("l_hand", "l_wrist", (0.0, -0.09, 0.0)),
    ("r_collar", "chest", (-0.03, 0.14, 0.0)),
    ("r_shoulder", "r_collar", (-0.15, 0.0, -0.01)),
    ("r_elbow", "r_shoulder", (0.0, -0.28, 0.0)),
    ("r_wrist", "r_elbow", (0.0, -0.26, 0.0)),
    ("r_hand", "r_wrist", (0.0, -0.09, 0.0)),
    ("l_hip", "hips", (0.10, -0.05, 0.0)),
    ("l_knee", "l_hip", (0.0, -0.45, 0.0)),
    ("l_ankle", "l_knee", (0.0, -0.43, 0.0)),
    ("l_toe", "l_ankle", (0.0, -0.05, 0.14)),
    ("r_hip", "hips", (-0.10, -0.05, 0.0)),
    ("r_knee", "r_hip", (0.0, -0.45, 0.0)),
    ("r_ankle", "r_knee", (0.0, -0.43, 0.0)),
    ("r_toe", "r_ankle", (0.0, -0.05, 0.14)),
]
JOINT_NAMES: list[str] = [name for name, _, _ in _SKELETON]
_INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}
_PARENTS = np.array([-1 if p is None else _INDEX[p] for _, p, _ in _SKELETON])
_OFFSETS = np.array([off for _, _, off in _SKELETON], dtype=np.float64)
_FOOT = [_INDEX[n] for n in ("l_ankle", "l_toe", "r_ankle", "r_toe")]
_FLOOR_CLEARANCE = 0.02  # lowest foot joint sits this far above the floor
# joints="compact" drops the leaves and the (never rotated) collars: bone lengths stay exact
_COMPACT_DROP = {"l_collar", "r_collar", "l_hand", "r_hand", "l_toe", "r_toe"}

Angles = np.ndarray  # (frames, joints, 3) local Euler angles (x, y, z) in radians


def _euler(ang: np.ndarray) -> np.ndarray:
    """Local rotation matrices Ry(yaw) @ Rx(pitch) @ Rz(roll) from (..., 3) angles (x, y, z) in radians."""
    flat = ang.reshape(-1, 3)[:, [1, 0, 2]]  # intrinsic y, then x, then z
    return Rotation.from_euler("YXZ", flat).as_matrix().reshape(*ang.shape[:-1], 3, 3)


def _forward_kinematics(root: np.ndarray, angles: Angles) -> tuple[np.ndarray, np.ndarray]:
    """Positions (F, J, 3) and global rotations (F, J, 3, 3) from root positions and local angles."""
    frames, joints = angles.shape[:2]
    local = _euler(angles)
    pos = np.zeros((frames, joints, 3))
    glob = np.zeros((frames, joints, 3, 3))
    for j in range(joints):
        p = _PARENTS[j]
        if p < 0:
            pos[:, j] = root
            glob[:, j] = local[:, j]
        else:
            pos[:, j] = pos[:, p] + glob[:, p] @ _OFFSETS[j]
            glob[:, j] = glob[:, p] @ local[:, j]
    return pos, glob


def _smooth_pulse(x: np.ndarray) -> np.ndarray:
    """0..1..0 over each unit period, smooth (a raised cosine)."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * x)


def _set(a: Angles, name: str, axis: int, value: np.ndarray | float) -> None:
    a[:, _INDEX[name], axis] += value


# Each move fills in angles (F, J, 3) and extra channels for a time grid given in beats.
# Conventions: arms hang along -Y; +Z-rotation lifts the left arm sideways (-Z the right one);
# negative X-rotation swings a limb forward; positive X-rotation at the knee bends it.
MoveFn = Callable[[np.ndarray, np.random.Generator, Angles, dict[str, np.ndarray]], None]


def _arm_wave(b: np.ndarray, rng: np.random.Generator, a: Angles, ex: dict[str, np.ndarray]) -> None:
    amp = rng.uniform(0.35, 0.6)
    w = 2 * np.pi * b / 2.0  # one wave every two beats
    _set(a, "l_shoulder", 2, 1.35 + amp * np.sin(w))
    _set(a, "r_shoulder", 2, -1.35 - amp * np.sin(w + np.pi * 0.5))
    _set(a, "l_elbow", 2, 0.7 * np.sin(w - 0.8))
    _set(a, "r_elbow", 2, -0.7 * np.sin(w + np.pi * 0.5 - 0.8))
    _set(a, "l_wrist", 2, 0.5 * np.sin(w - 1.6))
    _set(a, "r_wrist", 2, -0.5 * np.sin(w + np.pi * 0.5 - 1.6))
    _set(a, "chest", 2, 0.12 * np.sin(w))
    _set(a, "head", 2, -0.1 * np.sin(w))
    ex["sway"] += 0.06 * np.sin(w)
    bend = 0.2 * _smooth_pulse(b)
    for side in "lr":
        _set(a, f"{side}_hip", 0, -bend)
        _set(a, f"{side}_knee", 0, 2 * bend)
        _set(a, f"{side}_ankle", 0, -bend)


def _step_sway(b: np.ndarray, rng: np.random.Generator, a: Angles, ex: dict[str, np.ndarray]) -> None:
    lift = rng.uniform(0.45, 0.75)
    w = np.pi * b  # left on even beats, right on odd beats
    left = np.clip(np.sin(w), 0, None) ** 2
    right = np.clip(-np.sin(w), 0, None) ** 2
    for side, up in (("l", left), ("r", right)):
        _set(a, f"{side}_hip", 0, -lift * up)
        _set(a, f"{side}_knee", 0, 2 * lift * up)
        _set(a, f"{side}_ankle", 0, -0.3 * up)
    _set(a, "l_shoulder", 0, 0.5 * np.sin(w))  # arms swing against the legs
    _set(a, "r_shoulder", 0, -0.5 * np.sin(w))
    _set(a, "l_shoulder", 2, 0.25)
    _set(a, "r_shoulder", 2, -0.25)
    _set(a, "l_elbow", 0, -0.9)
    _set(a, "r_elbow", 0, -0.9)
    _set(a, "hips", 2, 0.08 * np.sin(w))
    _set(a, "chest", 2, -0.12 * np.sin(w))
    ex["sway"] += 0.12 * np.sin(w)


def _turn(b: np.ndarray, rng: np.random.Generator, a: Angles, ex: dict[str, np.ndarray]) -> None:
    direction = rng.choice([-1.0, 1.0])
    ex["yaw_rate"] += direction * 2 * np.pi / 4.0  # a full turn per bar
    _set(a, "l_shoulder", 2, 1.45)
    _set(a, "r_shoulder", 2, -1.45)
    _set(a, "l_elbow", 1, 0.3 * np.sin(np.pi * b))
    _set(a, "r_elbow", 1, -0.3 * np.sin(np.pi * b))
    _set(a, "chest", 1, 0.2 * np.sin(np.pi * b / 2))
    _set(a, "head", 1, -0.3 * np.sin(np.pi * b / 2))
    bend = 0.15 * _smooth_pulse(b)
    for side in "lr":
        _set(a, f"{side}_hip", 0, -bend)
        _set(a, f"{side}_knee", 0, 2 * bend)


def _plie(b: np.ndarray, rng: np.random.Generator, a: Angles, ex: dict[str, np.ndarray]) -> None:
    depth = rng.uniform(0.5, 0.85)
    down = _smooth_pulse(b / 2.0)  # down and up over two beats
    for side, sign in (("l", 1.0), ("r", -1.0)):
        _set(a, f"{side}_hip", 0, -depth * down)
        _set(a, f"{side}_hip", 2, sign * 0.25)  # turned out, knees over the toes
        _set(a, f"{side}_hip", 1, sign * 0.5)
        _set(a, f"{side}_knee", 0, 2 * depth * down)
        _set(a, f"{side}_ankle", 0, -depth * down)
        _set(a, f"{side}_ankle", 2, -sign * 0.25)
        _set(a, f"{side}_shoulder", 2, sign * (0.4 + 1.0 * down))  # arms open as the knees bend
        _set(a, f"{side}_shoulder", 0, -0.3 * down)
        _set(a, f"{side}_elbow", 0, -0.4 + 0.3 * down)
    _set(a, "head", 0, 0.15 * down)


def _reach(b: np.ndarray, rng: np.random.Generator, a: Angles, ex: dict[str, np.ndarray]) -> None:
    w = np.pi * b / 2.0  # left reach, right reach, over four beats
    left = np.clip(np.sin(w), 0, None)
    right = np.clip(-np.sin(w), 0, None)
    _set(a, "l_shoulder", 2, 0.3 + 2.4 * left)
    _set(a, "r_shoulder", 2, -0.3 - 2.4 * right)
    _set(a, "l_shoulder", 0, -0.3 * right)
    _set(a, "r_shoulder", 0, -0.3 * left)
    _set(a, "l_elbow", 0, -1.2 * right)
    _set(a, "r_elbow", 0, -1.2 * left)
    _set(a, "spine", 2, -0.15 * (left - right))
    _set(a, "chest", 2, -0.2 * (left - right))
    _set(a, "head", 2, -0.15 * (left - right))
    ex["sway"] -= 0.1 * (left - right)
    for side, other in (("l", right), ("r", left)):  # the opposite knee bends into the lean
        _set(a, f"{side}_hip", 0, -0.3 * other)
        _set(a, f"{side}_knee", 0, 0.6 * other)


def _spin(b: np.ndarray, rng: np.random.Generator, a: Angles, ex: dict[str, np.ndarray]) -> None:
    direction = rng.choice([-1.0, 1.0])
    ex["yaw_rate"] += direction * 2 * np.pi / 2.0  # a full turn every two beats
    _set(a, "l_shoulder", 2, 0.5)
    _set(a, "r_shoulder", 2, -0.5)
    _set(a, "l_shoulder", 0, -1.1)
    _set(a, "r_shoulder", 0, -1.1)
    _set(a, "l_elbow", 0, -1.2)
    _set(a, "r_elbow", 0, -1.2)
    _set(a, "l_elbow", 1, -0.8)
    _set(a, "r_elbow", 1, 0.8)
    _set(a, "r_hip", 0, -0.7)  # passé: right foot at the left knee
    _set(a, "r_hip", 1, -0.6)
    _set(a, "r_knee", 0, 1.7)
    _set(a, "l_ankle", 0, 0.35)  # up on the toes
    _set(a, "l_toe", 0, -0.35)


def _groove(b: np.ndarray, rng: np.random.Generator, a: Angles, ex: dict[str, np.ndarray]) -> None:
    pump = np.sin(2 * np.pi * b)
    bounce = _smooth_pulse(b)
    for side, sign, ph in (("l", 1.0, 0.0), ("r", -1.0, np.pi)):
        _set(a, f"{side}_shoulder", 0, -0.6 - 0.5 * np.sin(np.pi * b + ph))
        _set(a, f"{side}_shoulder", 2, sign * 0.35)
        _set(a, f"{side}_elbow", 0, -1.6 + 0.4 * pump)
        _set(a, f"{side}_hip", 0, -0.25 * bounce)
        _set(a, f"{side}_knee", 0, 0.5 * bounce)
        _set(a, f"{side}_ankle", 0, -0.25 * bounce)
    _set(a, "chest", 0, 0.15 * bounce)
    _set(a, "head", 0, 0.25 * bounce)
    _set(a, "hips", 1, 0.25 * np.sin(np.pi * b / 2))
    ex["sway"] += 0.08 * np.sin(np.pi * b)


MOVES: dict[str, MoveFn] = {
    "arm_wave": _arm_wave,
    "step_sway": _step_sway,
    "turn": _turn,
    "plie": _plie,
    "reach": _reach,
    "spin": _spin,
    "groove": _groove,
}


def _dance(frames: int, fps: float, rng: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (F, 23, 3) and global rotations of the full skeleton."""
    if frames < 1:
        raise ValueError("frames must be >= 1")
    if fps <= 0:
        raise ValueError("fps must be > 0")
    rng = np.random.default_rng(rng)
    bpm = rng.uniform(100.0, 120.0)
    t = np.arange(frames) / fps
    beats = t * bpm / 60.0
    n_joints = len(JOINT_NAMES)

    # a schedule of moves, each lasting two or four bars, cross-faded over one beat
    names = list(MOVES)
    schedule: list[tuple[float, float, str]] = []
    start, previous = 0.0, ""
    while start <= beats[-1] + 1:
        name = str(rng.choice([n for n in names if n != previous]))
        length = float(rng.choice([8.0, 16.0]))
        schedule.append((start, start + length, name))
        start, previous = start + length, name

    angles = np.zeros((frames, n_joints, 3))
    extras = {k: np.zeros(frames) for k in ("yaw_rate", "sway")}
    weights = []
    for i, (s, e, _name) in enumerate(schedule):
        rise = np.ones(frames) if i == 0 else np.clip(beats - (s - 0.5), 0.0, 1.0)
        fall = np.ones(frames) if i == len(schedule) - 1 else np.clip((e + 0.5) - beats, 0.0, 1.0)
        w = rise * fall
        w = w * w * (3 - 2 * w)  # smoothstep
        weights.append(w)
    total = np.sum(weights, axis=0)
    for (s, _e, name), w in zip(schedule, weights, strict=True):
        active = w > 0
        if not active.any():
            continue
        a = np.zeros((int(active.sum()), n_joints, 3))
        ex = {k: np.zeros(a.shape[0]) for k in extras}
        MOVES[name](beats[active] - s, rng, a, ex)
        frac = (w[active] / total[active])[:, None]
        angles[active] += a * frac[:, :, None]
        for k in extras:
            extras[k][active] += ex[k] * frac[:, 0]

    # a relaxed base pose: arms a little away from the body, soft knees
    angles[:, _INDEX["l_shoulder"], 2] += 0.15
    angles[:, _INDEX["r_shoulder"], 2] -= 0.15

    # travel: a slow closed Lissajous path on a stage of about 3 x 2.4 m, plus the moves' sway
    p1, p2 = rng.uniform(0, 2 * np.pi, 2)
    period = rng.uniform(24.0, 36.0)
    x = 1.1 * np.sin(2 * np.pi * t / period + p1)
    z = 0.8 * np.sin(2 * np.pi * 2 * t / (period * 1.5) + p2)
    yaw = np.cumsum(extras["yaw_rate"]) / fps * (bpm / 60.0)
    yaw += 0.6 * np.sin(2 * np.pi * t / (period / 2) + p2)  # slowly face around the stage
    angles[:, 0, 1] += yaw
    sway = extras["sway"]
    x = x + sway * np.cos(yaw)
    z = z - sway * np.sin(yaw)
    root = np.stack([x, np.full(frames, 1.0), z], axis=1)

    pos, glob = _forward_kinematics(root, angles)
    lift = pos[:, _FOOT, 1].min(axis=1) - _FLOOR_CLEARANCE  # keep the lowest foot on the floor
    pos[:, :, 1] -= lift[:, None]
    return pos, glob


def synthetic_dancer(frames: int = 1800, fps: float = 30.0, rng: int = 0, joints: str = "full") -> Motion:
    """A procedural dancer as a Motion (Y up, metres, faces +Z at the start).

    ``joints="full"`` gives 23 joints (hips, spine, chest, neck, head, collars,
    shoulders, elbows, wrists, hands, hips, knees, ankles, toes); ``"compact"``
    gives 17 (no collars, hands or toes). The same ``rng`` gives an identical array.
    """
    if joints not in ("full", "compact"):
        raise ValueError('joints must be "full" or "compact"')
    pos, _ = _dance(frames, fps, rng)
    keep = [i for i, n in enumerate(JOINT_NAMES) if joints == "full" or n not in _COMPACT_DROP]
    new_index = {old: new for new, old in enumerate(keep)}
    bones = []
    for old in keep:
        p = _PARENTS[old]
        while p >= 0 and p not in new_index:  # attach to the nearest kept ancestor
            p = _PARENTS[p]
        if p >= 0:
            bones.append((new_index[p], new_index[old]))
    return Motion(
        positions=pos[:, keep].astype(np.float32),
        fps=float(fps),
        joint_names=[JOINT_NAMES[i] for i in keep],
        bones=np.array(bones, dtype=np.int64),
        source=f"synthetic:rng={rng}",
        layout="frames-first",
        layout_note="synthetic dancer, generated frames-first",
    )


def _marker_layout(n_markers: int) -> tuple[np.ndarray, np.ndarray]:
    """Which joint frame each marker rides on and its offset in that frame (fixed, seed-free)."""
    rng = np.random.default_rng(12345)
    # segments: (joint whose frame carries the marker, child giving the segment direction)
    segments = [(_PARENTS[c], c) for c in range(1, len(JOINT_NAMES)) if JOINT_NAMES[c] != "spine"]
    segments.append((_INDEX["head"], -1))
    joint = np.zeros(n_markers, dtype=np.int64)
    offset = np.zeros((n_markers, 3))
    for m in range(n_markers):
        j, c = segments[m % len(segments)]
        along = _OFFSETS[c] if c >= 0 else np.array([0.0, 0.12, 0.0])
        frac = rng.uniform(0.2, 0.8)
        direction = rng.normal(size=3)
        axis = along / (np.linalg.norm(along) + 1e-9)
        direction -= axis * (direction @ axis)
        direction /= np.linalg.norm(direction) + 1e-9
        joint[m] = j
        offset[m] = frac * along + rng.uniform(0.04, 0.08) * direction
    return joint, offset


def synthetic_markers(frames: int = 600, fps: float = 30.0, rng: int = 0, n_markers: int = 55) -> Motion:
    """The procedural dancer as a bare optical-marker cloud: ``n_markers`` points, no bones.

    Each marker is rigidly attached to one body segment (a few centimetres off
    the bone), so distances between markers on one segment stay exactly
    constant, like real optical motion capture before skeleton solving.
    """
    if n_markers < 1:
        raise ValueError("n_markers must be >= 1")
    pos, glob = _dance(frames, fps, rng)
    joint, offset = _marker_layout(n_markers)
    markers = pos[:, joint] + np.einsum("fmij,mj->fmi", glob[:, joint], offset)
    return Motion(
        positions=markers.astype(np.float32),
        fps=float(fps),
        joint_names=[f"M{i:02d}" for i in range(n_markers)],
        source=f"synthetic-markers:rng={rng}",
        layout="frames-first",
        layout_note="synthetic marker cloud, generated frames-first",
    )
