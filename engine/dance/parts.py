"""Body parts: which joints are the arms, the legs, the left side, the upper body ... of any skeleton.

``body_parts(motion)`` gives named groups of joint indices for every skeleton: ``upper``,
``lower``, ``left``, ``right``, ``arms``, ``legs`` (and ``left_arm``, ``right_arm``,
``left_leg``, ``right_leg``); ``BodyParts.resolve("arms")`` or ``resolve("LeftArm,RightArm")`` or
``resolve("3,4,5")`` turns what a person types into joint indices.

The rules, in order:

1. **Names**, when they say it (BVH skeletons, named markers). A joint is on the left when its
   name (namespace such as ``mixamorig:`` dropped) starts with ``Left``, ``left``, ``l_``, ``L_``,
   ``L.`` or ``L`` followed by a capital (``LHipJoint``, ``LThumb``, ``LSHO``), or ends with
   ``_l``, ``.L``, ``_L``; the right likewise. An arm joint is a sided joint named like a shoulder,
   clavicle/collar, arm, elbow, wrist, hand, finger or thumb (marker abbreviations ``SHO UPA ELB FRM
   WRA WRB WRI FIN`` too); a leg joint a sided hip, thigh, (up)leg, knee, shin, calf, ankle,
   foot, heel or toe (``THI KNE TIB ANK HEE TOE``). Names decide only when they find both arms
   and both legs; otherwise every group comes from the body (rule 2), so groups never mix rules.
2. **The body**, for unnamed joints and marker clouds (``M00``, ``joint7``, a bare ``.npy``).
   *Spread* of a pair = the standard deviation over time of their distance (0 on one rigid
   segment, millimetres across a joint for points near it, large across the body).
   *Ends*: the **feet** are the point most often lowest in a frame and, among the points that
   touch the floor (within ``TOUCH`` of the frame's lowest point in 2 % of frames; 2, 4, 8 times
   that when no other point does, as in a sparse cloud), the one moving most unlike it; the **hands** are the two points (not moving with a foot) moving most
   unlike the torso and unlike each other. The torso is the point nearest the body's mean centre
   (for a skeleton: the nearest joint where three or more bones meet, e.g. the hips or chest).
   *Limbs*: for a **skeleton** (the steadiest spanning tree is all rigid bones: joints at the
   articulations) a limb is the subtree of the highest joint on the way from the torso to the
   end that holds no other end (clavicle or hip joint down to the fingertips or toes); for
   **markers** (a marker rides on a segment, so crossing a joint costs spread) each marker joins
   the end, or the torso, it is nearest to in spread summed along the body (shortest paths over
   all pairs: an upper-arm marker is near the chest, a shin marker near its foot).
   *Left/right*: the body's own facing. The two legs give the lateral axis frame by frame; its sign
   comes from the hands being ahead of the body and the lowest points of each leg (feet, bent knees)
   lying ahead of the leg's middle, with ``up x forward`` pointing left (a right-handed frame, as in
   BVH, the synthetic dancer and capture systems). Each limb takes the side it lies on; other points
   are on a side when their median lateral offset exceeds ``SIDE_MARGIN`` of the body's height,
   else in the middle (in neither group), like a spine joint by name.
3. **Upper / lower** (both rules): the legs, the joints joining them (the hips: on the bones' path from
   one leg's top to the other's) and every non-limb point whose median height above the frame's lowest
   point is at most theirs plus ``PELVIS_MARGIN`` of the body's height are the lower body (for markers
   without bones: at most the legs' highest marker, at least the body's mean height, plus
   ``HIP_MARGIN``); the arms and the rest of the torso and head are the upper body.

Checked against the truth of the synthetic dancer's markers (``synthetic_markers``: which segment
each marker rides on) and its skeleton with and without names (``tests/engine/test_parts.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.csgraph import minimum_spanning_tree, shortest_path

from ..core.errors import ChoreoError
from .axes import guess_up_axis, motion_up_axis
from .motion import Motion
from .skeleton import orient_tree, rigid_bones, subsample_frames

GROUPS = ("upper", "lower", "left", "right", "arms", "legs", "left_arm", "right_arm", "left_leg", "right_leg")
TOUCH = 0.03  # of the body's height: a marker this close to the frame's lowest point in 2 % of frames touches the floor
SIDE_MARGIN = 0.02  # of the body's height: median lateral offset that puts a non-limb joint on a side
HIP_MARGIN = 0.08  # of the body's height above the legs' highest marker that still counts as the lower body
PELVIS_MARGIN = 0.02  # ... above the joints that join the legs (skeletons)
MAX_FRAMES = 400  # frames the body rules look at (evenly spaced)

_ARM = re.compile(r"shoulder|clav|collar|arm|elbow|wrist|hand|finger|thumb|index|pinky|"
                  r"^(sho|upa|elb|frm|wra|wrb|wri|fin)$", re.I)
_LEG = re.compile(r"hip|thigh|leg|knee|shin|calf|ankle|foot|feet|heel|toe|"
                  r"^(thi|kne|tib|ank|hee)$", re.I)


def _side_of(name: str) -> tuple[str, str]:
    """(side "left" | "right" | "", the name without its side mark)."""
    base = re.split(r"[:|]", name)[-1]
    for side, word, letter in (("left", "left", "L"), ("right", "right", "R")):
        m = re.match(rf"^(?:{word}[_\-. ]?|{letter.lower()}_|{letter}[_.])(.+)$", base, re.I)
        if m:
            return side, m.group(1)
        m = re.match(rf"^{letter}([A-Z].*)$", base)  # LHipJoint, LSHO, RThumb
        if m:
            return side, m.group(1)
        m = re.match(rf"^(.+?)(?:[_.]{letter}|[_.]{letter.lower()}|{word})$", base, re.I)
        if m:
            return side, m.group(1)
    return "", base


@dataclass(frozen=True)
class BodyParts:
    """Named groups of joint indices of one skeleton, and the rule that found them."""

    joint_names: tuple[str, ...]
    groups: dict[str, tuple[int, ...]] = field(default_factory=dict)
    rule: str = "names"  # "names" | "body"

    @property
    def n_joints(self) -> int:
        return len(self.joint_names)

    def resolve(self, spec: str | Sequence[int | str]) -> tuple[int, ...]:
        """Joint indices for a group name, comma-separated joint names or indices (or a list of them).

        Raises ChoreoError naming what it does not know.
        """
        items = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else list(spec)
        items = [i for i in items if not (isinstance(i, str) and not i)]
        if not items:
            raise ChoreoError("no joints given: name a group (" + ", ".join(GROUPS[:6]) + "), joints or indices")
        lower = {n.lower(): i for i, n in enumerate(self.joint_names)}
        out: list[int] = []
        for item in items:
            if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
                idx = [int(item)]
            elif str(item).lower().replace("-", "_").replace(" ", "_") in self.groups:
                idx = list(self.groups[str(item).lower().replace("-", "_").replace(" ", "_")])
            elif str(item).lower() in lower:
                idx = [lower[str(item).lower()]]
            elif str(item).lstrip("-").isdigit():
                idx = [int(item)]
            else:
                raise ChoreoError(f"unknown joint or group {item!r}: use {', '.join(GROUPS[:6])}, a joint name "
                                  f"(e.g. {self.joint_names[0]}) or an index 0..{self.n_joints - 1}")
            for i in idx:
                if not 0 <= i < self.n_joints:
                    raise ChoreoError(f"joint index {i} is out of range: this body has {self.n_joints} joints "
                                      f"(0..{self.n_joints - 1})")
            out.extend(idx)
        return tuple(sorted(set(out)))

    def describe(self, joints: Sequence[int]) -> str:
        """A short name for a set of joints: the group it is, else up to three joint names."""
        key = tuple(sorted(set(int(j) for j in joints)))
        for name in GROUPS:
            if self.groups.get(name) == key and key:
                return name.replace("_", " ")
        names = [self.joint_names[j] for j in key]
        return ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")


def body_parts(motion: Motion) -> BodyParts:
    """The body-part groups of ``motion``'s skeleton (see the module docstring for the rules)."""
    names = tuple(motion.joint_names)
    pos = subsample_frames(motion.positions, MAX_FRAMES)
    up = motion_up_axis(motion)
    by_name = _groups_from_names(names)
    bones = motion.bones if len(motion.bones) else _body_tree(pos, up)
    if by_name is not None:
        sides, arms, legs = by_name
        rule = "names"
    else:
        sides, arms, legs = _groups_from_body(pos, up, bones)
        rule = "body"
    skeleton = bool(len(motion.bones)) or _is_skeleton(pos, bones)
    groups = _assemble(pos, up, sides, arms, legs, bones if skeleton else None)
    return BodyParts(names, groups, rule)


