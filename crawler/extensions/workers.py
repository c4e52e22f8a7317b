"""The text workers: a process pool that parses pages, reads their links and extracts their text.

trafilatura and langdetect cost ~15 ms of CPU per article page and hold the GIL; in the
reactor thread they would cap the crawl at one core, so they run in a pool of processes sized
to the cores (``NEWSARCHIVE_TEXT_WORKERS``) and the spider only awaits the result.

A worker that crashes or hangs is contained:

* **hang** (a page takes longer than ``NEWSARCHIVE_TEXT_TIMEOUT``): the pool is replaced and
  its processes killed; the page's text is recorded as failed (its capture is already archived).
  It is not retried in this run: it would hang again.
* **crash** (a worker dies): every job of that pool fails at once, most of them innocent, so
  each is retried once on the new pool; a page that fails twice is recorded as failed.
* **a pool that cannot start** (its workers die while starting, so the pool breaks before it is
  even handed out): each page in flight is recorded as failed, and the next page tries a new pool.

Either way the run goes on, and :meth:`PageWorkers.run` returns a result for every page, never
raises: a page whose call raised would lose its capture metadata record. A failed page keeps its
text pending; the next runs retry it from the stored response (``NEWSARCHIVE_TEXT_ATTEMPTS``).
Failures are logged per page at DEBUG only; the archiver logs one line per site and cause. The
pool is started with the spider, every worker warmed up (imports, language profiles) while the
first pages download.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import forkserver
from typing import TYPE_CHECKING, Any

from scrapy import signals

from archive.childenv import child_environment, inherited_environment, product_root, verify_product
from archive.textjob import warm_up
from crawler.parse.pagejob import PageAnalysis, analyse_page

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


class PageWorkers:
    def __init__(self, stats: StatsCollector, workers: int, timeout: float) -> None:
        self.stats = stats
        self.workers = workers if workers > 0 else max(1, os.cpu_count() or 1)
        self.timeout = timeout
        self._pool: ProcessPoolExecutor | None = None
        self._stopped = False  # closed: no new pool for a page that comes late
        self._start_failures = 0  # pools whose first worker died while starting (logged once)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageWorkers:
        assert crawler.stats is not None
        workers = cls(
            crawler.stats,
            crawler.settings.getint("NEWSARCHIVE_TEXT_WORKERS"),
            crawler.settings.getfloat("NEWSARCHIVE_TEXT_TIMEOUT"),
        )
        crawler.signals.connect(workers.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(workers.spider_closed, signal=signals.spider_closed)
        return workers

    def spider_opened(self, spider: Any) -> None:
        self.start()

    def spider_closed(self, spider: Any) -> None:
        self.close()

    def start(self) -> None:
        self._stopped = False
        if self._pool is None:
            self._pool = self._start_pool()

    def close(self) -> None:
        self._stopped = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def analyse(
        self, body: bytes, url: str, declared_charset: str | None, *, want_text: bool
    ) -> PageAnalysis:
        """Links and (if ``want_text``) text of a page; never raises for a worker's failure."""
        return await self.run(analyse_page, body, url, declared_charset, want_text, url=url)

    async def run(self, job: Any, *args: Any, url: str) -> PageAnalysis:
        """``job(*args)`` in a worker, with the pool's timeout, crash containment and retry.

        Always returns: every failure (of the job, of its worker, of the pool, of a pool that
        cannot start) becomes a :class:`PageAnalysis` with ``error``.
        """
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            if self._stopped:
                return _failed("text workers stopped")
            pool = self._pool
            if pool is None:  # the last pool could not start: try a new one for this page
                pool = self._pool = self._start_pool()
            try:
                if pool is None:
                    raise BrokenProcessPool("the worker pool broke while starting")
                future = loop.run_in_executor(pool, job, *args)
                return await asyncio.wait_for(future, self.timeout)
            except TimeoutError:
                logger.debug("text extraction of %s took over %ss; the worker pool is restarted", url, self.timeout)
                self.stats.inc_value("newsarchive/text/error/timeout")
                self._replace(pool)
                return _failed(f"timeout after {self.timeout:g}s")
            except BrokenProcessPool:
                self._replace(pool)
                if attempt == 1:
                    self.stats.inc_value("newsarchive/text/retried")
                    continue
                logger.debug("a text worker died twice while extracting %s", url)
                self.stats.inc_value("newsarchive/text/error/worker_died")
                return _failed("worker process died")
            except Exception as exc:  # the job raised on a hostile page: that page has no text, the run goes on
                logger.debug("text extraction of %s failed", url, exc_info=True)
                self.stats.inc_value(f"newsarchive/text/error/{type(exc).__name__}")
                return _failed(f"{type(exc).__name__}: {exc}")
        raise AssertionError("unreachable")

    def _start_pool(self) -> ProcessPoolExecutor | None:
        """A new pool, or None when it broke while it was being started.

        When every worker dies at once (code that cannot load, a shadowed module), a pool can
        break between two of the warm-up submissions: ``submit`` then raises (BrokenProcessPool,
        or OSError "handle is closed" when the executor's queues were being torn down). That
        must not escape a page's :meth:`run`, which was handling a broken pool already.
        """
        try:
            return self._new_pool()
        except (BrokenProcessPool, OSError, RuntimeError) as exc:
            logger.debug("the new text worker pool broke while starting: %s: %s", type(exc).__name__, exc)
            return None

    def _new_pool(self) -> ProcessPoolExecutor:
        # forkserver: never fork the reactor process itself (threads, sockets, open WARC files).
        # Its server imports the extractors once (crawler.extensions.workerboot) and forks warm workers.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["crawler.extensions.workerboot"])
        # The server (``python -c``, started once per process) gets the product's environment: no
        # working directory on its path, where a folder named archive would shadow the package
        # (archive/childenv.py). Each worker first checks that its modules are the parent's
        # product, and exits before any job if not.
        with inherited_environment(child_environment(runs_product=True)):
            forkserver.ensure_running()
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=verify_product,
            initargs=(str(product_root()),),
        )

        def started(future: Future[None]) -> None:
            if not future.cancelled() and isinstance(future.exception(), BrokenProcessPool):
                self._start_failures += 1
                # One line per crawl, not one per replaced pool (with every worker crashing, that
                # is one per page): the pages themselves are counted by cause at the end.
                log = logger.error if self._start_failures == 1 else logger.debug
                log(
                    "a text worker died while starting (its reason, such as code imported from "
                    "outside newsarchive, is on standard error); pages get no text"
                )

        # Start every worker now, not on the first article (a worker's start-up, ~1 s of imports
        # and language profiles, would stall it).
        warm = [pool.submit(warm_up) for _ in range(self.workers)]
        warm[0].add_done_callback(started)
        return pool

    def _replace(self, broken: ProcessPoolExecutor | None) -> None:
        """Swap in a new pool once per broken one (many jobs report the same breakage); None
        when the new one cannot start, and the next page tries again."""
        if broken is None or broken is not self._pool:
            return
        self._pool = self._start_pool()
        for process in list((getattr(broken, "_processes", None) or {}).values()):
            process.kill()
        # No cancel_futures: the executor fails every queued job with BrokenProcessPool, which
        # the waiting pages retry on the new pool; a cancelled future would cancel its page.
        broken.shutdown(wait=False)


def _failed(error: str) -> PageAnalysis:
    return PageAnalysis(links=None, text=None, error=error)
