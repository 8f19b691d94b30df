"""C3D marker files: round trips through the ``c3d`` writer, gaps, props, units, vendor quirks, bad files."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from engine.core.errors import ChoreoError
from engine.dance.c3d import read_c3d
from engine.dance.motion import load_motion
from engine.dance.synthetic import synthetic_dancer

pytestmark = pytest.mark.filterwarnings("ignore:No analog data found")  # the c3d writer's, on point-only files


@pytest.fixture(scope="module")
def dancer_mm() -> np.ndarray:
    """(120, 23, 3) millimetres: one second of the synthetic dancer at 120 fps."""
    return synthetic_dancer(frames=120, fps=120.0, rng=1).positions.astype(np.float64) * 1000.0


def test_round_trip_float_data_gives_the_same_markers(tmp_path, c3d_file, dancer_mm):
    labels = [f"Dancer:M{i:02d}" for i in range(dancer_mm.shape[1])]
    m = load_motion(c3d_file(tmp_path / "take.c3d", dancer_mm, labels, rate=120.0))
    assert m.positions.shape == dancer_mm.shape
    assert m.joint_names == labels
    assert m.fps == 120.0 and m.fps_note == "from the file"
    assert m.up_axis == "z"  # POINT:Y_SCREEN +Z
    np.testing.assert_allclose(m.positions, dancer_mm / 1000.0, atol=1e-6)  # mm -> metres
    assert m.notes == []
    assert "C3D" in m.layout_note


def test_round_trip_integer_data_within_its_resolution(tmp_path, c3d_file, dancer_mm):
    """POINT:SCALE positive = 16-bit integers times the scale (older Vicon and Motion Analysis files)."""
    m = load_motion(c3d_file(tmp_path / "int.c3d", dancer_mm, scale=0.1, rate=60.0))
    assert m.fps == 60.0
    np.testing.assert_allclose(m.positions, dancer_mm / 1000.0, atol=0.101e-3)  # one 0.1 mm step (the writer truncates)


@pytest.mark.parametrize(("units", "factor"), [("m", 1.0), ("cm", 0.01), ("mm", 0.001)])
def test_units_become_metres(tmp_path, c3d_file, dancer_mm, units, factor):
    values = dancer_mm / 1000.0 / factor
    m = load_motion(c3d_file(tmp_path / f"{units}.c3d", values, units=units))
    np.testing.assert_allclose(m.positions, dancer_mm / 1000.0, rtol=1e-5, atol=1e-6)


def test_gaps_are_filled_and_a_prop_is_excluded_both_reported(tmp_path, c3d_file, dancer_mm):
    pts = np.concatenate([dancer_mm, np.ones((*dancer_mm.shape[:2], 1))], axis=-1)
    prop = np.zeros((len(pts), 1, 4))
    prop[:, 0] = [2500.0, -1800.0, 30.0, 1.0]  # a marker on a stool in the corner
    prop[:, 0, :3] += np.random.default_rng(0).normal(0, 0.2, (len(pts), 3))  # camera noise only
    pts = np.concatenate([pts, prop], axis=1)
    pts[40:52, 5, 3] = -1  # 12 invalid samples (0.1 s): residual -1
    pts[70:76, 9, :3] = 0  # 6 samples an exporter wrote as 0, 0, 0
    pts[70:76, 9, 3] = 0
    pts[:3, 2, 3] = -1  # marker seen only from frame 3
    labels = [f"M{i}" for i in range(dancer_mm.shape[1])] + ["Stool"]
    m = load_motion(c3d_file(tmp_path / "gaps.c3d", pts, labels))
    assert "Stool" not in m.joint_names and m.n_joints == dancer_mm.shape[1]
    notes = " | ".join(m.notes)
    assert "excluded 1 marker(s) that never move with the body" in notes and "Stool" in notes
    assert "filled 2 gap(s) (18 samples" in notes
    assert "held at their first/last place: M2" in notes
    truth = dancer_mm / 1000.0
    # the cubic through the neighbours lands within a few millimetres of where the markers were
    assert np.abs(m.positions[40:52, 5] - truth[40:52, 5]).max() < 0.005
    assert np.abs(m.positions[70:76, 9] - truth[70:76, 9]).max() < 0.005
    np.testing.assert_allclose(m.positions[:3, 2], np.repeat(truth[3:4, 2], 3, 0), atol=1e-6)


def test_props_kept_when_asked_and_long_gaps_reported(tmp_path, c3d_file, dancer_mm):
    pts = np.concatenate([dancer_mm, np.ones((*dancer_mm.shape[:2], 1))], axis=-1)
    pts = np.concatenate([pts, np.tile([[[100.0, 100.0, 0.5, 1.0]]], (len(pts), 1, 1))], axis=1)
    pts[20:80, 4, 3] = -1  # half a second missing: longer than the cubic's limit
    clip = read_c3d(c3d_file(tmp_path / "long.c3d", pts), keep_static=True)
    assert clip.positions.shape[1] == dancer_mm.shape[1] + 1
    assert any("kept as asked" in n for n in clip.notes)
    assert any("longer than 0.25 s linearly: M4 0.50 s" in n for n in clip.notes)
    assert np.isfinite(clip.positions).all()


def test_labels_continue_in_labels2_and_padding_is_stripped(tmp_path, c3d_file, dancer_mm):
    """Files with more than 255 markers continue their labels in POINT:LABELS2 (Vicon Nexus does)."""
    import c3d

    path = c3d_file(tmp_path / "labels.c3d", dancer_mm[:, :3], ["A", "B", "C"])
    with open(path, "rb") as f:
        w = c3d.Reader(f).to_writer("copy")
    w.point_group.set_str("LABELS", "labels", "LASI  RASI  ", 6, 2)
    w.point_group.add_str("LABELS2", "more labels", "\x00\x00", 2, 1)
    with open(path, "wb") as f:
        w.write(f)
    m = load_motion(path)
    assert m.joint_names == ["LASI", "RASI", "marker2"]


def test_a_whole_capture_with_nan_markers_is_one_clear_error(tmp_path, c3d_file, dancer_mm):
    pts = np.full(dancer_mm.shape, np.nan)
    with pytest.raises(ChoreoError, match=r"nan\.c3d: no marker was seen in two frames"):
        load_motion(c3d_file(tmp_path / "nan.c3d", pts))


def test_nan_samples_are_gaps(tmp_path, c3d_file, dancer_mm):
    pts = dancer_mm.copy()
    pts[30:33, 7] = np.nan
    m = load_motion(c3d_file(tmp_path / "somenan.c3d", pts))
    assert np.isfinite(m.positions).all() and any("filled 1 gap(s) (3 samples" in n for n in m.notes)


def test_truncated_file_is_one_clear_error(tmp_path, c3d_file, dancer_mm):
    path = c3d_file(tmp_path / "cut.c3d", dancer_mm)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40 * 23 * 16])  # 40 frames of 23 float markers gone
    with pytest.raises(ChoreoError, match=r"cut\.c3d: truncated: the header claims 120 frames of 23 markers"):
        load_motion(path)
    path.write_bytes(data[:700])  # inside the parameter section
    with pytest.raises(ChoreoError, match=r"cut\.c3d: "):
        load_motion(path)


def test_absurd_headers_are_clear_errors(tmp_path, c3d_file, dancer_mm):
    path = c3d_file(tmp_path / "bad.c3d", dancer_mm)
    good = path.read_bytes()
    import c3d

    def rewrite(edit) -> None:
        with open(tmp_path / "bad.c3d", "rb") as f:
            w = c3d.Reader(f).to_writer("copy")
        edit(w)
        with open(path, "wb") as f:
            w.write(f)

    def negative_rate(w) -> None:
        w.point_group.set("RATE", "rate", 4, "<f", np.float32(-120.0))
        w.header.frame_rate = np.float32(-120.0)

    rewrite(negative_rate)
    with pytest.raises(ChoreoError, match=r"bad\.c3d: absurd point rate -120 Hz"):
        load_motion(path)
    path.write_bytes(good)
    rewrite(lambda w: w.point_group.set_str("UNITS", "units", "furl", 4))
    with pytest.raises(ChoreoError, match=r"bad\.c3d: unknown POINT:UNITS 'furl'"):
        load_motion(path)
    path.write_bytes(good)
    bad = bytearray(good)
    bad[1] = 0x51
    path.write_bytes(bytes(bad))
    with pytest.raises(ChoreoError, match=r"bad\.c3d: not a C3D file"):
        load_motion(path)
    # the header's last frame, then TRIAL:ACTUAL_END_FIELD (two 16-bit words), claiming far too many frames
    bad = bytearray(good)
    bad[8:10] = struct.pack("<H", 0xFFFF)
    path.write_bytes(bytes(bad))
    with pytest.raises(ChoreoError, match=r"truncated: the header claims 65535 frames of 23 markers"):
        load_motion(path)
    at = good.index(b"ACTUAL_END_FIELD") + len("ACTUAL_END_FIELD") + 2 + 1 + 1 + 1  # offset, bpe, ndim, dim
    bad = bytearray(good)
    bad[at : at + 4] = struct.pack("<HH", 0xFFFF, 0xFFFF)
    path.write_bytes(bytes(bad))
    with pytest.raises(ChoreoError, match=r"truncated: the header claims 4294\d+ frames of 23 markers"):
        load_motion(path)


def test_not_c3d_bytes_under_a_c3d_name(tmp_path):
    p = tmp_path / "notes.c3d"
    p.write_bytes(b"hello, this is text" * 40)
    with pytest.raises(ChoreoError, match=r"notes\.c3d: not a C3D file"):
        load_motion(p)
    p.write_bytes(struct.pack("<BB", 2, 0x50) + b"\xff" * 600)
    with pytest.raises(ChoreoError, match=r"notes\.c3d: "):
        load_motion(p)


def test_analog_channels_are_ignored(tmp_path, dancer_mm):
    """A force-plate file: 4 analog samples per frame of 2 channels; the points load the same."""
    import warnings

    import c3d

    w = c3d.Writer(point_rate=120.0, analog_rate=480.0, point_units="mm  ")
    w.set_point_labels([f"M{i}" for i in range(dancer_mm.shape[1])])
    w.set_analog_labels(["Fz1", "Fz2"])
    rng = np.random.default_rng(0)
    for f in dancer_mm:
        pts = np.zeros((len(f), 5), np.float32)
        pts[:, :3], pts[:, 3] = f, 1.0
        w.add_frames([(pts, rng.normal(0, 100, (2, 4)).astype(np.float32))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open(tmp_path / "plates.c3d", "wb") as h:
            w.write(h)
    m = load_motion(tmp_path / "plates.c3d")
    np.testing.assert_allclose(m.positions, dancer_mm / 1000.0, atol=1e-6)


def test_header_disagreeing_with_parameters_loads_by_the_parameters(tmp_path, c3d_file, dancer_mm):
    """Vendors' headers and parameters disagree (a rate rounded otherwise, a stale point count): the
    C3D standard says the parameters win, and the file loads."""
    path = c3d_file(tmp_path / "quirk.c3d", dancer_mm, rate=120.0)
    bad = bytearray(path.read_bytes())
    bad[20:24] = struct.pack("<f", 119.88)  # header frame rate
    bad[2:4] = struct.pack("<H", 7)  # header point count
    path.write_bytes(bytes(bad))
    m = load_motion(path)
    assert m.fps == 120.0 and m.n_joints == dancer_mm.shape[1]
    np.testing.assert_allclose(m.positions, dancer_mm / 1000.0, atol=1e-6)
