"""Drawings from SVG files: shapes and paths to stroke-3, our own grids back apart, hostile files."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import ChoreoError
from engine.sketch.quality import sketch_size, stroke_count
from engine.sketch.render import save_sketches, strokes_to_polylines
from engine.sketch.strokes import load_split, load_strokes
from engine.sketch.svg import path_to_polylines, read_svg
from engine.sketch.synthetic import quickdraw_like_sketches
from studio.cli import main

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">{}</svg>'


def _write(tmp_path, body: str, name: str = "d.svg"):
    path = tmp_path / name
    path.write_text(SVG.format(body))
    return path


def test_shapes_become_strokes_prepared_like_quickdraw(tmp_path):
    path = _write(tmp_path, '<rect width="100" height="100" fill="white"/>'
                            '<polygon points="10,10 60,10 60,60 10,60"/>'
                            '<line x1="10" y1="80" x2="110" y2="80"/>'
                            '<g><polyline points="20 20, 30 40 40 20"/></g>')
    (sketch,) = read_svg(path)
    assert sketch.dtype == np.int16 and stroke_count(sketch) == 3  # the background rect is not a stroke
    lines = strokes_to_polylines(sketch)
    allp = np.concatenate(lines)
    assert allp.min(0).tolist() == [0, 0] and (allp.max(0) - allp.min(0)).max() == 255  # larger side 255
    assert np.array_equal(lines[0][0], lines[0][-1]) and len(lines[0]) == 5  # the polygon is closed
    assert np.array_equal(lines[1], [[0, 178], [255, 178]])  # the line: (80 - 10) * 255 / 100 = 178.5, rounded


def test_path_commands_absolute_relative_and_curves(tmp_path):
    (square,) = path_to_polylines("M10 10 h 20 v20 H10 Z", tmp_path)
    assert np.allclose(square, [[10, 10], [30, 10], [30, 30], [10, 30], [10, 10]])
    a, b = path_to_polylines("m 0,0 l 5,0 5,5 M 50 50 C 50 60 60 70 70 70 q 10 0 10 10", tmp_path)
    assert np.allclose(a, [[0, 0], [5, 0], [10, 5]])  # pairs after a move are lines, relative to the pen
    assert np.allclose(b[0], [50, 50]) and np.allclose(b[-1], [80, 80])  # curves end where they should
    assert len(b) > 10  # and are flattened into many points
    with pytest.raises(ChoreoError, match="'A' is not supported"):
        path_to_polylines("M0 0 A 5 5 0 0 1 10 10", tmp_path)
    with pytest.raises(ChoreoError, match="missing numbers"):
        path_to_polylines("M0 0 L 5", tmp_path)


def test_our_svg_grid_reads_back_as_separate_drawings(tmp_path):
    sketches = quickdraw_like_sketches(5, rng=1)
    save_sketches(tmp_path / "grid.svg", sketches)
    back = load_split(tmp_path / "grid.svg")
    assert len(back) == 5
    for a, b in zip(sketches, back, strict=True):
        assert stroke_count(a) == stroke_count(b)
        assert abs(sketch_size(a) - sketch_size(b)) < 0.02 * sketch_size(a) + 4  # same canvas, rounding


def test_folder_of_svgs_trains_from_the_command_line(tmp_path):
    folder = tmp_path / "drawings"
    (folder / "more").mkdir(parents=True)
    sketches = quickdraw_like_sketches(24, rng=2)
    for i, s in enumerate(sketches):
        save_sketches(folder / ("more" if i % 2 else "") / f"cat{i:02d}.svg", [s])
    (folder / "notes.txt").write_text("not a drawing")
    assert len(load_strokes(folder)["sketches"]) == 24
    ckpt = tmp_path / "s.pt"
    assert main(["sketch", "train", str(folder), "--out", str(ckpt), "--epochs", "1", "--quiet"]) == 0
    assert ckpt.exists()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
         '<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>', "not a readable SVG"),
        ('<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg><text>&x;</text></svg>',
         "not a readable SVG"),
        ("<svg><polyline points='1,2 3'/></svg>", "odd number"),
        ("<svg><g transform='scale(2)'><line x1='0' y1='0' x2='5' y2='5'/></g></svg>", "transforms"),
        ("<html><body/></html>", "not an SVG document"),
        ("<svg><circle r='5'/></svg>", "holds no lines"),
        ("<svg><polyline", "not a readable SVG"),
    ],
)
def test_bad_svgs_give_one_line_naming_the_file(tmp_path, text, match):
    path = tmp_path / "bad.svg"
    path.write_text(text)
    with pytest.raises(ChoreoError, match=match) as info:
        load_strokes(path)
    assert "\n" not in str(info.value) and "bad.svg" in str(info.value)


def test_empty_folder_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["sketch", "train", str(tmp_path / "empty"), "--out", str(tmp_path / "m.pt"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "holds no .svg files" in err and err.count("\n") == 1
    assert not (tmp_path / "m.pt").exists()
