"""BVH out, with rotations: a take on its source's skeleton, or on one built from its markers.

The hierarchy is the source BVH's (names, offsets, channel orders, end sites), carried on the
take as ``Motion.rig`` or given as ``skeleton``; a clip with no BVH behind it gets one built
from its skeleton (``rig.built_rig``: position channels on every joint so stretchy marker
bones still come back exactly). Rotations are solved from the positions (``rig.solve_rig``),
so Blender's importer (or Maya, MotionBuilder, bvhio, pybvh...) plays the take on the
source's bones; reading the file back with forward kinematics gives the take's positions.

Written as text with six decimals (a millionth of a degree, of a source unit). The writer is
ours because the format is a few lines of text and the hierarchy must be written exactly as
read: ``pybvh`` can write BVH too, but would need our hierarchy converted into its node
objects only to print the same lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import numpy as np

from .bvh import _POS, _ROT, BvhJoint
from .motion import Motion
from .rig import Posed, _children, euler_channels, pose_motion

_NAMES = {**{k: k[0].upper() + k[1:] for k in _ROT}, **{k: k[0].upper() + k[1:] for k in _POS}}


def write_bvh(motion: Motion, path: str | Path, *, fps: float | None = None,
              skeleton: list[BvhJoint] | None = None, skeleton_path: str | Path | None = None) -> Posed:
    """Write ``motion`` to ``path`` as BVH with per-frame rotations; return the solved pose.

    The caller writes atomically (``export.export_motion`` does). Raises ChoreoError when the
    skeleton does not fit the motion.
    """
    posed = pose_motion(motion, skeleton, skeleton_path)
    rate = float(fps or motion.fps)
    columns = channel_values(posed)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("HIERARCHY\n")
        _write_hierarchy(f, posed.joints)
        f.write(f"MOTION\nFrames: {len(columns)}\nFrame Time: {1.0 / rate:.8f}\n")
        np.savetxt(f, columns, fmt="%.6f", delimiter=" ")
    return posed


def channel_values(posed: Posed) -> np.ndarray:
    """The MOTION rows: float64 (frames, channels), joints in the file's (depth-first) order, each in
    its channel order."""
    cols = []
    for j in depth_first(posed.joints):
        joint = posed.joints[j]
        if joint.end_site:
            continue
        angles = iter(euler_channels(joint, posed.rotations[:, j]).T) if any(c in _ROT for c in joint.channels) \
            else iter(())
        local = posed.translations[:, j] - joint.offset  # position channels add to the offset
        for c in joint.channels:
            cols.append(local[:, _POS[c]] if c in _POS else next(angles))
    return np.stack(cols, axis=1) if cols else np.zeros((len(posed.positions), 0))


def depth_first(joints: list[BvhJoint]) -> list[int]:
    """Joint indices in the order a BVH file lists them (depth first, children in order)."""
    kids = _children(joints)
    out: list[int] = []
    stack = [i for i in reversed(range(len(joints))) if joints[i].parent < 0]
    while stack:
        j = stack.pop()
        out.append(j)
        stack.extend(reversed(kids[j]))
    return out


def _write_hierarchy(f: TextIO, joints: list[BvhJoint]) -> None:
    kids = _children(joints)
    stack: list[tuple[int, int, bool]] = [(i, 0, False) for i in reversed(range(len(joints)))
                                          if joints[i].parent < 0]
    while stack:
        j, depth, closing = stack.pop()
        tab = "\t" * depth
        if closing:
            f.write(f"{tab}}}\n")
            continue
        joint = joints[j]
        off = " ".join(f"{v:.6f}" for v in joint.offset)
        if joint.end_site:
            f.write(f"{tab}End Site\n{tab}{{\n{tab}\tOFFSET {off}\n{tab}}}\n")
            continue
        head = "ROOT" if joint.parent < 0 else "JOINT"
        chans = " ".join(_NAMES[c] for c in joint.channels)
        f.write(f"{tab}{head} {joint.name}\n{tab}{{\n{tab}\tOFFSET {off}\n"
                f"{tab}\tCHANNELS {len(joint.channels)} {chans}\n")
        stack.append((j, depth, True))
        stack.extend((c, depth + 1, False) for c in reversed(kids[j]))
