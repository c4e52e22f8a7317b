"""robots.txt Crawl-delay: capped at NEWSARCHIVE_MAX_CRAWL_DELAY, kept as the floor of the host's
download slot whatever AutoThrottle computes, and counted per site when it sets the pace."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from scrapy import Request, Spider, signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import HtmlResponse
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from crawler import meta
from crawler.downloader.crawldelay import (
    DEFAULT_MAX_CRAWL_DELAY,
    CrawlDelayMiddleware,
    honoured_delay,
    max_crawl_delay,
)
from crawler.errors import ConfigError

MIDDLEWARE = "crawler.downloader.crawldelay.CrawlDelayMiddleware"


def _crawler(**settings: Any) -> Any:
    """A crawler with its engine (no download handlers: nothing is fetched) and our middleware."""
    crawler = get_crawler(
        Spider,
        {
            "ROBOTSTXT_OBEY": True,
            "AUTOTHROTTLE_ENABLED": True,
            "AUTOTHROTTLE_START_DELAY": 0.01,
            "DOWNLOAD_DELAY": 0,
            "DOWNLOAD_HANDLERS": {"http": None, "https": None},
            "DOWNLOADER_MIDDLEWARES": {MIDDLEWARE: 110},
            "LOGSTATS_INTERVAL": 0,
            "LOG_LEVEL": "ERROR",
            **settings,
        },
    )
    crawler.spider = crawler._create_spider("delays")
    crawler.engine = crawler._create_engine()
    # Slots are made as Scrapy makes them; only the idle-slot sweeper (a reactor timer) is off.
    crawler.engine.downloader._start_slot_gc = lambda: None
    crawler.signals.send_catch_log(signals.spider_opened, spider=crawler.spider)
    return crawler


def _robots(crawler: Any, url: str, body: bytes) -> None:
    """What Scrapy's RobotsTxtMiddleware does once it has parsed a host's robots.txt."""
    parser = ProtegoRobotParser.from_crawler(crawler, body)
    crawler.signals.send_catch_log(signals.robots_parsed, robotparser=parser, request=Request(url))


def _downloaded(crawler: Any, request: Request, latency: float) -> None:
    """A response arrived (AutoThrottle adjusts the slot's delay on this signal)."""
    request.meta["download_latency"] = latency
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    crawler.signals.send_catch_log(
        signals.response_downloaded, response=response, request=request, spider=crawler.spider
    )


# --- the cap -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "cap", "honoured"),
    [
        (1.0, 30.0, 1.0),
        (0.5, 30.0, 0.5),
        (30.0, 30.0, 30.0),
        (120.0, 30.0, 30.0),  # capped
        (1e9, 30.0, 30.0),
        (5.0, 2.0, 2.0),  # a lower cap the operator chose
        (None, 30.0, None),  # no Crawl-delay
        (0.0, 30.0, None),
        (-3.0, 30.0, None),  # nonsense from a parser other than protego
        (float("nan"), 30.0, None),
        (float("inf"), 30.0, None),
        (5.0, 0.0, None),  # 0: Crawl-delay ignored
    ],
)
def test_a_crawl_delay_is_capped_at_the_maximum(
    asked: float | None, cap: float, honoured: float | None
) -> None:
    assert honoured_delay(asked, cap) == honoured


def test_the_documented_maximum_is_the_projects_setting() -> None:
    settings = get_project_settings()
    assert settings.getfloat("NEWSARCHIVE_MAX_CRAWL_DELAY") == DEFAULT_MAX_CRAWL_DELAY == 30.0
    assert max_crawl_delay(settings) == 30.0
    assert max_crawl_delay({}) == DEFAULT_MAX_CRAWL_DELAY  # settings without it: the same default
    assert max_crawl_delay({"NEWSARCHIVE_MAX_CRAWL_DELAY": "12.5"}) == 12.5  # from --set


@pytest.mark.parametrize("value", ["abc", "-1", -0.5, "nan", "inf", ""])
def test_an_unusable_maximum_is_a_config_error_naming_the_setting(value: object) -> None:
    with pytest.raises(ConfigError, match=r"NEWSARCHIVE_MAX_CRAWL_DELAY must be a number of seconds >= 0"):
        max_crawl_delay({"NEWSARCHIVE_MAX_CRAWL_DELAY": value})


