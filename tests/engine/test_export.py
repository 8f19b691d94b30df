"""Renderer and exporters: pictures look like a body, every format round-trips."""

from __future__ import annotations

import json

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

import engine.dance.export as export_mod
from engine.core.errors import ChoreoError
from engine.dance.axes import guess_up_axis, motion_up_axis
from engine.dance.export import export_formats, export_motion
from engine.dance.motion import Motion
from engine.dance.render import BACKGROUND, FigureRenderer
from engine.dance.synthetic import synthetic_dancer, synthetic_markers


@pytest.fixture(scope="module")
def clip() -> Motion:
    return synthetic_dancer(24, fps=24.0, rng=2)


def _figure_bbox(img: np.ndarray) -> tuple[int, int, int, int]:
    """Bounding box of saturated (figure) pixels: background, floor and grid are grey-blue."""
    rgb = img.astype(int)
    saturated = (rgb.max(axis=2) - rgb.min(axis=2)) > 60
    ys, xs = np.nonzero(saturated)
    assert ys.size > 200, "nothing drawn"
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def test_render_single_figure_framed() -> None:
    m = synthetic_dancer(300, rng=0)
    r = FigureRenderer(m, size=(320, 240), counter=False)
    assert r.n_frames == 300
    for i in (0, 150, 299):
        img = r.render(i)
        assert img.shape == (240, 320, 3) and img.dtype == np.uint8
        x0, y0, x1, y1 = _figure_bbox(img)
        assert (y1 - y0) > 0.4 * 240
        assert x0 > 0 and y0 > 0 and x1 < 319 and y1 < 239  # not clipped
    assert tuple(r.render(0)[0, -1]) == BACKGROUND


def test_render_variations_and_ghost() -> None:
    takes = [synthetic_dancer(60, rng=s) for s in range(3)]
    r = FigureRenderer(takes, size=(320, 240), ghost=synthetic_dancer(40, rng=9))
    img = r.render(59)  # the shorter ghost holds its last pose
    assert img.shape == (240, 320, 3)
    colours = {tuple(c) for c in img.reshape(-1, 3)}
    assert len(colours) > 30


def test_render_marker_cloud_and_other_up_axes() -> None:
    m = synthetic_markers(60)
    z_up = m.positions[:, :, [0, 2, 1]] * np.array([1, -1, 1], np.float32)
    assert guess_up_axis(m.positions) == "y"
    assert guess_up_axis(z_up) == "z"
    assert guess_up_axis(-m.positions) == "-y"
    img = FigureRenderer(z_up, size=(160, 120)).render(10)
    assert img.shape == (120, 160, 3)
    _figure_bbox(img)


def test_formats_listed() -> None:
    assert set(export_formats()) == {".npy", ".npz", ".csv", ".json", ".bvh", ".glb", ".mp4", ".gif"}


def test_npy_keeps_layout_and_values(tmp_path, clip: Motion) -> None:
    jf = Motion(clip.positions, fps=clip.fps, layout="joints-first")
    out = export_motion(jf, tmp_path / "a.npy")
    data = np.load(out, allow_pickle=False)
    assert data.dtype == np.float32 and data.shape == (23, 24, 3)
    assert np.array_equal(data.transpose(1, 0, 2), clip.positions)
    ff = np.load(export_motion(jf, tmp_path / "b.npy", layout="frames-first"))
    assert np.array_equal(ff, clip.positions)


def test_npz_roundtrip(tmp_path, clip: Motion) -> None:
    out = export_motion(clip, tmp_path / "a.npz", fps=60.0)
    with np.load(out, allow_pickle=False) as z:
        assert np.array_equal(z["positions"], clip.positions)
        assert float(z["fps"]) == 60.0
        assert list(z["joint_names"]) == clip.joint_names
        assert np.array_equal(z["bones"], clip.bones)


def test_csv_roundtrip_exact(tmp_path, clip: Motion) -> None:
    out = export_motion(clip, tmp_path / "a.csv")
    header = out.read_text().splitlines()[0].split(",")
    assert header[:3] == ["hips_x", "hips_y", "hips_z"] and len(header) == 69
    data = np.loadtxt(out, delimiter=",", skiprows=1, dtype=np.float64).astype(np.float32)
    assert np.array_equal(data.reshape(24, 23, 3), clip.positions)


def test_json_for_web(tmp_path, clip: Motion) -> None:
    doc = json.loads(export_motion(clip, tmp_path / "a.json").read_text())
    assert doc["fps"] == 24.0 and doc["joint_names"] == clip.joint_names and doc["up_axis"] == "y"
    frames = np.array(doc["frames"])
    assert frames.shape == (24, 23, 3)
    assert np.abs(frames - clip.positions).max() < 1e-3


def test_mp4_frames_and_progress(tmp_path, clip: Motion) -> None:
    calls = []
    out = export_motion(clip, tmp_path / "a.mp4", size=(161, 121), progress=lambda d, t: calls.append((d, t)))
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    assert meta["size"] == (160, 120)
    assert abs(meta["fps"] - 24.0) < 0.01
    assert sum(1 for _ in reader) == 24
    assert calls[-1] == (24, 24)


