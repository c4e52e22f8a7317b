"""Oversized bodies: cut at ``NEWSARCHIVE_MAX_BODY_SIZE``, archived with ``WARC-Truncated: length``.

Bodies arrive with a Content-Length, close-delimited (no length, not chunked), chunked, chunked
and endless, and with a Content-Length of 2 GiB (beyond Scrapy's own 1 GiB ``DOWNLOAD_MAXSIZE``).
The crawler must stop reading at its limit (the server sees the client leave long before the
end), store the part it read marked truncated, extract no text from it, and keep memory bounded.
Two crawls: a 1 MB limit (``--set``) over 8 MB bodies, and the default 32 MiB limit over 100 MB
bodies with the memory of the process tree measured.
"""

from __future__ import annotations

import pytest

from crawler import exitcodes
from tests.hostile.harness import (
    MEMORY_BOUND,
    CrawlRun,
    report_memory,
    run_crawl,
    site_toml,
    warcio_check,
    write_sources,
)
from tests.hostile.server import HostileServer

pytestmark = pytest.mark.slow

SMALL_LIMIT = 1_000_000
SMALL_BODY = 8_000_000
DEFAULT_LIMIT = 32 * 1024 * 1024  # crawler/settings.py NEWSARCHIVE_MAX_BODY_SIZE
BIG_BODY = 100_000_000
KINDS = ("cl", "close", "chunked")


def _crawl(
    server: HostileServer, tmp_path_factory: pytest.TempPathFactory, size: int, *args: str
) -> CrawlRun:
    tmp = tmp_path_factory.mktemp(f"big-{size}-")
    sources = write_sources(
        tmp / "sources.toml",
        site_toml("big", start_urls=[server.url(f"/big/{size}/")], article_urls=["/big/a/"]),
    )
    return run_crawl(sources, tmp / "archive", *args, server=server)


@pytest.fixture(scope="module")
def small_limit(module_server: HostileServer, tmp_path_factory: pytest.TempPathFactory) -> CrawlRun:
    return _crawl(
        module_server, tmp_path_factory, SMALL_BODY, "--set", f"NEWSARCHIVE_MAX_BODY_SIZE={SMALL_LIMIT}"
    )


@pytest.fixture(scope="module")
def default_limit(module_server: HostileServer, tmp_path_factory: pytest.TempPathFactory) -> CrawlRun:
    run = _crawl(module_server, tmp_path_factory, BIG_BODY)
    report_memory(run.memory_line("oversize, default 32 MiB limit (3 x 100 MB, endless, 2 GiB announced)"))
    return run


def _assert_truncated(run: CrawlRun, path: str, limit: int) -> None:
    rec = run.response(path)
    assert rec.headers.get("WARC-Truncated") == "length", rec.headers
    assert rec.payload_length == limit, "exactly the first NEWSARCHIVE_MAX_BODY_SIZE bytes"
    assert int(rec.headers["Content-Length"]) < limit + 4096, "block: the limit plus the HTTP head"
    assert rec.http_header("Content-Length") in (None, str(limit)), "the stored head matches the stored body"
    assert rec.payload.startswith(b"<!DOCTYPE html>")
    meta = run.metadata_for(rec)
    assert any("NEWSARCHIVE_MAX_BODY_SIZE" in v for v in meta.get("truncated", [])), meta
    assert run.conversion_for(rec) is None, "no text from a cut page"
    assert "archived truncated" in run.log


def _assert_read_stopped(server: HostileServer, path: str, limit: int) -> None:
    (served,) = server.hits(path)
    assert served.outcome == "client-gone", served
    # The crawler stopped reading: what was written beyond its limit is what socket buffers hold.
    assert served.body_sent < limit + 64 * 1024 * 1024, served


# --- a 1 MB limit -----------------------------------------------------------------------------------------


def test_small_limit_run_finishes_and_files_are_valid(small_limit: CrawlRun) -> None:
    assert small_limit.code == exitcodes.OK, small_limit.stderr
    warcio_check(small_limit.archive)


@pytest.mark.parametrize("kind", KINDS)
def test_body_beyond_the_limit_is_truncated(
    small_limit: CrawlRun, module_server: HostileServer, kind: str
) -> None:
    path = f"/big/a/{kind}/{SMALL_BODY}"
    _assert_truncated(small_limit, path, SMALL_LIMIT)
    _assert_read_stopped(module_server, path, SMALL_LIMIT)


def test_endless_body_is_truncated(small_limit: CrawlRun, module_server: HostileServer) -> None:
    _assert_truncated(small_limit, "/big/a/endless", SMALL_LIMIT)
    _assert_read_stopped(module_server, "/big/a/endless", SMALL_LIMIT)


def test_announced_2_gib_is_truncated_not_dropped(small_limit: CrawlRun) -> None:
    _assert_truncated(small_limit, "/big/a/huge-cl", SMALL_LIMIT)


def test_normal_page_next_to_big_ones_is_extracted(small_limit: CrawlRun) -> None:
    conversion = small_limit.conversion_for(small_limit.response("/big/a/ok"))
    assert conversion is not None and "Ferries will run" in conversion.text


def test_summary_reports_truncation_not_decode_errors(small_limit: CrawlRun) -> None:
    site = small_limit.site("big")
    assert "NotDecodable" not in site["errors"], site


# --- the default limit, memory measured -------------------------------------------------------------------


def test_default_limit_run_finishes_and_files_are_valid(default_limit: CrawlRun) -> None:
    assert default_limit.code == exitcodes.OK, default_limit.stderr
    warcio_check(default_limit.archive)


@pytest.mark.parametrize("kind", KINDS)
def test_default_limit_truncates_at_32_mib(
    default_limit: CrawlRun, module_server: HostileServer, kind: str
) -> None:
    path = f"/big/a/{kind}/{BIG_BODY}"
    _assert_truncated(default_limit, path, DEFAULT_LIMIT)
    _assert_read_stopped(module_server, path, DEFAULT_LIMIT)


def test_oversize_memory_is_bounded_by_the_limit_not_by_the_body(default_limit: CrawlRun) -> None:
    """Regression guard: 100 MB, endless and 2 GiB bodies, yet memory is a function of the 32 MiB limit."""
    line = default_limit.memory_line("oversize")
    assert default_limit.peak_rss_main < 1024 * 1024 * 1024, line


def test_oversize_memory_stays_under_400_mib(default_limit: CrawlRun) -> None:
    line = default_limit.memory_line("oversize")
    assert default_limit.peak_rss_main < MEMORY_BOUND, line
    assert default_limit.peak_rss_tree < 2 * MEMORY_BOUND, line
