"""Sites that fail, through the CLI against loopback servers (:mod:`tests.e2e.failing_site`): issue 13.3.

One crawl of five sites: ``down`` answers 503 to every page, ``busy`` 429 with ``Retry-After: 1``
once, ``gone`` 404, ``drop`` hangs up a kept-alive connection after reading each request, and
``closed`` sits on a second server whose robots.txt answers 503. Each URL's final outcome is
counted once (``fetched``), every attempt is archived (``exchanges``), retries are counted
beside; the sites whose pages got no answer fail the run (exit 3, named), the 404 site does not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.e2e.conftest import RunResult, newsarchive
from tests.e2e.failing_site import RETRY_AFTER, FailingSite

pytestmark = pytest.mark.slow

RETRY_TIMES = 2  # crawler.settings: three requests per URL at most
ARGS = [
    "--no-autothrottle",
    "--delay",
    "0",
    "--per-host",
    "4",
    "--text-workers",
    "1",
    "--no-progress",
]
SITE = """\
[[sites]]
name = "{name}"
start_urls = [{urls}]
article_urls = ['/never/']
"""


def _site(name: str, *urls: str) -> str:
    return SITE.format(name=name, urls=", ".join(f'"{u}"' for u in urls))


class Crawl:
    def __init__(self, result: RunResult, archive: Path, main: FailingSite, closed: FailingSite) -> None:
        self.result = result
        self.second: Crawl | None = None  # the crawl of the site whose robots.txt answers 503
        self.main = main
        self.closed = closed
        self.summary: dict[str, Any] = json.loads(
            next((archive / "runs").glob("*.json")).read_text(encoding="utf-8")
        )
        self.responses: list[str] = []  # target paths of the archived response records
        for path in sorted((archive / "warc").glob("*.warc.gz")):
            with path.open("rb") as stream:
                for record in ArchiveIterator(stream):
                    if record.rec_type == "response":
                        self.responses.append(urlsplit(record.rec_headers.get_header("WARC-Target-URI")).path)

    def site(self, name: str) -> dict[str, Any]:
        return dict(self.summary["sites"][name])


def _run(root: Path, sources_text: str, main: FailingSite, closed: FailingSite) -> Crawl:
    sources = root / "sources.toml"
    sources.write_text(sources_text, encoding="utf-8")
    archive = root / "archive"
    result = newsarchive("crawl", str(sources), "--archive", str(archive), *ARGS, timeout=120)
    return Crawl(result, archive, main, closed)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    """Both servers are on 127.0.0.1: the robots.txt-503 site gets a crawl of its own, or the
    owner rule (domain, not port) would give its robots.txt to the first site."""
    main = FailingSite().start()
    closed = FailingSite(robots_status=503).start()
    try:
        b = main.base_url
        sources = (
            _site("down", f"{b}/down/")
            + _site("busy", f"{b}/busy/")
            + _site("gone", f"{b}/gone/")
            + _site("drop", f"{b}/drop/a", f"{b}/drop/b")
        )
        first = _run(tmp_path_factory.mktemp("failing"), sources, main, closed)
        second = _run(
            tmp_path_factory.mktemp("closed"), _site("closed", f"{closed.base_url}/closed/"), main, closed
        )
        first.second = second
        yield first
    finally:
        main.stop()
        closed.stop()


def _failing(crawl: Crawl) -> set[str]:
    outcome = crawl.summary["outcome"]
    assert outcome.startswith("finished with failing sites: "), outcome
    return set(outcome.removeprefix("finished with failing sites: ").split(", "))


def test_the_run_exits_3_naming_the_sites_whose_pages_got_no_answer(crawl: Crawl) -> None:
    assert crawl.result.code == 3, (crawl.result.stdout, crawl.result.stderr)
    assert _failing(crawl) == {"down", "drop"}  # not gone (404), not busy (429, then answered)


def test_a_site_whose_robots_txt_answers_503_fails_the_run(crawl: Crawl) -> None:
    assert crawl.second is not None
    assert crawl.second.result.code == 3, (crawl.second.result.stdout, crawl.second.result.stderr)
    assert _failing(crawl.second) == {"closed"}


def test_a_503_site_counts_its_url_once_and_archives_every_attempt(crawl: Crawl) -> None:
    site = crawl.site("down")
    attempts = RETRY_TIMES + 1
    assert len(crawl.main.requests("/down/")) == attempts
    assert crawl.responses.count("/down/") == attempts  # each attempt is a real exchange
    robots = site["fetched"] - 1  # the host's robots.txt goes to its first site: not a page
    assert robots in (0, 1), site
    assert site["exchanges"] == attempts + robots
    assert site["retries"] == RETRY_TIMES
    assert site["http_errors_5xx"] == 1
    assert site["errors"] == {}


def test_a_429_is_retried_no_sooner_than_its_retry_after(crawl: Crawl) -> None:
    first, second = crawl.main.requests("/busy/")  # the 429, then the page
    assert first.status == 429 and second.status == 200
    assert second.at - first.at >= RETRY_AFTER - 0.05
    site = crawl.site("busy")
    assert site["retries"] == 1 and site["http_errors_429"] == 0 and site["errors"] == {}


def test_a_robots_txt_answering_503_means_no_page_is_fetched(crawl: Crawl) -> None:
    served = crawl.closed.served
    assert served and {s.path for s in served} == {"/robots.txt"}, served
    assert len(served) <= RETRY_TIMES + 1
    assert crawl.second is not None
    site = crawl.second.site("closed")
    assert site["skipped"].get("robots_unavailable") == 1, site


def test_a_404_site_is_answered_not_failed(crawl: Crawl) -> None:
    site = crawl.site("gone")
    assert len(crawl.main.requests("/gone/")) == 1  # an answer: not retried
    assert site["errors"] == {} and site["http_errors_5xx"] == 0


def test_a_dropped_connection_is_requested_at_most_retry_times_plus_one(crawl: Crawl) -> None:
    for path in ("/drop/a", "/drop/b"):
        seen = crawl.main.requests(path)
        assert 1 <= len(seen) <= RETRY_TIMES + 1, (path, seen)
    site = crawl.site("drop")
    assert sum(site["errors"].values()) == 2, site  # each URL failed once, after its retries
    assert site["retries"] == 2 * RETRY_TIMES
