"""Issue 14, item 2 (and the export folder of item 8): an export writes exactly what the stage shows."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

pytest.importorskip("PyQt6")
pytest.importorskip("vispy")

from engine.dance.render import GHOST
from studio.qt import files


def _export(qtbot, win, monkeypatch, path: Path, what: str = "take") -> None:
    monkeypatch.setattr(files, "ask_export", lambda *_a, **_k: files.ExportChoice(path, what))
    job = win.export_dialog()
    assert job is not None
    qtbot.waitUntil(lambda: not job.running and not win.last_message.startswith("Exporting"), timeout=60000)
    assert win.last_message.startswith("Exported"), win.last_message


def _ghost_pixels(img: np.ndarray, rgb=GHOST) -> np.ndarray:
    """Pixels in the ghost's grey (dots and shaded bones), away from the video's frame counter."""
    img = img.astype(int)
    near = (np.abs(img - np.array(rgb)) < 28).all(-1) & ((img.max(-1) - img.min(-1)) < 30)
    near[:30] = False
    return near


def _coral_pixels(img: np.ndarray) -> np.ndarray:
    img = img.astype(int)
    return (img[..., 0] > 150) & (img[..., 0] - img[..., 2] > 70)


def _centre_x(mask: np.ndarray) -> float:
    return float(np.nonzero(mask)[1].mean())


def test_a_video_of_a_take_is_frame_for_frame_what_the_stage_plays(qtbot, take_on_stage, tmp_path, monkeypatch,
                                                                   stage_pixels):
    """A 40-frame take continuing from frame 580 of a 600-frame clip: the ghost runs out at take frame 20."""
    win, make = take_on_stage
    take = make(40, seed_frame=580)
    clip = win.session.motion
    out = tmp_path / "take.mp4"
    _export(qtbot, win, monkeypatch, out)
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    w, h = meta["size"]
    video = [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader]
    assert abs(meta["fps"] - clip.fps) < 0.01
    assert len(video) == win.timeline.total == 40  # the take's span, no frozen take after it

    show = win.stage.showing
    renderer = show.renderer((w, h))
    for t in (3, 15, 25, 39):
        # the figures on stage at t: the dancer's real continuation beside the take's frame t
        poses = show.poses(t)
        np.testing.assert_array_equal(poses[1], take.positions[0, t])
        if t < 20:
            np.testing.assert_array_equal(poses[0], clip.positions[580 + t])
        else:
            assert poses[0] is None  # the clip has ended: the ghost has left the stage
        # the video's frame t is a picture of exactly those figures
        assert np.abs(video[t].astype(int) - renderer.render(t).astype(int)).mean() < 3.0

        win.timeline.pause()
        win.timeline.set_frame(t, user=True)
        on_stage = stage_pixels(win)
        stage_ghost, video_ghost = _ghost_pixels(on_stage), _ghost_pixels(video[t])
        stage_take, video_take = _coral_pixels(on_stage), _coral_pixels(video[t])
        assert stage_take.sum() > 500 and video_take.sum() > 500
        if t < 20:  # same figures: the ghost on the left of the take in both
            assert stage_ghost.sum() > 300 and video_ghost.sum() > 300
            assert _centre_x(stage_ghost) < _centre_x(stage_take) and _centre_x(video_ghost) < _centre_x(video_take)
        else:
            assert stage_ghost.sum() < 15 and video_ghost.sum() < 15
        assert [n for n, _ in show.legend(t)] == (["demo dancer (ghost)", "take 1"] if t < 20 else ["take 1"])


def test_a_video_with_the_lead_in_starts_at_the_moment_it_continues_from(qtbot, take_on_stage, tmp_path,
                                                                        monkeypatch):
    win, make = take_on_stage
    take = make(20, seed_frame=100)
    win.lead_in_action.trigger()
    qtbot.waitUntil(lambda: win.stage.showing.lead_in > 0, timeout=3000)
    lead = take.params.look_back
    assert win.timeline.total == lead + 20
    out = tmp_path / "lead.gif"
    _export(qtbot, win, monkeypatch, out)
    with Image.open(out) as im:
        assert im.n_frames == lead + 20
    np.testing.assert_array_equal(win.stage.showing.poses(0)[0], win.session.motion.positions[100 - lead])


def test_a_gif_of_a_120fps_clip_lasts_as_long_as_the_clip(qtbot, win, shared_data, tmp_path, monkeypatch):
    job = win.open_path(shared_data / "cmu_05_01_modern_dance.bvh", play=False)
    qtbot.waitUntil(lambda: not job.running and win.session.motion is not None, timeout=20000)
    clip = win.session.motion
    assert clip.fps == 120
    out = tmp_path / "cmu.gif"
    _export(qtbot, win, monkeypatch, out, what="motion")
    with Image.open(out) as im:
        delays = []
        for i in range(im.n_frames):
            im.seek(i)
            delays.append(im.info["duration"])
    assert min(delays) >= 20
    assert sum(delays) / 1000 == pytest.approx(clip.n_frames / clip.fps, rel=0.01)
    assert "40 fps" in win.last_message and "3rd frame" in win.last_message


def test_exported_files_get_the_usual_permissions(qtbot, take_on_stage, tmp_path, monkeypatch):
    win, make = take_on_stage
    make(10)
    mask = os.umask(0o022)
    os.umask(mask)
    (tmp_path / "plain.txt").write_text("a file made the usual way")
    usual = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    for name in ("take.mp4", "take.gif", "take.npy"):
        _export(qtbot, win, monkeypatch, tmp_path / name)
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == usual == 0o666 & ~mask, name


def test_the_export_dialog_remembers_its_folder_and_format(qtbot, take_on_stage, tmp_path, monkeypatch):
    win, make = take_on_stage
    make(10)
    proposed = []

    def ask(_w, _has_take, _v, default=None):
        proposed.append(default)
        return files.ExportChoice(tmp_path / "mine.gif", "take") if len(proposed) == 1 else None

    monkeypatch.setattr(files, "ask_export", ask)
    job = win.export_dialog()
    qtbot.waitUntil(lambda: not job.running, timeout=30000)
    win.export_dialog()
    assert proposed[0].parent == Path.home()
    assert proposed[1].parent == tmp_path and proposed[1].suffix == ".gif" and proposed[1].stem == "take1"
    dialog = files.ExportDialog(win, True, 1, proposed[1])
    assert dialog.choice().path == proposed[1] and dialog.fmt.currentData() == ".gif"
