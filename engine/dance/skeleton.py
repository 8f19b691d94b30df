"""Skeletons: bones inferred from point clouds, integrity metrics, rigid bone projection.

The metric definitions follow ``shared/tools/dance_quality.py`` exactly (bone
deviation relative to the mean length, speed = mean joint displacement per
frame, frozen = speed below a tenth of the median speed), so numbers reported
by the studio and by that tool agree.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np
import torch
from numba import njit
from scipy.sparse.csgraph import minimum_spanning_tree

if TYPE_CHECKING:
    from .motion import Motion

MAX_INFER_FRAMES = 512  # frames used to infer bones on long clips (evenly spaced)
STEADY_TREE_BYTES = 3e8  # memory for the steadiest spanning tree: all frames of clips up to ~5,000 frames x 55 joints


def subsample_frames(positions: np.ndarray, max_frames: int) -> np.ndarray:
    """At most ``max_frames`` evenly spaced frames of ``positions`` as float64."""
    t = positions.shape[0]
    if t <= max_frames:
        return np.asarray(positions, dtype=np.float64)
    idx = np.linspace(0, t - 1, max_frames).round().astype(np.int64)
    return np.asarray(positions[idx], dtype=np.float64)


def orient_tree(edges: np.ndarray, n_joints: int, root: int) -> np.ndarray:
    """Orient undirected tree/forest edges as (parent, child), breadth first from ``root``.

    Components not reached from ``root`` are rooted at their lowest joint index.
    """
    adj: list[list[int]] = [[] for _ in range(n_joints)]
    for a, b in np.asarray(edges, dtype=np.int64).reshape(-1, 2):
        adj[a].append(int(b))
        adj[b].append(int(a))
    seen = np.zeros(n_joints, dtype=bool)
    out: list[tuple[int, int]] = []
    for start in [root, *range(n_joints)]:
        if seen[start]:
            continue
        seen[start] = True
        queue = deque([start])
        while queue:
            p = queue.popleft()
            for c in sorted(adj[p]):
                if not seen[c]:
                    seen[c] = True
                    out.append((p, c))
                    queue.append(c)
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


def infer_bones(positions: np.ndarray, max_frames: int = MAX_INFER_FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """Bones of a bare point cloud clip: a minimum spanning tree over joint pairs.

    Edge weight = coefficient of variation (std / mean) of the pair's distance
    over time, as in dance_quality.py: joints on one bone keep their distance.
    Long clips use ``max_frames`` evenly spaced frames. Returns ``bones`` int
    (B, 2) as (parent, child) in breadth-first order from the joint closest to
    the body's centroid, and ``lengths`` float (B,), the mean length over all frames.
    """
    positions = np.asarray(positions)
    j = positions.shape[1]
    if j < 2:
        return np.zeros((0, 2), np.int64), np.zeros(0)
    x = np.asarray(subsample_frames(positions, max_frames), dtype=np.float64)
    d = np.linalg.norm(x[:, :, None, :] - x[:, None, :, :], axis=-1)
    mean = d.mean(0)
    w = d.std(0) / (mean + 1e-9) + 1e-6  # + 1e-6: a zero weight would mean "no edge" to scipy
    np.fill_diagonal(w, 0)
    mst = minimum_spanning_tree(w).tocoo()
    mean_pose = x.mean(0)
    root = int(np.argmin(np.linalg.norm(mean_pose - mean_pose.mean(0), axis=-1)))
    bones = orient_tree(np.stack([mst.row, mst.col], 1), j, root)
    return bones, mean_bone_lengths(positions, bones)


def steady_bones(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``infer_bones`` on as many frames as fit in ``STEADY_TREE_BYTES``: every frame of ordinary clips.

    Generation holds these pairs rigid and the quality figures measure them, so they should see the
    whole clip where memory allows (a subsample can pick a pair that is steady only in those frames).
    """
    j = positions.shape[1]
    return infer_bones(positions, max_frames=max(256, int(STEADY_TREE_BYTES // (j * j * 24))))


RIGID_CV = 0.01  # a joint pair whose length varies less than this (std / mean) over the clip is held rigid ...
RIGID_CV_MEDIAN = 3.0  # ... or less than this many times the median variability of the spanning tree's pairs


def rigid_bones(positions: np.ndarray, bones: np.ndarray, max_frames: int = MAX_INFER_FRAMES) -> np.ndarray:
    """The pairs of ``bones`` the clip really keeps rigid (a boolean mask).

    A spanning tree must connect every joint, so on a bare marker cloud it also links markers on
    different body segments (across a joint) whose distance changes with the pose (5-10 %).
    Holding those at their mean length bends every pose by centimetres; only pairs whose length
    varies less than ``RIGID_CV`` (or ``RIGID_CV_MEDIAN`` times the tree's median variability,
    for noisy capture) are rigid. A skeleton's real bones all pass.
    """
    b = np.asarray(bones, dtype=np.int64).reshape(-1, 2)
    if not len(b):
        return np.zeros(0, bool)
    lengths = bone_lengths(subsample_frames(np.asarray(positions), max_frames), b)
    mean = lengths.mean(0)
    cv = np.where(mean > 0, lengths.std(0) / np.maximum(mean, 1e-12), 0.0)
    return cv <= max(RIGID_CV, RIGID_CV_MEDIAN * float(np.median(cv)))


def mean_bone_lengths(positions: np.ndarray, bones: np.ndarray, chunk: int = 32768) -> np.ndarray:
    """Mean length of every bone over all frames, in chunks (an hour of mocap stays small)."""
    total = np.zeros(len(np.asarray(bones).reshape(-1, 2)))
    for start in range(0, len(positions), chunk):
        total += bone_lengths(positions[start : start + chunk], bones).sum(0)
    return total / max(1, len(positions))


def bone_lengths(positions: np.ndarray, bones: np.ndarray) -> np.ndarray:
    """Length of every bone in every frame: float64 (frames, B)."""
    x = np.asarray(positions, dtype=np.float64)
    b = np.asarray(bones, dtype=np.int64).reshape(-1, 2)
    return np.linalg.norm(x[:, b[:, 0]] - x[:, b[:, 1]], axis=-1)


def frame_speeds(positions: np.ndarray) -> np.ndarray:
    """Mean joint displacement between consecutive frames: float64 (frames - 1,)."""
    x = np.asarray(positions, dtype=np.float64)
    return np.linalg.norm(np.diff(x, axis=0), axis=-1).mean(1)


def integrity(
    positions: np.ndarray,
    bones: np.ndarray,
    ref_lengths: np.ndarray | None = None,
    ref_median_speed: float | None = None,
) -> dict:
    """How well a clip holds together and moves (definitions of dance_quality.py).

    ``bone_dev_median`` / ``bone_dev_p95``: |length - ref| / ref over all frames
    and bones, with ``ref_lengths`` defaulting to each bone's mean length in this
    clip; ``mean_speed``: mean joint displacement per frame (source units);
    ``frozen_frac``: fraction of frame steps slower than 0.1 x the median speed
    (of the reference data when ``ref_median_speed`` is given); ``extent_min`` /
    ``extent_max``: per-axis bounds; ``finite``: no NaN/inf.
    """
    x = np.asarray(positions, dtype=np.float64)
    out: dict = {"frames": int(x.shape[0]), "joints": int(x.shape[1]), "finite": bool(np.isfinite(x).all())}
    if not out["finite"]:
        return out
    lengths = bone_lengths(x, bones)
    ref = lengths.mean(0) if ref_lengths is None else np.asarray(ref_lengths, dtype=np.float64)
    if lengths.size:
        dev = np.abs(lengths - ref) / (ref + 1e-9)
        out["bone_dev_median"] = float(np.median(dev))
        out["bone_dev_p95"] = float(np.percentile(dev, 95))
    else:
        out["bone_dev_median"] = out["bone_dev_p95"] = 0.0
    speed = frame_speeds(x)
    med = float(np.median(speed)) if ref_median_speed is None else float(ref_median_speed)
    out["mean_speed"] = float(speed.mean())
    out["median_speed"] = float(np.median(speed))
    out["frozen_frac"] = float((speed < 0.1 * med).mean())
    flat = x.reshape(-1, 3)
    out["extent_min"] = flat.min(0).tolist()
    out["extent_max"] = flat.max(0).tolist()
    return out


def motion_skeleton(motion: Motion) -> tuple[np.ndarray, np.ndarray]:
    """(bones, lengths) of a clip: its own bones (mean length over frames) or inferred ones."""
    if len(motion.bones):
        bones = np.asarray(motion.bones, dtype=np.int64)
        return bones, mean_bone_lengths(motion.positions, bones)
    return infer_bones(motion.positions)


@njit(cache=True)
def _project_poses(x: np.ndarray, parents: np.ndarray, children: np.ndarray, lengths: np.ndarray,
                   eps: float) -> np.ndarray:  # pragma: no cover (compiled)
    """Rigid projection of poses ``(N, J, 3)``, bones in level order (a parent is placed before its children)."""
    out = x.copy()
    for i in range(x.shape[0]):
        for b in range(children.shape[0]):
            p, c = parents[b], children[b]
            dx, dy, dz = x[i, c, 0] - out[i, p, 0], x[i, c, 1] - out[i, p, 1], x[i, c, 2] - out[i, p, 2]
            n = np.sqrt(dx * dx + dy * dy + dz * dz)
            if n <= eps:  # a child sits on its new parent: keep the bone's old direction
                dx, dy, dz = x[i, c, 0] - x[i, p, 0], x[i, c, 1] - x[i, p, 1], x[i, c, 2] - x[i, p, 2]
                n = max(np.sqrt(dx * dx + dy * dy + dz * dz), eps)
            k = lengths[b] / n
            out[i, c, 0] = out[i, p, 0] + dx * k
            out[i, c, 1] = out[i, p, 1] + dy * k
            out[i, c, 2] = out[i, p, 2] + dz * k
    return out


@njit(cache=True)
def _rounded_poses(x: np.ndarray, parents: np.ndarray, children: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Float32 poses ``(N, J, 3)`` from float64 ones, each child rounded once after its (rounded) parent."""
    out = x.astype(np.float32)
    for i in range(x.shape[0]):
        for b in range(children.shape[0]):
            p, c = parents[b], children[b]
            for k in range(3):
                out[i, c, k] = np.float32(np.float64(out[i, p, k]) + (x[i, c, k] - x[i, p, k]))
    return out


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernels above now, not inside the first generation.

    Interactive front ends call this at start-up: the first call holds the GIL for 0.2-1 s, which
    would otherwise freeze the UI thread when the first take starts.
    """
    projector = RigidProjector(np.array([[0, 1]]), np.array([1.0]))
    projector.to_float32(projector.project(np.zeros((1, 2, 3))))


class RigidProjector:
    """Move joints so every bone has its reference length, root(s) first.

    Each child is put on the sphere of radius ``length`` around its (already
    projected) parent, at the point closest to where it was:
    ``child = parent' + unit(child - parent') * length``, parents before their children.
    The loop is compiled (numba): generation calls it every frame, and as NumPy calls per tree
    level it cost ~100 us a pose on a 55-marker cloud (a tree 20+ levels deep). Works on any batch
    shape ``(..., J, 3)`` of NumPy arrays or tensors (returned as what came in).
    Joints not in any bone are left as they are. A child lying exactly on its
    new parent keeps the bone's original direction; a zero-length original bone
    (e.g. the CMU ``LHipJoint``) puts the child on its parent.
    """

    def __init__(self, bones: np.ndarray, lengths: np.ndarray, eps: float = 1e-8) -> None:
        bones = np.asarray(bones, dtype=np.int64).reshape(-1, 2)
        lengths = np.asarray(lengths, dtype=np.float64).reshape(-1)
        if len(lengths) != len(bones):
            raise ValueError(f"{len(bones)} bones but {len(lengths)} lengths")
        children = bones[:, 1]
        if len(np.unique(children)) != len(children):
            raise ValueError("bones must form a forest: a joint has two parents")
        parent_of = dict(zip(children.tolist(), bones[:, 0].tolist(), strict=True))
        depth: dict[int, int] = {}

        def depth_of(j: int) -> int:
            path = []
            while j in parent_of and j not in depth:
                path.append(j)
                j = parent_of[j]
                if len(path) > len(bones):
                    raise ValueError("bones must form a forest: they contain a cycle")
            d = depth.get(j, 0)
            for k in reversed(path):
                d += 1
                depth[k] = d
            return d

        levels = np.array([depth_of(int(c)) for c in children], dtype=np.int64)
        self.eps = eps
        self.n_joints = int(bones.max()) + 1 if len(bones) else 0
        order = np.argsort(levels, kind="stable")  # bones grouped by depth, roots' children first
        self._children = np.ascontiguousarray(bones[order, 1])  # every child, in level order
        self._parents = np.ascontiguousarray(bones[order, 0])  # their parents, in the same order
        self._lengths = np.ascontiguousarray(lengths[order])

    def project(self, x: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        """Return a copy of ``x`` (..., J, 3) with rigid bone lengths (a tensor comes back as a tensor)."""
        if x.shape[-2] < self.n_joints:
            raise ValueError(f"pose has {x.shape[-2]} joints, bones need {self.n_joints}")
        if isinstance(x, torch.Tensor):  # computed in NumPy: per-call cost is a fraction of torch's here
            return torch.from_numpy(self._project_numpy(x.detach().cpu().numpy())).to(x.device)
        return self._project_numpy(np.asarray(x))

    def _project_numpy(self, x: np.ndarray) -> np.ndarray:
        flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1, x.shape[-2], 3)
        out = _project_poses(flat, self._parents, self._children, self._lengths, self.eps).reshape(x.shape)
        return out if x.dtype == np.float64 else out.astype(x.dtype)

    __call__ = project

    def to_float32(self, x: np.ndarray) -> np.ndarray:
        """Float32 copy of rigid float64 poses ``(..., J, 3)`` whose bones keep their lengths as well as float32 can.

        Rounding every coordinate on its own puts two rounding errors on each bone (parent and
        child); here each child is rounded once its parent is: ``child32 = f32(parent32 + (child - parent))``,
        so a bone carries one rounding error, root(s) first.
        """
        flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1, x.shape[-2], 3)
        return _rounded_poses(flat, self._parents, self._children).reshape(x.shape)