def test_the_project_wires_the_middleware_right_after_robots_txt() -> None:
    settings = get_project_settings()
    ours = settings.getwithbase("DOWNLOADER_MIDDLEWARES")
    assert ours["scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"] is None  # ours replaces it
    robots = ours["crawler.downloader.robots.RobotsTxtMiddleware"]
    user_agent = ours["scrapy.downloadermiddlewares.useragent.UserAgentMiddleware"]
    assert robots < ours[MIDDLEWARE] < user_agent  # it needs the parsed robots.txt, nothing later
    assert settings.getbool("ROBOTSTXT_OBEY")


def test_a_longer_crawl_delay_is_capped_logged_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    crawler = _crawler(NEWSARCHIVE_MAX_CRAWL_DELAY=30)
    mw = crawler.get_downloader_middleware(CrawlDelayMiddleware)
    with caplog.at_level(logging.INFO, logger="crawler.downloader.crawldelay"):
        _robots(crawler, "http://slow.example/", b"User-agent: *\nCrawl-delay: 120\n")
        _robots(crawler, "http://fast.example/", b"User-agent: *\nCrawl-delay: 2\n")
        _robots(crawler, "http://none.example/", b"User-agent: *\nDisallow: /private/\n")
    assert (mw.delay_for("slow.example"), mw.delay_for("fast.example"), mw.delay_for("none.example")) == (
        30.0,
        2.0,
        0.0,
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "robots.txt of slow.example asks for a Crawl-delay of 120 s: capped at NEWSARCHIVE_MAX_CRAWL_DELAY = 30 s"
    ]
    assert crawler.stats.get_value("newsarchive/crawl_delay/capped") == 1
    assert crawler.stats.get_value("newsarchive/crawl_delay/hosts") == 2


def test_the_rules_for_our_user_agent_give_the_delay() -> None:
    crawler = _crawler(USER_AGENT="newsarchive/0.2 (+https://example.org/contact)")
    mw = crawler.get_downloader_middleware(CrawlDelayMiddleware)
    _robots(
        crawler,
        "http://picky.example/",
        b"User-agent: otherbot\nCrawl-delay: 9\n\nUser-agent: newsarchive\nCrawl-delay: 4\n\n"
        b"User-agent: *\nCrawl-delay: 1\n",
    )
    assert mw.delay_for("picky.example") == 4.0


def test_zero_ignores_crawl_delay() -> None:
    crawler = _crawler(NEWSARCHIVE_MAX_CRAWL_DELAY=0)
    assert crawler.get_downloader_middleware(CrawlDelayMiddleware) is None
    assert crawler.get_downloader_middleware(RobotsTxtMiddleware) is not None


# --- the slot's floor ----------------------------------------------------------------------------


def test_autothrottle_never_lowers_a_hosts_delay_below_its_crawl_delay() -> None:
    crawler = _crawler()
    assert crawler.get_extension(AutoThrottle) is not None
    downloader = crawler.engine.downloader
    mw = crawler.get_downloader_middleware(CrawlDelayMiddleware)
    _robots(crawler, "http://polite.example/", b"User-agent: *\nCrawl-delay: 1\n")
    page = Request("http://polite.example/news/", meta={meta.SITE: "polite"})
    mw.process_request(page)
    key, slot = downloader._get_slot(page)  # made as the downloader makes it, after the middlewares
    page.meta[downloader.DOWNLOAD_SLOT] = key
    assert (slot.delay, slot.jitter) == (1.0, 0.0)  # no ±50 %: it would go below the Crawl-delay
    # Another host, same delay, no Crawl-delay: the same fast answers make AutoThrottle lower it.
    other = Request("http://other.example/news/", meta={meta.SITE: "other"})
    mw.process_request(other)
    other_key, other_slot = downloader._get_slot(other)
    other.meta[downloader.DOWNLOAD_SLOT] = other_key
    other_slot.delay = 1.0
    for _ in range(5):
        _downloaded(crawler, page, latency=0.001)
        _downloaded(crawler, other, latency=0.001)
    assert other_slot.delay < 0.1, "AutoThrottle did lower the delay of a host without Crawl-delay"
    assert slot.delay == 1.0 and slot.jitter == 0.0
    # A slow host: AutoThrottle may go above the Crawl-delay, never below it.
    _downloaded(crawler, page, latency=3.0)
    assert slot.delay > 1.0
    # Idle slots are dropped after a minute; the host's next slot starts at its Crawl-delay again.
    downloader.slots.pop(key)
    _, again = downloader._get_slot(page)
    assert (again.delay, again.jitter) == (1.0, 0.0)


