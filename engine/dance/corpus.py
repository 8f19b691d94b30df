"""A corpus: hours of clips on disk, trained on by one process or a team of them.

``Corpus.index(paths)`` lists the clips of files and folders (searched recursively, any format
``load_motion`` reads) and reads each file once for its frames, joints, rate and joint names;
in a team every process indexes every N-th file and the lists are gathered. Clips of different
skeletons are refused with one line naming the groups: a model's input and output sizes follow
its joints, so one model cannot learn two skeletons.

Nothing is kept in memory between passes: ``LazyClips`` loads a clip when it is asked for
(``.npy`` memory-mapped, other formats parsed) and holds one file at a time. The normalisation
statistics take one streaming pass (``MotionCodec.fit`` over the whole corpus) on rank 0 and are
sent to the others. Training sees the corpus as *pieces*: each clip at the network's rate (every
phase of a faster clip is a piece of its own, as ``strided_clips`` makes them). A team deals the
pieces out so every process holds about the same number of frames (longest first, each to the
process with the fewest so far); a piece longer than one process's share is first cut into parts.
Each process then loads and encodes only its own pieces.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core.distributed import Team
from ..core.errors import ChoreoError
from ..core.fit import fit
from ..core.training import TrainConfig, TrainEvent, TrainResult
from .model import DanceConfig
from .motion import Motion, load_motion, motion_files
from .representation import MotionCodec
from .task import DanceTask, fitted_codec, fitted_config, frame_step_for, new_dance_model, resumed_setup

_UNNAMED = re.compile(r"joint\d+$")  # the names load_motion gives joints of a bare array
MIN_PART = 32  # frames at the network's rate: a clip is never cut into shorter parts


@dataclass(frozen=True)
class ClipInfo:
    """What the index knows about one clip file."""

    path: str
    frames: int
    joints: int
    fps: float
    names: tuple[str, ...] = ()  # joint names, when the file has them

    @classmethod
    def of(cls, motion: Motion) -> ClipInfo:
        named = not all(_UNNAMED.match(n) for n in motion.joint_names)
        return cls(motion.source, motion.n_frames, motion.n_joints, float(motion.fps),
                   tuple(motion.joint_names) if named else ())


@dataclass(frozen=True, order=True)
class Piece:
    """Frames ``start:stop`` of phase ``phase`` of clip ``clip`` at the network's rate (``clip[phase::step]``)."""

    clip: int
    phase: int
    step: int
    start: int
    stop: int

    @property
    def frames(self) -> int:
        return self.stop - self.start


