#!/usr/bin/env bash
# Set up a virtualenv with everything the tests need, then run the whole suite
# (what CI runs). Extra arguments go to pytest, e.g. --fshost 10.0.0.5 to run
# the live tests against real FreeSWITCH servers instead of the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv '.[test]'
exec .venv/bin/python -m pytest "$@"
