"""Slow, stalled and broken connections: timeouts, bounded retries, no partial body passed off as whole.

The server trickles one page slowly (it must arrive whole), stalls after the headers or half
the body, resets the connection (TCP RST) mid-body with a Content-Length and mid-chunked body,
closes cleanly half-way through an announced length, closes without any response, and answers
with bytes that are not HTTP. Run with ``DOWNLOAD_TIMEOUT=2`` and ``RETRY_TIMES=1`` (``--set``),
so each failing URL must be tried exactly twice and then reported.

Scrapy fails a response whose body ended early (``DOWNLOAD_FAIL_ON_DATALOSS``, on by default):
then nothing is archived. With it off, the part received is archived and must be marked
``WARC-Truncated: disconnect``, never stored as if complete.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crawler import exitcodes
from tests.hostile.cases import NET_CASES, PARTIAL_CASES
from tests.hostile.harness import CrawlRun, run_crawl, site_toml, warcio_check, write_sources
from tests.hostile.server import HostileServer

pytestmark = pytest.mark.slow

LIMITS = ("--set", "DOWNLOAD_TIMEOUT=2", "--set", "RETRY_TIMES=1")
FAILING = tuple(c for c in NET_CASES if c != "slow")
NEVER_ANSWERED = ("no-response", "garbage")  # no status line ever arrives
EXPECTED_ERRORS = {
    "stall-body": "DownloadTimeoutError",
    "stall-headers": "DownloadTimeoutError",
    "reset-cl": "ResponseDataLossError",
    "reset-chunked": "ResponseDataLossError",
    "close-partial": "ResponseDataLossError",
    "no-response": "DownloadFailedError",
    "garbage": "DownloadFailedError",
}


def _crawl(
    server: HostileServer, tmp_path_factory: pytest.TempPathFactory, index: str, *args: str
) -> CrawlRun:
    tmp = tmp_path_factory.mktemp("net")
    sources = write_sources(
        tmp / "sources.toml", site_toml("net", start_urls=[server.url(index)], article_urls=["/net/a/"])
    )
    return run_crawl(sources, tmp / "archive", *LIMITS, *args, server=server)


@pytest.fixture(scope="module")
def net_server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def strict(net_server: HostileServer, tmp_path_factory: pytest.TempPathFactory) -> CrawlRun:
    return _crawl(net_server, tmp_path_factory, "/net/")


@pytest.fixture(scope="module")
def lenient(tmp_path_factory: pytest.TempPathFactory) -> tuple[CrawlRun, HostileServer]:
    with HostileServer() as srv:
        run = _crawl(srv, tmp_path_factory, "/net/partial/", "--set", "DOWNLOAD_FAIL_ON_DATALOSS=False")
        return run, srv


def test_run_finishes_with_exit_3_and_names_the_errors(strict: CrawlRun) -> None:
    """Most of this site fails: that is exit 3 (a site's error rate above --max-error-rate)."""
    assert strict.code == exitcodes.SITE_ERRORS, strict.stderr
    assert "finished with failing sites: net" in strict.stderr
    warcio_check(strict.archive)
    errors = strict.site("net")["errors"]
    expected: dict[str, int] = {}
    for name in EXPECTED_ERRORS.values():
        expected[name] = expected.get(name, 0) + 1
    assert errors == expected


@pytest.mark.parametrize("case", FAILING)
def test_failing_fetch_is_retried_within_limits_and_never_archived(
    strict: CrawlRun, net_server: HostileServer, case: str
) -> None:
    path = f"/net/a/{case}"
    tries = len(net_server.requests(path))
    if case in NEVER_ANSWERED:
        # Twisted's connection pool resends, once, a request that got no response at all on a
        # reused keep-alive connection (the server may just have closed it): up to 2 per try.
        assert 2 <= tries <= 4, f"{tries} requests: one try and RETRY_TIMES=1 retry, each maybe resent once"
    else:
        assert tries == 2, f"{tries} requests: one try and RETRY_TIMES=1 retry"
    assert not [r for r in strict.records if r.target_path == path], "nothing archived for a failed fetch"
    assert f"{path}: {EXPECTED_ERRORS[case]}" in strict.log


def test_slow_but_steady_page_arrives_whole(strict: CrawlRun, net_server: HostileServer) -> None:
    rec = strict.response("/net/a/slow")
    (served,) = net_server.hits("/net/a/slow")
    assert served.outcome == "complete" and rec.payload_length == served.body_sent
    assert "WARC-Truncated" not in rec.headers
    conversion = strict.conversion_for(rec)
    assert conversion is not None and "Ferries will run" in conversion.text


def test_stalls_end_at_the_download_timeout(net_server: HostileServer) -> None:
    for path in ("/net/a/stall-body", "/net/a/stall-headers"):
        assert all(s.outcome == "stalled" for s in net_server.hits(path))


@pytest.mark.parametrize("case", PARTIAL_CASES)
def test_partial_body_archived_only_marked_truncated(
    lenient: tuple[CrawlRun, HostileServer], case: str
) -> None:
    run, srv = lenient
    assert run.code == exitcodes.OK, run.stderr
    warcio_check(run.archive)
    rec = run.response(f"/net/a/{case}")
    assert rec.headers.get("WARC-Truncated") == "disconnect", rec.headers
    (served,) = srv.hits(f"/net/a/{case}")
    assert rec.payload_length <= served.body_sent
    assert run.metadata_for(rec).get("body-incomplete"), "the metadata record says the body ended early"
    assert run.conversion_for(rec) is None, "no text from half a page"
