#!/usr/bin/env bash
# Replay tooling, kept apart from the crawler's environment:
#   .venv-replay/              pywb + py-wacz + Playwright for Python, pinned by constraints-replay.txt
#   .cache/replaywebpage/      ReplayWeb.page's ui.js + sw.js (npm package replaywebpage), for the WACZ tests
#
# Why a second venv: pywb 2.10 pins redis==2.10.6, pyOpenSSL<26.2, werkzeug, fakeredis<1.0 ...
# which would downgrade what Scrapy and redis-py need. The crawler never imports pywb; the
# `newsarchive replay/wacz` commands run the tools of this venv as subprocesses.
#
# Idempotent and quiet: each step is skipped when its result is already there (a stamp file
# records which constraints / which package checksum produced it). Prints only on failure.
# Playwright drives Debian's /usr/bin/chromium: this script never downloads a browser.
#
# Environment: PYTHON (interpreter for the venv, default python3.11), NEWSARCHIVE_REPLAY_VENV
# (venv location, default REPO/.venv-replay).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${NEWSARCHIVE_REPLAY_VENV:-$ROOT/.venv-replay}"
CONSTRAINTS="$ROOT/constraints-replay.txt"
RWP_VERSION="2.5.3"
# sha256 of replaywebpage-2.5.3.tgz as served by the npm registry (npm also checks its sha512).
RWP_SHA256="b7d35c39c4da9b7121c5a393911d8675d4cc6f19513c380191e16b086bea812c"
RWP_DIR="$ROOT/.cache/replaywebpage"

log_fail() { echo "setup-replay: $*" >&2; }

pick_python() {
    local candidate="${PYTHON:-}"
    if [[ -z "$candidate" ]]; then
        for name in python3.11 python3.12 python3; do
            if command -v "$name" >/dev/null 2>&1; then
                candidate="$name"
                break
            fi
        done
    fi
    if [[ -z "$candidate" ]] || ! "$candidate" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else 1)' 2>/dev/null; then
        log_fail "need Python 3.11 or 3.12 (set PYTHON=...)"
        exit 1
    fi
    echo "$candidate"
}

setup_venv() {
    local stamp="$VENV/.newsarchive-constraints.sha256"
    local want
    want="$(sha256sum "$CONSTRAINTS" | cut -d' ' -f1)"
    if [[ -x "$VENV/bin/wayback" && -x "$VENV/bin/wacz" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    local python
    python="$(pick_python)"
    if [[ ! -x "$VENV/bin/python" ]]; then
        "$python" -m venv "$VENV"
    fi
    local out
    if ! out="$("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            -c "$CONSTRAINTS" pywb wacz playwright 2>&1)"; then
        echo "$out" >&2
        log_fail "pip install into $VENV failed"
        exit 1
    fi
    echo "$want" > "$stamp"
}

setup_replaywebpage() {
    local stamp="$RWP_DIR/.version"
    if [[ -f "$RWP_DIR/ui.js" && -f "$RWP_DIR/sw.js" && -f "$stamp" && "$(cat "$stamp")" == "$RWP_VERSION" ]]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        log_fail "npm not found (Debian package: npm); needed to fetch replaywebpage@$RWP_VERSION"
        exit 1
    fi
    local tmp
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' RETURN
    local out
    if ! out="$(cd "$tmp" && npm pack --silent "replaywebpage@$RWP_VERSION" 2>&1)"; then
        echo "$out" >&2
        log_fail "npm pack replaywebpage@$RWP_VERSION failed"
        exit 1
    fi
    local tgz="$tmp/replaywebpage-$RWP_VERSION.tgz"
    if [[ "$(sha256sum "$tgz" | cut -d' ' -f1)" != "$RWP_SHA256" ]]; then
        log_fail "checksum mismatch for replaywebpage-$RWP_VERSION.tgz"
        exit 1
    fi
    tar -xzf "$tgz" -C "$tmp" package/ui.js package/sw.js package/LICENSE
    mkdir -p "$RWP_DIR"
    cp "$tmp/package/ui.js" "$tmp/package/sw.js" "$tmp/package/LICENSE" "$RWP_DIR/"
    echo "$RWP_VERSION" > "$stamp"
}

check_chromium() {
    # Only the browser tests need it; the lead's setup script installs Debian's chromium.
    if [[ ! -x "${NEWSARCHIVE_CHROMIUM:-/usr/bin/chromium}" ]]; then
        log_fail "note: ${NEWSARCHIVE_CHROMIUM:-/usr/bin/chromium} missing (apt-get install chromium); browser tests will skip"
    fi
}

setup_venv
setup_replaywebpage
check_chromium
