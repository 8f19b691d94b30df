"""glTF out: the Khronos validator finds no errors, and three.js in headless Chromium draws the dancer
where the take has it.

Node (with ``tests/js``'s npm packages) and Chromium are installed by ``scripts/setup.sh``. On a
developer machine without them these tests skip; in CI (``CI`` set) a missing tool is a failure.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.core.errors import ChoreoError
from engine.dance.axes import up_to_y
from engine.dance.export import export_motion
from engine.dance.motion import Motion, load_motion
from engine.dance.synthetic import synthetic_dancer

JS = Path(__file__).resolve().parents[1] / "js"
SCREENSHOTS = Path(tempfile.gettempdir()) / "choreo-gltf-screenshots"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--use-angle=swiftshader",
                  "--enable-unsafe-swiftshader", "--window-size=480,640"]


def need(tool: str, ok: bool) -> None:
    """Skip without ``tool`` on a developer machine; fail in CI, where setup.sh installs it."""
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing in CI: scripts/setup.sh should have installed it")
        pytest.skip(f"{tool} is not installed (bash scripts/setup.sh installs it)")


@pytest.fixture(scope="module")
def node() -> str:
    exe = shutil.which("node")
    need("node + tests/js/node_modules", exe is not None and (JS / "node_modules" / "gltf-validator").is_dir())
    return str(exe)


@pytest.fixture(scope="module")
def chromium(node) -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    need("chromium", exe is not None and (JS / "node_modules" / "three").is_dir())
    return str(exe)


def validate(node: str, *paths: Path) -> list[dict]:
    out = subprocess.run([node, str(JS / "validate.mjs"), *map(str, paths)], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def render(chromium: str, glb: Path, t: float, name: str) -> tuple[dict, np.ndarray]:
    """Serve ``tests/js`` and ``glb`` on localhost, let three.js render it at ``t`` s; (report, RGB image)."""
    result: dict = {}
    got = threading.Event()

    class Handler(SimpleHTTPRequestHandler):
        def do_POST(self) -> None:  # the page reports here
            body = self.rfile.read(int(self.headers["Content-Length"]))
            result.update(json.loads(body))
            self.send_response(204)
            self.end_headers()
            got.set()

        def translate_path(self, path: str) -> str:
            return str(glb) if path.split("?")[0] == "/take.glb" else super().translate_path(path)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(JS)))
    serving = threading.Thread(target=server.serve_forever, name="choreo-test-http", daemon=True)
    serving.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/render.html?glb=/take.glb&t={t}"
    with tempfile.TemporaryDirectory(prefix="choreo-chromium-") as profile:
        proc = subprocess.Popen([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            got.wait(90)
        finally:
            proc.kill()
            proc.wait(30)
            server.shutdown()
            server.server_close()
            serving.join(10)
    assert got.is_set(), "three.js page never reported (chromium could not load or render it)"
    assert result.get("ok"), result.get("error")
    png = base64.b64decode(result["png"].split(",", 1)[1])
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / f"{name}.png").write_bytes(png)
    return result, np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def check_drawn(report: dict, image: np.ndarray, take_frame: np.ndarray, names: list[str]) -> None:
    """three.js put every bone where the take has it, and the body's pixels cover the joints."""
    bones = report["bones"]
    h = float(np.ptp(take_frame[:, 1]))
    for name, p in zip(names, take_frame, strict=True):
        assert np.linalg.norm(np.asarray(bones[name]) - p) < 1e-3 * h, name
    r, _g, b = (image[..., k].astype(int) for k in range(3))
    body = (r - b > 60) & (r > 120)  # the dancer's orange, lit or in shade; the background is white
    assert body.mean() > 0.01, f"only {body.mean():.2%} of the image shows the dancer"
    hits = 0
    for x, y in (report["pixels"][n] for n in names):
        xi, yi = round(x), round(y)
        hits += bool(body[max(0, yi - 4):yi + 5, max(0, xi - 4):xi + 5].any())
    assert hits >= 0.9 * len(names), f"body pixels near only {hits} of {len(names)} joints"


def test_cmu_clip_validates_and_renders(tmp_path, shared_data, node, chromium):
    m = load_motion(shared_data / "cmu_05_01_modern_dance.bvh")
    glb = export_motion(m, tmp_path / "cmu.glb")
    [report] = validate(node, glb)
    assert report["numErrors"] == 0, report["messages"]
    assert report["numWarnings"] == 0, report["messages"]
    assert report["info"]["animationCount"] == 1 and report["info"]["hasSkins"]
    frame = 300
    result, image = render(chromium, glb, frame / m.fps, "cmu_frame300")
    check_drawn(result, image, m.positions[frame], m.joint_names)


def test_marker_clip_in_z_up_metres_validates_and_renders(tmp_path, node, chromium):
    """A C3D-like clip (markers, Z up, no hierarchy): a built skeleton, turned to glTF's Y up."""
    d = synthetic_dancer(frames=90, fps=30.0, rng=2)
    zup = d.positions @ np.linalg.inv(up_to_y("z")).T  # the same dancer standing along +Z
    m = Motion(zup.astype(np.float32), fps=30.0, joint_names=[f"M{i}" for i in range(d.n_joints)], up_axis="z")
    glb = export_motion(m, tmp_path / "markers.glb")
    [report] = validate(node, glb)
    assert report["numErrors"] == 0 and report["numWarnings"] == 0, report["messages"]
    result, image = render(chromium, glb, 45 / 30.0, "markers_frame45")
    check_drawn(result, image, m.positions[45].astype(np.float64) @ up_to_y("z").T, m.joint_names)


def test_glb_refuses_to_replace_and_checks_the_skeleton(tmp_path, shared_data):
    m = load_motion(shared_data / "cmu_05_01_modern_dance.bvh")
    out = tmp_path / "a.glb"
    out.write_bytes(b"precious")
    with pytest.raises(ChoreoError, match="already exists"):
        export_motion(m, out)
    assert out.read_bytes() == b"precious"
    small = Motion(m.positions[:, :10], fps=m.fps)
    with pytest.raises(ChoreoError, match=r"cmu_05_01_modern_dance\.bvh: the skeleton has 38 joints"):
        export_motion(small, tmp_path / "b.glb", skeleton=shared_data / "cmu_05_01_modern_dance.bvh")
    assert not (tmp_path / "b.glb").exists()
