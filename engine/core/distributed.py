"""Training in several processes: which process this is, and the few collectives the trainer needs.

Built on ``torch.distributed`` (gloo on CPUs, NCCL on GPUs) and ``DistributedDataParallel``, the
engine cluster users already run; the processes are started by torch's elastic launcher
(``torchrun``, or ``engine.core.launch`` for ``choreo train --nproc N``), which sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` for every process.

A ``Team`` of one process (no process group: the desktop app, a notebook, a plain ``choreo
train``) makes every collective a no-op, so ``fit`` runs the same lines on one process or many.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple, TypeVar

import torch
import torch.distributed as dist
from torch import Tensor, nn

from .device import resolve_device
from .errors import ChoreoError

T = TypeVar("T")
JOIN_TIMEOUT_S = 600.0  # how long a collective waits for a silent process before the job fails


def in_launched_job() -> bool:
    """True inside a process started by torchrun (or another launcher that sets ``RANK``/``WORLD_SIZE``)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


class StepTotals(NamedTuple):
    """One training step summed over the team."""

    loss: float  # mean loss per target over every process's batch
    targets: int  # targets in every process's batch together
    weight: float  # scale for this process's loss so DDP's gradient average is the mean over all targets
    finite: bool  # no process had a NaN/inf loss


@dataclass(frozen=True)
class Team:
    """The processes training one model together (``rank`` 0 of 1 when training alone)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0  # index of this process on its machine: which GPU it drives
    backend: str = ""  # "gloo" | "nccl" ("" alone)

    @classmethod
    def current(cls) -> Team:
        """The team of the initialised process group, or a team of one."""
        if not (dist.is_available() and dist.is_initialized()):
            return cls()
        return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")),
                   str(dist.get_backend()))

    @property
    def alone(self) -> bool:
        return self.world_size == 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints and reports; the others only train."""
        return self.rank == 0

    # -- placing the model ------------------------------------------------------------

    def device(self, device: torch.device) -> torch.device:
        """This process's device: one GPU per process on a machine (``cuda:LOCAL_RANK``)."""
        if device.type == "cuda" and not self.alone:
            return torch.device("cuda", self.local_rank)
        return device

    def wrap(self, model: nn.Module) -> nn.Module:
        """``DistributedDataParallel`` around ``model`` (gradients averaged over the team), or ``model`` alone.

        ``device_ids`` stays unset: inputs are used where the task put them (the sketch model keeps
        its sequence lengths on the CPU, as packing needs).
        """
        if self.alone:
            return model
        return nn.parallel.DistributedDataParallel(model)

    # -- numbers --------------------------------------------------------------------------

    def _reduce(self, values: Sequence[float], op: Any) -> list[float]:
        if self.alone:
            return [float(v) for v in values]
        t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=self._wire)
        dist.all_reduce(t, op=op)
        return t.tolist()

    @property
    def _wire(self) -> torch.device:
        """Where collective buffers live: NCCL only moves GPU tensors."""
        return torch.device("cuda", self.local_rank) if self.backend == "nccl" else torch.device("cpu")

    def sum(self, *values: float) -> list[float]:
        """Each value summed over the team."""
        return self._reduce(values, dist.ReduceOp.SUM)

    def max(self, *values: float) -> list[float]:
        """Each value's largest over the team."""
        return self._reduce(values, dist.ReduceOp.MAX)

    def combine(self, loss: Tensor, targets: int) -> StepTotals:
        """This process's mean ``loss`` over ``targets``, summed with the others' (one collective).

        DDP averages gradients over processes; weighting each process's loss by its share of
        the targets (x world size) makes that average the gradient of the mean over all targets,
        as one process with the whole batch would compute.
        """
        value = float(loss.detach())
        finite = value == value and abs(value) != float("inf")
        total, count, bad = self.sum(value * targets if finite else 0.0, targets, 0.0 if finite else 1.0)
        return StepTotals(total / max(count, 1.0), int(count), self.world_size * targets / max(count, 1.0),
                          bad == 0.0)

    def share(self, total: int) -> int:
        """This process's part of ``total`` (e.g. the global batch): ``total // N``, the rest to the first ranks."""
        return max(1, total // self.world_size + (self.rank < total % self.world_size))

    def shard(self, items: Sequence[T]) -> list[T]:
        """This process's items: every N-th, starting at its rank (all of them alone)."""
        return list(items[self.rank :: self.world_size])

    def entropy(self, *seed: int) -> list[int]:
        """A random-number seed per process: ``seed`` alone, with the rank appended in a team."""
        return [*seed] if self.alone else [*seed, self.rank]

    # -- data -----------------------------------------------------------------------------

    def on_main(self, make: Callable[[], T]) -> T:
        """``make()`` on rank 0 only, its (JSON-able) result handed to every process.

        A ``ChoreoError`` there is raised on every process, so no one waits for a value that never comes.
        """
        if self.alone:
            return make()
        outcome = _attempt(make) if self.is_main else None
        return _unwrap(self._broadcast(outcome))

    def on_each(self, make: Callable[[], T]) -> list[T]:
        """``make()`` on every process; the (JSON-able) results of all, in rank order, on every process."""
        if self.alone:
            return [make()]
        outcomes = self._gather(_attempt(make))
        return [_unwrap(o) for o in outcomes]

    def _bytes(self, value: Any) -> Tensor:
        return torch.frombuffer(bytearray(json.dumps(value).encode()), dtype=torch.uint8).to(self._wire)

    def _broadcast(self, value: Any) -> Any:
        """JSON from rank 0 to everyone (JSON, not pickle: nothing received can run code)."""
        data = self._bytes(value) if self.is_main else None
        size = torch.tensor([0 if data is None else len(data)], dtype=torch.int64, device=self._wire)
        dist.broadcast(size, 0)
        buf = data if data is not None else torch.empty(int(size), dtype=torch.uint8, device=self._wire)
        dist.broadcast(buf, 0)
        return json.loads(buf.cpu().numpy().tobytes())

    def _gather(self, value: Any) -> list[Any]:
        """Every process's JSON to everyone, in rank order."""
        data = self._bytes(value)
        sizes = [torch.zeros(1, dtype=torch.int64, device=self._wire) for _ in range(self.world_size)]
        dist.all_gather(sizes, torch.tensor([len(data)], dtype=torch.int64, device=self._wire))
        longest = max(int(s) for s in sizes)
        bufs = [torch.zeros(longest, dtype=torch.uint8, device=self._wire) for _ in range(self.world_size)]
        dist.all_gather(bufs, torch.cat([data, data.new_zeros(longest - len(data))]))
        return [json.loads(b[: int(s)].cpu().numpy().tobytes()) for b, s in zip(bufs, sizes, strict=True)]


def _attempt(make: Callable[[], Any]) -> dict[str, Any]:
    """``{"value": make()}``, or the user problem it raised, in a form that travels as JSON."""
    try:
        return {"value": make()}
    except ChoreoError as err:
        return {"problem": err.problem, "path": err.path}


def _unwrap(outcome: dict[str, Any]) -> Any:
    if "problem" in outcome:
        raise ChoreoError(outcome["problem"], outcome["path"])
    return outcome["value"]


@contextlib.contextmanager
def joined(device: str = "auto", timeout_s: float = JOIN_TIMEOUT_S) -> Iterator[Team]:
    """Join the job this process was launched into (gloo on CPUs, NCCL on GPUs); leave it at the end.

    Outside a launched job (or in a job of one process) this yields a team of one.
    """
    if not in_launched_job() or int(os.environ["WORLD_SIZE"]) == 1 or dist.is_initialized():
        yield Team.current()
        return
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = resolve_device(device).type == "cuda"
    if cuda:
        if local_rank >= torch.cuda.device_count():
            raise ChoreoError(f"process {local_rank} on this machine has no GPU of its own "
                              f"({torch.cuda.device_count()} found): start at most that many processes per machine")
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if cuda else "gloo", timeout=timedelta(seconds=timeout_s))
    try:
        yield Team.current()
        # leave together: gloo can abort a process (std::terminate, SIGABRT) whose peer tore the
        # connection down under it while it was still finishing (seen once in ~20 CI runs)
        dist.barrier()
    finally:
        dist.destroy_process_group()
