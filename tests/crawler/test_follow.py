"""The spider's link decisions: each occurrence counted, refusals remembered, counts in the stats at close;
every link, feed or sitemap entry and redirect judged by the site that owns its URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import XmlResponse
from scrapy.utils.test import get_crawler

from archive.state import SqliteStateStore, UrlState
from crawler import meta
from crawler.downloader.capture import _site_of
from crawler.downloader.scope import OutOfScope, ScopeMiddleware
from crawler.extensions.archiver import Archiver
from crawler.sources import Site
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


def _spider(tmp_path: Path, text: str = SOURCES) -> tuple[NewsSpider, SqliteStateStore]:
    sources = tmp_path / "sources.toml"
    sources.write_text(text, encoding="utf-8")
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


# --- two sites on one host: every link goes to the site that owns it -------------------------------

SECTIONS = """\
[[sites]]
name = "ur"
start_urls = ["https://example.org/ur/"]
feeds = ["https://example.org/ur/rss.xml"]
sitemaps = ["https://example.org/sitemap-index.xml"]
article_urls = ['/ur/news/\\d+']
max_depth = 3
max_pages = 100

[[sites]]
name = "en"
start_urls = ["https://www.example.org/en/"]
allowed_domains = ["example.org"]
article_urls = ['/en/news/\\d+']
follow_urls = ['/en/$', '/en/topics/']
deny_urls = ['/en/video/']
max_depth = 1
max_pages = 3
"""
EN_ARTICLE = "https://example.org/en/news/5"


def _sections(tmp_path: Path) -> tuple[NewsSpider, Site, Site]:
    spider, _ = _spider(tmp_path, SECTIONS)
    return spider, spider.sites["ur"], spider.sites["en"]


def _meta(request: Request | None) -> tuple[str, int, str, bool]:
    assert request is not None
    m = request.meta
    return m[meta.SITE], m[meta.DEPTH], m[meta.KIND], m[meta.ARTICLE]


def test_a_link_to_another_sections_article_is_that_sections_article(tmp_path: Path) -> None:
    spider, ur, en = _sections(tmp_path)
    request = spider._follow(ur, EN_ARTICLE, depth=2)
    assert _meta(request) == ("en", 2, "page", True)  # the finder's depth + 1, the owner's name
    assert (spider.scheduled["en"], spider.scheduled["ur"]) == (1, 0)  # the owner's budget
    assert spider._follow(en, EN_ARTICLE, depth=1) is None  # requested once, under its own site
    assert _meta(spider._follow(en, "https://example.org/ur/news/9", depth=1)) == ("ur", 1, "page", True)


def test_the_owners_rules_judge_a_link_and_its_refusals_count_under_the_owner(tmp_path: Path) -> None:
    spider, ur, _ = _sections(tmp_path)
    assert spider._follow(ur, "https://example.org/en/video/1", depth=1) is None  # en's deny_urls
    assert spider._follow(ur, "https://example.org/en/misc/", depth=1) is None  # en's follow_urls
    assert spider._follow(ur, "https://example.org/en/topics/a", depth=2) is None  # en's max_depth 1
    assert _meta(spider._follow(ur, "https://example.org/en/topics/b", depth=1)) == ("en", 1, "page", False)
    # An article is followed at any depth, by its owner's rules as by the finder's.
    assert _meta(spider._follow(ur, "https://example.org/en/news/6", depth=7)) == ("en", 7, "page", True)
    # ur's own pages are judged by ur: depth 3 is within its max_depth, unlike en's.
    assert _meta(spider._follow(ur, "https://example.org/ur/opinion/", depth=3)) == ("ur", 3, "page", False)
    spider.closed("finished")
    stats = spider.crawler.stats
    assert stats.get_value("newsarchive/site/en/skipped/denied") == 2
    assert stats.get_value("newsarchive/site/en/cut/max_depth") == 1
    assert stats.get_value("newsarchive/site/ur/skipped/denied") is None
    assert stats.get_value("newsarchive/site/ur/cut/max_depth") is None


def test_the_owners_budget_cuts_a_link_whoever_offers_it(tmp_path: Path) -> None:
    spider, ur, en = _sections(tmp_path)
    spider.scheduled["en"] = en.max_pages
    for _ in range(3):  # remembered per finder, counted per occurrence under the owner
        assert spider._follow(ur, EN_ARTICLE, depth=1) is None
    assert spider._follow(en, EN_ARTICLE, depth=1) is None
    assert (
        _meta(spider._follow(ur, "https://example.org/ur/news/1", depth=1))[0] == "ur"
    )  # ur's budget is its own
    spider.closed("finished")
    assert spider.crawler.stats.get_value("newsarchive/site/en/cut/max_pages") == 4
    assert spider.crawler.stats.get_value("newsarchive/site/ur/cut/max_pages") is None
    assert set(spider.refused) == {("ur", EN_ARTICLE), ("en", EN_ARTICLE)}


def test_a_link_to_another_sites_start_page_is_left_to_its_seed(tmp_path: Path) -> None:
    """en's start page is requested at depth 0 by en (the engine may not have taken it yet)."""
    spider, ur, _ = _sections(tmp_path)
    assert spider._follow(ur, "https://www.example.org/en/", depth=1) is None
    assert spider._follow(ur, "https://example.org/ur/rss.xml", depth=1) is None  # a seed too
    assert spider.scheduled == {}


