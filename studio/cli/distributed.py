"""``--nproc N`` for the training commands: launch this very command in N processes, or be one of them.

``choreo train DATA --nproc 2`` re-runs ``python -m studio.cli train DATA ...`` through torch's
elastic launcher (``engine.core.launch``); a cluster user starts the same command with ``torchrun``.
Either way each worker joins the process group (``engine.core.distributed.joined``) and trains its
shard; only rank 0 talks to the terminal. A failed or killed process ends the job with one line
from the launcher that also says whether the last checkpoint is intact and how to resume from it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from engine.core.checkpoint import read_checkpoint
from engine.core.device import training_threads
from engine.core.distributed import Team, in_launched_job, joined
from engine.core.errors import ChoreoError
from engine.core.launch import JobFailed, launch, lost_contact, quiet_worker, record_failure

NPROC_HELP = ("training processes on this machine (torch elastic launcher; gloo on CPUs, NCCL with one GPU per "
              "process); --batch stays the global batch. On a cluster start this command with torchrun instead")


def add_nproc_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nproc", type=int, default=1, metavar="N", help=NPROC_HELP)


def run_as_team(args: argparse.Namespace, out: Path | None, work: Callable[[Team], int]) -> int:
    """``work(team)`` here, alone or as one process of a launched job; or, with ``--nproc N`` > 1 outside
    a job, this command launched in N processes (the exit code of the job)."""
    if args.nproc < 1:
        raise ChoreoError(f"--nproc must be at least 1, got {args.nproc}")
    if args.nproc > 1 and not in_launched_job():
        argv = getattr(args, "argv", None) or sys.argv[1:]
        try:
            launch(["-m", "studio.cli", *argv], args.nproc)
        except JobFailed as err:
            if err.user_problem is not None:
                raise err.user_problem from None
            raise ChoreoError(f"training process {err.rank} of {err.world_size} {err.cause}, so the job stopped; "
                              f"{checkpoint_note(out)}") from None
        return 0
    with _member(args.device) as team:
        return work(team)


def checkpoint_note(out: Path | None) -> str:
    """What a stopped job left: the newest checkpoint written (read back to be sure) and how to go on."""
    if out is None:
        return "it wrote no checkpoint (no --out)"
    found = []
    for path in (out.with_suffix(".last.pt"), out):
        if path.exists():
            try:
                found.append((int(read_checkpoint(path)["step"]), path))
            except ChoreoError as err:
                return f"the checkpoint {err}"
    if not found:
        return "no checkpoint had been written yet"
    step, path = max(found)
    return f"the last checkpoint is intact: {path} (step {step}); continue with --resume {path}"


@contextmanager
def _member(device: str) -> Iterator[Team]:
    """Join the launched job (if any). A worker's failure goes to torch's error file; only a process that
    owns the terminal (rank 0 under torchrun) prints it, and a lost peer as one line, not a traceback."""
    if not in_launched_job():
        with joined(device) as team:
            yield team
        return
    previous = signal.signal(signal.SIGTERM, _stop)  # stopped by the agent: unwind, so temporary files go
    try:
        with joined(device) as team:
            yield team
    except Exception as err:
        record_failure(err)
        if quiet_worker() or os.environ.get("RANK") != "0":
            raise SystemExit(1) from None
        if not isinstance(err, ChoreoError) and lost_contact(str(err)):
            raise ChoreoError(f"lost contact with another training process ({str(err).splitlines()[0][:160]})") \
                from None
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


THREADS_HELP = "CPU threads (default: all cores, or 1 when the machine is already busy)"


def use_training_threads(asked: int | None, team: Team, quiet: bool = False) -> int:
    """Set torch's threads for training (``--threads``, else ``training_threads``' choice) and say why."""
    if not team.alone:  # the launcher split the cores between the processes (OMP_NUM_THREADS)
        return torch.get_num_threads()
    threads, why = training_threads(asked)
    torch.set_num_threads(threads)
    if why and not quiet and team.is_main:
        print(f"threads: {threads} ({why})", file=sys.stderr)
    return threads