def parts_of_positions(positions: np.ndarray, joint_names: Sequence[str] | None = None) -> BodyParts:
    """``body_parts`` of bare positions ``(frames, joints, 3)`` (up axis guessed)."""
    pos = np.asarray(positions, np.float32)
    return body_parts(Motion(pos, joint_names=list(joint_names or [])))


def _groups_from_names(names: Sequence[str]) -> tuple[np.ndarray, list[set[int]], list[set[int]]] | None:
    """(side per joint (+1 left, -1 right, 0 middle), [left arm, right arm], [left leg, right leg]) or None."""
    sides = np.zeros(len(names), np.int64)
    arms: list[set[int]] = [set(), set()]
    legs: list[set[int]] = [set(), set()]
    for i, name in enumerate(names):
        side, base = _side_of(name)
        if not side:
            continue
        k = 0 if side == "left" else 1
        sides[i] = 1 if side == "left" else -1
        if _ARM.search(base):
            arms[k].add(i)
        elif _LEG.search(base):
            legs[k].add(i)
    if not all(arms) or not all(legs):
        return None
    return sides, arms, legs


def _body_tree(pos: np.ndarray, up_axis: str) -> np.ndarray:
    """Bones of a bare clip: the steadiest spanning tree; among equally rigid pairs the shortest (a rigid
    torso holds many pairs of constant distance, and the shortest links follow the skeleton)."""
    axis, sign = "xyz".index(up_axis[-1]), -1.0 if up_axis.startswith("-") else 1.0
    height = sign * pos[..., axis]
    body = float(np.median(height.max(1) - height.min(1))) or 1.0
    dist = np.linalg.norm(pos[:, :, None, :] - pos[:, None, :, :], axis=-1)
    mean = dist.mean(0)
    w = dist.std(0) / (mean + 1e-9) + 1e-3 * mean / body + 1e-9
    np.fill_diagonal(w, 0)
    mst = minimum_spanning_tree(w).tocoo()
    return np.stack([mst.row, mst.col], 1).astype(np.int64)