def _xml(spider: NewsSpider, url: str, body: str, site: str, kind: str) -> list[Request]:
    request = Request(url, meta={meta.SITE: site, meta.DEPTH: 0, meta.KIND: kind})
    return list(spider.parse_xml(XmlResponse(url, body=body.encode(), request=request)))


def test_feed_entries_go_to_the_site_that_owns_them(tmp_path: Path) -> None:
    spider, _, _ = _sections(tmp_path)
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>ur</title>'
        "<item><link>https://example.org/ur/news/1</link></item>"
        f"<item><link>{EN_ARTICLE}</link></item></channel></rss>"
    )
    requests = _xml(spider, "https://example.org/ur/rss.xml", feed, "ur", "feed")
    assert sorted((r.url, *_meta(r)) for r in requests) == [
        (EN_ARTICLE, "en", 1, "page", True),
        ("https://example.org/ur/news/1", "ur", 1, "page", True),
    ]


def test_a_sitemap_index_hands_each_sitemap_to_its_owner(tmp_path: Path) -> None:
    spider, _, en = _sections(tmp_path)
    index = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(
            f"<sitemap><loc>https://example.org/{path}</loc></sitemap>"
            for path in ("ur/sitemap.xml", "en/sitemap-1.xml", "en/sitemap-2.xml", "sitemap-misc.xml")
        )
        + "</sitemapindex>"
    )
    spider.scheduled["en"] = en.max_pages - 1  # room for one of en's two
    requests = _xml(spider, "https://example.org/sitemap-index.xml", index, "ur", "sitemap")
    assert sorted((r.url, *_meta(r)) for r in requests) == [
        ("https://example.org/en/sitemap-1.xml", "en", 1, "sitemap", False),
        ("https://example.org/sitemap-misc.xml", "ur", 1, "sitemap", False),  # no section: the finder's
        ("https://example.org/ur/sitemap.xml", "ur", 1, "sitemap", False),
    ]
    assert spider.crawler.stats.get_value("newsarchive/site/en/cut/max_pages") == 1


def test_a_url_the_spider_did_not_request_is_named_by_the_rule(tmp_path: Path) -> None:
    """What the capture middleware archives a robots.txt (or any request without a site) under."""
    spider, _, _ = _sections(tmp_path)
    crawler = spider.crawler
    crawler.spider = spider
    assert _site_of(crawler, EN_ARTICLE) == "en"
    assert _site_of(crawler, "https://www.example.org/en/topics/x") == "en"
    assert _site_of(crawler, "https://example.org/robots.txt") == "ur"  # the first site on the host
    assert _site_of(crawler, "https://elsewhere.example/robots.txt") == ""


def _redirected(url: str, site: str, kind: str = "page", article: bool = False) -> Request:
    return Request(
        url,
        meta={
            meta.SITE: site,
            meta.DEPTH: 1,
            meta.KIND: kind,
            meta.ARTICLE: article,
            "redirect_urls": ["https://example.org/go/1"],
        },
    )


def test_a_redirect_into_another_section_goes_to_that_section(tmp_path: Path) -> None:
    spider, _, _ = _sections(tmp_path)
    crawler = spider.crawler
    crawler.spider = spider
    scope = ScopeMiddleware(crawler)
    request = _redirected(EN_ARTICLE, "ur")
    scope.process_request(request)
    assert _meta(request) == ("en", 1, "page", True)
    within = _redirected("https://example.org/ur/news/2", "ur")
    scope.process_request(within)
    assert _meta(within) == ("ur", 1, "page", True)  # an article by its owner's rules
    stays = _redirected("https://example.org/ur/landing", "ur", article=True)
    scope.process_request(stays)
    assert _meta(stays) == ("ur", 1, "page", True)  # an article request stays one
    feed = _redirected("https://example.org/en/feed.xml", "ur", kind="feed")
    scope.process_request(feed)
    assert _meta(feed) == ("ur", 1, "feed", False)  # a feed stays with the site that asked for it
    offsite = _redirected("https://elsewhere.example/en/news/5", "en")
    with pytest.raises(OutOfScope):
        scope.process_request(offsite)
    assert crawler.stats.get_value("newsarchive/site/en/skipped/offsite") == 1
    plain = Request(EN_ARTICLE, meta={meta.SITE: "ur", meta.KIND: "page"})  # not a redirect
    scope.process_request(plain)
    assert plain.meta[meta.SITE] == "ur"


# --- a faceted list costs max_query_variants requests per path, not the page budget ---------------

