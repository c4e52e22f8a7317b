"""A one-line progress display for runs started from a terminal (never under cron)."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from scrapy import signals
from twisted.internet import task

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class Progress:
    INTERVAL = 1.0

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.started = time.monotonic()
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        self.started = time.monotonic()
        self._loop = task.LoopingCall(self.show)
        self._loop.start(self.INTERVAL, now=False)

    def show(self) -> None:
        stats = self.crawler.stats
        assert stats is not None
        fetched = stats.get_value("response_received_count", 0)
        articles = stats.get_value("newsarchive/text/records", 0)
        revisits = stats.get_value("newsarchive/records/revisit", 0)
        elapsed = max(time.monotonic() - self.started, 1e-6)
        sys.stderr.write(
            f"\r  fetched {fetched}  articles {articles}  revisits {revisits}  {fetched / elapsed:.1f} pages/s   "
        )
        sys.stderr.flush()

    def spider_closed(self, spider: Any) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
            self.show()
            sys.stderr.write("\n")
