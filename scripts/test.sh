#!/usr/bin/env bash
# Set up (if needed) and run every check: ruff, mypy (archive/ and crawler/, at the levels set
# in pyproject.toml), then the whole pytest suite (real loopback servers, real WARC validators,
# real pywb, real Redis, headless Chromium).
# Extra arguments go to pytest (e.g. -k revisit, -x). FUZZ_EXAMPLES=N raises the fuzz budget.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh --test
.venv/bin/ruff check .
.venv/bin/mypy
set +e
.venv/bin/python -m pytest "$@"
code=$?
set -e
# pytest exits 5 when nothing was collected: that is a failure here, never a pass.
[[ $code -eq 0 ]] || exit $code
# The benchmark's tiny version, only to keep it working (it times things, so it is no test:
# its figures are reported, never asserted). Skipped when pytest was given a selection.
if [[ $# -eq 0 ]]; then
    if ! bash bench/run.sh --quick > bench-quick.log 2>&1; then
        tail -40 bench-quick.log >&2
        echo "test.sh: bench/run.sh --quick failed (log: bench-quick.log)" >&2
        exit 1
    fi
    echo "bench --quick: ok ($(grep -m1 'full / bare pages/s, measured' bench-quick.log | tr -s ' '))"
fi
