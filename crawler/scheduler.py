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
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        scheduler = super().from_crawler(crawler)
        folder = crawler.settings.get("NEWSARCHIVE_QUEUE_DIR")
        if folder:
            scheduler.dqdir = scheduler._dqdir(folder)
        return scheduler

    def _dqpush(self, request: Request) -> bool:
        if self.dqs is None:
            return False
        try:
            return super()._dqpush(request)
        except OSError as exc:
            logger.warning("request queue on disk unusable (%s): waiting requests stay in memory", exc)
            if self.stats is not None:
                self.stats.inc_value("newsarchive/queue/disk_failed")
            self.dqs = None  # its pending requests were written before the fault and are still read
            return False

    def _dqpop(self) -> Request | None:
        try:
            return super()._dqpop()
        except OSError as exc:
            logger.error("request queue on disk unreadable (%s): its requests are dropped", exc)
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
