"""Joint rotations from joint positions: what BVH and glTF exports write.

A take is joint positions; Blender, Maya, Unity and three.js animate a hierarchy of joints
by rotations. Given a hierarchy (the source BVH's, or one built from the clip's skeleton)
:func:`solve_rig` finds, frame by frame, each joint's rotation relative to its parent and,
for joints that have position channels, the translation that puts it exactly where the
take has it. Forward kinematics of the result gives the take's positions back.

How each joint's rotation is found (vectorised over frames, joints parents first):

- its *children* are the joints one bone below it; a child on a zero-length bone (the CMU
  ``LHipJoint``) is looked through to its own children, since it tells nothing by itself;
- two or more children that do not lie on one line fix the whole rotation: the best
  rotation taking their rest offsets to where they are now (Kabsch / Wahba's problem,
  solved for all frames at once with NumPy's batched SVD: ``scipy``'s ``align_vectors``
  solves one frame per call);
- one child (or children on one line) fixes only the swing: the joint turns by the
  shortest rotation, in its parent's frame, from its rest direction to the child's. The
  data holds no twist about the bone; this gives none relative to the rest pose, so a
  limb's twist cannot drift over a long take. Towards a half turn, where the shortest
  rotation is undefined, the twist comes from the previous frame instead (``_swing``);
- children are aimed at from where the written chain actually puts the joint, so a fit
  that cannot be exact (siblings of a generated take at slightly other angles) does not
  add up down the chain.

Euler angles come from ``scipy.spatial.transform.Rotation`` in each joint's own channel
order, unwrapped over time so no channel jumps by 360 degrees.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ..core.errors import ChoreoError
from .axes import motion_up_axis, up_to_y
from .bvh import _POS, _ROT, BvhJoint, _drop_end_sites, load_bvh
from .motion import Motion
from .skeleton import bone_lengths, infer_bones, mean_bone_lengths

STRETCH = 1e-4  # a bone whose length changes more than this share of the body's height gets position channels
ZERO = 1e-9  # offsets shorter than this (in source units, relative to the body) are zero-length bones
TWIST_FROM = np.radians(150)  # a bone turned further than this from rest starts to carry the previous frame's twist
TWIST_KEPT_FROM = np.radians(165)  # and beyond this carries all of it (the shortest rotation is too unsteady)
ROOT_CHANNELS = ["xposition", "yposition", "zposition", "zrotation", "yrotation", "xrotation"]
JOINT_CHANNELS = ["zrotation", "yrotation", "xrotation"]


@dataclass
class Posed:
    """A motion on a hierarchy: what the BVH and glTF writers need.

    joints:      the hierarchy, parents before children (end sites included).
    order:       motion joint index of each rig joint (-1 for an end site the motion does not have).
    positions:   float64 (frames, rig joints, 3): where the take has each joint, in the rig's axes.
    rotations:   float64 (frames, rig joints, 3, 3): each joint's rotation relative to its parent.
    translations: float64 (frames, rig joints, 3): each joint's translation relative to its parent
                 (offset plus position channels), so forward kinematics reproduces ``positions``
                 where position channels allow it.
    """

    joints: list[BvhJoint]
    order: np.ndarray
    positions: np.ndarray
    rotations: np.ndarray
    translations: np.ndarray

    def world(self) -> tuple[np.ndarray, np.ndarray]:
        """Forward kinematics of the solved channels: world positions (F, J, 3) and rotations (F, J, 3, 3)."""
        F, J = self.positions.shape[:2]
        pos = np.zeros((F, J, 3))
        rot = np.zeros((F, J, 3, 3))
        for j, joint in enumerate(self.joints):
            if joint.parent < 0:
                pos[:, j], rot[:, j] = self.translations[:, j], self.rotations[:, j]
            else:
                p = joint.parent
                pos[:, j] = pos[:, p] + np.einsum("fij,fj->fi", rot[:, p], self.translations[:, j])
                rot[:, j] = rot[:, p] @ self.rotations[:, j]
        return pos, rot


def skeleton_rig(path: str | Path) -> list[BvhJoint]:
    """The hierarchy of a BVH file (``--skeleton SOURCE.bvh``), end sites included."""
    _, clip = load_bvh(path)
    return clip.joints


def _match_rig(motion: Motion, joints: list[BvhJoint], where: str | Path | None) -> list[BvhJoint]:
    """``joints`` fitted to the motion's joints (end sites dropped when the motion has none)."""
    n = motion.n_joints
    real = [j for j in joints if not j.end_site]
    if len(joints) != n and len(real) == n:
        joints = _drop_end_sites(joints)
    if len(joints) != n:
        raise ChoreoError(f"the skeleton has {len(joints)} joints ({len(real)} without end sites), "
                          f"the motion has {n}", where)
    if motion.joint_names != [f"joint{i}" for i in range(n)]:  # the motion has real names: they must agree
        for j, nm in zip(joints, motion.joint_names, strict=True):
            if j.name != nm:
                raise ChoreoError(f"the skeleton's joint {j.name!r} stands where the motion has {nm!r}", where)
    return joints


