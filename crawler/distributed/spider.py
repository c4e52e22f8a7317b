"""The news spider in a shared cycle: seeds once per cycle, shares the page budget.

Seeding: only the worker that started the cycle (or took over from a dead seeder) yields the
start requests, from ``start()`` at once, into the shared queue; the others take their work
from the queue. scrapy-redis's ``RedisSpider`` is not used: with Scrapy >= 2.13 its
``start_requests()`` is never called, so it reads seeds only at the first idle tick (about 5 s
late), and its idle timer is a class attribute (see :mod:`crawler.distributed.cycle`). Upstream
change that would let us use it: an ``async def start()`` in ``RedisMixin`` (scrapy-redis issue
#305, PR #316) plus an instance-level idle timer.

Page budget: ``max_pages`` counts what the whole cycle scheduled for a site, not one worker.
Counts are summed in Redis at every heartbeat, so the limit holds within what the workers
schedule between two heartbeats.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from scrapy import signals

from crawler.distributed.cycle import CycleCoordinator
from crawler.spiders.news import NewsSpider


class SharedBudget(Counter[str]):
    """``spider.scheduled`` whose counts are the cycle's totals (refreshed each heartbeat)."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: Counter[str] = Counter()

    def __setitem__(self, key: str, value: int) -> None:
        self.pending[key] += value - self.get(key, 0)
        super().__setitem__(key, value)

    def sync(self, coordinator: CycleCoordinator) -> None:
        if coordinator.joined is None or coordinator.role == "done":
            return
        deltas = {k: v for k, v in self.pending.items() if v}
        self.pending.clear()
        totals = coordinator.store.add_budget(coordinator.cycle_id, deltas)
        for site, total in totals.items():
            super().__setitem__(site, max(total, self.get(site, 0)))


class DistributedNewsSpider(NewsSpider):
    name = "news"
    # What a queued request may name as callback or errback (a forged entry cannot call others).
    queue_callbacks = frozenset({"parse_page", "parse_xml", "parse_robots", "on_error"})

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DistributedNewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, DistributedNewsSpider)
        spider.scheduled = SharedBudget()
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        return spider

    def _opened(self, spider: Any) -> None:
        # Extensions exist only from here on (the spider is created before them).
        coordinator = self.coordinator
        budget = self.scheduled
        assert isinstance(budget, SharedBudget)
        coordinator.on_heartbeat(lambda: budget.sync(coordinator))

    @property
    def coordinator(self) -> CycleCoordinator:
        return CycleCoordinator.of(self.crawler)

    async def start(self) -> AsyncIterator[Any]:
        """Seeds at once, and only from the worker that seeds this cycle."""
        coordinator = self.coordinator
        if coordinator.role != "seed":
            return
        count = 0
        async for request in super().start():
            count += 1
            yield request
        coordinator.seeded(count)

    def on_error(self, failure: Any) -> None:
        super().on_error(failure)
        # A fetch that failed on the shared state (Redis down) must not be acknowledged.
        self.coordinator.check_failure(failure)

    def seed_now(self) -> int:
        """Seed from a running worker (the seeder died part-way); duplicates are filtered."""
        count = 0
        for site in self.sites.values():
            for request in self._seed_requests(site):
                self.crawler.engine.crawl(request)
                count += 1
        return count
