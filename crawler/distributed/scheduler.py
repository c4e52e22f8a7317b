"""scrapy-redis's scheduler and duplicate filter, fixed for shared crawl cycles.

What differs from ``scrapy_redis.scheduler.Scheduler`` 0.9.1, and the upstream change that would
let us drop each difference:

* **Keys per cycle.** The queue and the fingerprints live under the cycle joined at open, so
  every cycle starts with a fresh duplicate filter without anybody deleting anything. Upstream
  has one fixed key per spider, and ``SCHEDULER_PERSIST=True`` then keeps last cycle's
  fingerprints, which drop every seed; drop when scrapy-redis has job/run-scoped keys.
* **Never flushes.** ``close()`` without ``SCHEDULER_PERSIST`` and ``open()`` with
  ``SCHEDULER_FLUSH_ON_START`` delete the queue and fingerprints *every* worker is using
  (findings tests C and F: 429 and 293 pages fetched twice). Both settings are ignored here;
  drop when upstream scopes flushing to a single-worker run or removes it.
* **Atomic seen + push, leased pop** (:mod:`crawler.distributed.queue`).
* **No deprecation warnings.** Upstream passes ``spider=`` to ``StatsCollector.inc_value()``
  (fixed on master by scrapy-redis PR #309, unreleased) and calls ``Spider.log()`` on resume;
  drop with the first release containing #309 and a logger call.
* **Redis errors stop the worker cleanly** (finish reason ``redis_unavailable``) instead of
  being logged request by request while the leases it holds would be acknowledged.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

import redis
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

from crawler.distributed.cycle import CycleCoordinator
from crawler.distributed.queue import LEASE_META, LeasedPriorityQueue

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class CycleDupeFilter(RFPDupeFilter):  # type: ignore[misc]  # scrapy-redis is untyped
    """scrapy-redis's fingerprints; one set per cycle, added by the queue's push script."""

    def request_seen(self, request: Request) -> bool:
        return bool(self.server.sismember(self.key, self.request_fingerprint(request)))

    def close(self, reason: str = "") -> None:
        """Upstream deletes the shared set here; the cycle's keys expire when it is done."""

    def clear(self) -> None:
        logger.warning("not clearing the shared duplicate filter %s: other workers use it", self.key)


class LeasedScheduler(Scheduler):  # type: ignore[misc]  # scrapy-redis is untyped
    def __init__(self, coordinator: CycleCoordinator, serializer: Any, *, debug: bool = False) -> None:
        super().__init__(
            coordinator.client,
            persist=True,
            flush_on_start=False,
            idle_before_close=0,
            serializer=serializer,
        )
        self.coordinator = coordinator
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeasedScheduler:
        settings = crawler.settings
        serializer = importlib.import_module(settings.get("SCHEDULER_SERIALIZER"))
        scheduler = cls(CycleCoordinator.of(crawler), serializer, debug=settings.getbool("DUPEFILTER_DEBUG"))
        scheduler.stats = crawler.stats
        return scheduler

    def open(self, spider: Spider) -> None:
        self.spider = spider
        c = self.coordinator
        joined = c.join()
        self.df = CycleDupeFilter(
            self.server, key=c.store.key(joined.cycle_id, "dupefilter"), debug=self.debug
        )
        self.queue = LeasedPriorityQueue(
            self.server,
            spider,
            c.store.key(joined.cycle_id, "queue"),
            self.serializer,
            coordinator=c,
        )
        queued = len(self.queue)
        if queued and joined.role != "done":
            logger.info("cycle %s: %d requests already queued", joined.cycle_id, queued)

    def close(self, reason: str) -> None:
        self.coordinator.leave(reason)

    def flush(self) -> None:
        """Never: see the module docstring."""

    def enqueue_request(self, request: Request) -> bool:
        c = self.coordinator
        if c.broken:
            return False
        request.meta.pop(LEASE_META, None)
        fingerprint = None if request.dont_filter else self.df.request_fingerprint(request)
        try:
            pushed = self.queue.push_if_new(request, fingerprint)
        except redis.RedisError as exc:
            c.redis_failed(exc)
            return False
        if not pushed:
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        c = self.coordinator
        if c.broken or c.role == "done":
            return None
        try:
            c.sweep()
            request = self.queue.pop()
        except redis.RedisError as exc:
            c.redis_failed(exc)
            return None
        if request is None:
            return None
        c.leased(request)
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        c = self.coordinator
        if c.broken or c.role == "done":
            return False
        try:
            return len(self.queue) > 0
        except redis.RedisError as exc:
            c.redis_failed(exc)
            return False

    def __len__(self) -> int:
        try:
            return len(self.queue)
        except redis.RedisError:
            return 0
