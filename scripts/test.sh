#!/usr/bin/env bash
# Set up a virtualenv with everything the tests need, then run the whole suite
# (what CI runs). Extra arguments go to pytest, e.g. --fshost 10.0.0.5 to run
# the live tests against real FreeSWITCH servers instead of the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv '.[test]'
# The real-browser test drives Debian's chromium (Playwright's own download does
# not work here): install it when it is missing and we may.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium for the browser test ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } \
        || echo "could not install chromium: the browser test will be skipped" >&2
fi
exec .venv/bin/python -m pytest "$@"