SHOP = """\
[[sites]]
name = "shop"
start_urls = ["https://shop.example.org/"]
article_urls = ['/story\\.php\\?id=\\d+', '/news/\\d+']
deny_urls = ['[?&]print=']
max_depth = 10
max_pages = 1000
max_query_variants = 3
"""
SHOP_KEY = "newsarchive/site/shop/"
FACETS = [f"?color={c}&size={s}" for c in ("red", "green", "blue", "black") for s in ("s", "m", "l")]


def test_a_faceted_list_costs_at_most_max_query_variants_requests_per_path(tmp_path: Path) -> None:
    spider, _ = _spider(tmp_path, SHOP)
    site = spider.sites["shop"]
    base = "https://shop.example.org/list/"
    followed = [spider._follow(site, base + facet, depth=1) for facet in FACETS]
    assert [r.url for r in followed if r is not None] == [
        base + "?color=red&size=s",
        base + "?color=red&size=m",
        base + "?color=red&size=l",
    ]
    # Their permutations and tracking parameters are the same canonical URLs: nothing new.
    assert spider._follow(site, base + "?size=s&color=red&utm_source=x", depth=1) is None
    # Refused for the rest of the run, at any depth, each occurrence counted; the bare path is no variant.
    assert spider._follow(site, base + "?color=blue&size=m", depth=1) is None
    assert spider._follow(site, base + "?color=blue&size=m", depth=0) is None
    assert spider._follow(site, base, depth=1) is not None
    # Every path has its own count.
    assert spider._follow(site, "https://shop.example.org/list/other?page=2", depth=1) is not None
    assert spider._follow(site, "http://shop.example.org/list/?page=2", depth=1) is not None  # scheme too
    assert spider.scheduled["shop"] == 3 + 3
    spider.closed("finished")
    stats = spider.crawler.stats
    assert stats.get_value(SHOP_KEY + "cut/query_variants") == len(FACETS) - 3 + 2
    assert stats.get_value(SHOP_KEY + "cut/max_pages") is None


def test_articles_with_query_strings_are_never_capped(tmp_path: Path) -> None:
    """``story.php?id=123``: every article of such a site shares one path."""
    spider, _ = _spider(tmp_path, SHOP)
    site = spider.sites["shop"]
    stories = [spider._follow(site, f"https://shop.example.org/story.php?id={n}", depth=1) for n in range(10)]
    assert all(r is not None and r.meta[meta.ARTICLE] for r in stories)
    pages = [spider._follow(site, f"https://shop.example.org/news/1?page={n}", depth=1) for n in range(5)]
    assert all(r is not None for r in pages)  # an article's own pages are articles too
    # and they do not use up the variants of a list on the same path
    assert spider._follow(site, "https://shop.example.org/story.php?tag=x", depth=1) is not None
    spider.closed("finished")
    assert spider.crawler.stats.get_value(SHOP_KEY + "cut/query_variants") is None


def test_only_requested_variants_count(tmp_path: Path) -> None:
    """A link refused for another reason (denied, too deep, budget) uses up no variant."""
    spider, _ = _spider(tmp_path, SHOP)
    site = spider.sites["shop"]
    base = "https://shop.example.org/list/"
    for n in range(5):
        assert spider._follow(site, f"{base}?print=1&page={n}", depth=1) is None  # deny_urls
        assert spider._follow(site, f"{base}?page={n}", depth=11) is None  # beyond max_depth
    assert spider.query_variants == {}
    assert len([spider._follow(site, f"{base}?page={n}", depth=1) for n in range(3)]) == 3
    assert spider.query_variants == {("shop", base): 3}  # one entry per path: bounded by requests


def test_zero_variants_follows_no_query_string_but_articles(tmp_path: Path) -> None:
    spider, _ = _spider(tmp_path, SHOP.replace("max_query_variants = 3", "max_query_variants = 0"))
    site = spider.sites["shop"]
    assert spider._follow(site, "https://shop.example.org/list/?page=2", depth=1) is None
    assert spider._follow(site, "https://shop.example.org/list/", depth=1) is not None
    assert spider._follow(site, "https://shop.example.org/story.php?id=1", depth=1) is not None


def test_the_owners_variants_cut_a_link_whoever_offers_it(tmp_path: Path) -> None:
    text = SECTIONS.replace("max_pages = 3\n", "max_pages = 100\nmax_query_variants = 2\n")
    spider, _ = _spider(tmp_path, text)
    ur, en = spider.sites["ur"], spider.sites["en"]
    topics = "https://example.org/en/topics/list"
    requests = [spider._follow(ur, f"{topics}?page={n}", depth=1) for n in range(5)]
    assert [_meta(r)[0] for r in requests if r is not None] == ["en", "en"]  # en's limit, en's budget
    assert spider._follow(en, f"{topics}?page=9", depth=1) is None  # en's own links share the count
    spider.closed("finished")
    stats = spider.crawler.stats
    assert stats.get_value("newsarchive/site/en/cut/query_variants") == 4
    assert stats.get_value("newsarchive/site/ur/cut/query_variants") is None
