"""What the stage shows and a video writes (issue 14): one rule for span, ghost alignment, lead-in and legend."""

from __future__ import annotations

import numpy as np
import pytest

from engine.dance.motion import Motion
from engine.dance.render import GHOST, PALETTE
from engine.dance.synthetic import synthetic_dancer, synthetic_markers
from engine.session.showing import SOURCE, Showing
from engine.session.state import Fit, Take
from engine.session.worker import GenerationParams


@pytest.fixture(scope="module")
def clip() -> Motion:
    return synthetic_dancer(frames=100, fps=30.0, rng=1)


def _take(clip: Motion, frames: int = 40, made: int | None = None, seed_frame: int = 80, variations: int = 2,
          look_back: int = 10, status: str = "done") -> Take:
    rng = np.random.default_rng(0)
    pos = rng.normal(size=(variations, frames, clip.n_joints, 3)).astype(np.float32)
    made = frames if made is None else made
    params = GenerationParams(frames=frames, variations=variations, seed_frame=seed_frame, look_back=look_back)
    return Take(7, pos[:, :made], params, status=status, seed=clip)


def test_the_clip_alone(clip):
    show = Showing.of_clip(clip)
    assert show.length == clip.n_frames and [f.role for f in show.figures] == ["clip"]
    assert show.figures[0].color == SOURCE
    np.testing.assert_array_equal(show.poses(42)[0], clip.positions[42])
    assert show.source_frame(42) == 42 and show.legend(3) == [(show.figures[0].name, SOURCE)]


def test_a_take_spans_itself_with_the_ghost_aligned_to_its_moment(clip):
    take = _take(clip)  # continues from frame 80 of a 100-frame clip, 40 frames long
    show = Showing.of_take(take, 3)
    assert show.length == 40  # the take's span: no clip left over after it
    assert [f.role for f in show.figures] == ["ghost", "take", "take"]
    assert [f.color for f in show.figures] == [GHOST, PALETTE[0], PALETTE[1]]
    ghost, _v0, v1 = show.poses(5)
    np.testing.assert_array_equal(ghost, clip.positions[85])  # what the dancer did next, not frame 5
    np.testing.assert_array_equal(v1, take.positions[1, 5])
    # the clip ends at take frame 20: the ghost leaves the stage and the legend says so
    assert show.poses(25)[0] is None and show.source_frame(25) is None
    names = [n for n, _ in show.legend(25)]
    assert names == ["take 3 · 1", "take 3 · 2"]
    assert next(n for n, _ in show.legend(5)).endswith("(ghost)")
    assert show.take_region == (0, 40, 40) and show.position_of_source_frame(85) == 5


def test_the_lead_in_plays_the_moment_the_take_continues_from(clip):
    show = Showing.of_take(_take(clip, look_back=10), 1, lead_in=True)
    assert show.length == 50 and show.lead_in == 10 and show.take_region == (10, 40, 40)
    ghost, *takes = show.poses(0)
    np.testing.assert_array_equal(ghost, clip.positions[70])  # the look-back the model watched
    assert all(p is None for p in takes)
    assert "lead-in" in show.legend(0)[0][0] and show.phase(0) == "lead-in" and show.phase(10) == "take"
    assert "lead-in" in show.readout(3) and "take 1" in show.readout(12)


def test_a_take_being_made_waits_at_its_last_frame_and_says_so(clip):
    take = _take(clip, made=12, status="generating")
    show = Showing.of_take(take, 1)
    assert show.length == 40 and show.take_region == (0, 40, 12) and show.generating
    np.testing.assert_array_equal(show.poses(30)[1], take.positions[0, 11])
    assert all("being made" in n for n, _ in show.legend(30)[1:])
    stopped = Showing.of_take(_take(clip, made=12, status="cancelled"), 1)
    assert stopped.length == 12  # a stopped take is as long as what was made


def test_tracks_are_the_poses_with_nan_where_off_stage(clip):
    show = Showing.of_take(_take(clip), 1, lead_in=True)
    tracks = show.tracks()
    for t in (0, 15, 35, 49):
        for track, pose in zip(tracks, show.poses(t), strict=True):
            if pose is None:
                assert np.isnan(track[t]).all()
            else:
                np.testing.assert_array_equal(track[t], pose)


def test_a_take_of_another_body_keeps_its_own_bones(clip):
    take = _take(clip)
    other = synthetic_markers(frames=50, n_markers=55)
    show = Showing.of_take(take, 1)
    assert all(f.n_joints == clip.n_joints for f in show.figures)
    assert show.reference is clip and other.n_joints != clip.n_joints


def test_fit_says_what_does_not_fit_and_what_to_do():
    assert Fit(23, 23, "a.bvh").ok and Fit(None, 55).ok and Fit(23, None).ok
    bad = Fit(38, 55, "markers.npy")
    assert not bad.ok
    assert "38" in bad.message and "55" in bad.message and "markers.npy" in bad.message
    assert "train a model on it" in bad.message and "load a model" in bad.message