def test_a_crawl_delay_longer_than_autothrottles_maximum_still_holds() -> None:
    crawler = _crawler(NEWSARCHIVE_MAX_CRAWL_DELAY=60, AUTOTHROTTLE_MAX_DELAY=10)
    downloader = crawler.engine.downloader
    mw = crawler.get_downloader_middleware(CrawlDelayMiddleware)
    _robots(crawler, "http://slow.example/", b"User-agent: *\nCrawl-delay: 45\n")
    page = Request("http://slow.example/a")
    mw.process_request(page)
    key, slot = downloader._get_slot(page)
    page.meta[downloader.DOWNLOAD_SLOT] = key
    _downloaded(crawler, page, latency=20.0)  # AutoThrottle clamps at its maximum, 10 s
    assert slot.delay == 45.0


def test_a_slot_that_existed_before_robots_txt_was_read_gets_the_delay() -> None:
    """The robots.txt request itself makes the host's slot: it is paced from then on."""
    crawler = _crawler()
    downloader = crawler.engine.downloader
    robots = Request("http://polite.example/robots.txt")
    key, slot = downloader._get_slot(robots)
    assert slot.delay < 1.0
    _robots(crawler, "http://polite.example/", b"User-agent: *\nCrawl-delay: 1.5\n")
    assert (slot.delay, slot.jitter) == (1.5, 0.0)
    assert downloader.per_slot_settings[key] == {"delay": 1.5, "jitter": 0.0}


def test_a_longer_download_slots_delay_is_kept() -> None:
    crawler = _crawler(DOWNLOAD_SLOTS={"polite.example": {"delay": 5.0, "concurrency": 1}})
    downloader = crawler.engine.downloader
    mw = crawler.get_downloader_middleware(CrawlDelayMiddleware)
    _robots(crawler, "http://polite.example/", b"User-agent: *\nCrawl-delay: 1\n")
    page = Request("http://polite.example/a")
    mw.process_request(page)
    _, slot = downloader._get_slot(page)
    assert (slot.delay, slot.jitter, slot.concurrency) == (5.0, 0.0, 1)


# --- what the summary is told --------------------------------------------------------------------


def test_requests_whose_pace_a_crawl_delay_set_are_counted_for_their_site() -> None:
    crawler = _crawler(DOWNLOAD_DELAY=0.25)
    mw = crawler.get_downloader_middleware(CrawlDelayMiddleware)
    _robots(crawler, "http://polite.example/", b"User-agent: *\nCrawl-delay: 1\n")
    _robots(crawler, "http://quick.example/", b"User-agent: *\nCrawl-delay: 0.1\n")  # below --delay
    for path in ("/", "/a", "/b"):
        mw.process_request(Request("http://polite.example" + path, meta={meta.SITE: "polite"}))
        mw.process_request(Request("http://quick.example" + path, meta={meta.SITE: "quick"}))
        mw.process_request(Request("http://free.example" + path, meta={meta.SITE: "free"}))
    stats = crawler.stats
    assert stats.get_value("newsarchive/site/polite/cut/crawl_delay") == 3
    assert stats.get_value("newsarchive/site/quick/cut/crawl_delay") is None
    assert stats.get_value("newsarchive/site/free/cut/crawl_delay") is None


def test_in_distributed_mode_the_local_slots_are_left_to_the_shared_pacing() -> None:
    crawler = _crawler()
    downloader = crawler.engine.downloader
    mw = crawler.get_downloader_middleware(CrawlDelayMiddleware)
    mw.paced_elsewhere(0.25)
    _robots(crawler, "http://polite.example/", b"User-agent: *\nCrawl-delay: 1\n")
    page = Request("http://polite.example/a", meta={meta.SITE: "polite"})
    mw.process_request(page)
    _, slot = downloader._get_slot(page)
    assert slot.delay < 1.0 and "polite.example" not in downloader.per_slot_settings
    assert mw.delay_for("polite.example") == 1.0  # what the shared pacing asks for
    assert crawler.stats.get_value("newsarchive/site/polite/cut/crawl_delay") == 1
