"""Per-host politeness shared by every worker of a crawl (downloader middleware).

Scrapy applies ``CONCURRENT_REQUESTS_PER_DOMAIN``, ``DOWNLOAD_DELAY`` and AutoThrottle per
process, so N workers would load a site N times as hard. In distributed mode the local
mechanisms are turned off (see :mod:`crawler.distributed.settings`) and this middleware
applies them through Redis, per host (Scrapy's download slot: the host name):

* **concurrency**: at most ``NEWSARCHIVE_DIST_PER_HOST`` requests (the configured
  ``--per-host``) in flight on the host across all workers: a permit per request in a sorted
  set, released when the request leaves the downloader (response or error). A dead worker's permits expire with its
  lease (live workers renew theirs at each heartbeat).
* **delay**: successive requests to the host start at least the delay apart across all workers:
  one "next allowed start" time per host, taken and advanced atomically. The delay is
  ``--delay``, or, with AutoThrottle on, AutoThrottle's own rule (the same formula as Scrapy's)
  applied to latencies reported by every worker and stored per host.
* **Crawl-delay**: a host whose robots.txt asks for a Crawl-delay gets at least that delay (capped
  at ``NEWSARCHIVE_MAX_CRAWL_DELAY``), the floor of the delay rule above. Each worker reads the
  host's robots.txt itself (Scrapy's robots.txt middleware, before any page of the host), and
  :class:`crawler.downloader.crawldelay.CrawlDelayMiddleware` hands the delay over; that
  middleware then leaves the worker's own download slots alone (a local delay on top of the
  shared one would hold a granted request back, and let the next worker's start too soon).
  The first worker to learn a host's delay shares it (one key per host, kept 24 hours, as long
  as RFC 9309 lets a robots.txt be cached) and pushes the host's next start a delay away: so the
  robots.txt fetches of the other workers, and the first page after the robots.txt that told
  it, keep the delay too. Only the cycle's very first robots.txt fetch of a host cannot.

Requests wait in this middleware (counted in the worker's ``CONCURRENT_REQUESTS``) and poll
Redis every few tens of milliseconds; times are Redis's clock, so machines' clock skew does
not matter.
"""

from __future__ import annotations

import logging
import math
import random
import secrets
from typing import TYPE_CHECKING, Any

import redis
from scrapy import signals
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import reactor, task

from crawler import meta
from crawler.distributed.cycle import CycleCoordinator
from crawler.downloader.crawldelay import CrawlDelayMiddleware

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

PERMIT_META = meta.PERMIT
CRAWL_DELAY_KEEP_MS = 24 * 3600 * 1000  # a shared Crawl-delay is forgotten a day after last told

# KEYS: permits zset, next-start key, delays hash, crawl-delay key; ARGV: token, limit, lease_ms,
# min_delay_ms, host -> 0 granted, > 0 ms to wait for the delay, -1 host at its concurrency limit
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
local delay = tonumber(ARGV[4])
local shared = redis.call('HGET', KEYS[3], ARGV[5])
if shared and tonumber(shared) > delay then delay = tonumber(shared) end
local asked = redis.call('GET', KEYS[4])
if asked and tonumber(asked) > delay then delay = tonumber(asked) end
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if nxt > now then return nxt - now end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.floor(tonumber(ARGV[3]) * 2))
redis.call('SET', KEYS[2], math.floor(now + delay), 'PX', math.floor(math.max(delay, 1) + 60000))
return 0
"""

# KEYS: delays hash; ARGV: host, latency_ms, target_concurrency, min_ms, max_ms, start_ms, ok(1/0)
# Scrapy's AutoThrottle rule (scrapy.extensions.throttle), on a delay shared by all workers.
_THROTTLE = """
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or ARGV[6])
local target = tonumber(ARGV[2]) / tonumber(ARGV[3])
local new = (current + target) / 2
if target > new then new = target end
new = math.floor(math.min(math.max(tonumber(ARGV[4]), new), tonumber(ARGV[5])))
if ARGV[7] ~= '1' and new <= current then return current end
redis.call('HSET', KEYS[1], ARGV[1], new)
return new
"""

# KEYS: crawl-delay key, next-start key; ARGV: delay_ms, keep_ms -> 1 when this worker told first
# A host's Crawl-delay, shared; the first to tell it also pushes the host's next start a delay
# away (the robots.txt fetch that told it was granted with a shorter delay).
_SHARE_CRAWL_DELAY = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local delay = tonumber(ARGV[1])
local known = tonumber(redis.call('GET', KEYS[1]) or '0')
redis.call('SET', KEYS[1], math.max(known, delay), 'PX', tonumber(ARGV[2]))
if known >= delay then return 0 end
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if now + delay > nxt then redis.call('SET', KEYS[2], now + delay, 'PX', delay + 60000) end
return 1
"""