def _is_skeleton(pos: np.ndarray, bones: np.ndarray) -> bool:
    """True when the joints are joined by rigid bones (a skeleton's joints at the articulations), not
    markers riding on segments."""
    return len(bones) == pos.shape[1] - 1 and bool(rigid_bones(pos, bones).all())


def _groups_from_body(pos: np.ndarray, up_axis: str, bones: np.ndarray
                      ) -> tuple[np.ndarray, list[set[int]], list[set[int]]]:
    """The body rule (module docstring, rule 2) on ``(frames, joints, 3)`` positions."""
    axis, sign = "xyz".index(up_axis[-1]), -1.0 if up_axis.startswith("-") else 1.0
    j = pos.shape[1]
    height = sign * pos[..., axis]
    body = float(np.median(height.max(1) - height.min(1))) or 1.0
    spread = np.linalg.norm(pos[:, :, None, :] - pos[:, None, :, :], axis=-1).std(0)  # (J, J)
    skeleton = _is_skeleton(pos, bones)
    mean_pose = pos.mean(0)
    near = np.argsort(np.linalg.norm(mean_pose - mean_pose.mean(0), axis=1))
    if skeleton:  # the torso's branching joint nearest the body's centre (hips, chest), not a hip joint
        degree = np.bincount(np.asarray(bones).reshape(-1), minlength=j)
        root = int(next((i for i in near if degree[i] >= 3), near[0]))
    else:  # markers: motion apart along the body's chains (a marker on the upper arm moves with the chest)
        spread = shortest_path(spread, method="D", directed=False)
        root = int(near[0])
    # the feet: the marker most often lowest, and the low marker moving most unlike it
    counts = np.bincount(height.argmin(1), minlength=j)
    f1 = int(counts.argmax())
    low = np.percentile(height - height.min(1, keepdims=True), 2, axis=0)
    f2 = f1
    for reach in (1, 2, 4, 8):  # a sparse cloud may have no marker at the other foot: the lowest on that leg
        touch = np.flatnonzero(low <= reach * TOUCH * body)
        f2 = int(max((i for i in touch if i != f1), key=lambda i: spread[i, f1], default=f1))
        if f2 != f1:
            break
    # the hands: the markers moving most unlike the torso and unlike the feet and each other
    not_feet = [i for i in range(j) if min(spread[i, f1], spread[i, f2]) > spread[i, root]]
    h1 = int(max(not_feet, key=lambda i: spread[i, root], default=root))
    h2 = int(max((i for i in not_feet if i != h1), key=lambda i: min(spread[i, root], spread[i, h1]), default=root))
    ends = [root, f1, f2, h1, h2]
    if len(set(ends)) < 5:
        return np.zeros(j, np.int64), [set(), set()], [set(), set()]
    if skeleton:
        head = int(np.argmax(np.median(height, axis=0)))  # no limb holds the head either
        legs = _tree_limbs(bones, j, root, ends[1:3], [*ends[1:], head])
        arms = _tree_limbs(bones, j, root, ends[3:5], [*ends[1:], head])
    else:
        nearest = np.argmin(spread[:, ends], axis=1)  # which end each marker moves with (0: the torso)
        legs = [set(np.flatnonzero(nearest == 1).tolist()), set(np.flatnonzero(nearest == 2).tolist())]
        arms = [set(np.flatnonzero(nearest == 3).tolist()), set(np.flatnonzero(nearest == 4).tolist())]
    lateral = _left_axis(pos, axis, sign, legs, arms)  # (frames, 3): unit vector to the body's left, frame by frame
    offset = np.einsum("fjc,fc->fj", pos - pos.mean(1, keepdims=True), lateral)  # lateral offset of every joint
    side_of = np.median(offset, axis=0)
    sides = np.where(side_of > SIDE_MARGIN * body, 1, np.where(side_of < -SIDE_MARGIN * body, -1, 0))

    def left_first(pair: list[set[int]]) -> list[set[int]]:
        a, b = pair
        return pair if np.median(side_of[sorted(a)]) >= np.median(side_of[sorted(b)]) else [b, a]

    legs, arms = left_first(legs), left_first(arms)
    for k, s in ((0, 1), (1, -1)):
        for limb in (legs[k], arms[k]):
            sides[sorted(limb)] = s
    return sides, arms, legs


