"""Corpora: a folder of clips in any format, indexed, read lazily, one skeleton, dealt out to processes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import ChoreoError, DanceConfig, TrainConfig, train
from engine.core.distributed import Team
from engine.dance import readers
from engine.dance.corpus import Corpus, LazyClips, train_corpus
from engine.dance.motion import load_motion, load_motions
from engine.dance.representation import MotionCodec
from engine.dance.synthetic import synthetic_dancer, synthetic_markers
from engine.dance.task import strided_clips


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    """Five dancer clips in three formats, two folders deep, plus a hidden folder that must be skipped."""
    root = tmp_path_factory.mktemp("corpus")
    (root / "a" / "b").mkdir(parents=True)
    (root / ".hidden").mkdir()
    dancers = [synthetic_dancer(frames=120 + 30 * i, fps=30.0, rng=i) for i in range(5)]
    np.save(root / "d0.npy", dancers[0].positions)
    np.save(root / "a" / "d1.npy", dancers[1].positions.transpose(1, 0, 2))  # joints-first
    np.savez(root / "a" / "d2.npz", positions=dancers[2].positions, fps=np.array(30.0),
             joint_names=np.array(dancers[2].joint_names))
    header = ",".join(f"{n}_{a}" for n in dancers[3].joint_names for a in "xyz")
    np.savetxt(root / "a" / "b" / "d3.csv", dancers[3].positions.reshape(len(dancers[3].positions), -1),
               delimiter=",", header=header, comments="")
    np.save(root / "a" / "b" / "d4.npy", dancers[4].positions)
    np.save(root / ".hidden" / "skip.npy", synthetic_markers(frames=50, n_markers=7).positions)
    return root


def test_a_folder_is_indexed_recursively_in_any_format(corpus_dir):
    corpus = Corpus.index(corpus_dir)
    names = [Path(c.path).relative_to(corpus_dir).as_posix() for c in corpus.clips]
    assert names == ["a/b/d3.csv", "a/b/d4.npy", "a/d1.npy", "a/d2.npz", "d0.npy"]  # sorted, hidden skipped
    assert [c.frames for c in corpus.clips] == [210, 240, 150, 180, 120]
    assert corpus.n_joints == 23 and corpus.n_frames == 900 and corpus.seconds == pytest.approx(30.0)
    assert corpus.clips[3].names[0] == "hips" and corpus.clips[4].names == ()  # named where the file names them


def test_different_skeletons_are_refused_with_the_groups_named(tmp_path, shared_data):
    np.save(tmp_path / "dancer.npy", synthetic_dancer(frames=100).positions)
    np.save(tmp_path / "dancer2.npy", synthetic_dancer(frames=100, rng=2).positions)
    (tmp_path / "cmu").mkdir()
    (tmp_path / "cmu" / "clip.bvh").write_bytes((shared_data / "cmu_05_01_modern_dance.bvh").read_bytes())
    with pytest.raises(ChoreoError) as err:
        Corpus.index(tmp_path)
    text = str(err.value)
    assert "\n" not in text and "2 different skeletons" in text
    assert "23 joints" in text and "38 joints" in text and "(2 clips)" in text and "clip.bvh" in text


def test_same_joint_count_with_other_joint_names_is_another_skeleton(tmp_path):
    m = synthetic_dancer(frames=60)
    np.savez(tmp_path / "a.npz", positions=m.positions, joint_names=np.array(m.joint_names))
    np.savez(tmp_path / "b.npz", positions=m.positions, joint_names=np.array(m.joint_names[::-1]))
    np.save(tmp_path / "c.npy", m.positions)  # unnamed: can only be compared by joint count
    with pytest.raises(ChoreoError, match="2 different skeletons"):
        Corpus.index(tmp_path)
    (tmp_path / "b.npz").unlink()
    assert len(Corpus.index(tmp_path).clips) == 2


def test_codec_is_one_pass_over_every_clip(corpus_dir):
    corpus = Corpus.index(corpus_dir)
    want = MotionCodec.fit(strided_clips(load_motions(corpus_dir), 30.0))
    got = corpus.codec(30.0, Team())
    for key in ("in_mean", "in_std", "out_mean", "out_std", "stage_lo", "stage_hi"):
        assert np.array_equal(getattr(got, key), getattr(want, key)), key


def test_clips_are_loaded_when_asked_for_and_npy_is_memory_mapped(corpus_dir, monkeypatch):
    monkeypatch.setattr(readers, "_MMAP_BYTES", 0)  # every .npy counts as large
    corpus = Corpus.index(corpus_dir)
    assert corpus._held[0] == 4  # the index let every clip go but the last it read
    clips = LazyClips(corpus, corpus.pieces(30.0))
    d4 = clips[1]
    assert isinstance(d4.base, np.memmap) or isinstance(getattr(d4.base, "base", None), np.memmap)
    assert np.array_equal(d4, load_motion(corpus.clips[1].path).positions)
    assert corpus._held[0] == 1  # one file held at a time


def test_a_one_clip_corpus_is_read_once(tmp_path, monkeypatch):
    np.save(tmp_path / "one.npy", synthetic_dancer(frames=200).positions)
    reads = []
    monkeypatch.setattr("engine.dance.corpus.load_motion", lambda *a, **k: reads.append(a) or load_motion(*a, **k))
    corpus = Corpus.index(tmp_path)
    train_corpus(corpus, model_config=DanceConfig(hidden=8, layers=1, mixtures=2),
                 config=TrainConfig(epochs=0.5, batch=4, seq_len=16, device="cpu", precision="fp32"))
    assert len(reads) == 1  # index, statistics, seed stretch and training data: one read


def test_faster_clips_become_one_piece_per_phase(tmp_path):
    np.savez(tmp_path / "fast.npz", positions=synthetic_dancer(frames=121, fps=120.0).positions, fps=np.array(120.0))
    corpus = Corpus.index(tmp_path)
    pieces = corpus.pieces(30.0)
    assert [(p.phase, p.step, p.frames) for p in pieces] == [(0, 4, 31), (1, 4, 30), (2, 4, 30), (3, 4, 30)]
    want = strided_clips([load_motion(tmp_path / "fast.npz")], 30.0)
    assert all(np.array_equal(a, b) for a, b in zip(LazyClips(corpus, pieces), want, strict=True))


@pytest.mark.parametrize("world", [2, 3])
def test_shards_are_disjoint_balanced_and_cover_the_corpus(corpus_dir, world):
    corpus = Corpus.index(corpus_dir)
    shards = [corpus.shard(30.0, Team(rank, world)) for rank in range(world)]
    frames = [sum(p.frames for p in s) for s in shards]
    assert sum(frames) == sum(p.frames for p in corpus.pieces(30.0))
    longest = max(p.frames for s in shards for p in s)
    assert max(frames) - min(frames) <= longest  # longest-first to the least loaded
    covered = sorted((p.clip, i) for s in shards for p in s for i in range(p.start, p.stop))
    assert len(covered) == len(set(covered))
    assert all(s == sorted(s) for s in shards)  # file order: each file read once


def test_a_piece_longer_than_a_share_is_cut(tmp_path):
    np.save(tmp_path / "long.npy", synthetic_dancer(frames=600).positions)
    np.save(tmp_path / "short.npy", synthetic_dancer(frames=100, rng=1).positions)
    corpus = Corpus.index(tmp_path)
    shards = [corpus.shard(30.0, Team(rank, 2)) for rank in range(2)]
    frames = [sum(p.frames for p in s) for s in shards]
    assert sum(frames) == 700 and abs(frames[0] - frames[1]) <= 100
    assert any(p.start > 0 for s in shards for p in s)  # the long clip was cut
    with pytest.raises(ChoreoError, match="too little data for 4 processes"):
        Corpus([corpus.clips[1]]).shard(30.0, Team(0, 4))  # 99 frames: at most 3 parts of >= 32 frames


def test_alone_the_corpus_trains_exactly_like_train(corpus_dir):
    config = TrainConfig(epochs=1, batch=4, seq_len=16, val_every=3, device="cpu", precision="fp32")
    model_config = DanceConfig(hidden=8, layers=1, mixtures=2)
    corpus = Corpus.index(corpus_dir)
    ours = train_corpus(corpus, model_config=model_config, config=config)
    theirs = train(load_motions([c.path for c in corpus.clips]), model_config=model_config, config=config)
    assert ours.history == theirs.history and ours.world_size == 1
