"""End-to-end fixtures: the demo site on a loopback port and real ``newsarchive`` runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.demo.server import DemoServer
from crawler.demo.sources import demo_sources_toml

NEWSARCHIVE = [sys.executable, "-m", "crawler.cli"]
FAST = ["--no-autothrottle", "--delay", "0", "--per-host", "8", "--text-workers", "2", "--no-progress"]


@dataclass
class RunResult:
    code: int
    stdout: str
    stderr: str


def newsarchive(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> RunResult:
    """Run the real command line in a subprocess (a crawl needs its own reactor)."""
    proc = subprocess.run(
        [*NEWSARCHIVE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return RunResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def demo_server() -> Iterator[DemoServer]:
    server = DemoServer("127.0.0.1", 0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def write_sources(server: DemoServer, path: Path, extra: str = "") -> Path:
    path.write_text(demo_sources_toml(server.base_url) + extra, encoding="utf-8")
    return path
