"""Start a command in N processes on this machine with torch's elastic launcher, as torchrun does.

``choreo train ... --nproc N`` re-runs its own command line through ``elastic_launch`` (the engine
behind ``torchrun --standalone --nproc-per-node N``): rendezvous on a free loopback port, one
worker process per rank with ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` set, no restarts. On a cluster
people start the very same command with ``torchrun`` instead; the workers cannot tell the difference.

When a worker dies or fails, the agent stops the others and this module turns its report into a
single ``JobFailed`` naming the process and the cause (a user problem found by a worker comes back
as that problem). Workers started here stay quiet about their own failures (``QUIET_ENV``) and leave
the story to the launcher; each records its exception in torch's per-process error file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .errors import ChoreoError

QUIET_ENV = "CHOREO_LAUNCHED"  # set in workers started here: the launcher reports their failures
_AGENT_LOGGERS = ("torch.distributed.elastic", "torch.distributed.launcher")
_LOST_CONTACT = re.compile(r"gloo|nccl|connection (reset|closed|refused)|broken pipe|timed out|timeout", re.I)
_STOPPED = {signal.SIGTERM, signal.SIGINT}  # how the agent stops the survivors (and how Ctrl-C arrives)


def lost_contact(message: str) -> bool:
    """True for the errors a process gets when a peer it was exchanging gradients with has gone."""
    return bool(_LOST_CONTACT.search(message))


class JobFailed(ChoreoError):
    """A multi-process job ended early: which process, and why (one line)."""

    def __init__(self, rank: int, world_size: int, cause: str, user_problem: ChoreoError | None = None) -> None:
        self.rank, self.world_size, self.cause, self.user_problem = rank, world_size, cause, user_problem
        super().__init__(str(user_problem) if user_problem else f"process {rank} of {world_size} {cause}")


def threads_per_process(nproc: int) -> int:
    """CPU threads each of ``nproc`` processes should use on this machine (at least one)."""
    return max(1, (os.cpu_count() or 1) // max(1, nproc))


def launch(args: Sequence[str], nproc: int, env: Mapping[str, str] | None = None) -> None:
    """Run ``python args...`` in ``nproc`` processes (gloo or NCCL, chosen by the workers) and wait.

    ``env`` is added to the workers' environment (``OMP_NUM_THREADS`` defaults to this machine's
    cores split evenly). Raises ``JobFailed`` when a process fails or is killed, and
    ``KeyboardInterrupt`` when the launcher itself is interrupted (the workers are stopped).
    """
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    extra = {"OMP_NUM_THREADS": str(threads_per_process(nproc)), **(env or {}), QUIET_ENV: "1"}
    with tempfile.TemporaryDirectory(prefix="choreo-launch-") as logs, _quiet_agent(), _environment(extra):
        config = LaunchConfig(
            min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=uuid.uuid4().hex, rdzv_backend="c10d",
            rdzv_endpoint="127.0.0.1:0", max_restarts=0, monitor_interval=0.1,
            logs_specs=DefaultLogsSpecs(log_dir=logs),  # error files live here, and go with it
        )
        try:
            elastic_launch(config, sys.executable)(*args)
        except ChildFailedError as err:
            raise job_failure(err.failures, nproc) from None
        except SignalException as err:
            raise KeyboardInterrupt(f"stopped by {signal.Signals(err.sigval).name}") from None


def job_failure(failures: Mapping[int, Any], world_size: int) -> JobFailed:
    """The one failure that explains the others, from the agent's ``{rank: ProcessFailure}``.

    A process killed from outside (SIGKILL, out of memory...) comes first, then a user problem a
    worker found, then any other error; a lost connection to a dead peer and the agent's own
    SIGTERM to the survivors are consequences, named only when nothing else is there.
    """

    def rank_of(item: tuple[int, Any]) -> tuple[int, int]:
        rank, f = item
        sig = _signal_of(f.exitcode)
        if sig and sig not in _STOPPED:
            return 0, rank
        if _problem(f) is not None:
            return 1, rank
        if not sig and _message(f) and not lost_contact(_message(f)):
            return 2, rank
        return (4 if sig else 3), rank

    rank, f = min(failures.items(), key=rank_of)
    problem = _problem(f)
    if problem is not None:
        return JobFailed(rank, world_size, "found a problem", problem)
    sig = _signal_of(f.exitcode)
    if sig:
        verb = "was stopped" if sig in _STOPPED else "was killed"
        return JobFailed(rank, world_size, f"{verb} ({signal.Signals(sig).name})")
    message = _message(f)
    if message and lost_contact(message):
        return JobFailed(rank, world_size, "lost contact with the other processes")
    return JobFailed(rank, world_size, f"failed: {message}" if message else f"exited with code {f.exitcode}")


def _signal_of(exitcode: int) -> int:
    """The signal that ended a process: a negative exit code, or 128 + n from a worker that unwound on it."""
    if exitcode < 0:
        return -exitcode
    return exitcode - 128 if exitcode - 128 in (signal.SIGTERM, signal.SIGINT) else 0


def _message(failure: Any, limit: int = 300) -> str:
    """The recorded exception of a worker (its first line, at most ``limit`` characters), or "" if none."""
    if not getattr(failure, "error_file_data", None):
        return ""
    message = failure.message  # torch keeps the error file's {"message": ..., "extraInfo": ...} as it is
    message = message.get("message", "") if isinstance(message, dict) else message
    first = (str(message).strip().splitlines() or [""])[0]
    return first[:limit]


def _problem(failure: Any) -> ChoreoError | None:
    """The ``ChoreoError`` a worker recorded (a user problem such as a bad clip), if that is what it died of."""
    prefix = "ChoreoError: "
    message = _message(failure, limit=2000)  # already one line, written for people: keep it whole
    return ChoreoError(message[len(prefix):]) if message.startswith(prefix) else None


@contextlib.contextmanager
def _quiet_agent() -> Iterator[None]:
    """Keep the agent's log lines (SIGTERM sent, rendezvous details) off the terminal while it runs."""
    loggers = [logging.getLogger(name) for name in _AGENT_LOGGERS]
    before = [(lg.propagate, list(lg.handlers)) for lg in loggers]
    for lg in loggers:
        lg.handlers, lg.propagate = [logging.NullHandler()], False
    try:
        yield
    finally:
        for lg, (propagate, handlers) in zip(loggers, before, strict=True):
            lg.handlers, lg.propagate = handlers, propagate


@contextlib.contextmanager
def _environment(extra: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with ``extra`` added (values already set by the user win), restored afterwards."""
    added = {k: v for k, v in extra.items() if k not in os.environ or k == QUIET_ENV}
    before = {k: os.environ.get(k) for k in added}
    os.environ.update(added)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def record_failure(err: BaseException) -> None:
    """Write ``err`` to this worker's torch error file (read by the launcher and by torchrun)."""
    from torch.distributed.elastic.multiprocessing.errors import ErrorHandler

    with contextlib.suppress(OSError):
        ErrorHandler().record_exception(err)


def quiet_worker() -> bool:
    """True in a worker started by ``launch``: its failures are told by the launcher, not by itself."""
    return os.environ.get(QUIET_ENV) == "1"