def test_gif_frames(tmp_path) -> None:
    takes = [synthetic_dancer(16, fps=30.0, rng=s) for s in range(2)]
    out = export_motion(takes, tmp_path / "a.gif", size=(160, 120))
    with Image.open(out) as im:
        assert im.n_frames == 16
        assert im.size == (160, 120)
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
    assert abs(np.mean(durations) - 1000 / 30) < 2


def test_several_takes_data_formats(tmp_path, clip: Motion) -> None:
    outs = export_motion([clip, clip], tmp_path / "take.npy")
    assert [p.name for p in outs] == ["take_v0.npy", "take_v1.npy"]
    assert all(np.array_equal(np.load(p), clip.positions) for p in outs)


def test_refuses_overwrite_and_unknown_suffix(tmp_path, clip: Motion) -> None:
    target = tmp_path / "a.npy"
    target.write_bytes(b"precious")
    with pytest.raises(ChoreoError, match="already exists"):
        export_motion(clip, target)
    assert target.read_bytes() == b"precious"
    export_motion(clip, target, overwrite=True)
    assert np.array_equal(np.load(target), clip.positions)
    with pytest.raises(ChoreoError, match=r"\.mp4"):
        export_motion(clip, tmp_path / "a.xyz")


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_failed_video_write_keeps_existing_file(tmp_path, clip: Motion, monkeypatch, suffix: str) -> None:
    target = tmp_path / f"a{suffix}"
    target.write_bytes(b"precious")
    real = FigureRenderer.render

    def flaky(self, i):
        if i >= 5:
            raise RuntimeError("encoder crashed")
        return real(self, i)

    monkeypatch.setattr(export_mod.FigureRenderer, "render", flaky)
    with pytest.raises(RuntimeError, match="encoder crashed"):
        export_motion(clip, target, overwrite=True, size=(96, 64))
    assert target.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temp file left behind


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".csv"])
def test_roundtrip_through_load_motion(tmp_path, suffix: str) -> None:
    from engine.dance.motion import load_motion

    m = synthetic_dancer(90, fps=30.0, rng=4)
    m.layout = "joints-first"
    out = export_motion(m, tmp_path / f"a{suffix}")
    try:
        back = load_motion(out, fps=30.0)
    except NotImplementedError:
        pytest.skip("load_motion not written yet")
    assert np.array_equal(back.positions, m.positions)
    if suffix == ".npy":
        assert back.layout == "joints-first"
    else:
        assert back.joint_names == m.joint_names


def test_a_take_stands_the_way_its_source_stands(tmp_path, clip: Motion) -> None:
    """A generated take can fool the up-axis guess (a weak model's dancer drifts and folds); takes copy
    the source's known or guessed up axis, and renderer and exports use it."""
    upside_down = clip.positions * np.array([1.0, -1.0, 1.0], np.float32)  # what the guess would see
    assert guess_up_axis(upside_down) == "-y"
    take = Motion(upside_down, up_axis=motion_up_axis(clip))
    assert motion_up_axis(clip) == "y" and FigureRenderer([take]).up_axis == "y"
    export_motion(take, tmp_path / "t.json")
    assert json.loads((tmp_path / "t.json").read_text())["up_axis"] == "y"
    bvh = Motion(clip.positions, source="dance.bvh")  # BVH's convention, no guessing
    assert motion_up_axis(bvh) == "y" and FigureRenderer([Motion(upside_down, source="x.bvh")]).up_axis == "y"


@pytest.mark.parametrize("fps, step", [(30.0, 1), (50.0, 1), (60.0, 2), (120.0, 3), (240.0, 5)])
def test_gif_rate_never_above_fifty(fps, step) -> None:
    rate, k = export_mod.gif_rate(fps)
    assert k == step and rate <= 50.0 and rate == pytest.approx(fps / step)


def test_gif_of_a_120fps_clip_lasts_as_long_as_the_clip(tmp_path) -> None:
    clip = synthetic_dancer(241, fps=120.0, rng=3)  # 2.008 s
    out = export_motion(clip, tmp_path / "fast.gif", size=(96, 72))
    with Image.open(out) as im:
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
    assert min(durations) >= 20  # browsers play shorter delays slower
    assert sum(durations) / 1000 == pytest.approx(clip.duration, rel=0.01)
    assert im.n_frames == 81  # every 3rd frame: 40 fps


def test_hidden_frames_are_not_drawn() -> None:
    clip = synthetic_dancer(10, fps=10.0, rng=1)
    ghost = clip.positions.copy()
    ghost[5:] = np.nan  # the ghost's clip ended
    r = FigureRenderer([clip], size=(160, 120), ghost=Motion(ghost, bones=clip.bones), counter=False)
    grey = lambda img: int(((img.max(axis=2) - img.min(axis=2)) < 30).sum())  # noqa: E731
    shown, gone = r.render(2), r.render(7)
    bg = FigureRenderer([clip], size=(160, 120), counter=False)
    assert grey(shown) > grey(gone)  # the ghost's grey pixels are gone once it has left
    assert np.isfinite(r._world[0]).all() and bg.n_frames == r.n_frames
