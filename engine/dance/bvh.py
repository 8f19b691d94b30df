"""BVH (Biovision Hierarchy) reader: hierarchy, channels and forward kinematics.

A small self-contained parser rather than a dependency: the format is simple,
we need every malformed-file case to become one clear ``ChoreoError``, and
forward kinematics vectorised over frames with NumPy is a few lines.

Conventions (the common ones, as in CMU / Blender / MotionBuilder exports):

- a joint's local transform is ``T(offset + position channels) @ R`` where the
  rotation channels compose in the order they are listed, e.g.
  ``Zrotation Yrotation Xrotation`` gives ``R = Rz @ Ry @ Rx`` (degrees);
- world position of a joint = parent world position + parent world rotation
  applied to the joint's local translation;
- ``End Site`` nodes become extra joints named ``<parent>_end`` (they give the
  head top, finger tips and toe tips, i.e. the body's shape); pass
  ``end_sites=False`` to drop them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ..core.errors import ChoreoError

_ROT = {"xrotation": 0, "yrotation": 1, "zrotation": 2}
_POS = {"xposition": 0, "yposition": 1, "zposition": 2}
_MIN_FRAME_TIME = 1e-6  # seconds; anything shorter is a corrupt header, not a capture rate
_CHUNK = 4096  # frames parsed / forward-kinematics evaluated at a time (bounds temporary memory)


@dataclass
class BvhJoint:
    """One node of the hierarchy (a ROOT/JOINT, or an End Site when ``channels`` is empty)."""

    name: str
    parent: int
    offset: np.ndarray
    channels: list[str] = field(default_factory=list)
    end_site: bool = False


@dataclass
class BvhClip:
    """A parsed BVH file: its joints, per-frame channel values and frame time."""

    joints: list[BvhJoint]
    values: np.ndarray  # float64 (frames, channels)
    frame_time: float

    @property
    def n_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def bones(self) -> np.ndarray:
        """int (B, 2) (parent, child) pairs in hierarchy order."""
        pairs = [(j.parent, i) for i, j in enumerate(self.joints) if j.parent >= 0]
        return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def rig_to_plain(joints: list[BvhJoint]) -> dict[str, list]:
    """A hierarchy as plain lists (names, parents, offsets, channels, end sites): checkpoint-safe, no pickling."""
    return {
        "names": [j.name for j in joints],
        "parents": [int(j.parent) for j in joints],
        "offsets": [[float(v) for v in j.offset] for j in joints],
        "channels": [list(j.channels) for j in joints],
        "end_sites": [bool(j.end_site) for j in joints],
    }


def rig_from_plain(plain: dict[str, list]) -> list[BvhJoint]:
    """The inverse of :func:`rig_to_plain`; raises ValueError on anything malformed."""
    names, parents, offsets = plain["names"], plain["parents"], plain["offsets"]
    channels, ends = plain["channels"], plain["end_sites"]
    if not len(names) == len(parents) == len(offsets) == len(channels) == len(ends):
        raise ValueError("rig lists differ in length")
    joints = []
    for i, (n, p, o, c, e) in enumerate(zip(names, parents, offsets, channels, ends, strict=True)):
        if not -1 <= int(p) < i or len(o) != 3 or any(ch not in _ROT and ch not in _POS for ch in c):
            raise ValueError(f"rig joint {i} is malformed")
        joints.append(BvhJoint(str(n), int(p), np.asarray(o, dtype=np.float64), [str(ch) for ch in c], bool(e)))
    return joints


def _tokens(text: str) -> list[tuple[str, int]]:
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        out.extend((tok, lineno) for tok in line.split())
    return out


def parse_bvh(text: str, path: str | Path = "<bvh>", end_sites: bool = True) -> BvhClip:
    """Parse BVH text into a :class:`BvhClip`; any malformation raises ChoreoError naming ``path``."""
    if "MOTION" not in text:
        raise ChoreoError("not a BVH file: no MOTION section", path)
    head, _, motion = text.partition("MOTION")
    toks = _tokens(head)
    if not toks or toks[0][0] != "HIERARCHY":
        raise ChoreoError("not a BVH file: it does not start with HIERARCHY", path)

    joints: list[BvhJoint] = []
    stack: list[int] = []
    i = 1
    n = len(toks)

    def need(k: int, what: str) -> list[str]:
        if i + k > n:
            raise ChoreoError(f"hierarchy ends early: expected {what}", path)
        return [t for t, _ in toks[i : i + k]]

    def floats(vals: list[str], line: int, what: str) -> list[float]:
        try:
            return [float(v) for v in vals]
        except ValueError:
            raise ChoreoError(f"line {line}: {what} must be numbers, got {' '.join(vals)}", path) from None

    while i < n:
        tok, line = toks[i]
        key = tok.upper()
        if key in ("ROOT", "JOINT"):
            (name,) = need(2, f"a name after {tok}")[1:]
            if key == "JOINT" and not stack:
                raise ChoreoError(f"line {line}: JOINT {name} outside any ROOT", path)
            parent = stack[-1] if stack else -1
            joints.append(BvhJoint(name, parent, np.zeros(3)))
            i += 2
            if need(1, "'{'")[0] != "{":
                raise ChoreoError(f"line {toks[i][1]}: expected '{{' after {tok} {name}", path)
            stack.append(len(joints) - 1)
            i += 1
        elif key == "END":
            need(2, "'End Site {'")
            if not stack:
                raise ChoreoError(f"line {line}: End Site outside any joint", path)
            joints.append(BvhJoint(joints[stack[-1]].name + "_end", stack[-1], np.zeros(3), end_site=True))
            i += 2
            if need(1, "'{'")[0] != "{":
                raise ChoreoError(f"line {toks[i][1]}: expected '{{' after End Site", path)
            stack.append(len(joints) - 1)
            i += 1
        elif key == "OFFSET":
            if not stack:
                raise ChoreoError(f"line {line}: OFFSET outside any joint", path)
            joints[stack[-1]].offset = np.asarray(floats(need(4, "3 OFFSET values")[1:], line, "OFFSET"))
            i += 4
        elif key == "CHANNELS":
            if not stack or joints[stack[-1]].end_site:
                raise ChoreoError(f"line {line}: CHANNELS outside a ROOT/JOINT", path)
            count = need(2, "a channel count")[1]
            if not (count.isascii() and count.isdigit()) or len(count) > 6:
                raise ChoreoError(f"line {line}: channel count must be a whole number, got {count}", path)
            names = need(2 + int(count), f"{count} channel names")[2:]
            for c in names:
                if c.lower() not in _ROT and c.lower() not in _POS:
                    raise ChoreoError(f"line {line}: unknown channel {c!r} (or too few channel names)", path)
            joints[stack[-1]].channels = [c.lower() for c in names]
            i += 2 + int(count)
        elif tok == "}":
            if not stack:
                raise ChoreoError(f"line {line}: unbalanced '}}'", path)
            stack.pop()
            i += 1
        else:
            raise ChoreoError(f"line {line}: unexpected {tok!r} in hierarchy", path)
    if stack:
        raise ChoreoError("hierarchy ends with unclosed '{'", path)
    if not joints:
        raise ChoreoError("hierarchy has no ROOT joint", path)
    for j in joints:
        if not j.end_site and not j.channels:
            raise ChoreoError(f"joint {j.name} has no CHANNELS line", path)

    values, frame_time = _parse_motion(motion, sum(len(j.channels) for j in joints), path, head.count("\n"))
    if not end_sites:
        joints = _drop_end_sites(joints)
    return BvhClip(joints, values, frame_time)


def _drop_end_sites(joints: list[BvhJoint]) -> list[BvhJoint]:
    keep = [i for i, j in enumerate(joints) if not j.end_site]
    new = {old: k for k, old in enumerate(keep)}
    out = []
    for old in keep:
        j = joints[old]
        out.append(BvhJoint(j.name, new.get(j.parent, -1), j.offset, j.channels))
    return out


def _parse_motion(motion: str, n_channels: int, path: str | Path, line0: int) -> tuple[np.ndarray, float]:
    lines = motion.splitlines()[1:]
    header: dict[str, str] = {}
    k = 0
    while k < len(lines) and len(header) < 2:
        line = lines[k].strip()
        k += 1
        if not line:
            continue
        key, sep, val = line.partition(":")
        if not sep or key.strip().lower() not in ("frames", "frame time"):
            raise ChoreoError(f"line {line0 + k + 1}: expected 'Frames:' and 'Frame Time:' after MOTION",
                              path)
        header[key.strip().lower()] = val.strip()
    if len(header) < 2:
        raise ChoreoError("MOTION section lacks 'Frames:' or 'Frame Time:'", path)
    try:
        n_frames = int(header["frames"])
        frame_time = float(header["frame time"])
    except ValueError:
        raise ChoreoError(f"bad MOTION header: Frames: {header['frames']}, "
                          f"Frame Time: {header['frame time']}", path) from None
    if not (np.isfinite(frame_time) and frame_time >= _MIN_FRAME_TIME):
        raise ChoreoError(f"Frame Time must be positive (at least {_MIN_FRAME_TIME:g} s), "
                          f"got {header['frame time'][:40]}", path)

    # the header's frame count must match the rows present before anything is allocated from it
    body = lines[k:]
    present = sum(1 for ln in body if ln and not ln.isspace())
    values = np.empty((n_frames, n_channels)) if n_frames == present else None
    # parse in chunks of rows: a list of every value as a Python string would need ~60 bytes per number
    count = 0
    chunk: list[tuple[int, list[str]]] = []

    def flush() -> None:
        if values is not None and chunk:
            try:
                values[count - len(chunk) : count] = np.array([v for _, v in chunk], dtype=np.float64)
            except ValueError:
                for lineno, vals in chunk:
                    for v in vals:
                        try:
                            float(v)
                        except ValueError:
                            raise ChoreoError(f"line {lineno}: {v[:40]!r} is not a number", path) from None
                raise
        chunk.clear()

    for r, ln in enumerate(body):
        vals = ln.split()
        if not vals:
            continue
        lineno = line0 + k + 2 + r
        if len(vals) != n_channels:
            raise ChoreoError(f"line {lineno}: {len(vals)} values, the hierarchy declares {n_channels} channels",
                              path)
        count += 1
        chunk.append((lineno, vals))
        if len(chunk) >= _CHUNK:
            flush()
    flush()
    if values is None:
        raise ChoreoError(f"header says Frames: {header['frames'][:40]} but the file has {count} frames", path)
    return values, frame_time


def forward_kinematics(clip: BvhClip) -> np.ndarray:
    """World positions float64 (frames, joints, 3) of every joint of ``clip``.

    Evaluated in chunks of frames so the per-joint rotation matrices (72 bytes per
    joint and frame) never exist for the whole clip at once.
    """
    F = clip.n_frames
    pos = np.zeros((F, len(clip.joints), 3))
    for a in range(0, F, _CHUNK):
        pos[a : a + _CHUNK] = _fk_chunk(clip.joints, clip.values[a : a + _CHUNK])
    return pos


def _fk_chunk(joints: list[BvhJoint], values: np.ndarray) -> np.ndarray:
    F = len(values)
    J = len(joints)
    pos = np.zeros((F, J, 3))
    rot = np.zeros((F, J, 3, 3))
    col = 0
    for j, joint in enumerate(joints):
        trans = np.broadcast_to(joint.offset, (F, 3)).copy()
        order, angles = "", []
        for ch in joint.channels:
            if ch in _POS:
                trans[:, _POS[ch]] += values[:, col]
            else:  # BVH rotations compose in channel order: intrinsic Euler angles in that axis order
                order += "XYZ"[_ROT[ch]]
                angles.append(values[:, col])
            col += 1
        local = (Rotation.from_euler(order, np.stack(angles, 1), degrees=True).as_matrix() if order
                 else np.broadcast_to(np.eye(3), (F, 3, 3)))
        if joint.parent < 0:
            pos[:, j] = trans
            rot[:, j] = local
        else:
            p = joint.parent
            pos[:, j] = pos[:, p] + np.einsum("fij,fj->fi", rot[:, p], trans)
            rot[:, j] = rot[:, p] @ local
    return pos


def load_bvh(path: str | Path, end_sites: bool = True) -> tuple[np.ndarray, BvhClip]:
    """Read a BVH file; return (world positions float64 (F, J, 3), parsed clip)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ChoreoError("not a BVH file: it is not text", path) from None
    except OSError as err:
        raise ChoreoError(f"cannot read: {err.strerror or err}", path) from None
    clip = parse_bvh(text, path, end_sites=end_sites)
    return forward_kinematics(clip), clip
