#!/usr/bin/env bash
# Set up (if needed) and run every check: ruff, then the whole pytest suite (real loopback
# servers, real WARC validators, real pywb, real Redis, headless Chromium).
# Extra arguments go to pytest (e.g. -k revisit, -x). FUZZ_EXAMPLES=N raises the fuzz budget.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh --test
.venv/bin/ruff check .
set +e
.venv/bin/python -m pytest "$@"
code=$?
set -e
# pytest exits 5 when nothing was collected: that is a failure here, never a pass.
exit $code
