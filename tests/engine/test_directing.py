"""DanceGenerator directed: keyframes reached, kept joints held, floor paths followed, part temperatures."""

from __future__ import annotations

import numpy as np
import pytest

from engine import DanceConfig, DanceGenerator, DanceModel, TrainConfig, train
from engine.dance import directing
from engine.dance.direction import Direction, Keep, Keyframe, PartTemperature
from engine.dance.held import guard_free, held_projector
from engine.dance.parts import body_parts
from engine.dance.pose_guard import PoseGuard
from engine.dance.skeleton import bone_lengths, frame_speeds
from engine.dance.synthetic import synthetic_dancer


def rel(x: np.ndarray) -> np.ndarray:
    return x - x.mean(-2, keepdims=True)


@pytest.fixture(scope="module")
def model(tiny_dance):
    return DanceModel.load(tiny_dance[0])


@pytest.fixture(scope="module")
def fast(tmp_path_factory):
    """A tiny model of 120 fps data: four source frames per network step."""
    motion = synthetic_dancer(frames=960, fps=120.0, rng=1)
    out = tmp_path_factory.mktemp("fast") / "fast.pt"
    train(motion, out, model_config=DanceConfig(hidden=16, layers=1, mixtures=2),
          config=TrainConfig(epochs=1, batch=8, seq_len=32, val_every=5, device="cpu", precision="fp32"))
    model = DanceModel.load(out)
    assert model.config.frame_step == 4
    return model, motion


def test_no_direction_dances_as_before(model):
    plain = DanceGenerator(model, seed_frame=60, rng=3).generate(40)
    empty = DanceGenerator(model, seed_frame=60, rng=3, direction=Direction()).generate(40)
    assert np.array_equal(plain, empty)


@pytest.mark.parametrize("which", ["slow", "fast"])
def test_keyframes_are_reached_and_the_take_carries_on(which, model, tiny_dance, fast):
    m, motion = (model, tiny_dance[1]) if which == "slow" else fast
    data = motion.positions
    height = float(np.median(np.ptp(data[..., 1], axis=1)))
    at = [70, 151] if which == "slow" else [130, 262]  # 262: between two network steps of the fast model
    kfs = tuple(Keyframe.of(data, f, t) for f, t in zip([400, 30], at, strict=True))
    take = DanceGenerator(m, seed=motion, seed_frame=100, rng=0, direction=Direction(keyframes=kfs)).generate(320)
    for kf in kfs:
        err = np.linalg.norm(rel(take[kf.frame]) - kf.array, axis=-1).mean() / height
        assert err < 1e-4
        later = np.linalg.norm(rel(take[kf.frame + 40]) - kf.array, axis=-1).mean() / height
        assert later > 1e-3  # and dances on
    assert np.allclose(bone_lengths(take, m.bones.numpy()), m.bone_lengths.numpy()[None], rtol=1e-4)
    p99 = np.percentile(frame_speeds(data), 99)
    near = max(frame_speeds(take[kf.frame - 5 : kf.frame + 6]).max() for kf in kfs)
    assert near < 1.5 * p99  # it settles into the pose, it does not jump there (a jump is many times p99)


def test_keyframe_approach_forks_after_the_first_frame_and_keeps_one_candidate(model, tiny_dance, monkeypatch):
    motion = tiny_dance[1]
    calls = []
    real = directing.Director._rollout

    def spy(self, frame):
        calls.append((self.j, frame, len(self.gen._h)))
        real(self, frame)
        assert len(self.gen._h) == 2  # back to one row per variation

    monkeypatch.setattr(directing.Director, "_rollout", spy)
    kfs = (Keyframe.of(motion.positions, 300, 20), Keyframe.of(motion.positions, 10, 90))
    gen = DanceGenerator(model, seed=motion, seed_frame=100, rng=0, variations=2, direction=Direction(keyframes=kfs))
    takes = gen.generate(120)
    assert [c[1] for c in calls] == [20, 90] and all(j >= 1 for j, _, _ in calls)
    for v in range(2):
        assert np.allclose(rel(takes[v, 20]), kfs[0].array, atol=1e-5)
    again = DanceGenerator(model, seed=motion, seed_frame=100, rng=0, variations=2,
                           direction=Direction(keyframes=kfs)).generate(120)
    assert np.array_equal(takes, again)  # reproducible


@pytest.mark.parametrize("which", ["slow", "fast"])
def test_kept_joints_follow_the_reference_and_the_rest_is_invented(which, model, tiny_dance, fast):
    m, motion = (model, tiny_dance[1]) if which == "slow" else fast
    arms = body_parts(motion).groups["arms"]
    take = DanceGenerator(m, seed=motion, seed_frame=100, rng=0,
                          direction=Direction(keep=(Keep(arms, "", None, "arms"),))).generate(200)
    ref = motion.positions[100:300]
    height = float(np.median(np.ptp(motion.positions[..., 1], axis=1)))
    err = np.linalg.norm(rel(take)[:, arms] - rel(ref)[:, arms], axis=-1).mean(1) / height
    assert err.mean() < 0.005 and err.max() < 0.02
    if which == "fast":
        return
    # the rest is danced given the held arms: nearer to what the body did with those arms than a free take
    legs = list(body_parts(motion).groups["legs"])
    free = DanceGenerator(m, seed=motion, seed_frame=100, rng=0).generate(200)
    given = np.linalg.norm(rel(take)[:, legs] - rel(ref)[:, legs], axis=-1).mean()
    assert given < np.linalg.norm(rel(free)[:, legs] - rel(ref)[:, legs], axis=-1).mean()
    assert np.allclose(bone_lengths(take, m.bones.numpy()), m.bone_lengths.numpy()[None], rtol=1e-4)


