"""SVG shapes as polylines: lines, polylines, polygons and paths (M, L, H, V, C, Q, Z), curves flattened.

Shared by the sketch reader (``engine.sketch.svg``: drawings) and the dance floor paths
(``engine.dance.direction``: where the dancer travels). Parsing goes through defusedxml, so entity
bombs and external entities in an untrusted file are refused instead of expanded.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import Element

import numpy as np
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from .errors import ChoreoError

MAX_SVG_BYTES = 20 * 2**20  # a hand-made drawing is kilobytes; refuse anything absurd before parsing
CURVE_POINTS = 8  # points per flattened Bezier segment
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TOKEN = re.compile(rf"[A-Za-z]|{_NUMBER}")
_ARITY = {"M": 2, "L": 2, "H": 1, "V": 1, "C": 6, "Q": 4, "Z": 0}


def local_name(tag: str) -> str:
    """An element's tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _numbers(text: str, path: Path) -> np.ndarray:
    values = re.findall(_NUMBER, text or "")
    if len(values) % 2:
        raise ChoreoError("a points list has an odd number of coordinates", path)
    return np.asarray(values, np.float64).reshape(-1, 2)


def _bezier(p: np.ndarray) -> np.ndarray:
    """Points along a quadratic (3 control points) or cubic (4) Bezier, without its start."""
    t = np.linspace(0, 1, CURVE_POINTS + 1)[1:, None]
    if len(p) == 3:
        return (1 - t) ** 2 * p[0] + 2 * (1 - t) * t * p[1] + t**2 * p[2]
    return (1 - t) ** 3 * p[0] + 3 * (1 - t) ** 2 * t * p[1] + 3 * (1 - t) * t**2 * p[2] + t**3 * p[3]


def path_to_polylines(d: str, path: Path) -> list[np.ndarray]:
    """SVG path data (M, L, H, V, C, Q, Z, absolute and relative) -> absolute polylines."""
    tokens = _TOKEN.findall(d or "")
    lines: list[list[np.ndarray]] = []
    pos = start = np.zeros(2)
    cmd, i = None, 0
    while i < len(tokens):
        if tokens[i].isalpha():
            cmd, i = tokens[i], i + 1
        if cmd is None or cmd.upper() not in _ARITY:
            raise ChoreoError(f"path command {cmd!r} is not supported (use lines, polylines or M/L/H/V/C/Q/Z paths)",
                              path)
        op, rel = cmd.upper(), cmd.islower()
        n = _ARITY[op]
        args = np.asarray(tokens[i : i + n], np.float64)
        if len(args) < n or any(t.isalpha() for t in tokens[i : i + n]):
            raise ChoreoError(f"path command {cmd!r} is missing numbers", path)
        i += n
        base = pos if rel else np.zeros(2)
        if op == "M":
            pos = start = base + args
            lines.append([pos])
            cmd = "l" if rel else "L"  # further pairs after a move are lines
            continue
        if not lines:
            lines.append([pos])
        if op == "Z":
            pos = start
            lines[-1].append(pos)
            if i < len(tokens) and not tokens[i].isalpha():
                raise ChoreoError("numbers after a 'Z' in a path", path)
            continue
        if op == "H":
            pos = np.array([base[0] + args[0], pos[1]])
        elif op == "V":
            pos = np.array([pos[0], base[1] + args[0]])
        elif op == "L":
            pos = base + args
        else:  # C or Q: flatten
            ctrl = np.vstack([pos, base + args.reshape(-1, 2)])
            lines[-1].extend(_bezier(ctrl)[:-1])
            pos = ctrl[-1]
        lines[-1].append(pos)
    return [np.asarray(ln) for ln in lines if len(ln) > 1]


def element_polylines(el: Element, path: Path) -> list[np.ndarray]:
    """The polylines of one element (``polyline``, ``polygon``, ``line``, ``path``; others have none)."""
    if el.get("transform"):
        raise ChoreoError("SVG transforms are not supported (flatten them in your drawing program)", path)
    tag = local_name(el.tag)
    if tag in ("polyline", "polygon"):
        pts = _numbers(el.get("points", ""), path)
        if tag == "polygon" and len(pts):
            pts = np.vstack([pts, pts[:1]])
        return [pts] if len(pts) > 1 else []
    if tag == "line":
        xy = [float(el.get(k, 0)) for k in ("x1", "y1", "x2", "y2")]
        return [np.asarray(xy).reshape(2, 2)]
    if tag == "path":
        return path_to_polylines(el.get("d", ""), path)
    return []


def read_svg_root(path: str | Path) -> Element:
    """The root ``<svg>`` element of a file, parsed safely. Raises ChoreoError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ChoreoError("file not found" if not path.exists() else "is not a file", path)
    if path.stat().st_size > MAX_SVG_BYTES:
        raise ChoreoError(f"SVG is larger than {MAX_SVG_BYTES >> 20} MB", path)
    try:
        root = fromstring(path.read_bytes())
    except (ParseError, DefusedXmlException, ValueError) as err:
        raise ChoreoError(f"not a readable SVG file ({err})"[:200], path) from err
    if local_name(root.tag) != "svg":
        raise ChoreoError(f"not an SVG document (root element <{local_name(root.tag)}>)", path)
    return root


def tree_polylines(root: Element, path: Path) -> list[np.ndarray]:
    """Every polyline under ``root``, in document order."""
    return [ln for el in root.iter() for ln in element_polylines(el, path)]