class Corpus:
    """The index of a set of clip files sharing one skeleton; see the module docstring."""

    def __init__(self, clips: Sequence[ClipInfo], layout: str = "auto", fps: float | None = None,
                 proportions: str = "auto") -> None:
        if not clips:
            raise ChoreoError("no motion files given")
        self.clips, self.layout, self.fps, self.proportions = list(clips), layout, fps, proportions
        _check_one_skeleton(self.clips)
        self._held: tuple[int, Motion] | None = None  # the clip loaded last (a one-clip corpus is read once)

    @classmethod
    def index(cls, paths: str | Path | Sequence[str | Path], layout: str = "auto", fps: float | None = None,
              proportions: str = "auto", team: Team | None = None) -> Corpus:
        """Index the clips of ``paths`` (files, folders searched recursively); in a team, together.
        ``layout``, ``fps`` and ``proportions`` are ``load_motion``'s, for every clip."""
        team = team or Team.current()
        files = motion_files(paths)
        last: list[tuple[int, Motion]] = []

        def mine() -> list[dict[str, Any]]:  # every N-th file, each loaded and let go (but the last)
            infos = []
            for i in range(team.rank, len(files), team.world_size):
                last.clear()  # one clip in memory at a time
                last.append((i, load_motion(files[i], layout=layout, fps=fps, proportions=proportions)))
                infos.append(asdict(ClipInfo.of(last[0][1])))
            return infos

        parts = team.on_each(mine)
        n = team.world_size
        infos = [parts[i % n][i // n] for i in range(len(files))]
        corpus = cls([ClipInfo(**{**d, "names": tuple(d["names"])}) for d in infos], layout, fps, proportions)
        corpus._held = last[0] if last else None
        return corpus

    @property
    def n_joints(self) -> int:
        return self.clips[0].joints

    @property
    def n_frames(self) -> int:
        return sum(c.frames for c in self.clips)

    @property
    def seconds(self) -> float:
        return sum(c.frames / c.fps for c in self.clips)

    def motion(self, i: int) -> Motion:
        """Clip ``i`` (``.npy`` memory-mapped when large); the corpus holds the last one it loaded."""
        if self._held is None or self._held[0] != i:
            self._held = None  # let the previous clip go before the next is read
            self._held = (i, load_motion(self.clips[i].path, layout=self.layout, fps=self.fps,
                                         proportions=self.proportions))
        return self._held[1]

    def pieces(self, model_fps: float) -> list[Piece]:
        """Every clip at the network's rate, in file order (every phase of a faster clip, as ``strided_clips``)."""
        out = []
        for i, c in enumerate(self.clips):
            step = frame_step_for(c.fps, model_fps)
            for k in range(step):
                n = len(range(k, c.frames, step))
                if n >= 2:
                    out.append(Piece(i, k, step, 0, n))
        return out

    def shard(self, model_fps: float, team: Team) -> list[Piece]:
        """This process's pieces (all of them alone), in file order so each file is read once."""
        pieces = self.pieces(model_fps)
        if team.alone:
            return pieces
        share = sum(p.frames for p in pieces) / team.world_size
        pieces = [part for p in pieces for part in _cut(p, share)]
        if len(pieces) < team.world_size:
            raise ChoreoError(f"{len(pieces)} clip(s) at the network's rate are too little data for "
                              f"{team.world_size} processes: use fewer processes or more clips")
        loads, mine = [0] * team.world_size, []
        for p in sorted(pieces, key=lambda p: -p.frames):  # stable: ties keep file order
            rank = loads.index(min(loads))
            loads[rank] += p.frames
            if rank == team.rank:
                mine.append(p)
        return sorted(mine)

    def codec(self, model_fps: float, team: Team,
              fit: Callable[[Sequence[np.ndarray]], MotionCodec] = MotionCodec.fit) -> MotionCodec:
        """Normalisation statistics of the whole corpus (``fit`` over every piece): one streaming pass on
        rank 0, shared with the team."""
        def stream() -> dict[str, Any]:
            return _as_json(fit(LazyClips(self, self.pieces(model_fps))).state_dict())

        state = team.on_main(stream)
        return MotionCodec.from_state_dict(_from_json(state))


def _cut(piece: Piece, share: float) -> list[Piece]:
    """``piece`` cut into equal parts no longer than ``share`` frames (whole when it fits; no part
    shorter than ``MIN_PART``)."""
    parts = max(1, min(int(np.ceil(piece.frames / max(share, 1.0))), piece.frames // MIN_PART))
    edges = np.linspace(piece.start, piece.stop, parts + 1).round().astype(int)
    return [Piece(piece.clip, piece.phase, piece.step, int(a), int(b))
            for a, b in itertools.pairwise(edges) if b - a >= 2]


class LazyClips(Sequence[np.ndarray]):
    """The frames ``(T, J, 3)`` of each piece, loaded when asked for (the corpus holds one file at a time)."""

    def __init__(self, corpus: Corpus, pieces: Sequence[Piece]) -> None:
        self.corpus, self.pieces = corpus, list(pieces)

    def __len__(self) -> int:
        return len(self.pieces)

    def __getitem__(self, i: int) -> np.ndarray:  # type: ignore[override]
        p = self.pieces[i]
        positions = self.corpus.motion(p.clip).positions
        return positions[p.phase + p.start * p.step : p.phase + p.stop * p.step : p.step]


def _check_one_skeleton(clips: Sequence[ClipInfo]) -> None:
    """Refuse clips of different skeletons (joint count, and joint names where both files name them)."""
    groups: dict[tuple[int, tuple[str, ...]], list[ClipInfo]] = {}
    for c in sorted(clips, key=lambda c: not c.names):  # named clips first: unnamed ones join them
        key = next((k for k in groups if k[0] == c.joints and (not c.names or k[1] in ((), c.names))),
                   (c.joints, c.names))
        groups.setdefault(key, []).append(c)
    if len(groups) > 1:
        where = os.path.commonpath([str(Path(c.path).parent) for c in clips])
        said = [f"{k[0]} joints as in {g[0].path} ({len(g)} clip{'s' if len(g) > 1 else ''})"
                for k, g in sorted(groups.items(), key=lambda kv: -len(kv[1]))]
        raise ChoreoError(f"the clips have {len(groups)} different skeletons: {'; '.join(said)}. One model learns "
                          "one skeleton: train each group on its own (e.g. one folder per skeleton)", where)


def _as_json(state: dict[str, Any]) -> dict[str, Any]:
    """A codec's state dict as JSON (tensors as lists with their dtype): what a team broadcasts."""
    return {k: {"dtype": str(v.dtype).removeprefix("torch."), "data": v.tolist()} if torch.is_tensor(v) else v
            for k, v in state.items()}


def _from_json(state: dict[str, Any]) -> dict[str, Any]:
    return {k: torch.tensor(v["data"], dtype=getattr(torch, v["dtype"])) if isinstance(v, dict) else v
            for k, v in state.items()}


def train_corpus(
    corpus: Corpus,
    out: str | Path | None = None,
    *,
    model_config: DanceConfig | None = None,
    config: TrainConfig | None = None,
    on_event: Callable[[TrainEvent], None] | None = None,
    cancel: threading.Event | None = None,
    resume: str | Path | None = None,
) -> TrainResult:
    """Train a ``DanceModel`` on ``corpus``: alone, or as one process of the current team (every process
    calls this; each trains on its shard, rank 0 writes ``out``). Like ``train`` otherwise."""
    team = Team.current()
    config = config or TrainConfig()
    first = corpus.motion(0)  # its skeleton and a stretch of it travel in the checkpoint
    if resume is not None:
        model_config, codec = resumed_setup(resume, corpus.n_joints)
    else:
        model_config = fitted_config(model_config, first)
        codec = corpus.codec(model_config.model_fps, team, lambda clips: fitted_codec(clips, first, model_config))
    # the pose guard's bank travels in the checkpoint, so only rank 0 builds it (from the whole corpus)
    everything = LazyClips(corpus, corpus.pieces(model_config.model_fps)) if team.is_main else None
    model = new_dance_model(model_config, codec, first, config.rng, everything)
    clips = LazyClips(corpus, corpus.shard(model_config.model_fps, team))
    task = DanceTask(model, clips, codec, config.val_fraction, model.checkpoint_extra())
    return fit(task, config, out, model_config=asdict(model_config), on_event=on_event, cancel=cancel,
               resume=resume)