def built_rig(motion: Motion, positions: np.ndarray) -> tuple[list[BvhJoint], np.ndarray]:
    """A hierarchy for a clip with no BVH behind it (markers, arrays): (joints, motion index of each).

    Bones are the clip's own when they form one tree over every joint, else the inferred
    skeleton (the spanning tree of the steadiest joint distances). Offsets point the way the
    bones point in the first frame, at their mean length, so frame 0 is the rest pose. Below
    the root, joints have rotation channels only where their bone keeps its length (within
    ``STRETCH`` of the body's height: a generated take, the synthetic dancer); a marker whose
    distance to its parent marker changes (markers on two sides of a joint, skin moving) also
    gets position channels, so the file gives it back exactly. Blender, MotionBuilder and
    three.js read those; some readers (pybvh) refuse position channels below the root. The children of a
    marker may sit on different body parts, which one rotation cannot turn together: each
    gets a zero-length joint of its own (``parent-child``), as CMU's ``LHipJoint`` does.
    Each leaf ends in an End Site a quarter of its bone further on.
    """
    n = motion.n_joints
    bones = np.asarray(motion.bones, dtype=np.int64).reshape(-1, 2)
    parents = np.full(n, -1)
    one_tree = len(bones) == n - 1 and len(set(bones[:, 1].tolist())) == n - 1
    if one_tree:
        parents[bones[:, 1]] = bones[:, 0]
        one_tree = _reaches_all(parents)
    if not one_tree:
        bones, _ = infer_bones(positions)
        parents = np.full(n, -1)
        parents[bones[:, 1]] = bones[:, 0]
    lengths = mean_bone_lengths(positions, bones)
    length_of = dict(zip(bones[:, 1].tolist(), lengths.tolist(), strict=True))
    sample = positions[:: max(1, len(positions) // 512)]
    stretch = np.abs(bone_lengths(sample, bones) - lengths).max(0) if len(bones) else np.zeros(0)
    tolerance = STRETCH * max(float(np.ptp(sample[..., 1], axis=1).max()), 1e-12)
    stretchy = set(bones[stretch > tolerance, 1].tolist())
    children: list[list[int]] = [[] for _ in range(n)]
    for p, c in bones.tolist():
        children[p].append(c)
    root = int(np.flatnonzero(parents < 0)[0])
    joints: list[BvhJoint] = []
    order: list[int] = []
    first = positions[0]

    # depth first, children in order: ("joint" | "branch" | "end", motion joint, rig parent)
    stack: list[tuple[str, int, int]] = [("joint", root, -1)]
    while stack:
        kind, m, parent = stack.pop()
        k = len(joints)
        if kind == "end":  # after leaf rig joint ``parent``, a quarter of its bone further on
            joints.append(BvhJoint(joints[parent].name + "_end", parent, 0.25 * joints[parent].offset, end_site=True))
            order.append(-1)
            continue
        if kind == "branch":  # a zero-length joint of its own for each child of a branching marker
            joints.append(BvhJoint(f"{joints[parent].name}-{motion.joint_names[m]}", parent, np.zeros(3),
                                   list(JOINT_CHANNELS)))
            order.append(-1)
            stack.append(("joint", m, k))
            continue
        offset = np.zeros(3)
        if parent >= 0:
            d = first[m] - first[parents[m]]
            norm = np.linalg.norm(d)
            offset = d / norm * length_of[m] if norm > ZERO else np.zeros(3)
        joints.append(BvhJoint(motion.joint_names[m], parent, offset,
                               list(JOINT_CHANNELS if parent >= 0 and m not in stretchy else ROOT_CHANNELS)))
        order.append(m)
        kids = children[m]
        if not kids:
            stack.append(("end", m, k))
        else:
            stack.extend((("branch" if len(kids) > 1 else "joint"), c, k) for c in reversed(kids))
    return joints, np.asarray(order, dtype=np.int64)


def _reaches_all(parents: np.ndarray) -> bool:
    roots = np.flatnonzero(parents < 0)
    if len(roots) != 1:
        return False
    for j in range(len(parents)):
        seen = 0
        while parents[j] >= 0 and seen <= len(parents):
            j, seen = parents[j], seen + 1
        if seen > len(parents):
            return False
    return True


def pose_motion(motion: Motion, skeleton: list[BvhJoint] | None = None,
                skeleton_path: str | Path | None = None, y_up: bool = True, exact: bool = False) -> Posed:
    """Solve ``motion`` onto a hierarchy: ``skeleton`` if given, else the motion's own BVH rig, else one
    built from its bones (then turned so its up axis is +Y when ``y_up``, as BVH and glTF expect).
    ``exact``: every joint's translation follows the take (glTF can animate them; BVH only
    through position channels).

    Raises ChoreoError when the skeleton does not fit the motion (joint count or names), or its
    bones are more than 10 % longer or shorter than the motion's.
    """
    joints = skeleton or motion.rig
    where = skeleton_path if skeleton is not None else motion.source
    if joints:
        joints = _match_rig(motion, joints, where)
        order = np.arange(len(joints))
        positions = np.asarray(motion.positions, dtype=np.float64)
        _check_lengths(joints, positions, where)
    else:
        positions = np.asarray(motion.positions, dtype=np.float64)
        if y_up:
            positions = positions @ up_to_y(motion_up_axis(motion)).T
        joints, order = built_rig(motion, positions)
    rig_pos = _rig_positions(joints, order, positions)
    rotations, translations = solve_rig(joints, rig_pos, exact)
    return Posed(joints, order, rig_pos, rotations, translations)


def _rig_positions(joints: list[BvhJoint], order: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Positions in rig order. Joints the motion does not have: a zero-length joint sits on its
    parent, an added end site carries on along its parent's bone."""
    out = np.zeros((len(positions), len(joints), 3))
    for k, m in enumerate(order):
        p = joints[k].parent
        if m >= 0:
            out[:, k] = positions[:, m]
        elif not joints[k].end_site or joints[p].parent < 0:
            out[:, k] = out[:, p] + joints[k].offset
        else:
            bone = out[:, p] - out[:, joints[p].parent]
            norm = np.maximum(np.linalg.norm(bone, axis=1, keepdims=True), 1e-300)
            out[:, k] = out[:, p] + bone / norm * np.linalg.norm(joints[k].offset)
    return out


def _check_lengths(joints: list[BvhJoint], positions: np.ndarray, where: str | Path | None) -> None:
    bones = np.array([(j.parent, i) for i, j in enumerate(joints) if j.parent >= 0 and not _has_pos(j)])
    if not len(bones):
        return
    rest = np.array([np.linalg.norm(joints[c].offset) for _, c in bones])
    have = mean_bone_lengths(positions[:: max(1, len(positions) // 256)], bones)
    keep = rest > ZERO * max(1.0, float(rest.max()))
    if keep.any():
        ratio = np.median(have[keep] / rest[keep])
        if not 0.9 <= ratio <= 1.1:
            raise ChoreoError(f"the skeleton's bones are {ratio:.2f}x the motion's: another body or other units",
                              where)


def _has_pos(joint: BvhJoint) -> bool:
    return any(c in _POS for c in joint.channels)


def _children(joints: list[BvhJoint]) -> list[list[int]]:
    kids: list[list[int]] = [[] for _ in joints]
    for i, j in enumerate(joints):
        if j.parent >= 0:
            kids[j.parent].append(i)
    return kids


def _aims(j: int, joints: list[BvhJoint], kids: list[list[int]], scale: float) -> list[tuple[int, np.ndarray]]:
    """(descendant, rest vector in j's frame) pairs that say how joint ``j`` is turned.

    Its children on bones of some length; when it has none, the children of its zero-length
    children (whose own rotation is taken as none here: they turn to their children after).
    """
    direct = [(c, joints[c].offset.astype(np.float64)) for c in kids[j]
              if np.linalg.norm(joints[c].offset) > ZERO * scale]
    if direct:
        return direct
    out: list[tuple[int, np.ndarray]] = []
    stack = [(c, joints[c].offset.astype(np.float64)) for c in kids[j]]
    while stack:
        c, vec = stack.pop()
        if np.linalg.norm(vec) > ZERO * scale:
            out.append((c, vec))
        else:
            stack.extend((g, vec + joints[g].offset) for g in kids[c])
    return out


def solve_rig(joints: list[BvhJoint], positions: np.ndarray,
              exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Local rotations (F, J, 3, 3) and translations (F, J, 3) that put ``joints`` at ``positions`` (F, J, 3).

    ``positions`` are in rig order; end sites only steer their parent's rotation. Joints with
    position channels (and with ``exact``, every joint) get the translation that puts them
    exactly in place; the others keep their offset, so a bone that stretches in the take
    cannot follow.
    """
    F, J = positions.shape[:2]
    scale = max(1.0, float(np.abs(positions).max()) if positions.size else 1.0)
    kids = _children(joints)
    rot = np.broadcast_to(np.eye(3), (F, J, 3, 3)).copy()
    trans = np.zeros((F, J, 3))
    world_r = np.zeros((F, J, 3, 3))
    world_p = np.zeros((F, J, 3))
    for j, joint in enumerate(joints):
        p = joint.parent
        parent_r = world_r[:, p] if p >= 0 else np.broadcast_to(np.eye(3), (F, 3, 3))
        parent_p = world_p[:, p] if p >= 0 else np.zeros((F, 3))
        trans[:, j] = joint.offset
        if (_has_pos(joint) or exact) and not joint.end_site:  # the translation carries what the offset does not
            trans[:, j] = np.einsum("fji,fj->fi", parent_r, positions[:, j] - parent_p)
        world_p[:, j] = parent_p + np.einsum("fij,fj->fi", parent_r, trans[:, j])
        if joint.end_site:
            world_r[:, j] = parent_r
            continue
        aims = _aims(j, joints, kids, scale)
        rest = np.array([v for _, v in aims]).reshape(-1, 3)
        target = np.stack([positions[:, c] - world_p[:, j] for c, _ in aims], 1) if aims else np.zeros((F, 0, 3))
        if len(aims) >= 2 and _spread(rest):
            world = _kabsch(rest, target)
            local = np.einsum("fji,fjk->fik", parent_r, world)
        elif aims:  # one child, or children on one line: aim at the farthest
            k = int(np.argmax(np.linalg.norm(rest, axis=1)))
            local = _swing(rest[k], np.einsum("fji,fj->fi", parent_r, target[:, k]))
        else:
            local = np.broadcast_to(np.eye(3), (F, 3, 3))
        rot[:, j] = local
        world_r[:, j] = parent_r @ local
    return rot, trans


def _spread(rest: np.ndarray) -> bool:
    """Rest vectors that do not all lie on one line (they fix a whole rotation)."""
    s = np.linalg.svd(rest, compute_uv=False)
    return len(s) >= 2 and s[1] > 1e-3 * s[0]


def _kabsch(rest: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Best rotations (F, 3, 3) taking ``rest`` (n, 3) to ``target`` (F, n, 3): R = argmin sum |R a - b|^2."""
    h = np.einsum("fni,nj->fij", target, rest)  # sum of b a^T
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(u @ vt))
    u[:, :, 2] *= d[:, None]  # no reflections
    return u @ vt


def _shortest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Shortest rotations (..., 3, 3) taking unit directions ``a`` to unit directions ``b`` (..., 3)."""
    axis = np.cross(a, b)
    sin = np.linalg.norm(axis, axis=-1)
    angle = np.arctan2(sin, np.sum(a * b, axis=-1))
    return Rotation.from_rotvec(axis / np.maximum(sin, 1e-300)[..., None] * angle[..., None]).as_matrix()


def _swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotations (F, 3, 3) taking direction ``a`` (3,) to directions ``b`` (F, 3), without twist where they can.

    Up to TWIST_FROM (150 degrees) from rest: the shortest rotation (no twist about the bone).
    Towards a half turn the shortest rotation's axis swings faster and faster (it is undefined
    at the half turn itself), so there each frame continues the previous one (the shortest
    step from where it points the bone); the twist this carries is let go again as the bone
    comes back (all of it kept beyond TWIST_KEPT_FROM, none below TWIST_FROM). A bone that
    passes close to its half turn therefore untwists over those 15 degrees of its path.
    """
    an = a / np.linalg.norm(a)
    bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-300)
    out = _shortest(np.broadcast_to(an, bn.shape), bn)
    angle = np.arccos(np.clip(bn @ an, -1.0, 1.0))
    keep = np.clip((angle - TWIST_FROM) / (TWIST_KEPT_FROM - TWIST_FROM), 0.0, 1.0)
    chain = np.eye(3)  # the previous frame continued without ever letting twist go
    theta = 0.0
    for f in np.flatnonzero(keep > 0):
        if f == 0 or keep[f - 1] == 0:  # entering the region: continue from the twist-free rotation
            chain = out[f - 1] if f > 0 else out[0] if keep[0] < 1 else _perpendicular_half_turn(an)
            theta = 0.0
        chain = _shortest(chain @ an, bn[f]) @ chain
        if keep[f] < 1:  # chain = twist(theta about b) @ out[f]; keep that share of the twist
            rel = float(Rotation.from_matrix(chain @ out[f].T).as_rotvec() @ bn[f])
            # fresh from full continuation any whole turns are the same rotation (take the least);
            # after that unwrapped, so the share kept never jumps by a turn
            held = f > 0 and keep[f - 1] >= 1
            theta = rel if held else rel + 2 * np.pi * np.round((theta - rel) / (2 * np.pi))
            out[f] = Rotation.from_rotvec(keep[f] * theta * bn[f]).as_matrix() @ out[f]
        else:
            out[f] = chain
    return out


def _perpendicular_half_turn(a: np.ndarray) -> np.ndarray:
    """A half turn about some axis perpendicular to ``a`` (the first frame of a reversed bone)."""
    helper = np.eye(3)[int(np.argmin(np.abs(a)))]
    axis = np.cross(a, helper)
    return Rotation.from_rotvec(axis / np.linalg.norm(axis) * np.pi).as_matrix()


def euler_channels(joint: BvhJoint, rotations: np.ndarray) -> np.ndarray:
    """Degrees (F, rotation channels) in ``joint``'s channel order, unwrapped over frames."""
    axes = "".join(c[0].upper() for c in joint.channels if c in _ROT)
    if len(axes) != 3 or len(set(axes)) != 3:
        raise ChoreoError(f"joint {joint.name} has rotation channels {axes or 'none'}; "
                          "writing rotations needs all three axes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gimbal lock: the angles still give the same matrix
        angles = Rotation.from_matrix(rotations).as_euler(axes, degrees=True)  # upper case: intrinsic, R = A B C
    return np.unwrap(angles, period=360.0, axis=0)
