"""Fixtures for the replay tests: fixture archives, a real pywb, a static server for ReplayWeb.page.

Tests that need ``.venv-replay`` (pywb, py-wacz, Playwright) are marked ``replay`` and are
skipped, with the set-up command as the reason, only when that virtualenv is absent.
Servers bind 127.0.0.1 on ports the OS picks; readiness is an HTTP answer (pywb) or the
"Serving HTTP on ... port N" line (http.server), never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from replay_fixtures import ARTIFACTS, REPO, FixtureArchive, build_archive

from archive.replay import ReplayEnvMissing, ReplayServer, find_replay_venv, prepare_replay, start_wayback

RWP_BUNDLE = REPO / ".cache" / "replaywebpage"
CHROMIUM = Path(os.environ.get("NEWSARCHIVE_CHROMIUM", "/usr/bin/chromium"))
RWP_CHECK = Path(__file__).with_name("rwp_check.py")

SITE_INDEX = """<!doctype html>
<html><head><meta charset="utf-8"><title>newsarchive replay test</title>
<script src="./ui.js"></script>
<style>html,body{margin:0;height:100%} replay-web-page{display:block;height:100vh}</style>
</head><body>
<script>
  // <replay-web-page> built from the query string: ?source=X.wacz&url=...&ts=...&embed=...
  const params = new URLSearchParams(location.search);
  const el = document.createElement("replay-web-page");
  el.setAttribute("source", params.get("source"));
  for (const name of ["url", "ts", "embed"]) {
    if (params.get(name)) el.setAttribute(name, params.get(name));
  }
  el.setAttribute("replayBase", "./replay/");
  document.body.appendChild(el);
</script>
</body></html>
"""


def _replay_venv() -> Path | None:
    try:
        return find_replay_venv()
    except ReplayEnvMissing:
        return None


@pytest.fixture(scope="session")
def replay_venv() -> Path:
    venv = _replay_venv()
    if venv is None:
        pytest.skip(".venv-replay is absent: run `bash scripts/setup-replay.sh` (pywb, wacz, Playwright)")
    return venv


@pytest.fixture(scope="session")
def fixture_archive(tmp_path_factory: pytest.TempPathFactory) -> FixtureArchive:
    """Two cron runs (responses, then revisits into the first file) + text WARCs + experiments."""
    return build_archive(tmp_path_factory.mktemp("archive"))


@pytest.fixture(scope="session")
def wayback(replay_venv: Path, fixture_archive: FixtureArchive) -> Iterator[ReplayServer]:
    layout = fixture_archive.layout
    report = prepare_replay(layout)
    assert report.ok, report.failed
    server = start_wayback(layout, port=0, venv=replay_venv)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@dataclass(slots=True)
class StaticSite:
    """``python -m http.server`` serving ReplayWeb.page and WACZ files from ``root``."""

    root: Path
    url: str
    process: subprocess.Popen[str]

    def add(self, path: Path) -> str:
        """Copy a file into the site; returns its name relative to the site."""
        shutil.copy2(path, self.root / path.name)
        return path.name


@pytest.fixture(scope="session")
def rwp_site(replay_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticSite]:
    if not (RWP_BUNDLE / "ui.js").is_file() or not (RWP_BUNDLE / "sw.js").is_file():
        pytest.skip(f"{RWP_BUNDLE} lacks ui.js/sw.js: run `bash scripts/setup-replay.sh`")
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} missing: apt-get install chromium")
    root = tmp_path_factory.mktemp("rwp-site")
    (root / "replay").mkdir()
    shutil.copy2(RWP_BUNDLE / "ui.js", root / "ui.js")
    shutil.copy2(RWP_BUNDLE / "ui.js", root / "replay" / "ui.js")
    shutil.copy2(RWP_BUNDLE / "sw.js", root / "replay" / "sw.js")
    (root / "index.html").write_text(SITE_INDEX, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once the socket is bound
        match = re.search(r"port (\d+)", line)
        assert match, f"http.server did not start: {line!r}"
        yield StaticSite(root, f"http://127.0.0.1:{match.group(1)}", process)
    finally:
        process.terminate()
        process.wait(10)


def run_rwp(venv: Path, site: StaticSite, jobs: list[dict]) -> list[dict]:
    """Run rwp_check.py with .venv-replay's Python (Playwright lives there); one result per job.

    Each job's ``screenshot`` is a file name under ``test-artifacts/``.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    for job in jobs:
        job["screenshot"] = str(ARTIFACTS / job["screenshot"])
    spec = site.root.parent / f"jobs-{os.getpid()}-{id(jobs)}.json"
    spec.write_text(json.dumps(jobs, ensure_ascii=False), encoding="utf-8")
    env = dict(os.environ, NEWSARCHIVE_CHROMIUM=str(CHROMIUM))
    result = subprocess.run(
        [str(venv / "bin" / "python"), str(RWP_CHECK), site.url, str(spec)],
        capture_output=True,
        text=True,
        timeout=60 + sum(float(j.get("timeout") or 90) for j in jobs),
        env=env,
        check=False,
    )
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("[")]
    assert lines, f"rwp_check failed (exit {result.returncode}): {result.stderr[-3000:]}"
    results = json.loads(lines[-1])
    for job, res in zip(jobs, results, strict=True):
        res["screenshot"] = job["screenshot"]
    return results