# KEYS: permit sets; ARGV: lease_ms, tokens (one per key) -> permits pushed to now + lease
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS do redis.call('ZADD', KEYS[i], 'XX', now + tonumber(ARGV[1]), ARGV[i + 1]) end
return 1
"""


class GlobalPoliteness:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.coordinator = CycleCoordinator.of(crawler)
        self.client = self.coordinator.client
        self.prefix = f"{settings.get('NEWSARCHIVE_DIST_PREFIX')}:host"
        self.per_host = max(1, settings.getint("NEWSARCHIVE_DIST_PER_HOST"))
        self.delay_ms = int(settings.getfloat("NEWSARCHIVE_DIST_DELAY") * 1000)
        self.autothrottle = settings.getbool("NEWSARCHIVE_DIST_AUTOTHROTTLE")
        self.start_ms = int(max(settings.getfloat("AUTOTHROTTLE_START_DELAY"), self.delay_ms / 1000) * 1000)
        self.max_ms = int(settings.getfloat("AUTOTHROTTLE_MAX_DELAY") * 1000)
        self.target = max(settings.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY"), 0.01)
        self.held: dict[str, str] = {}  # permit token -> host
        self.crawler = crawler
        self.crawl_delays: CrawlDelayMiddleware | None = None  # found when the spider opens
        self.shared: set[str] = set()  # hosts whose Crawl-delay this worker has shared
        self._acquire = self.client.register_script(_ACQUIRE)
        self._throttle = self.client.register_script(_THROTTLE)
        self._renew = self.client.register_script(_RENEW)
        self._share = self.client.register_script(_SHARE_CRAWL_DELAY)
        self.coordinator.on_heartbeat(self.renew)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GlobalPoliteness:
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        # The moment the host is free again, and sent whatever a later middleware does with the
        # response (the capture middleware may raise IgnoreRequest from process_response).
        crawler.signals.connect(mw.request_left_downloader, signal=signals.request_left_downloader)
        return mw

    def _keys(self, host: str) -> list[str]:
        return [
            f"{self.prefix}:{host}:permits",
            f"{self.prefix}:{host}:next",
            f"{self.prefix}:delays",
            f"{self.prefix}:{host}:crawl_delay",
        ]

    def spider_opened(self, spider: Any) -> None:
        """Take the hosts' pacing over from the Crawl-delay middleware (before any download)."""
        self.crawl_delays = self.crawler.get_downloader_middleware(CrawlDelayMiddleware)
        if self.crawl_delays is not None:
            self.crawl_delays.paced_elsewhere(self.delay_ms / 1000)

    def min_delay_ms(self, host: str) -> int:
        """The host's shortest delay: ``--delay``, or its robots.txt Crawl-delay when longer."""
        if self.crawl_delays is None:
            return self.delay_ms
        return max(self.delay_ms, math.ceil(self.crawl_delays.delay_for(host) * 1000))

    async def process_request(self, request: Request) -> None:
        if self.coordinator.broken:
            return
        host = urlparse_cached(request).hostname or ""
        token = f"{self.coordinator.wid}:{secrets.token_hex(4)}"
        keys = self._keys(host)
        min_delay_ms = self.min_delay_ms(host)
        if min_delay_ms > self.delay_ms and host not in self.shared:
            self.shared.add(host)
            try:
                self._share(keys=[keys[3], keys[1]], args=[min_delay_ms, CRAWL_DELAY_KEEP_MS])
            except redis.RedisError as exc:
                self.coordinator.redis_failed(exc)
                return
        waited = False
        while True:
            try:
                answer = int(
                    self._acquire(
                        keys=keys,
                        args=[token, self.per_host, self.coordinator.lease_ms, min_delay_ms, host],
                    )
                )
            except redis.RedisError as exc:
                self.coordinator.redis_failed(exc)
                return
            if answer == 0:
                break
            waited = True
            pause = answer / 1000 if answer > 0 else max(0.05, min(self.delay_ms / 2000, 0.25))
            await maybe_deferred_to_future(
                task.deferLater(reactor, pause * random.uniform(1.0, 1.3), lambda: None)
            )
        self.held[token] = host
        request.meta[PERMIT_META] = token
        if waited and self.crawler.stats is not None:
            self.crawler.stats.inc_value("newsarchive/distributed/politeness_waits")

    def _release(self, request: Request) -> None:
        token = request.meta.pop(PERMIT_META, None)
        host = self.held.pop(token, None) if token else None
        if host is None:
            return
        try:
            self.client.zrem(self._keys(host)[0], token)
        except redis.RedisError as exc:
            self.coordinator.redis_failed(exc)

    def request_left_downloader(self, request: Request, spider: Any) -> None:
        self._release(request)

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)
        latency = request.meta.get("download_latency")
        if self.autothrottle and latency is not None and not self.coordinator.broken:
            host = urlparse_cached(request).hostname or ""
            min_delay_ms = self.min_delay_ms(host)
            try:
                self._throttle(
                    keys=[self._keys(host)[2]],
                    args=[
                        host,
                        int(latency * 1000),
                        self.target,
                        min_delay_ms,
                        max(self.max_ms, min_delay_ms),
                        self.start_ms,
                        "1" if response.status == 200 else "0",
                    ],
                )
            except redis.RedisError as exc:
                self.coordinator.redis_failed(exc)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._release(request)

    def renew(self) -> None:
        """Heartbeat: keep the permits of requests still in flight from expiring."""
        if not self.held:
            return
        tokens = list(self.held.items())
        self._renew(
            keys=[self._keys(host)[0] for _token, host in tokens],
            args=[self.coordinator.lease_ms, *[token for token, _host in tokens]],
        )

    def spider_closed(self, spider: Any) -> None:
        for token, host in list(self.held.items()):
            try:
                self.client.zrem(self._keys(host)[0], token)
            except redis.RedisError:
                break
        self.held.clear()
