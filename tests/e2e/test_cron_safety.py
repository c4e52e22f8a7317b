"""Runs that cron can trust: lock, exit codes, graceful stop, kill -9 and the run after it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler import exitcodes
from crawler.demo.server import DemoServer
from crawler.demo.sources import demo_articles
from crawler.run.lock import ArchiveLock
from tests.e2e.conftest import FAST, NEWSARCHIVE, newsarchive, write_sources

pytestmark = pytest.mark.slow

SLOW = [
    "--no-autothrottle",
    "--delay",
    "0.15",
    "--per-host",
    "1",
    "--concurrency",
    "1",
    "--text-workers",
    "1",
    "--no-progress",
]


def _start(sources: Path, archive: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*NEWSARCHIVE, "crawl", str(sources), "--archive", str(archive), *SLOW],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the text workers die with it
    )


def _wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def _validate_all(archive: Path) -> None:
    warcio = Path(sys.executable).with_name("warcio")
    files = sorted(archive.glob("warc/*.warc.gz")) + sorted(archive.glob("text/*.warc.gz"))
    assert files
    for path in files:
        check = subprocess.run([warcio, "check", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, f"{path.name}: {check.stdout}{check.stderr}"
    assert not list(archive.rglob("*.open"))


def _article_counts(archive: Path, base: str) -> tuple[dict[str, int], dict[str, int]]:
    responses: dict[str, int] = {}
    ids: dict[str, str] = {}
    for path in sorted(archive.glob("warc/*.warc.gz")):
        with path.open("rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type == "response" and "/news/" in rec.rec_headers.get_header("WARC-Target-URI"):
                    url = rec.rec_headers.get_header("WARC-Target-URI")
                    responses[url] = responses.get(url, 0) + 1
                    ids[rec.rec_headers.get_header("WARC-Record-ID")] = url
    texts: dict[str, int] = {}
    for path in sorted(archive.glob("text/*.warc.gz")):
        with path.open("rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type == "conversion":
                    url = ids[rec.rec_headers.get_header("WARC-Refers-To")]
                    texts[url] = texts.get(url, 0) + 1
    return responses, texts


def test_second_run_on_a_locked_archive_exits_75_at_once(demo_server: DemoServer, tmp_path: Path) -> None:
    sources = write_sources(demo_server, tmp_path / "s.toml")
    archive = tmp_path / "a"
    archive.mkdir()
    with ArchiveLock(archive / "lock"):
        started = time.monotonic()
        result = newsarchive("crawl", str(sources), "--archive", str(archive), *FAST)
    assert result.code == exitcodes.LOCKED
    assert time.monotonic() - started < 20
    assert len(result.stderr.strip().splitlines()) == 1 and "another run" in result.stderr
    assert not demo_server.sent, "a locked-out run fetches nothing"


def test_two_concurrent_runs_one_wins(demo_server: DemoServer, tmp_path: Path) -> None:
    sources = write_sources(demo_server, tmp_path / "s.toml")
    archive = tmp_path / "a"
    first = _start(sources, archive)
    try:
        _wait_for(lambda: len(demo_server.sent) > 2)
        second = newsarchive("crawl", str(sources), "--archive", str(archive), *FAST)
        assert second.code == exitcodes.LOCKED
    finally:
        os.killpg(first.pid, signal.SIGTERM)
        first.communicate(timeout=120)


def test_sigterm_finishes_in_flight_closes_files_and_exits_interrupted(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    sources = write_sources(demo_server, tmp_path / "s.toml")
    archive = tmp_path / "a"
    proc = _start(sources, archive)
    _wait_for(lambda: len(demo_server.sent) >= 8)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == exitcodes.INTERRUPTED, err
    assert len(demo_server.sent) < 40, "the crawl stopped early"
    _validate_all(archive)
    summary = json.loads(next(archive.glob("runs/*.json")).read_text())
    assert summary["exit_code"] == exitcodes.INTERRUPTED and summary["finish_reason"] == "shutdown"
    assert "interrupted" in err


@pytest.mark.parametrize("kill_after", [6, 14, 22])
def test_kill_9_then_next_run_completes_the_archive_exactly_once(
    demo_server: DemoServer, tmp_path: Path, kill_after: int
) -> None:
    sources = write_sources(demo_server, tmp_path / "s.toml")
    archive = tmp_path / "a"
    proc = _start(sources, archive)
    _wait_for(lambda: len(demo_server.sent) >= kill_after)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert list(archive.rglob("*.open")), "the killed run left its files open"

    result = newsarchive("crawl", str(sources), "--archive", str(archive), *FAST)
    assert result.code == 0, result.stderr
    _validate_all(archive)
    responses, texts = _article_counts(archive, demo_server.base_url)
    expected = {a.url(demo_server.base_url) for a in demo_articles()}
    assert set(responses) == expected, "every article archived"
    assert all(n == 1 for n in responses.values()), (
        f"archived twice: {[u for u, n in responses.items() if n > 1]}"
    )
    assert set(texts) == expected and all(n == 1 for n in texts.values()), "one text record per article"
    summary = json.loads(sorted(archive.glob("runs/*.json"))[-1].read_text())
    assert summary["recovered"]["files_repaired"] or summary["recovered"]["files_removed"]
    # Every file, the ones the recovery wrote included, says which software and run wrote it.
    for path in sorted(archive.glob("*/*.warc.gz")):
        with path.open("rb") as fh:
            first = next(iter(ArchiveIterator(fh)))
            assert first.rec_type == "warcinfo", path
            fields = first.content_stream().read().decode()
        assert "software: newsarchive/" in fields and "isPartOf: " in fields, (path, fields)


def test_bad_sources_file_exits_78_naming_site_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[sites]]\nname = "dawn-ur"\nstart_urls = ["https://example.org/"]\narticle_urls = ["(unclosed"]\n'
    )
    result = newsarchive("crawl", str(bad), "--archive", str(tmp_path / "a"))
    assert result.code == exitcodes.CONFIG
    assert "dawn-ur" in result.stderr and "article_urls" in result.stderr


def test_unwritable_archive_exits_73(tmp_path: Path, demo_server: DemoServer) -> None:
    sources = write_sources(demo_server, tmp_path / "s.toml")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = newsarchive("crawl", str(sources), "--archive", str(blocker / "archive"))
    assert result.code == exitcodes.CANT_CREATE
    assert "archive directory" in result.stderr


def test_a_dead_site_exits_3_and_reports(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    sources = tmp_path / "s.toml"
    sources.write_text(
        f'[[sites]]\nname = "down"\nstart_urls = ["http://127.0.0.1:{port}/"]\narticle_urls = ["/news/"]\n'
    )
    result = newsarchive(
        "crawl", str(sources), "--archive", str(tmp_path / "a"), *FAST, "--max-error-rate", "0.5"
    )
    assert result.code == exitcodes.SITE_ERRORS, result.stderr
    assert "down" in result.stderr
    summary = json.loads(next((tmp_path / "a" / "runs").glob("*.json")).read_text())
    assert summary["sites"]["down"]["errors"]
