"""The spider's link decisions: each occurrence counted, refusals remembered, counts in the stats at close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from scrapy.utils.test import get_crawler

from archive.state import SqliteStateStore, UrlState
from crawler.extensions.archiver import Archiver
from crawler.spiders.news import NewsSpider

SOURCES = """\
[[sites]]
name = "news"
start_urls = ["https://www.example.org/"]
allowed_domains = ["example.org"]
article_urls = ['/news/\\d+']
max_depth = 1
max_pages = 2
"""
KEY = "newsarchive/site/news/"


def _spider(tmp_path: Path) -> tuple[NewsSpider, SqliteStateStore]:
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES, encoding="utf-8")
    crawler = get_crawler(NewsSpider, {"NEWSARCHIVE_SOURCES": str(sources)})
    spider = NewsSpider.from_crawler(crawler)
    state = SqliteStateStore(tmp_path / "state.sqlite")
    # The Archiver extension exists only in a running crawl: a real one over the test's state,
    # the spider's one way to the crawl state.
    assert crawler.stats is not None
    spider.__dict__["archiver"] = Archiver(tmp_path / "archive", stats=crawler.stats, state=state)
    return spider, state


def test_refusals_are_counted_per_occurrence_and_reach_the_stats_at_close(tmp_path: Path) -> None:
    spider, _ = _spider(tmp_path)
    site = spider.sites["news"]
    spider.scheduled[site.name] = 1  # the start page
    assert spider._follow(site, "https://www.example.org/news/1", depth=1) is not None
    for _ in range(3):
        assert spider._follow(site, "https://www.example.org/news/2", depth=1) is None  # budget spent
        assert spider._follow(site, "https://elsewhere.example.com/", depth=1) is None
        assert spider._follow(site, "https://www.example.org/section/a/b", depth=2) is None
    assert spider._follow(site, "https://www.example.org/news/1", depth=1) is None  # already requested
    stats = spider.crawler.stats
    assert stats.get_value(KEY + "cut/max_pages") is None  # not yet: counted in the spider
    spider.closed("finished")
    assert stats.get_value(KEY + "cut/max_pages") == 3
    assert stats.get_value(KEY + "skipped/offsite") == 3
    assert stats.get_value(KEY + "cut/max_depth") == 3
    assert spider.scheduled[site.name] == 2
    spider.closed("finished")  # flushed once: a second close adds nothing
    assert stats.get_value(KEY + "cut/max_pages") == 3


def test_a_link_past_the_budget_still_takes_its_publication_date_from_a_sitemap(tmp_path: Path) -> None:
    spider, state = _spider(tmp_path)
    site = spider.sites["news"]
    url = "https://www.example.org/news/7"
    recent = (datetime.now(UTC) - timedelta(hours=2)).isoformat()  # due for a re-check
    state.put(UrlState(url=url, record_id="<urn:uuid:1>", first_seen=recent))
    spider.scheduled[site.name] = site.max_pages
    assert spider._follow(site, url, depth=1) is None  # cut from a page link, and remembered
    published = datetime.now(UTC) - timedelta(hours=1)
    assert spider._follow(site, url, depth=1, published=published) is None  # a sitemap entry
    known = state.get(url)
    assert known is not None and known.published == published.isoformat()


def test_a_feed_date_reaches_the_state_through_the_archiver(tmp_path: Path) -> None:
    spider, state = _spider(tmp_path)
    site = spider.sites["news"]
    url = "https://www.example.org/news/7"
    recent = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    state.put(UrlState(url=url, record_id="<urn:uuid:7>", first_seen=recent))
    published = datetime.now(UTC) - timedelta(hours=2)
    assert spider._follow(site, url, depth=1, published=published) is not None
    stored = state.get(url)
    assert stored is not None and stored.published == published.isoformat()


def test_a_state_failure_in_discovery_stops_the_crawl_as_an_io_error(tmp_path: Path) -> None:
    """A broken state store met while judging a link stops the run (exit 74), like a failed write."""
    spider, state = _spider(tmp_path)
    site = spider.sites["news"]
    state.close()  # every later query fails with sqlite3.ProgrammingError -> StateError
    archiver = spider.archiver
    assert spider._follow(site, "https://www.example.org/news/8", depth=1) is None
    assert archiver.fatal_error and "crawl state" in archiver.fatal_error
    assert archiver.unavailable_error is None


def test_an_unreachable_state_service_in_discovery_stops_the_crawl_as_unavailable(tmp_path: Path) -> None:
    """The Redis state store with no server behind it: the run stops as "unavailable" (exit 69)."""
    import socket

    import redis

    from crawler.distributed.connection import parse_redis_url
    from crawler.distributed.state import RedisStateStore

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = parse_redis_url(f"redis://127.0.0.1:{port}/0")
    store = RedisStateStore(redis.Redis.from_url(target.url, socket_connect_timeout=1), "test:state", target)
    spider, _ = _spider(tmp_path)
    assert spider.crawler.stats is not None
    archiver = Archiver(tmp_path / "archive", stats=spider.crawler.stats, state=store)
    spider.__dict__["archiver"] = archiver
    assert spider._follow(spider.sites["news"], "https://www.example.org/news/9", depth=1) is None
    assert archiver.unavailable_error and "Redis" in archiver.unavailable_error
    assert archiver.fatal_error is None