def _tree_limbs(bones: np.ndarray, j: int, root: int, ends: list[int], marks: list[int]) -> list[set[int]]:
    """For each end joint, the subtree (bones rooted at ``root``) of the highest joint on its way from the
    root that holds none of the other ``marks`` (hands, feet, head): the whole limb, from the clavicle or
    hip joint down."""
    parent = np.full(j, -1)
    for p, c in orient_tree(bones, j, root):
        parent[c] = p
    children: list[list[int]] = [[] for _ in range(j)]
    for c in range(j):
        if parent[c] >= 0:
            children[parent[c]].append(c)

    def below(v: int) -> set[int]:
        out, stack = set(), [v]
        while stack:
            u = stack.pop()
            out.add(u)
            stack.extend(children[u])
        return out

    limbs = []
    for e in ends:
        path = [e]
        while parent[path[-1]] >= 0:
            path.append(int(parent[path[-1]]))
        others = {o for o in marks if o != e}
        top = e
        for v in path[:-1]:  # from the end up to the root's child
            if below(v) & others:
                break
            top = v
        limbs.append(below(top))
    return limbs


def _left_axis(pos: np.ndarray, axis: int, sign: float, legs: list[set[int]], arms: list[set[int]]) -> np.ndarray:
    """Unit vector to the body's left ``(frames, 3)``: across the two legs, its sign from where the hands
    and feet are (module docstring, rule 2)."""
    up = np.zeros(3)
    up[axis] = sign
    a, b = (sorted(x) for x in legs[:2])
    across = pos[:, a].mean(1) - pos[:, b].mean(1)  # from leg b to leg a
    across -= np.outer(across @ up, up)
    across /= np.linalg.norm(across, axis=1, keepdims=True) + 1e-12
    forward_if_a_left = np.cross(across, up)  # a on the left: left x up = forward
    centre = pos.mean(1)
    hands = sorted(arms[0] | arms[1])
    score = float(np.median(np.einsum("fc,fc->f", pos[:, hands].mean(1) - centre, forward_if_a_left))) if hands else 0.0
    for leg in (a, b):
        h = sign * pos[:, leg, axis]
        low = h <= np.percentile(h, 34, axis=1, keepdims=True)  # the lowest third of the leg: the foot
        foot = (pos[:, leg] * low[..., None]).sum(1) / np.maximum(low.sum(1, keepdims=True), 1)
        score += float(np.median(np.einsum("fc,fc->f", foot - pos[:, leg].mean(1), forward_if_a_left)))
    return across if score >= 0 else -across


