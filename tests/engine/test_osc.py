"""OSC live out: every frame arrives, in order, at the take's pace; cancelling and bad targets."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from engine.core.errors import ChoreoError
from engine.dance.osc import ADDRESS, OscSender, parse_target, stream_frames


def take(frames: int, joints: int = 38, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 10, (frames, joints, 3)).astype(np.float32)


@pytest.mark.slow
def test_ten_seconds_at_120_fps_arrive_complete_in_order_and_on_time(osc_receiver):
    positions = take(1200)
    sender = OscSender("127.0.0.1", osc_receiver.port)
    try:
        result = stream_frames(positions, 120.0, sender)
    finally:
        sender.close()
    got = osc_receiver.wait_for(1200)
    assert result.frames == 1200 and not result.cancelled
    assert len(got) == 1200
    assert all(address == ADDRESS for address, _ in got)
    assert [args[0] for _, args in got] == list(range(1200))  # every frame, in order
    np.testing.assert_allclose([args[1] for _, args in got], np.arange(1200) / 120.0, atol=1e-6)
    np.testing.assert_array_equal(np.array([args[2:] for _, args in got], np.float32).reshape(1200, 38, 3),
                                  positions)  # float32 on the wire: exact
    # paced at the take's fps, not dumped at once (how punctual it is on a loaded machine is not a unit test's
    # business: late frames are reported in result.late_frames and sent at once)
    assert result.seconds >= 9.9 and 0 <= result.late_frames <= 1200


def test_live_generation_streams_and_cancel_stops_it(osc_receiver, tiny_dance):
    from engine import DanceGenerator, DanceModel

    path, motion = tiny_dance
    gen = DanceGenerator(DanceModel.load(path), seed=motion, rng=0)

    def endless():
        while True:
            yield gen.step()[0]

    cancel = threading.Event()
    sender = OscSender("127.0.0.1", osc_receiver.port)
    try:
        result = stream_frames(endless(), 200.0, sender, cancel=cancel,
                               on_frame=lambda i: cancel.set() if i == 49 else None)
    finally:
        sender.close()
    assert result.cancelled and result.frames == 50
    got = osc_receiver.wait_for(50)
    assert [a[0] for _, a in got] == list(range(50)) and len(got[0][1]) == 2 + 3 * motion.n_joints


@pytest.mark.parametrize(("spec", "want"), [("127.0.0.1:9001", ("127.0.0.1", 9001)), (":7000", ("127.0.0.1", 7000)),
                                            ("show.local", ("show.local", 9000)), ("[::1]:9002", ("::1", 9002)),
                                            ("", ("127.0.0.1", 9000))])
def test_targets(spec, want):
    assert parse_target(spec) == want


@pytest.mark.parametrize("spec", ["host:0", "host:70000", "host:port"])
def test_bad_ports_are_one_clear_error(spec):
    with pytest.raises(ChoreoError, match="the port must be a number from 1 to 65535"):
        parse_target(spec)


def test_unknown_host_is_one_clear_error():
    with pytest.raises(ChoreoError, match=r"cannot send OSC to no-such-host\.invalid:9000"):
        OscSender("no-such-host.invalid", 9000)


def test_bad_fps_refused(osc_receiver):
    sender = OscSender("127.0.0.1", osc_receiver.port)
    try:
        with pytest.raises(ChoreoError, match="fps must be positive"):
            stream_frames(take(2), 0.0, sender)
    finally:
        sender.close()
