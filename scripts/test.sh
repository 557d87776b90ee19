#!/usr/bin/env bash
# Set up a virtualenv with everything the tests need, then run the whole suite.
# Extra arguments go to pytest (e.g. --fshost 10.0.0.5).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
exec .venv/bin/python -m pytest "$@"
