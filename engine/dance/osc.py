"""OSC live out: a take, or live generation, streamed frame by frame to TouchDesigner, Max, Unity...

Messages are built and sent with ``python-osc`` (the reference pure-Python OSC implementation:
message encoding, UDP client), one UDP datagram per frame:

    address  /choreo/frame
    args     int32 frame index (0, 1, 2...), float32 time in seconds (index / fps),
             then joints x 3 float32: x, y, z of joint 0, joint 1, ... in the take's units and axes

A 38-joint CMU take is 116 arguments, about 0.5 KB per datagram: well inside one UDP packet.
The sender paces frames on an absolute clock (frame i leaves at start + i / fps, so pacing
errors never add up); a frame that is late goes at once rather than being dropped, so a
receiver gets every frame, in order. Nothing here prints: the result and an optional
per-frame callback report, and a ``threading.Event`` cancels.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from ..core.errors import ChoreoError

ADDRESS = "/choreo/frame"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000


def parse_target(spec: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9000`` for IPv6), ``HOST`` or ``:PORT``; defaults 127.0.0.1 and 9000."""
    spec = spec.strip()
    host, port = spec, ""
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        port = rest.removeprefix(":")
    elif spec.count(":") == 1:
        host, port = spec.split(":")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ChoreoError(f"OSC target {spec!r}: the port must be a number from 1 to 65535")
    return host or DEFAULT_HOST, int(port) if port else DEFAULT_PORT


class OscSender:
    """Sends frames as ``/choreo/frame`` messages to one host and port over UDP."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        from pythonosc.udp_client import SimpleUDPClient

        self.host, self.port = host, int(port)
        try:
            self._client = SimpleUDPClient(host, self.port)
        except (OSError, ValueError, UnicodeError) as err:
            raise ChoreoError(f"cannot send OSC to {host}:{port}: {err}") from None

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    def send(self, index: int, seconds: float, frame: np.ndarray) -> None:
        """Send one frame ``(joints, 3)`` with its index and time."""
        values = np.asarray(frame, dtype=np.float64).reshape(-1).tolist()
        try:
            self._client.send_message(ADDRESS, [int(index), float(seconds), *values])
        except OSError as err:
            raise ChoreoError(f"cannot send OSC to {self.target}: {err.strerror or err}") from None

    def close(self) -> None:
        """Release the socket."""
        self._client.close()


@dataclass(frozen=True)
class StreamResult:
    """How a stream went: frames sent, wall time, frames that left late (more than a frame period)."""

    frames: int
    seconds: float
    late_frames: int
    max_late_s: float
    cancelled: bool

    def summary(self) -> dict:
        return {"frames": self.frames, "seconds": self.seconds, "late_frames": self.late_frames,
                "max_late_s": self.max_late_s, "cancelled": self.cancelled}


def stream_frames(frames: Iterable[np.ndarray], fps: float, sender: OscSender, *,
                  cancel: threading.Event | None = None,
                  on_frame: Callable[[int], None] | None = None,
                  clock: Callable[[], float] = time.perf_counter) -> StreamResult:
    """Send ``frames`` (each ``(joints, 3)``) at ``fps`` until they end or ``cancel`` is set.

    ``frames`` may be a take's positions or an endless generator (live generation);
    ``on_frame(i)`` is called after frame ``i`` has gone.
    """
    if not (math.isfinite(fps) and fps > 0):
        raise ChoreoError(f"fps must be positive to stream, got {fps}")
    period = 1.0 / fps
    cancel = cancel or threading.Event()
    start = clock()
    sent = late = 0
    worst = 0.0
    for i, frame in enumerate(frames):
        due = start + i * period
        wait = due - clock()
        if wait > 0 and cancel.wait(wait):
            break
        if cancel.is_set():
            break
        lag = clock() - due
        worst = max(worst, lag)
        late += lag > period
        sender.send(i, i * period, frame)
        sent += 1
        if on_frame is not None:
            on_frame(i)
    return StreamResult(sent, clock() - start, late, worst, cancel.is_set())
