#!/usr/bin/env bash
# The throughput benchmark (issue 7): bare Scrapy vs the full newsarchive pipeline, same site, same run.
#
#   bash bench/run.sh            2000 article pages, both crawls, stage micro-benchmark (~5-10 min)
#   bash bench/run.sh --quick    300 pages, small stage sample: what CI runs to keep it working (< 2 min)
#   bash bench/run.sh --memory 100000    memory over 100,000 distinct URLs (full pipeline; long)
#   bash bench/run.sh --help     every option (concurrency, --patch prototypes, --set NAME=VALUE...)
#
# Installs what it needs and is quiet when it is there: the project venv (scripts/setup.sh),
# nginx-light and wrk from Debian (as root, or via sudo), matplotlib into .venv.
# Output: bench/out/<kind>-<timestamp>/results.json, benchmark.png (or memory.png), logs.
# Exit code 0 when both crawls finished; the targets are reported, not enforced.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { echo "bench: $*" >&2; }

if [[ ! -x .venv/bin/python ]]; then
    say "no .venv yet: running scripts/setup.sh"
    bash scripts/setup.sh
fi

missing=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [[ ${#missing[@]} -gt 0 ]]; then
    SUDO=""
    [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
    if [[ $(id -u) -eq 0 || -n "$SUDO" ]] && command -v apt-get >/dev/null 2>&1; then
        say "installing Debian packages: ${missing[*]}"
        $SUDO apt-get update -qq >/dev/null || true
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
            say "WARNING: could not install ${missing[*]}"
    else
        say "WARNING: ${missing[*]} missing and cannot install (not root): falling back where possible"
    fi
fi
export PATH="$PATH:/usr/sbin"

if ! .venv/bin/python -c 'import matplotlib, psutil' >/dev/null 2>&1; then
    say "installing matplotlib and psutil into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt psutil 'matplotlib>=3.8' >/dev/null 2>&1 ||
        .venv/bin/python -m pip install --quiet --disable-pip-version-check psutil 'matplotlib>=3.8'
fi

exec .venv/bin/python -m bench.run "$@"
