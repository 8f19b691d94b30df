"""The studio with a song: waveform and beat ticks under the timeline, Fit to song, the take's Beat Align
Score, and the song playing with the dancer (the playhead follows the audio clock within a frame)."""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("PyQt6")
pytest.importorskip("vispy")

from engine.session import Session
from studio.qt.window import MainWindow


@pytest.fixture
def win(qtbot, dancer, tiny_model):
    s = Session(device="cpu")
    s.load(dancer)
    s.load_model(tiny_model)
    w = MainWindow(s)
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    qtbot.waitExposed(w)
    yield w
    s.wait_idle(30)
    w._close_choice = "closing"
    w.close()
    s.close()


def _fit(qtbot, win, drum_song):
    win.music.load(drum_song)
    qtbot.waitUntil(lambda: win.session.song is not None, timeout=60000)
    win.music.fit_to_song()
    qtbot.waitUntil(lambda: win.session.takes and win.session.takes[-1].status == "done", timeout=60000)
    qtbot.waitUntil(lambda: win.music.score is not None, timeout=5000)


def test_song_waveform_beats_and_fit_to_song(qtbot, win, drum_song, tmp_path):
    assert "No song" in win.music.label.text() and not win.music.fit_btn.isEnabled()
    _fit(qtbot, win, drum_song)
    s = win.session
    take = s.takes[-1]
    assert take.params.beat_align and take.params.frames == round(6.0 * s.fps)
    assert "120 BPM" in win.music.label.text() or "119 BPM" in win.music.label.text()
    assert win.music.score["beat_align_score"] > 0.5
    assert "Beat Align" in win.music.score_label.text()
    img = win.music.view.grab().toImage()
    yellow = sum(1 for x in range(img.width()) if img.pixelColor(x, 20).red() > 200 and
                 img.pixelColor(x, 20).blue() < 120)
    assert yellow >= 6  # a tick for each beat of the song that is on screen
    win.save_screenshot(tmp_path / "music.png")


def test_playhead_follows_the_audio_clock_within_a_frame(qtbot, win, drum_song):
    """Every time the audio clock (``QMediaPlayer.position()``) steps, the playhead's clock is compared with it.

    A step is reported on the GUI thread some time after it happened (the event loop was busy), so the
    position read then is stale by that delay; the audio's own time line is the line through the promptest
    reports (the largest ``position - wall time``). The playhead must stay within one frame of that line
    once the clock has seen a few steps (it learns the offset from them: the first quarter second may be
    off by as much as the first reports were late).
    """
    _fit(qtbot, win, drum_song)
    player, tl = win.music.player, win.timeline
    assert player.available  # Qt's FFmpeg backend plays even with no audio device (silently)
    start = player.start_frame
    tl.loop.setChecked(False)
    tl.set_frame(start, user=True)
    samples: list[tuple[float, int, float, int]] = []

    def on_audio(ms: int) -> None:
        if tl.playing and player.playing and ms > 0:
            clock = player.clock()
            samples.append((time.perf_counter(), ms, np.nan if clock is None else clock, tl.frame))

    player.player.positionChanged.connect(on_audio)
    tl.play()
    t0 = time.perf_counter()
    qtbot.waitUntil(lambda: time.perf_counter() - t0 > 4.0 or not tl.playing, timeout=15000)
    player.player.positionChanged.disconnect(on_audio)
    tl.pause()
    assert not player.playing
    t, ms, clock, shown = (np.array(v, np.float64) for v in zip(*samples, strict=True))
    fps = tl.fps
    assert len(t) >= 15 and ms[-1] - ms[0] > 2500  # the song really played
    line = start + (t * 1000.0 + np.max(ms - t * 1000.0)) * fps / 1000.0  # the audio's time line, in frames
    reported = start + ms * fps / 1000.0
    err = np.abs(clock - line)
    print(f"\nsync at {fps:g} fps over {len(t)} audio clock steps: playhead clock - audio line median "
          f"{np.median(err):.2f}, max {err.max():.2f} frames; reports arrived up to "
          f"{np.max(line - reported):.2f} frames late; the slider (redrawn per tick) trailed the clock by "
          f"at most {np.max(clock - shown):.2f} frames")
    assert err[3:].max() <= 1.0  # within a frame once the clock has seen a few steps (about a quarter second)
    assert err.max() <= 2.0
    assert np.all(shown <= clock + 1.0)  # the slider never runs ahead of the song


def test_without_audio_playback_the_dance_plays_on_its_own_clock(qtbot, win, drum_song):
    _fit(qtbot, win, drum_song)
    win.music.player.available = False  # as on a Qt without multimedia
    tl = win.timeline
    tl.set_frame(0, user=True)
    tl.play()
    qtbot.waitUntil(lambda: tl.frame > 30, timeout=5000)
    tl.pause()
    assert win.music.player.clock() is None
