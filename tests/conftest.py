"""Shared fixtures: the real-data folder, the synthetic dancer, tiny configs and models, and a thread-leak guard."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the repository; tests using it skip cleanly when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("real data folder ../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_model_config():
    """A dance model small enough to train in a second."""
    from engine import DanceConfig

    return DanceConfig(hidden=16, layers=1, mixtures=2)


@pytest.fixture(scope="session")
def tiny_train_config():
    """``tiny_train_config(**overrides)``: a TrainConfig of one CPU epoch of small crops."""
    from engine import TrainConfig

    def make(**overrides) -> TrainConfig:
        base = dict(batch=8, seq_len=32, val_every=10, device="cpu", precision="fp32", epochs=1)
        return TrainConfig(**{**base, **overrides})

    return make


@pytest.fixture(scope="session")
def dancer():
    """The procedural dancer: 300 frames at 30 fps (10 s)."""
    from engine.dance.synthetic import synthetic_dancer

    return synthetic_dancer(frames=300)


@pytest.fixture(scope="session")
def tiny_model(dancer, tiny_model_config, tiny_train_config):
    """A tiny dance model trained two epochs on ``dancer`` (in memory)."""
    from engine import train

    return train(dancer, model_config=tiny_model_config, config=tiny_train_config(epochs=2)).model


@pytest.fixture
def session(dancer):
    """A CPU session with ``dancer`` loaded (closed after the test)."""
    from engine.session import Session

    with Session(device="cpu") as s:
        s.load(dancer)
        yield s


@pytest.fixture(scope="session")
def tiny_dance(tmp_path_factory):
    """A tiny dance model trained a few steps on the synthetic dancer: (checkpoint path, motion)."""
    from engine import DanceConfig, TrainConfig, train
    from engine.dance.synthetic import synthetic_dancer

    motion = synthetic_dancer(frames=600, fps=30.0, rng=0)
    out = tmp_path_factory.mktemp("tiny") / "tiny.pt"
    train(motion, out, model_config=DanceConfig(hidden=32, layers=1, mixtures=3),
          config=TrainConfig(epochs=2, batch=8, seq_len=32, val_every=5, lr=3e-3, device="cpu", precision="fp32"))
    return out, motion


# name, parent, offset: a small body whose BVH the tests write themselves (no files needed)
_BVH_BODY = [("hips", None, (0, 0, 0)), ("spine", "hips", (0, 12, 0)), ("head", "spine", (0, 14, 0)),
             ("l_arm", "spine", (9, 10, 0)), ("r_arm", "spine", (-9, 10, 0)),
             ("l_leg", "hips", (5, -10, 0)), ("l_shin", "l_leg", (0, -40, 0)),
             ("r_leg", "hips", (-5, -10, 0)), ("r_shin", "r_leg", (0, -40, 0))]


def write_bvh(path: Path, frames: int = 240, fps: float = 30.0) -> Path:
    """A procedural dancer as a BVH file: root travels and turns, limbs swing (Y up)."""
    import numpy as np

    kids: dict = {}
    for name, parent, _ in _BVH_BODY:
        kids.setdefault(parent, []).append(name)
    offsets = {name: off for name, _, off in _BVH_BODY}
    lines, order = ["HIERARCHY"], []

    def joint(name: str, depth: int) -> None:
        pad = "  " * depth
        root = depth == 0
        lines.append(f"{pad}{'ROOT' if root else 'JOINT'} {name}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {' '.join(str(v) for v in offsets[name])}")
        chans = "6 Xposition Yposition Zposition Zrotation Xrotation Yrotation" if root else \
            "3 Zrotation Xrotation Yrotation"
        lines.append(f"{pad}  CHANNELS {chans}")
        order.append(name)
        for kid in kids.get(name, []):
            joint(kid, depth + 1)
        if name not in kids:
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET 0 -8 0", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    joint("hips", 0)
    t = np.arange(frames) / fps
    rows = []
    for i in range(frames):
        w = 2 * np.pi * t[i]
        row = [30 * np.sin(0.3 * w), 90 + 3 * np.sin(2 * w), 20 * np.sin(0.2 * w), 0, 0, 40 * np.sin(0.25 * w)]
        for k in range(len(order) - 1):
            row += [25 * np.sin(w * (0.7 + 0.1 * k) + k), 35 * np.sin(w * (0.5 + 0.05 * k)), 10 * np.cos(w + k)]
        rows.append(" ".join(f"{v:.4f}" for v in row))
    lines += ["MOTION", f"Frames: {frames}", f"Frame Time: {1 / fps:.6f}", *rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def bvh_piece(tmp_path_factory):
    """A procedural BVH clip and a tiny model trained on it: (clip path, model path) in a fresh folder."""
    from engine import DanceConfig, TrainConfig, train

    folder = tmp_path_factory.mktemp("piece")
    clip = write_bvh(folder / "dance.bvh")
    model = folder / "dance.pt"
    train(clip, model, model_config=DanceConfig(hidden=24, layers=1, mixtures=3),
          config=TrainConfig(epochs=2, batch=8, seq_len=32, val_every=5, lr=3e-3, device="cpu", precision="fp32"))
    return clip, model


@pytest.fixture(autouse=True)
def private_autosaves(tmp_path_factory, monkeypatch):
    """Studio autosaves go to a folder of the test run, never the user's (where a crash's leftovers would
    make a started studio ask about recovery)."""
    monkeypatch.setenv("CHOREO_AUTOSAVE_DIR", str(tmp_path_factory.getbasetemp() / "autosave"))


@pytest.fixture(scope="session")
def drum_song(tmp_path_factory):
    """A 6 s drum loop at 120 BPM (.flac): the path (its beats are known: ``engine.dance.drums``)."""
    from engine.dance.drums import write_drum_loop

    path = tmp_path_factory.mktemp("song") / "loop.flac"
    write_drum_loop(path, 120, 6.0)
    return path


@pytest.fixture(autouse=True)
def no_thread_left_behind():
    """Fail a test that leaves a thread running."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
        extra += [t for t in threading.enumerate() if t not in before and t.is_alive() and t.name.startswith("choreo")]
        if not extra:
            return
        time.sleep(0.05)
    pytest.fail(f"threads left running: {[t.name for t in extra]}")


