"""What the stage shows and a video export writes: one rule, no GUI.

A :class:`Showing` answers, for every position ``t`` of the timeline, which figures stand on
stage, in which pose, in which colour and under which name. The desktop stage draws
:meth:`Showing.poses`; a video export renders :meth:`Showing.tracks`, built from the same
:meth:`Showing.poses`; so what is exported is, frame for frame, what was watched.

The rule:

- No take shown: the clip alone, its frame ``t`` at position ``t``.
- A take shown: the timeline spans the take (``params.frames`` while it is being made, the
  frames it has once it is done or stopped), preceded by the lead-in when asked for: the
  look-back frames of the seed clip the model watched before it danced on.
  At take frame ``k`` (``k = t - lead_in``):

  - the ghost shows what the source did next, frame ``seed_frame + k`` of the clip the take
    continues (during the lead-in that is the moment the model watched); once the clip has
    ended the ghost leaves the stage;
  - each variation shows its frame ``k``; a frame not made yet holds the last one made
    (the legend says it is still being made); nothing stands there during the lead-in.

- Figures keep their places on stage (ghost first, then the variations) for the whole span,
  and the legend at ``t`` names exactly the figures standing there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..dance.axes import motion_up_axis
from ..dance.export import VIDEO_FORMATS, export_motion
from ..dance.motion import Motion
from ..dance.render import GHOST, PALETTE, FigureRenderer
from .state import Take, clip_name

__all__ = ["SOURCE", "Figure", "Showing", "clip_name"]

SOURCE = (190, 196, 212)  # the clip on its own: a light grey, so colour always means "generated"
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Figure:
    """One figure on stage: its name in the legend, its role, colour and body."""

    name: str
    role: str  # "clip" | "ghost" | "take"
    color: RGB
    bones: np.ndarray = field(repr=False)
    joint_names: tuple[str, ...] = field(repr=False)

    @property
    def n_joints(self) -> int:
        return len(self.joint_names)


class Showing:
    """What stands on stage at each timeline position; build with :meth:`of_clip` or :meth:`of_take`."""

    def __init__(self, fps: float, length: int, figures: tuple[Figure, ...], reference: Motion | None,
                 clip: Motion | None = None, take: Take | None = None, take_number: int = 0,
                 seed_frame: int = 0, lead_in: int = 0) -> None:
        self.fps = float(fps)
        self.length = max(1, int(length))  # timeline positions 0 .. length - 1
        self.figures = figures
        self.reference = reference  # the clip whose space the figures live in (stage framing, up axis)
        self.clip = clip  # shown alone (no take)
        self.take = take
        self.take_number = take_number  # 1-based, as people count takes
        self.seed_frame = seed_frame
        self.lead_in = lead_in

    @cached_property
    def up_axis(self) -> str:
        """The reference clip's up axis ("" when there is none)."""
        return motion_up_axis(self.reference) if self.reference is not None else ""

    # -- building --------------------------------------------------------------------

    @classmethod
    def nothing(cls) -> Showing:
        """An empty stage."""
        return cls(30.0, 1, (), None)

    @classmethod
    def of_clip(cls, clip: Motion | None, bones: np.ndarray | None = None) -> Showing:
        """The clip alone (``bones``: the session's bones for it, when the clip has none)."""
        if clip is None:
            return cls.nothing()
        b = clip.bones if bones is None or not len(bones) else np.asarray(bones, np.int64).reshape(-1, 2)
        if len(b) and b.max() >= clip.n_joints:  # bones of another clip (read while a new one loads)
            b = clip.bones
        fig = Figure(clip_name(clip), "clip", SOURCE, b, tuple(clip.joint_names))
        return cls(clip.fps, clip.n_frames, (fig,), clip, clip=clip)

    @classmethod
    def of_take(cls, take: Take, number: int, lead_in: bool = False, bones: np.ndarray | None = None) -> Showing:
        """Take ``number`` (1-based) with the ghost of the clip it continues, after its lead-in when asked.
        ``bones``: drawn when the take does not know its clip (a project's clip not found yet)."""
        seed = take.seed
        p = take.params
        seed_frame = int(p.seed_frame) if p.seed_frame is not None else 0
        if seed is not None:
            seed_frame = min(max(seed_frame, 0), seed.n_frames)
        lead = min(int(p.look_back), seed_frame) if lead_in and seed is not None else 0
        frames = p.frames if take.status == "generating" else take.frames_ready
        v, joints = take.positions.shape[0], take.positions.shape[2]
        names = tuple(seed.joint_names) if seed is not None and seed.n_joints == joints else \
            tuple(f"joint{i}" for i in range(joints))
        if seed is not None and seed.n_joints == joints:
            bones = seed.bones
        elif seed is not None or bones is None or (len(bones) and np.max(bones) >= joints):
            bones = np.zeros((0, 2), np.int64)
        figs: list[Figure] = []
        if seed is not None:
            figs.append(Figure(f"{clip_name(seed)} (ghost)", "ghost", GHOST, bones, names))
        for i in range(v):
            title = take.name or f"take {number}"  # its name, when it has one
            name = title if v == 1 else f"{title} · {i + 1}"
            figs.append(Figure(name, "take", PALETTE[i % len(PALETTE)], bones, names))
        fps = seed.fps if seed is not None else 30.0
        return cls(fps, lead + max(frames, 1), tuple(figs), seed, take=take, take_number=number,
                   seed_frame=seed_frame, lead_in=lead)

    # -- the timeline ----------------------------------------------------------------

    def _clamp(self, t: int) -> int:
        return min(max(int(t), 0), self.length - 1)

    def take_frame(self, t: int) -> int:
        """Take frame at position ``t`` (negative during the lead-in)."""
        return self._clamp(t) - self.lead_in

    def source_frame(self, t: int) -> int | None:
        """Frame of the clip on stage (alone) or of the take's seed clip (the ghost's) at ``t``; None
        when that clip has no such frame."""
        clip = self.clip if self.take is None else self.reference
        if clip is None:
            return None
        f = self._clamp(t) if self.take is None else self.seed_frame + self.take_frame(t)
        return f if 0 <= f < clip.n_frames else None

    def position_of_source_frame(self, frame: int) -> int | None:
        """The timeline position showing frame ``frame`` of the clip (inverse of :meth:`source_frame`)."""
        t = frame if self.take is None else frame - self.seed_frame + self.lead_in
        return t if 0 <= t < self.length else None

    @property
    def take_region(self) -> tuple[int, int, int]:
        """``(start, frames, made)`` of the take on the timeline; ``(0, 0, 0)`` without a take."""
        if self.take is None:
            return 0, 0, 0
        return self.lead_in, self.length - self.lead_in, min(self.take.frames_ready, self.length - self.lead_in)

    @property
    def generating(self) -> bool:
        return self.take is not None and self.take.status == "generating"

    def phase(self, t: int) -> str:
        """``clip``, ``lead-in``, ``take`` or ``waiting`` (a take frame not made yet) at ``t``."""
        if self.take is None:
            return "clip"
        k = self.take_frame(t)
        if k < 0:
            return "lead-in"
        return "take" if k < self.take.frames_ready else "waiting"

    # -- figures ---------------------------------------------------------------------

    def poses(self, t: int) -> list[np.ndarray | None]:
        """Each figure's pose ``(joints, 3)`` (source coordinates) at ``t``; None when it is not on stage."""
        t = self._clamp(t)
        if self.take is None:
            return [self.clip.positions[t]] if self.clip is not None else []
        out: list[np.ndarray | None] = []
        if self.reference is not None:
            f = self.source_frame(t)
            out.append(None if f is None else self.reference.positions[f])
        k, made = t - self.lead_in, self.take.frames_ready
        for i in range(self.take.positions.shape[0]):
            out.append(None if k < 0 or made == 0 else self.take.positions[i, min(k, made - 1)])
        return out

    def legend(self, t: int) -> list[tuple[str, RGB]]:
        """``(name, colour)`` of every figure on stage at ``t``, saying what it is doing then."""
        phase = self.phase(t)
        out = []
        for fig, pose in zip(self.figures, self.poses(t), strict=True):
            if pose is None:
                continue
            name = fig.name
            if phase == "lead-in" and fig.role == "ghost":
                name = f"{clip_name(self.reference)}: the lead-in the model watched"
            elif phase == "waiting" and fig.role == "take":
                name += " (being made…)"
            out.append((name, fig.color))
        return out

    def readout(self, t: int) -> str:
        """Where ``t`` is, in words and seconds (the timeline's readout)."""
        t = self._clamp(t)
        if self.take is None:
            return f"frame {t} / {self.length - 1}   {t / self.fps:.2f} s"
        k = self.take_frame(t)
        total = (self.length - self.lead_in) / self.fps
        if k < 0:
            return f"lead-in {k / self.fps:+.2f} s   clip frame {self.seed_frame + k}"
        title = (self.take.name if self.take is not None else "") or f"take {self.take_number}"
        return f"{title}   {k / self.fps:.2f} / {total:.2f} s   frame {k}"

    def tracks(self) -> list[np.ndarray]:
        """Each figure's poses over the whole span, ``(length, joints, 3)``, all NaN where it is not on stage."""
        out = [np.full((self.length, f.n_joints, 3), np.nan, np.float32) for f in self.figures]
        for t in range(self.length):
            for track, pose in zip(out, self.poses(t), strict=True):
                if pose is not None:
                    track[t] = pose
        return out

    # -- export ----------------------------------------------------------------------

    def video_figures(self) -> tuple[list[Motion], Motion | None, list[RGB]]:
        """``(takes, ghost, colours)`` a video of this draws: every figure's :meth:`tracks` as a Motion."""
        motions = [Motion(track, fps=self.fps, joint_names=list(f.joint_names), bones=f.bones, source=f.name,
                          up_axis=self.up_axis) for f, track in zip(self.figures, self.tracks(), strict=True)]
        ghost = next((m for m, f in zip(motions, self.figures, strict=True) if f.role == "ghost"), None)
        rest = [(m, f.color) for m, f in zip(motions, self.figures, strict=True) if f.role != "ghost"]
        return [m for m, _ in rest], ghost, [c for _, c in rest]

    def renderer(self, size: tuple[int, int] = (640, 480)) -> FigureRenderer:
        """The renderer a video export of this uses (frame ``t`` of the video is position ``t``)."""
        takes, ghost, colors = self.video_figures()
        return FigureRenderer(takes, size=size, ghost=ghost, colors=colors, fps=self.fps)

    def export_video(self, path: str | Path, overwrite: bool = False, **options: Any) -> Path:
        """Write an MP4 or GIF of exactly this (same span, alignment, figures and colours)."""
        suffix = Path(path).suffix.lower()
        if suffix not in VIDEO_FORMATS:
            raise ValueError(f"export_video writes {', '.join(VIDEO_FORMATS)}, not {suffix!r}")
        takes, ghost, colors = self.video_figures()
        options.setdefault("fps", self.fps)
        return export_motion(takes, path, ghost=ghost, colors=colors, overwrite=overwrite, **options)
