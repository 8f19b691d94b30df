"""Recipes: plain JSON that can grow, checked when read, and regeneration bit for bit on the CPU.

Regeneration equals the frames the session's worker made, for many settings: if a change to
generation ever breaks determinism (threads, an unseeded draw, state kept between takes), these
fail loudly.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import DanceConfig, TrainConfig, train
from engine.core.errors import ChoreoError
from engine.dance.direction import Keep, Keyframe, PartTemperature
from engine.dance.motion import load_motion
from engine.dance.synthetic import synthetic_dancer
from engine.session import GenerationParams, Recipe, Session, regenerate
from engine.session.sources import clip_fingerprint, model_fingerprint, model_tree


def test_recipe_round_trips_through_json_and_keeps_fields_it_does_not_know():
    r = Recipe(GenerationParams(0.7, 0.4, 2, 48, 12345, 90, 3, 100, rigid=False), "sha256:" + "a" * 64,
               "sha256:" + "b" * 64, "cpu")
    data = json.loads(json.dumps(r.to_json()))
    assert data["version"] == 1 and data["temperature"] == 0.7 and data["mixture"] == 2 and data["rigid"] is False
    assert Recipe.from_json(data) == r
    future = {**data, "lighting_cues": [{"frame": 30, "source": "sha256:" + "c" * 64}], "music": {"beat_align": True}}
    again = Recipe.from_json(future)
    assert again.params == r.params and dict(again.extra) == {"lighting_cues": future["lighting_cues"],
                                                              "music": future["music"]}
    assert again.to_json() == future  # written back unchanged


@pytest.mark.parametrize(("key", "value", "words"), [
    ("temperature", float("nan"), "finite"), ("temperature", 99.0, "temperature"), ("frames", 10**12, "frames"),
    ("frames", True, "frames"), ("variations", 0, "variations"), ("mixture", "most", "mixture"),
    ("seed_frame", -3, "seed_frame"), ("rigid", "yes", "rigid"), ("look_back", 1.5, "look_back"),
    ("model", 7, "model"), ("version", 0, "version"),
])
def test_recipe_values_are_checked(key, value, words):
    data = {**Recipe().to_json(), key: value}
    with pytest.raises(ChoreoError, match=words):
        Recipe.from_json(data)


@pytest.fixture(scope="module")
def fast_model():
    """A tiny model of a 120 fps dancer: it steps every 4th frame and takes are interpolated back."""
    clip = synthetic_dancer(frames=480, fps=120.0, rng=3)
    model = train(clip, model_config=DanceConfig(hidden=16, layers=1, mixtures=3),
                  config=TrainConfig(epochs=1, batch=8, seq_len=32, val_every=5, device="cpu",
                                     precision="fp32")).model
    return clip, model


SETTINGS = [
    GenerationParams(frames=40),
    GenerationParams(temperature=0.3, sigma_temperature=0.5, rng=7, frames=33, variations=3),
    GenerationParams(mixture="argmax", look_back=9, seed_frame=120, frames=25, rng=2),
    GenerationParams(mixture=1, temperature=2.5, frames=30, rigid=False, rng=11),
    GenerationParams(temperature=0.0, sigma_temperature=0.0, frames=20, seed_frame=5),
]


@pytest.mark.parametrize("which", ["30 fps", "120 fps"])
def test_regenerate_equals_the_workers_take_bit_for_bit(which, dancer, tiny_model, fast_model):
    clip, model = (dancer, tiny_model) if which == "30 fps" else fast_model
    with Session(device="cpu") as s:
        s.load(clip)
        s.load_model(model)
        made = []
        for p in SETTINGS:
            take = s.generate(p)
            assert s.wait_idle(60)
            made.append(s.take_by_id(take.id))
        made.append(s.generate(GenerationParams(frames=20, rng=5), seed=model.seed))  # the model's own seed
        assert s.wait_idle(60)
        made[-1] = s.take_by_id(made[-1].id)
    assert made[-1].recipe.seed_clip is None
    for take in made:
        assert take.status == "done" and take.recipe.model == model_fingerprint(model)
        again = regenerate(take.recipe, model, clip if take.recipe.seed_clip else None)
        assert again.dtype == np.float32 and again.shape == take.positions.shape
        assert np.array_equal(again, take.positions), f"{take.recipe.describe()}: regeneration differs"


def test_regenerate_refuses_another_model_clip_or_unknown_fields(dancer, tiny_model, fast_model):
    r = Recipe(GenerationParams(frames=5), model_fingerprint(tiny_model), clip_fingerprint(dancer))
    with pytest.raises(ChoreoError, match="not the model"):
        regenerate(r, fast_model[1], dancer)
    with pytest.raises(ChoreoError, match="not the clip"):
        regenerate(r, tiny_model, synthetic_dancer(frames=300, rng=9))
    future = Recipe.from_json({**r.to_json(), "lighting_cues": []})
    with pytest.raises(ChoreoError, match=r"lighting_cues.*stored frames are exact"):
        regenerate(future, tiny_model, dancer)


def test_fingerprints_follow_content_not_files(tmp_path, bvh_piece, tiny_model):
    clip_path, model_path = bvh_piece
    a, b = load_motion(clip_path), load_motion(clip_path)
    assert a is not b and clip_fingerprint(a) == clip_fingerprint(b)
    moved = tmp_path / "elsewhere.bvh"
    moved.write_bytes(clip_path.read_bytes())
    assert clip_fingerprint(load_motion(moved)) == clip_fingerprint(a)
    nudged = load_motion(clip_path)
    nudged.positions[5, 2, 1] += 1e-3
    assert clip_fingerprint(nudged) != clip_fingerprint(a)

    from engine.dance.model import DanceModel

    m1, m2 = DanceModel.load(model_path), DanceModel.load(model_path)
    assert model_fingerprint(m1) == model_fingerprint(m2) == model_tree(m1).fingerprint()
    tiny_model.save(tmp_path / "copy.pt")  # a model in memory, and the same model read back
    assert model_fingerprint(DanceModel.load(tmp_path / "copy.pt")) == model_fingerprint(tiny_model)
    assert model_fingerprint(model_tree(tiny_model).load()) == model_fingerprint(tiny_model)
    assert model_fingerprint(tiny_model) != model_fingerprint(m1)


def test_a_take_fitted_to_a_songs_beats_regenerates_with_that_song(dancer, tiny_model, drum_song):
    from engine.dance.music import load_song

    with Session(device="cpu") as s:
        s.load(dancer)
        s.load_model(tiny_model)
        song = s.load_song(drum_song)
        s.duration, s.variations, s.beat_align = 2.0, 2, True
        take = s.generate()
        assert s.wait_idle(60)
        take = s.take_by_id(take.id)
    p = take.params
    assert take.status == "done" and p.beat_align and p.song_sha256 == song.sha256
    again = regenerate(take.recipe, tiny_model, dancer, load_song(drum_song))
    assert np.array_equal(again, take.positions)
    with pytest.raises(ChoreoError, match=r"fitted to the beats of loop\.flac"):
        regenerate(take.recipe, tiny_model, dancer)


def test_a_directed_take_round_trips_and_regenerates_bit_for_bit(dancer, tiny_model):
    """Keyframes, kept joints, a floor path and part temperatures are part of the recipe."""
    centre = dancer.positions[100:140].mean(1)
    path = tuple((float(x), float(z)) for x, z in centre[:, [0, 2]] + 0.05)
    p = GenerationParams(frames=40, rng=4, keyframes=(Keyframe.of(dancer.positions, 60, 25, "clip"),),
                         keep=(Keep((0, 1, 2), "", None, "three joints"),), path=path,
                         part_temperatures=(PartTemperature((3, 4), 2.0, "two joints"),))
    with Session(device="cpu") as s:
        s.load(dancer)
        s.load_model(tiny_model)
        take = s.generate(p, seed=dancer)
        assert s.wait_idle(60)
        take = s.take_by_id(take.id)
    data = json.loads(json.dumps(take.recipe.to_json()))
    assert data["keep"][0]["joints"] == [0, 1, 2] and len(data["path"]) == 40
    recipe = Recipe.from_json(data)
    assert recipe == take.recipe
    assert np.array_equal(regenerate(recipe, tiny_model, dancer), take.positions)
    data["path"][3] = [float("nan"), 0.0]
    with pytest.raises(ChoreoError, match="path"):
        Recipe.from_json(data)
