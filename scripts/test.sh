#!/usr/bin/env bash
# Run the whole test suite (GUI tests run under a virtual X server started by pytest-xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check engine studio tests
.venv/bin/lint-imports
exec .venv/bin/python -m pytest -q "$@"