def test_kept_joints_from_another_motion_end_with_it(model, tiny_dance):
    motion = tiny_dance[1]
    other = synthetic_dancer(frames=80, rng=5).positions
    legs = list(body_parts(motion).groups["legs"])
    take = DanceGenerator(model, seed=motion, seed_frame=100, rng=0, references={"other": other},
                          direction=Direction(keep=(Keep(legs, "other", 20),))).generate(120)
    err = np.linalg.norm(rel(take[:60])[:, legs] - rel(other[20:80])[:, legs], axis=-1)
    assert err.mean() < 0.01
    assert np.linalg.norm(rel(take[100:])[:, legs] - rel(other[-1])[legs], axis=-1).mean() > 0.01  # free again


def test_the_centre_follows_a_floor_path(model, tiny_dance, fast):
    for m, motion in ((model, tiny_dance[1]), fast):
        start = motion.positions[99].mean(0)[[0, 2]]
        n = 150
        path = start + np.stack([np.linspace(0, 1.5, n), np.sin(np.linspace(0, 3, n))], 1)
        take = DanceGenerator(m, seed=motion, seed_frame=100, rng=0,
                              direction=Direction(path=tuple(map(tuple, path)))).generate(n + 30)
        assert np.allclose(take[:n].mean(1)[:, [0, 2]], path, atol=1e-4)
        # off the path's end the dancer travels on its own again
        assert np.isfinite(take[n:]).all()


def test_a_path_away_from_the_dancer_is_joined_smoothly(model, tiny_dance):
    motion = tiny_dance[1]
    here = motion.positions[99].mean(0)[[0, 2]]
    path = np.repeat((here + np.array([1.0, 0.0]))[None], 120, 0)
    take = DanceGenerator(model, seed=motion, seed_frame=100, rng=0,
                          direction=Direction(path=tuple(map(tuple, path)))).generate(120)
    centre = take.mean(1)[:, [0, 2]]
    assert np.linalg.norm(centre[0] - here) < 0.1  # no jump at the start
    assert np.allclose(centre[-1], path[-1], atol=1e-4)  # on the path once joined
    assert np.abs(np.diff(centre, axis=0)).max() < 0.1


def test_part_temperatures_change_each_parts_speed(model, tiny_dance):
    motion = tiny_dance[1]
    parts = body_parts(motion)
    arms, legs = parts.groups["arms"], parts.groups["legs"]

    def speeds(temps):
        d = Direction(part_temperatures=tuple(PartTemperature(j, t) for j, t in temps))
        s = []
        for rng in range(3):
            t = DanceGenerator(model, seed=motion, seed_frame=100, rng=rng, direction=d).generate(150)
            s.append((frame_speeds(t[:, list(arms)]).mean(), frame_speeds(t[:, list(legs)]).mean()))
        return np.mean(s, 0)

    plain = speeds(())
    hot_arms = speeds(((arms, 3.0), (legs, 0.3)))
    assert hot_arms[0] > 1.1 * plain[0] and hot_arms[1] < 0.9 * plain[1]


def test_held_projector_moves_only_free_joints():
    bones = np.array([[0, 1], [1, 2], [2, 3], [1, 4]])
    lengths = np.array([1.0, 1.0, 0.5, 2.0])
    pose = np.random.default_rng(0).normal(size=(2, 5, 3))
    held = np.array([False, False, True, True, False])
    out = held_projector(bones, lengths, held).project(pose)
    assert np.array_equal(out[:, held], pose[:, held])
    got = bone_lengths(out, bones)
    assert np.allclose(got[:, [0, 1, 3]], lengths[[0, 1, 3]])  # the bone between two held joints stays as it is


def test_guard_free_completes_the_free_joints_from_the_bank():
    rng = np.random.default_rng(1)
    bank = rng.normal(size=(40, 6 * 3))
    guard = PoseGuard(bank.astype(np.float32), radius=0.05, up=1)
    pose = bank[7].reshape(1, 6, 3).copy()
    pose -= pose.mean(1, keepdims=True)
    held = np.array([True, True, True, False, False, False])
    moved = pose.copy()
    moved[:, ~held] += 1.0  # free joints far from any pose the bank knows with these held joints
    out, _ = guard_free(guard, moved, held)
    assert np.array_equal(out[:, held], moved[:, held])
    assert np.linalg.norm(out - pose) < 0.3 < np.linalg.norm(moved - pose)
