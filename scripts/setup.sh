#!/usr/bin/env bash
# Set up newsarchive on a fresh Debian machine with Python 3.11 (run as root or with sudo for apt).
#
#   bash scripts/setup.sh            crawler venv (.venv) + replay venv (.venv-replay)
#   bash scripts/setup.sh --test     the same, plus test tools and the Debian packages the
#                                    tests use: redis-server (distributed mode), chromium
#                                    (ReplayWeb.page check), nodejs/npm (fetches ReplayWeb.page)
#
# Idempotent and quiet: steps whose result is already there are skipped.
# Versions are pinned by constraints.txt (crawler) and constraints-replay.txt (pywb, py-wacz).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WITH_TEST=0
[[ "${1:-}" == "--test" ]] && WITH_TEST=1

say() { echo "setup: $*" >&2; }

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
            say "missing Debian packages: ${missing[*]} (run as root, or install them)"; return 1; fi
    else SUDO=""; fi
    say "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pick_python() {
    for name in ${PYTHON:-} python3.11 python3.12 python3; do
        if command -v "$name" >/dev/null 2>&1 &&
            "$name" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else 1)' 2>/dev/null; then
            echo "$name"; return 0
        fi
    done
    say "need Python 3.11 (or 3.12): install python3.11 or set PYTHON=..."
    return 1
}

PY="$(pick_python)"
# Debian's python3.11 needs python3-venv for `-m venv`; pyenv/other builds have it already.
if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then apt_install python3-venv; fi

NEED=(ca-certificates)
if [[ $WITH_TEST -eq 1 ]]; then NEED+=(redis-server chromium); fi
command -v npm >/dev/null 2>&1 || NEED+=(npm)
apt_install "${NEED[@]}"

stamp=".venv/.newsarchive-setup"
want="$(cat constraints.txt pyproject.toml | sha256sum | cut -d' ' -f1)-$WITH_TEST"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    [[ -x .venv/bin/python ]] || "$PY" -m venv .venv
    extras="."
    [[ $WITH_TEST -eq 1 ]] && extras=".[test]"
    if ! out="$(.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e "$extras" 2>&1)"; then
        echo "$out" >&2; say "pip install failed"; exit 1
    fi
    echo "$want" > "$stamp"
fi

bash scripts/setup-replay.sh
