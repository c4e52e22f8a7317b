"""robots.txt ``Crawl-delay``, honoured per host (downloader middleware, right after Scrapy's robots.txt one).

Scrapy reads robots.txt (``RobotsTxtMiddleware``, with protego) but never applies the
``Crawl-delay`` it finds there. This middleware hears each parsed robots.txt (Scrapy's
``robots_parsed`` signal, before any page of the host is requested) and paces the host's
download slot (Scrapy's per-host queue: successive requests start at least ``slot.delay`` apart):

* the delay is the ``Crawl-delay`` for our User-Agent (the one robots.txt rules are matched with),
  capped at ``NEWSARCHIVE_MAX_CRAWL_DELAY`` seconds (30; ``0`` ignores Crawl-delay). A larger one
  is logged once per host and counted (``newsarchive/crawl_delay/capped``);
* the host's slot gets a delay of at least the Crawl-delay, and so does a slot made for it later
  (Scrapy drops idle slots after a minute); its random ±jitter (``DOWNLOAD_DELAY_JITTER``, ±50 %)
  is off, or half the requests would start sooner than the Crawl-delay;
* AutoThrottle may raise the delay, never lower it below the Crawl-delay. AutoThrottle sets
  ``slot.delay`` when a response arrives (``response_downloaded``), within ``DOWNLOAD_DELAY`` and
  ``AUTOTHROTTLE_MAX_DELAY``; this middleware's handler of the same signal runs after it
  (extensions connect their handlers before the downloader and its middlewares exist) and puts
  the floor back before the slot starts its next request. Every request passing here does too;
* each request of a site to a host whose Crawl-delay is longer than the crawl's own minimum
  delay (``DOWNLOAD_DELAY``) counts as ``newsarchive/site/SITE/cut/crawl_delay``: the run
  summary's ``cut`` then says which sites' pace their robots.txt set, and for how many requests.

In distributed mode the workers' own delays are off and :mod:`crawler.distributed.politeness`
paces every host across all workers: it asks :meth:`CrawlDelayMiddleware.delay_for`, shares the
answer with the other workers through Redis, and tells this middleware to leave the local slots
alone (:meth:`CrawlDelayMiddleware.paced_elsewhere`).
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.httpobj import urlparse_cached

from crawler import meta
from crawler.errors import ConfigError

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.core.downloader import Slot
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Seconds: the longest Crawl-delay honoured; a larger one is lowered to it (and logged). 0: none.
MAX_CRAWL_DELAY = "NEWSARCHIVE_MAX_CRAWL_DELAY"
DEFAULT_MAX_CRAWL_DELAY = 30.0  # crawler.settings' value; also under settings without it
#: Stats key tail, per site: its requests whose pace a host's Crawl-delay set.
LIMITED = "cut/crawl_delay"
CAPPED = "newsarchive/crawl_delay/capped"  # hosts whose Crawl-delay was longer than the cap
HOSTS = "newsarchive/crawl_delay/hosts"  # hosts whose Crawl-delay is honoured


def seconds_setting(settings: Any, name: str, default: float) -> float:
    """A setting that is a number of seconds >= 0 (``default`` when unset); anything else is a
    ConfigError naming the setting, so the pre-flight can refuse it before a crawl starts."""
    raw = settings.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name} must be a number of seconds >= 0, got {raw!r}")
    return value


def max_crawl_delay(settings: Any) -> float:
    """``NEWSARCHIVE_MAX_CRAWL_DELAY`` as seconds."""
    return seconds_setting(settings, MAX_CRAWL_DELAY, DEFAULT_MAX_CRAWL_DELAY)


def honoured_delay(asked: float | None, cap: float) -> float | None:
    """Seconds between two requests to a host whose robots.txt asks ``asked``: at most ``cap``;
    None when it asks for none (or for something that is no positive number)."""
    if asked is None or not math.isfinite(asked) or asked <= 0 or cap <= 0:
        return None
    return min(asked, cap)


def _floor(slot: Slot, delay: float) -> None:
    if slot.delay < delay:
        slot.delay = delay
    slot.jitter = 0.0


class CrawlDelayMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.cap = max_crawl_delay(settings)
        if not settings.getbool("ROBOTSTXT_OBEY") or self.cap == 0:
            raise NotConfigured  # no robots.txt read, or Crawl-delay ignored on purpose
        self.crawler = crawler
        # As RobotsTxtMiddleware matches the rules: ROBOTSTXT_USER_AGENT, else the request's.
        self.robots_agent: str | None = settings.get("ROBOTSTXT_USER_AGENT") or None
        self.default_agent: str = settings.get("USER_AGENT") or ""
        #: The crawl's own minimum delay: a Crawl-delay above it sets the host's pace.
        self.base_delay = settings.getfloat("DOWNLOAD_DELAY")
        #: host name -> seconds between two requests to it (one entry per host with a Crawl-delay)
        self.delays: dict[str, float] = {}
        self.local = True  # this process's download slots are paced here

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelayMiddleware:
        mw = cls(crawler)
        crawler.signals.connect(mw.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(mw.response_downloaded, signal=signals.response_downloaded)
        return mw

    # --- what other components ask ---------------------------------------------------------
    def delay_for(self, host: str) -> float:
        """Seconds to keep between two requests to ``host`` (0.0: its robots.txt asks for none)."""
        return self.delays.get(host, 0.0)

    def paced_elsewhere(self, base_delay: float) -> None:
        """Another component paces the hosts (distributed mode, across workers) with
        ``base_delay`` as its minimum: leave this process's download slots alone."""
        self.local = False
        self.base_delay = base_delay

    # --- signals and requests --------------------------------------------------------------
    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        host = urlparse_cached(request).hostname or ""
        agent = self.robots_agent or request.headers.get(b"User-Agent") or self.default_agent
        ask = getattr(robotparser, "crawl_delay", None)  # a RobotParser of Scrapy >= 2.18
        asked = ask(agent) if ask is not None else None
        delay = honoured_delay(asked, self.cap)
        if asked is None or delay is None:
            return
        stats = self.crawler.stats
        if asked > delay:
            logger.warning(
                "robots.txt of %s asks for a Crawl-delay of %g s: capped at %s = %g s",
                host,
                asked,
                MAX_CRAWL_DELAY,
                delay,
            )
            if stats is not None:
                stats.inc_value(CAPPED)
        else:
            logger.info("robots.txt of %s asks for a Crawl-delay of %g s: honoured", host, delay)
        if host not in self.delays and stats is not None:
            stats.inc_value(HOSTS)
        self.delays[host] = max(delay, self.delays.get(host, 0.0))  # several ports, one host
        if self.local:
            self._pace(request, self.delays[host])

    def process_request(self, request: Request) -> None:
        if not self.delays:
            return
        delay = self.delays.get(urlparse_cached(request).hostname or "")
        if delay is None:
            return
        if self.local:
            self._pace(request, delay)
        site = request.meta.get(meta.SITE)
        stats = self.crawler.stats
        if site and delay > self.base_delay and stats is not None:
            stats.inc_value(f"newsarchive/site/{site}/{LIMITED}")

    def response_downloaded(self, request: Request) -> None:
        """After AutoThrottle's adjustment of the slot (same signal, connected before this one)."""
        if not self.local or not self.delays:
            return
        delay = self.delays.get(urlparse_cached(request).hostname or "")
        if delay is None:
            return
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(request.meta.get(downloader.DOWNLOAD_SLOT) or "")
        if slot is not None:
            _floor(slot, delay)

    def _pace(self, request: Request, delay: float) -> None:
        """The request's download slot, now and when made again, starts requests ``delay`` apart."""
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        wanted = downloader.per_slot_settings.get(key, {})  # DOWNLOAD_SLOTS, kept when longer
        if wanted.get("jitter") != 0.0 or float(wanted.get("delay", 0.0)) < delay:
            longest = max(delay, float(wanted.get("delay", 0.0)))
            downloader.per_slot_settings[key] = {**wanted, "delay": longest, "jitter": 0.0}
        slot = downloader.slots.get(key)
        if slot is not None:
            _floor(slot, delay)
