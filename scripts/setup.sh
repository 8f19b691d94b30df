#!/usr/bin/env bash
# Install Choreo Studio into ./.venv on a fresh machine (Debian/Ubuntu, Python >= 3.10).
# As root it also installs the system libraries the desktop app and its tests need (Xvfb, Mesa GL, Qt xcb).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  pkgs="xvfb xauth libgl1-mesa-dri libegl1 libgl1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
        libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0
        libxcb-xkb1 libxcb-xfixes0 libxrender1 libxi6 libdbus-1-3 libfontconfig1 libglib2.0-0 libsm6 libice6"
  missing=$(for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
  # export checks: the glTF validator under node, three.js in headless Chromium (by command: node may
  # come from elsewhere than Debian, and Debian's npm would conflict with it)
  command -v chromium >/dev/null || missing="$missing chromium"
  command -v npm >/dev/null || missing="$missing nodejs npm"
  if [ -n "$missing" ]; then
    echo "setup: installing system packages: $(echo $missing | tr '\n' ' ')"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
# The CPU build of torch first, pinned, so pip never fetches a multi-GB CUDA build as a dependency.
.venv/bin/python -m pip show torch >/dev/null 2>&1 || .venv/bin/python -m pip install -q torch==2.13.0 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install -q -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
# librosa compiles its numba kernels on first use (about a minute, once: cached beside the package); do it here
.venv/bin/python -c "from engine.dance.drums import drum_loop; from engine.dance.music import analyse; analyse(*drum_loop(120, 4.0)[:2])" >/dev/null 2>&1 || true
# The glTF validator and three.js that the export tests run, from the committed lockfile, into tests/js.
if command -v npm >/dev/null && { [ ! -d tests/js/node_modules ] || [ tests/js/package-lock.json -nt tests/js/node_modules ]; }; then
  npm ci --prefix tests/js --no-audit --no-fund --loglevel=error >/dev/null && touch tests/js/node_modules
fi
.venv/bin/python -c "import engine, torch; print('setup: ready (torch', torch.__version__ + ')')"
