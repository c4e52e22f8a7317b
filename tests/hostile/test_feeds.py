"""Malformed feeds and sitemaps: broken XML, relative and invalid URLs, XXE, entity bombs, huge sitemaps.

Two sites in one crawl:

* ``feeds`` (on 127.0.0.1) reads ten feeds: relative links (``story/2``, ``../feeds/story/3``),
  invalid and non-HTTP links (``file:``, ``ftp:``, ``javascript:``, ``http://[::1``...), broken
  XML with NUL bytes, an external entity on ``file:///etc/passwd`` and on a canary URL of this
  server, an external DTD, "billion laughs", the last two again behind a 72 KB comment (past any
  sniffing of the first 64 KB), an HTML page and an empty body where a feed should be;
* ``maps`` (``maps.hostile.test``) reads a streamed sitemap of 60,000 URLs, a sitemap of
  relative and invalid ``<loc>`` values, and a sitemap index that links the next index forever.

Nothing may be resolved or fetched that the documents only name as entities or DTDs, no
non-HTTP URL may be fetched, the good links must still be followed, and every limit must hold.
"""

from __future__ import annotations

import pytest

from crawler import exitcodes
from tests.hostile.cases import FEEDS, HUGE_SITEMAP_URLS, PASSWD_MARK
from tests.hostile.harness import (
    MEMORY_BOUND,
    CrawlRun,
    all_warc_bytes,
    report_memory,
    run_crawl,
    site_toml,
    warcio_check,
    write_sources,
)
from tests.hostile.server import HostileServer

pytestmark = pytest.mark.slow

MAPS = "maps.hostile.test"
MAPS_LIMIT = 40


@pytest.fixture(scope="module")
def feeds(module_server: HostileServer, tmp_path_factory: pytest.TempPathFactory) -> CrawlRun:
    tmp = tmp_path_factory.mktemp("feeds")
    sources = write_sources(
        tmp / "sources.toml",
        site_toml(
            "feeds",
            feeds=[module_server.url(f"/feeds/{name}") for name in FEEDS],
            sitemaps=[module_server.url(f"/sitemaps/{name}") for name in ("mixed.xml", "invalid.xml")],
            article_urls=["/story/"],
        ),
        site_toml(
            "maps",
            sitemaps=[f"http://{MAPS}/sitemaps/{n}" for n in ("huge.xml", "index/0.xml")],
            article_urls=["/story/"],
            max_pages=MAPS_LIMIT,
        ),
    )
    run = run_crawl(sources, tmp / "archive", server=module_server)
    report_memory(run.memory_line("feeds and sitemaps (60,000-URL sitemap, XXE, billion laughs)"))
    return run


def _stories(server: HostileServer, prefix: str, host: str | None = None) -> set[str]:
    return {s.path.rsplit("/", 1)[1] for s in server.hits(prefix, host=host)}


def test_run_finishes_and_files_are_valid(feeds: CrawlRun) -> None:
    assert feeds.code == exitcodes.OK, feeds.stderr
    warcio_check(feeds.archive)


def test_nothing_named_by_an_entity_or_dtd_is_fetched(feeds: CrawlRun, module_server: HostileServer) -> None:
    assert module_server.hits("/feeds/canary/") == [], "an external entity or DTD was fetched"
    assert PASSWD_MARK.encode() not in all_warc_bytes(feeds.archive), "/etc/passwd ended up in a WARC"


def test_no_request_leaves_the_sites(feeds: CrawlRun, module_server: HostileServer) -> None:
    assert module_server.foreign() == [], [f"{s.host}{s.target}" for s in module_server.foreign()]
    schemes = {r.uri.split(":", 1)[0] for r in feeds.records if r.uri}
    assert schemes <= {"http"}, schemes


def test_relative_feed_links_are_resolved_and_fetched(feeds: CrawlRun, module_server: HostileServer) -> None:
    got = _stories(module_server, "/feeds/story/", host="127.0.0.1")
    assert {"1", "2", "3", "4", "5", "6"} <= got, got  # relative.xml, incl. a guid-only item
    assert {"7", "8"} <= got, got  # atom.xml, relative hrefs


def test_invalid_and_foreign_links_are_skipped_and_counted(feeds: CrawlRun) -> None:
    skipped = feeds.site("feeds")["skipped"]
    # file:, ftp:, gopher:, javascript:, mailto:, data:, 'http://', 'http://[::1', 'ht tp://',
    # from relative.xml and atom.xml: all invalid for canonicalisation.
    assert skipped.get("invalid_url", 0) >= 8, skipped
    assert skipped.get("offsite", 0) >= 3, skipped  # 10.0.0.1, 169.254.169.254, //elsewhere.example


def test_broken_xml_yields_what_can_be_read(feeds: CrawlRun, module_server: HostileServer) -> None:
    assert "10" in _stories(module_server, "/feeds/story/", host="127.0.0.1")


def test_entity_declarations_are_refused_or_left_unexpanded(
    feeds: CrawlRun, module_server: HostileServer
) -> None:
    got = _stories(module_server, "/feeds/story/", host="127.0.0.1")
    assert "22" in got, "a feed with an external DTD is still read (the DTD is never loaded)"
    assert "21" in got and "24" in got, "entities past the first 64 KB are not resolved, the links are read"
    assert "document declares XML entities (refused)" in feeds.log


def test_not_a_feed_is_an_xml_error_not_a_crash(feeds: CrawlRun) -> None:
    assert feeds.site("feeds")["errors"].get("xml", 0) >= 2, feeds.site("feeds")  # html.xml, empty.xml


def test_huge_sitemap_is_read_and_bounded_by_max_pages(feeds: CrawlRun, module_server: HostileServer) -> None:
    (served,) = module_server.hits("/sitemaps/huge.xml", host=MAPS)
    assert served.outcome == "complete", "the crawler read the whole 60,000-URL sitemap"
    site = feeds.site("maps")
    assert site["discovered"] >= 50_000, site  # sitemaps.org: at most 50,000 URLs per sitemap
    assert site["discovered"] <= HUGE_SITEMAP_URLS + 20
    assert site["cut"].get("max_pages", 0) > 40_000, site
    stories = module_server.hits("/sitemaps/story/", host=MAPS)
    assert len(stories) <= MAPS_LIMIT


def test_sitemap_relative_locs_are_resolved(feeds: CrawlRun, module_server: HostileServer) -> None:
    got = _stories(module_server, "/sitemaps/story/", host="127.0.0.1")
    assert {"rel", "rel2"} <= got, got


@pytest.mark.parametrize(
    ("prefix", "expected"), [("/feeds/story/", {"9", "19"}), ("/sitemaps/story/", {"good1", "good2"})]
)
def test_one_unparsable_url_does_not_lose_the_document(
    feeds: CrawlRun, module_server: HostileServer, prefix: str, expected: set[str]
) -> None:
    assert expected <= _stories(module_server, prefix, host="127.0.0.1")


def test_no_spider_error_on_hostile_documents(feeds: CrawlRun) -> None:
    assert "Traceback" not in feeds.log


def test_endless_sitemap_index_is_bounded(feeds: CrawlRun, module_server: HostileServer) -> None:
    indexes = module_server.hits("/sitemaps/index/", host=MAPS)
    assert len(indexes) <= MAPS_LIMIT, f"{len(indexes)} sitemap index documents fetched"


def test_feed_memory_stays_bounded(feeds: CrawlRun) -> None:
    assert feeds.peak_rss_main < MEMORY_BOUND, feeds.memory_line("feeds")
