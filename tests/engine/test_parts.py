"""Body-part groups: by joint names (BVH, procedural, marker names) and, without names, from the body."""

from __future__ import annotations

import numpy as np
import pytest

from engine import ChoreoError
from engine.dance.motion import Motion
from engine.dance.parts import body_parts
from engine.dance.synthetic import JOINT_NAMES, _marker_layout, synthetic_dancer, synthetic_markers

CMU_NAMES = ["Hips", "LHipJoint", "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase", "RHipJoint", "RightUpLeg",
             "RightLeg", "RightFoot", "RightToeBase", "LowerBack", "Spine", "Spine1", "Neck", "Head",
             "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand", "LThumb", "RightShoulder", "RightArm",
             "RightForeArm", "RightHand", "RThumb"]


def _names(parts, group):
    return {parts.joint_names[i] for i in parts.groups[group]}


@pytest.fixture(scope="module")
def dancer():
    return synthetic_dancer(frames=600)


def test_groups_from_the_procedural_dancers_names(dancer):
    parts = body_parts(dancer)
    assert parts.rule == "names"
    assert _names(parts, "left_arm") == {"l_collar", "l_shoulder", "l_elbow", "l_wrist", "l_hand"}
    assert _names(parts, "legs") == {f"{s}_{j}" for s in "lr" for j in ("hip", "knee", "ankle", "toe")}
    assert {"spine", "chest", "neck", "head"} <= _names(parts, "upper") and "hips" in _names(parts, "lower")
    assert not _names(parts, "left") & _names(parts, "right")
    assert "spine" not in _names(parts, "left") | _names(parts, "right")  # the middle is on no side


def test_groups_from_bvh_and_marker_names():
    pos = np.zeros((3, len(CMU_NAMES), 3), np.float32)
    pos[..., 1] = np.linspace(0, 1, len(CMU_NAMES))
    parts = body_parts(Motion(pos, joint_names=CMU_NAMES))
    assert parts.rule == "names"
    assert _names(parts, "left_arm") == {"LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand", "LThumb"}
    assert _names(parts, "right_leg") == {"RHipJoint", "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase"}
    assert "LowerBack" not in _names(parts, "left")  # L + lower case is not a side
    markers = ["LFHD", "RFHD", "C7", "CLAV", "LSHO", "LELB", "LWRA", "RSHO", "RELB", "RWRA", "LASI", "RASI",
               "LKNE", "LANK", "LTOE", "RKNE", "RANK", "RTOE"]
    pos = np.random.default_rng(0).normal(size=(4, len(markers), 3)).astype(np.float32)
    parts = body_parts(Motion(pos, joint_names=markers))
    assert parts.rule == "names"
    assert _names(parts, "arms") == {"LSHO", "LELB", "LWRA", "RSHO", "RELB", "RWRA"}
    assert _names(parts, "left_leg") == {"LKNE", "LANK", "LTOE"}
    assert {"LFHD", "LASI"} <= _names(parts, "left") and "CLAV" not in _names(parts, "left") | _names(parts, "right")


@pytest.mark.parametrize("n_markers, rng", [(55, 0), (40, 1), (30, 3), (70, 9), (20, 0), (24, 5)])
def test_marker_clouds_are_split_by_the_body(n_markers, rng):
    """Unnamed markers: the ones on forearms, hands, shins and feet land in the right limb and side
    (the synthetic markers' layout says which segment each rides on)."""
    motion = synthetic_markers(frames=900, n_markers=n_markers, rng=rng)
    parts = body_parts(motion)
    assert parts.rule == "body"
    joint, _ = _marker_layout(n_markers)
    for i, j in enumerate(joint):
        name = JOINT_NAMES[j]
        side = {"l": "left", "r": "right"}.get(name[0]) if name[1] == "_" else None
        limb = {"elbow": "arm", "wrist": "arm", "knee": "leg", "ankle": "leg"}.get(name[2:])
        if side and limb and name[2:] in ("wrist", "ankle"):  # hands and feet: in their limb, side, half
            assert i in parts.groups[f"{side}_{limb}"], (name, i)
            assert i in parts.groups[side] and i in parts.groups["upper" if limb == "arm" else "lower"]
        if side and i in parts.groups["left" if side == "right" else "right"]:
            raise AssertionError(f"{name} on the wrong side")
        for group in ("left_arm", "right_arm", "left_leg", "right_leg"):
            if i in parts.groups[group]:  # nothing lands in a limb it is not on
                assert name in ("l_collar", "r_collar", "hips") or (name[0] == group[0] and name[1] == "_"), name
        if name in ("head", "neck", "chest"):
            assert i in parts.groups["upper"]


def test_a_bare_skeleton_gets_the_limbs_its_names_would_give(dancer):
    named = body_parts(dancer)
    bare = body_parts(Motion(dancer.positions))  # joint0, joint1 ...: no names to go by
    assert bare.rule == "body"
    for group in ("left_arm", "right_arm", "left_leg", "right_leg"):
        got, want = set(bare.groups[group]), set(named.groups[group])
        assert len(got & want) >= len(want) - 2 and got <= want, group  # the limb, give or take its root joints
    assert set(bare.groups["upper"]) == set(named.groups["upper"])


def test_resolve_groups_names_and_indices(dancer):
    parts = body_parts(dancer)
    assert parts.resolve("arms") == parts.groups["arms"]
    assert parts.resolve("left-arm") == parts.groups["left_arm"]
    assert parts.resolve("L_ELBOW, head") == tuple(sorted([JOINT_NAMES.index("l_elbow"), JOINT_NAMES.index("head")]))
    assert parts.resolve("3,4") == (3, 4) and parts.resolve([5, "neck"]) == (3, 5)
    assert parts.describe(parts.groups["legs"]) == "legs"
    for bad in ("tail", "99", ""):
        with pytest.raises(ChoreoError):
            parts.resolve(bad)