def write_c3d(path: Path, points: np.ndarray, labels: list[str] | None = None, rate: float = 120.0,
              units: str = "mm", scale: float = -1.0, y_screen: str | None = "+Z") -> Path:
    """Write a C3D file with the ``c3d`` package's writer (so tests never download one).

    ``points``: ``(frames, markers, 3)`` in ``units``, or ``(frames, markers, 4)`` whose last
    column is the residual (-1 marks an invalid sample). ``scale`` < 0 writes float data,
    > 0 integer data of that resolution.
    """
    import warnings

    import c3d

    pts = np.asarray(points, dtype=np.float64)
    _frames, markers = pts.shape[:2]
    w = c3d.Writer(point_rate=rate, point_scale=scale, point_units=units.ljust(4))
    w.set_point_labels(labels or [f"M{i}" for i in range(markers)])
    if y_screen:
        w.set_screen_axis(X="+X", Y=y_screen)
    for f in pts:
        frame = np.zeros((markers, 5), np.float32)
        frame[:, :3] = f[:, :3]
        frame[:, 3] = f[:, 3] if f.shape[1] == 4 else 1.0
        w.add_frames([(frame, np.zeros((0, 0), np.float32))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "No analog data found": none is wanted
        with open(path, "wb") as h:
            w.write(h)
    return path


@pytest.fixture(scope="session")
def c3d_file():
    """The :func:`write_c3d` helper, for tests that need C3D files."""
    return write_c3d


class OscReceiver:
    """A loopback UDP socket that collects ``/choreo/frame`` messages on a thread: (address, args) pairs."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.messages: list[tuple[str, list]] = []
        self.arrivals: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="osc-test-receiver")
        self._thread.start()

    def _run(self) -> None:
        from pythonosc.osc_message import OscMessage

        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            msg = OscMessage(data)
            self.messages.append((msg.address, list(msg.params)))
            self.arrivals.append(time.perf_counter())

    def wait_for(self, n: int, timeout: float = 5.0) -> list[tuple[str, list]]:
        """The messages once ``n`` have arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.messages

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def osc_receiver():
    """An :class:`OscReceiver` on a free loopback port, closed after the test."""
    rx = OscReceiver()
    yield rx
    rx.close()