def _between(bones: np.ndarray, j: int, ends: list[int]) -> set[int]:
    """The joints on the bones' path between two joints (empty when there are not two or no path)."""
    if len(ends) != 2 or not len(bones):
        return set()
    parent = np.full(j, -1)
    for p, c in orient_tree(bones, j, ends[0]):
        parent[c] = p
    path, v = [], ends[1]
    while v != ends[0] and v >= 0:
        path.append(v)
        v = int(parent[v])
    return set(path) - set(ends) if v == ends[0] else set()


def _assemble(pos: np.ndarray, up_axis: str, sides: np.ndarray, arms: list[set[int]],
              legs: list[set[int]], bones: np.ndarray | None) -> dict[str, tuple[int, ...]]:
    axis, sign = "xyz".index(up_axis[-1]), -1.0 if up_axis.startswith("-") else 1.0
    j = pos.shape[1]
    height = sign * pos[..., axis]
    height = height - height.min(1, keepdims=True)  # above the frame's lowest point
    body = float(np.median(height.max(1))) or 1.0
    arm_set, leg_set = arms[0] | arms[1], legs[0] | legs[1]
    med = np.median(height, axis=0)
    tops = [max(sorted(leg), key=lambda i: med[i]) for leg in legs if leg]
    pelvis = _between(bones, j, tops) - leg_set if bones is not None else set()
    if pelvis:  # the joints joining the legs (hips): the lower body reaches just above them
        line = float(max(med[sorted(pelvis)])) + PELVIS_MARGIN * body
    else:  # markers: no bones; the legs' highest point (at least the body's mean height) and a margin
        line = max([*(max(med[sorted(leg)]) for leg in legs if leg), float(np.median(height.mean(1)))])
        line += HIP_MARGIN * body
    lower = set(leg_set) | pelvis | {i for i in range(j) if i not in arm_set and med[i] <= line}
    upper = set(range(j)) - lower

    def t(s: set[int] | np.ndarray) -> tuple[int, ...]:
        return tuple(sorted(int(i) for i in s))

    return {
        "upper": t(upper), "lower": t(lower),
        "left": t(np.flatnonzero(sides > 0)), "right": t(np.flatnonzero(sides < 0)),
        "arms": t(arm_set), "legs": t(leg_set),
        "left_arm": t(arms[0]), "right_arm": t(arms[1]), "left_leg": t(legs[0]), "right_leg": t(legs[1]),
    }


__all__ = ["GROUPS", "BodyParts", "body_parts", "guess_up_axis", "parts_of_positions"]
