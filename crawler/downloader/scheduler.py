"""Scrapy's scheduler, with the requests waiting to be fetched on disk instead of in memory.

A news sitemap can list 100,000 URLs, and the spider schedules them all at once: as Request
objects in memory that is ~300 MB. Scrapy's own disk queue (pickled requests, one file per
priority) keeps the crawler's memory flat, so it is used, but not Scrapy's JOBDIR around it:
a JOBDIR would also persist the duplicate filter and resume the queue in the next run, and
newsarchive never resumes a queue (the next run rediscovers from the sources; the crawl state
knows what is archived). The queue lives in ``DIR/queue/RUN_ID`` and is removed after the run.

A disk that fills up must not stop the crawl here: a request that cannot be written waits in
memory instead (the archive's own write failure is what stops the run, with exit 74).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.core.scheduler import Scheduler

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request

logger = logging.getLogger(__name__)


class SpillingScheduler(Scheduler):
    disk_full = False  # set at the first failed write: new requests wait in memory from then on

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        scheduler = super().from_crawler(crawler)
        folder = crawler.settings.get("NEWSARCHIVE_QUEUE_DIR")
        if folder:
            scheduler.dqdir = scheduler._dqdir(folder)
        return scheduler

    def _dqpush(self, request: Request) -> bool:
        if self.dqs is None or self.disk_full:
            return False
        try:
            return super()._dqpush(request)
        except OSError as exc:
            logger.warning("request queue on disk unusable (%s): new requests wait in memory", exc)
            if self.stats is not None:
                self.stats.inc_value("newsarchive/queue/disk_failed")
            # The requests already on disk stay there and are still fetched (reading needs no space).
            self.disk_full = True
            return False

    def _dqpop(self) -> Request | None:
        try:
            return super()._dqpop()
        except Exception as exc:  # unreadable or torn by a full disk: any error means the same
            logger.error("request queue on disk unreadable (%s): its requests are dropped", exc)
            if self.stats is not None:
                self.stats.inc_value("newsarchive/queue/disk_dropped")
            self.dqs = None
            return None

    def close(self, reason: str) -> Any:
        """Close the queue files without saving them for a resume (there is none)."""
        if self.dqs is not None:
            try:
                self.dqs.close()
            except OSError as exc:
                logger.warning("closing the request queue on disk: %s", exc)
        return self.df.close(reason)
