"""Text pipeline: extraction and language detection in worker processes, then the text records.

trafilatura and langdetect cost ~40 ms of CPU per page and hold the GIL, so they run in a
process pool sized to the cores; the reactor only awaits the result. A worker that crashes
or hangs is contained: the pool is rebuilt, the page is recorded without text (its capture
is already archived), and the run goes on.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from scrapy import signals

from archive.textjob import TextResult, run_text_job, warm_up
from crawler.archiver import Archiver
from crawler.items import ArticlePage

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class TextPipeline:
    def __init__(self, crawler: Crawler, workers: int, timeout: float) -> None:
        self.crawler = crawler
        self.workers = workers if workers > 0 else max(1, os.cpu_count() or 1)
        self.timeout = timeout
        self._pool: ProcessPoolExecutor | None = None
        self._archiver: Archiver | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TextPipeline:
        pipe = cls(
            crawler,
            crawler.settings.getint("NEWSARCHIVE_TEXT_WORKERS"),
            crawler.settings.getfloat("NEWSARCHIVE_TEXT_TIMEOUT"),
        )
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def open_spider(self) -> None:
        self._archiver = self.crawler.get_extension(Archiver)
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = self._spawn_pool()
        # Start and warm every worker now, while the first pages download, not on the first
        # article (a worker's start-up, ~1 s of imports and language profiles, would stall it).
        for _ in range(self.workers):
            pool.submit(warm_up)
        return pool

    def _spawn_pool(self) -> ProcessPoolExecutor:
        # forkserver: never fork the reactor process itself (threads, sockets, open WARC files).
        context = multiprocessing.get_context("forkserver")
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=context, initializer=warm_up)

    def spider_closed(self, spider: Any) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePage):
            return item
        assert self._archiver is not None and self._pool is not None
        stats = self.crawler.stats
        assert stats is not None
        result: TextResult | None = None
        fields = list(item.capture.fields)
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(
                self._pool, run_text_job, item.body, item.url, item.declared_charset
            )
            result = await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            logger.error(
                "text extraction of %s took over %ss; the worker pool is restarted", item.url, self.timeout
            )
            stats.inc_value("newsarchive/text/error/timeout")
            fields.append(("text-extraction-error", f"timeout after {self.timeout}s"))
            self._restart_pool()
        except BrokenProcessPool:
            logger.error("a text worker died while extracting %s; the pool is restarted", item.url)
            stats.inc_value("newsarchive/text/error/worker_died")
            fields.append(("text-extraction-error", "worker process died"))
            self._restart_pool()
        except Exception as exc:
            logger.exception("text extraction of %s failed", item.url)
            stats.inc_value(f"newsarchive/text/error/{type(exc).__name__}")
            fields.append(("text-extraction-error", f"{type(exc).__name__}: {exc}"))
        self._archiver.archive_text(item.capture.plan.state, fields, result, site=item.site)
        return item

    def _restart_pool(self) -> None:
        old = self._pool
        self._pool = self._new_pool()
        if old is not None:
            for process in list(getattr(old, "_processes", {}).values()):
                process.kill()
            old.shutdown(wait=False, cancel_futures=True)
