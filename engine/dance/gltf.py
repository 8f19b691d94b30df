"""glTF 2.0 binary (``.glb``) out: an animated skeleton with a skinned stick figure, Y up.

The hierarchy and per-frame rotations are the BVH export's (``rig.pose_motion``): joints are
nodes, each animated by a rotation channel and, where its translation changes (the root; the
joints of a marker rig, whose bones stretch), a translation channel, so the nodes land
exactly on the take's joints. A low-poly body is skinned to them so viewers show a dancer, not empty space: a
six-sided tube per bone (the ring at each end bound to the joint at that end, so a tube
always spans its two joints) and a small octahedron per joint.

The file is assembled with ``pygltflib`` (typed glTF objects, GLB packing): building the
JSON and the binary chunk by hand is where glTF files usually go wrong, and the Khronos
validator checks what comes out in our tests. Units are the source's (glTF says metres:
C3D clips are metres; CMU BVH units are not, and the figure keeps its size rather than
being rescaled by a guess).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pygltflib import (
    ARRAY_BUFFER,
    ELEMENT_ARRAY_BUFFER,
    FLOAT,
    GLTF2,
    SCALAR,
    UNSIGNED_INT,
    UNSIGNED_SHORT,
    VEC3,
    VEC4,
    Accessor,
    Animation,
    AnimationChannel,
    AnimationChannelTarget,
    AnimationSampler,
    Asset,
    Attributes,
    Buffer,
    BufferView,
    Material,
    Mesh,
    Node,
    PbrMetallicRoughness,
    Primitive,
    Scene,
    Skin,
)
from scipy.spatial.transform import Rotation

from .bvh import BvhJoint
from .motion import Motion
from .rig import Posed, pose_motion

MAT4 = "MAT4"
SIDES = 6  # faces around each bone's tube
TUBE = 0.012  # tube radius, as a share of the rest skeleton's height
BODY_COLOUR = [0.93, 0.45, 0.2, 1.0]


class _Blob:
    """The GLB binary chunk and its buffer views / accessors, appended as they are made."""

    def __init__(self, gltf: GLTF2) -> None:
        self.gltf = gltf
        self.data = bytearray()

    def add(self, arr: np.ndarray, kind: str, component: int, target: int | None = None,
            bounds: bool = False) -> int:
        """Append ``arr`` as one buffer view + accessor; return the accessor index."""
        raw = np.ascontiguousarray(arr).tobytes()
        self.data.extend(b"\0" * (-len(self.data) % 4))  # every view starts 4-byte aligned
        self.gltf.bufferViews.append(BufferView(buffer=0, byteOffset=len(self.data), byteLength=len(raw),
                                                target=target))
        self.data.extend(raw)
        width = {SCALAR: 1, VEC3: 3, VEC4: 4, MAT4: 16}[kind]
        flat = np.asarray(arr).reshape(-1, width)
        acc = Accessor(bufferView=len(self.gltf.bufferViews) - 1, componentType=component, count=len(flat),
                       type=kind)
        if bounds:
            acc.min = [float(v) for v in flat.min(0)]
            acc.max = [float(v) for v in flat.max(0)]
        self.gltf.accessors.append(acc)
        return len(self.gltf.accessors) - 1


def write_glb(motion: Motion, path: str | Path, *, fps: float | None = None,
              skeleton: list[BvhJoint] | None = None, skeleton_path: str | Path | None = None) -> Posed:
    """Write ``motion`` to ``path`` as an animated, skinned glTF binary; return the solved pose.

    The caller writes atomically (``export.export_motion`` does). Raises ChoreoError when the
    skeleton does not fit the motion.
    """
    posed = pose_motion(motion, skeleton, skeleton_path, exact=True)
    rate = float(fps or motion.fps)
    gltf = GLTF2(asset=Asset(generator="Choreo Studio", version="2.0"))
    blob = _Blob(gltf)
    joints = posed.joints
    J = len(joints)
    for j, joint in enumerate(joints):
        gltf.nodes.append(Node(name=joint.name, translation=[float(v) for v in posed.translations[0, j]]
                               if joint.parent < 0 else [float(v) for v in joint.offset],
                               children=[c for c, k in enumerate(joints) if k.parent == j]))
    rest = _rest_world(joints, posed)
    _add_body(gltf, blob, joints, rest)
    gltf.nodes.append(Node(name="body", mesh=0, skin=0))
    roots = [j for j, k in enumerate(joints) if k.parent < 0]
    gltf.scenes.append(Scene(name=Path(motion.source).stem or "take", nodes=[*roots, J]))
    gltf.scene = 0
    inverse_bind = np.zeros((J, 4, 4), np.float32)
    inverse_bind[:] = np.eye(4)
    inverse_bind[:, :3, 3] = -rest
    ibm = blob.add(inverse_bind.transpose(0, 2, 1), MAT4, FLOAT)  # glTF matrices are column-major
    gltf.skins.append(Skin(name="skeleton", joints=list(range(J)), inverseBindMatrices=ibm, skeleton=roots[0]))
    _add_animation(gltf, blob, posed, rate)
    gltf.buffers.append(Buffer(byteLength=len(blob.data)))
    gltf.set_binary_blob(bytes(blob.data))
    gltf.save_binary(str(path))
    return posed


def _rest_world(joints: list[BvhJoint], posed: Posed) -> np.ndarray:
    """World position (J, 3) of every joint in the rest pose (node translations, no rotations)."""
    rest = np.zeros((len(joints), 3))
    for j, joint in enumerate(joints):
        rest[j] = posed.translations[0, j] if joint.parent < 0 else rest[joint.parent] + joint.offset
    return rest


def _add_body(gltf: GLTF2, blob: _Blob, joints: list[BvhJoint], rest: np.ndarray) -> None:
    """A skinned tube per bone and an octahedron per joint, in the rest pose."""
    height = float(np.ptp(rest[:, 1])) or float(np.ptp(rest)) or 1.0
    r = TUBE * height
    verts: list[np.ndarray] = []
    normals: list[np.ndarray] = []
    bound: list[np.ndarray] = []
    tris: list[np.ndarray] = []
    n = 0
    ring = np.arange(SIDES)
    for c, joint in enumerate(joints):
        p = joint.parent
        axis = rest[c] - rest[p] if p >= 0 else np.zeros(3)
        if p < 0 or np.linalg.norm(axis) < 1e-6 * height:
            continue
        u, v = _perpendiculars(axis / np.linalg.norm(axis))
        angle = 2 * np.pi * ring / SIDES
        radial = np.cos(angle)[:, None] * u + np.sin(angle)[:, None] * v
        verts += [rest[p] + r * radial, rest[c] + r * radial]
        normals += [radial, radial]
        bound += [np.full(SIDES, p), np.full(SIDES, c)]
        a, b = n + ring, n + (ring + 1) % SIDES
        tris.append(np.stack([a, b, b + SIDES, a, b + SIDES, a + SIDES], 1).reshape(-1, 3))
        n += 2 * SIDES
    octa = np.concatenate([np.eye(3), -np.eye(3)])
    faces = np.array([[0, 1, 2], [1, 3, 2], [3, 4, 2], [4, 0, 2], [1, 0, 5], [3, 1, 5], [4, 3, 5], [0, 4, 5]])
    for j, joint in enumerate(joints):
        if joint.end_site:
            continue
        verts.append(rest[j] + 1.8 * r * octa)
        normals.append(octa)
        bound.append(np.full(6, j))
        tris.append(faces + n)
        n += 6
    pos = np.concatenate(verts).astype(np.float32)
    idx = np.concatenate(tris).reshape(-1)
    weights = np.zeros((len(pos), 4), np.float32)
    weights[:, 0] = 1.0
    which = np.zeros((len(pos), 4), np.uint16)
    which[:, 0] = np.concatenate(bound)
    attrs = Attributes(
        POSITION=blob.add(pos, VEC3, FLOAT, ARRAY_BUFFER, bounds=True),
        NORMAL=blob.add(np.concatenate(normals).astype(np.float32), VEC3, FLOAT, ARRAY_BUFFER),
        JOINTS_0=blob.add(which, VEC4, UNSIGNED_SHORT, ARRAY_BUFFER),
        WEIGHTS_0=blob.add(weights, VEC4, FLOAT, ARRAY_BUFFER),
    )
    small = len(pos) <= 65535
    indices = blob.add(idx.astype(np.uint16 if small else np.uint32), SCALAR,
                       UNSIGNED_SHORT if small else UNSIGNED_INT, ELEMENT_ARRAY_BUFFER)
    gltf.materials.append(Material(name="dancer", doubleSided=True, pbrMetallicRoughness=PbrMetallicRoughness(
        baseColorFactor=BODY_COLOUR, metallicFactor=0.0, roughnessFactor=0.8)))
    gltf.meshes.append(Mesh(name="dancer", primitives=[Primitive(attributes=attrs, indices=indices, material=0)]))


def _perpendiculars(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    helper = np.eye(3)[int(np.argmin(np.abs(d)))]
    u = np.cross(d, helper)
    u /= np.linalg.norm(u)
    return u, np.cross(d, u)


def _add_animation(gltf: GLTF2, blob: _Blob, posed: Posed, fps: float) -> None:
    F = len(posed.positions)
    times = blob.add((np.arange(F) / fps).astype(np.float32), SCALAR, FLOAT, bounds=True)
    anim = Animation(name="take")
    for j, joint in enumerate(posed.joints):
        if joint.end_site:
            continue
        quats = Rotation.from_matrix(posed.rotations[:, j]).as_quat()  # x, y, z, w: glTF's order
        flip = np.cumprod(np.where(np.einsum("fi,fi->f", quats[1:], quats[:-1]) < 0, -1.0, 1.0))
        quats[1:] *= flip[:, None]  # the shorter way between frames, so interpolation never spins
        outputs = [("rotation", blob.add(quats.astype(np.float32), VEC4, FLOAT))]
        t = posed.translations[:, j]
        if np.ptp(t, axis=0).max() > 0:
            outputs.append(("translation", blob.add(t.astype(np.float32), VEC3, FLOAT)))
        for path, out in outputs:
            anim.samplers.append(AnimationSampler(input=times, output=out, interpolation="LINEAR"))
            anim.channels.append(AnimationChannel(sampler=len(anim.samplers) - 1,
                                                  target=AnimationChannelTarget(node=j, path=path)))
    gltf.animations.append(anim)
