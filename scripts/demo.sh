#!/usr/bin/env bash
# Set up a virtualenv and run the demo: a load test on the embedded FreeSWITCH
# emulator that writes runs/demo/ (Parquet + CSV per-call data, KPIs, PNG plots).
# Extra arguments go to `switchlab demo` (e.g. --seconds 60 --peak-rate 150).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv '.[notebook]'
exec .venv/bin/switchlab demo "$@"
