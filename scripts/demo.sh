#!/usr/bin/env bash
# Set up (if needed) and run the bundled offline demo: serve the demo news site on
# 127.0.0.1:18765, crawl it into ./archive-demo, print the summary. Extra arguments go to
# `newsarchive demo` (e.g. --archive DIR, --port N).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
exec "$ROOT/.venv/bin/newsarchive" demo "$@"
