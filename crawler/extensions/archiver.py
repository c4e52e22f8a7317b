"""The archive a crawl writes into: WARC writers, crawl state and per-run counters.

One instance per crawl (a Scrapy extension). The capture middleware hands it every HTTP
exchange; the text pipeline hands it extracted text. It opens its files when the spider
opens and closes (renames) them when it closes, so a run that ends any way but ``kill -9``
leaves only closed files behind.
"""

from __future__ import annotations

import logging
import platform
import socket
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import load_object

from archive.capture import CapturePlan, Exchange, plan_capture
from archive.layout import ArchiveLayout
from archive.records import RecordFactory, WarcRecord, crawl_warcinfo
from archive.state import (
    NO_TEXT,
    SqliteStateStore,
    StateError,
    StateStore,
    StateUnavailable,
    UrlState,
    needs_text,
)
from archive.textjob import TextResult
from archive.textrecords import DEFAULT_TEXT_ATTEMPTS, ArticleRecords, article_records, failure_cause
from archive.writer import RecordLocation, WarcFileWriter
from crawler.errors import ArchiveWriteError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector


logger = logging.getLogger(__name__)

STATE_FILE = "state.sqlite3"
#: Extraction attempts per capture before its text is given up (a failed one is retried by the
#: start of the next runs, from the stored response).
TEXT_ATTEMPTS_SETTING = "NEWSARCHIVE_TEXT_ATTEMPTS"


def text_attempts_from(settings: Any) -> int:
    """``NEWSARCHIVE_TEXT_ATTEMPTS`` (default 3), a positive whole number."""
    value = settings.get(TEXT_ATTEMPTS_SETTING, DEFAULT_TEXT_ATTEMPTS)
    try:
        attempts = int(str(value).strip())
    except ValueError:
        attempts = 0
    if attempts < 1:
        raise ValueError(f"{TEXT_ATTEMPTS_SETTING} must be a whole number of at least 1, got {value!r}")
    return attempts


def sqlite_state_for(layout: ArchiveLayout) -> StateStore:
    return SqliteStateStore(layout.state_dir / STATE_FILE)


def sqlite_state(settings: Any, layout: ArchiveLayout) -> StateStore:
    """Default ``NEWSARCHIVE_STATE_STORE``: the embedded SQLite file inside the archive."""
    return sqlite_state_for(layout)


class Archiver:
    def __init__(
        self,
        root: Path,
        *,
        stats: StatsCollector,
        prefix: str = "NEWSARCHIVE",
        max_size: int = 1_000_000_000,
        info: list[tuple[str, str]] | None = None,
        state: StateStore | None = None,
        state_factory: Callable[[ArchiveLayout], StateStore] | None = None,
        text_attempts: int = DEFAULT_TEXT_ATTEMPTS,
    ) -> None:
        self.layout = ArchiveLayout(root)
        self.stats = stats
        self.prefix = prefix
        self.max_size = max_size
        self.info = info or []
        self.factory = RecordFactory()
        self._state = state
        self._state_factory = state_factory or sqlite_state_for
        self.capture: WarcFileWriter | None = None
        self.text: WarcFileWriter | None = None
        self.languages: Counter[tuple[str, str]] = Counter()
        self.text_attempts = text_attempts
        self.text_failures = TextFailures()
        self.fatal_error: str | None = None
        self.unavailable_error: str | None = None
        self._crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Archiver:
        settings = crawler.settings
        root = settings.get("NEWSARCHIVE_ARCHIVE_DIR")
        if not root:
            raise NotConfigured("NEWSARCHIVE_ARCHIVE_DIR is empty: nowhere to write the archive")
        assert crawler.stats is not None
        factory = load_object(settings.get("NEWSARCHIVE_STATE_STORE"))
        archiver = cls(
            Path(root),
            stats=crawler.stats,
            state_factory=lambda layout: factory(crawler.settings, layout),
            prefix=settings.get("NEWSARCHIVE_WARC_PREFIX"),
            max_size=settings.getint("NEWSARCHIVE_WARC_MAX_SIZE"),
            info=warcinfo_fields(settings),
            text_attempts=text_attempts_from(settings),
        )
        archiver._crawler = crawler
        crawler.signals.connect(archiver.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(archiver.spider_closed, signal=signals.spider_closed)
        return archiver

    # --- lifecycle --------------------------------------------------------------------------
    def spider_opened(self, spider: Any) -> None:
        self.open()

    def open(self) -> None:
        self.layout.create()
        if self._state is None:
            self._state = self._state_factory(self.layout)
        self.capture, self.text = open_writers(
            self.layout, prefix=self.prefix, info=self.info, max_size=self.max_size, factory=self.factory
        )

    def spider_closed(self, spider: Any, reason: str) -> None:
        self.close()

    def close(self) -> None:
        self.text_failures.log("during the crawl", self.text_attempts)
        for writer in (self.capture, self.text):
            if writer is None:
                continue
            try:
                writer.close()
            except OSError as exc:
                self._fatal(f"{type(exc).__name__}: {exc}")
        if self._state is not None:
            self._state.close()

    def files_closed(self) -> list[Path]:
        return [p for w in (self.capture, self.text) if w is not None for p in w.closed_files]

    def _fatal(self, error: str) -> None:
        """Writing failed (disk full, file system gone): stop the crawl, keep what is complete.

        The records already written stay valid (each group was flushed whole); the file in
        progress is left ``.open`` for the next run's repair when it cannot be closed.
        """
        if self.fatal_error is None:
            self.fatal_error = error
            logger.critical("archive write failed, stopping the crawl: %s", self.fatal_error)
            self._stop("archive_io_error")

    def _unavailable(self, error: str) -> None:
        """The crawl state lives in a service that went away: stop as "unavailable" (exit 69).

        The page's records are written; only its state entry is missing, so the next run
        fetches it again in full instead of writing a revisit. Nothing archived is lost.
        """
        if self.unavailable_error is None and self.fatal_error is None:
            self.unavailable_error = error
            logger.critical("crawl state unreachable, stopping the crawl: %s", error)
            self._stop("state_unavailable")

    def _stop(self, reason: str) -> None:
        crawler = self._crawler
        if crawler is not None and crawler.engine is not None:
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(crawler.engine.close_spider_async(reason=reason))

    @property
    def state(self) -> StateStore:
        assert self._state is not None, "archiver not opened"
        return self._state

    # --- what discovery may ask ----------------------------------------------------------------
    def known_article(self, url: str, published: datetime | None = None) -> UrlState | None:
        """The state of an article archived in full before (None: never), for the spider's
        re-check decision and its conditional request.

        The one way discovery reaches the crawl state: a publication date a feed or sitemap
        gives (``published``) is recorded here when it differs. A state failure stops the crawl
        (exit 69 or 74) and raises :class:`ArchiveWriteError`, as a failed write does.
        """
        known = self._get(url)
        if known is None or not known.record_id:
            return None
        if published is not None and known.published != published.isoformat():
            known = replace(known, published=published.isoformat())
            self._put(known)
        if needs_text(known) and not known.record_file:
            # Its text is pending and its response cannot be read back (an older version's
            # entry): no validators, so the page comes in full and its text is extracted now.
            return replace(known, etag=None, last_modified=None)
        return known

    # --- capture -----------------------------------------------------------------------------
    def archive_exchange(self, exchange: Exchange, *, site: str, is_article: bool) -> CapturePlan:
        """Write request + response (or revisit) + crawl metadata for one fetch.

        For an article whose content is new, the metadata record waits for the languages
        (:meth:`archive_text`); every other capture gets it now.
        """
        assert self.capture is not None
        previous = self._get(exchange.url)
        plan = plan_capture(exchange, previous, self.factory, is_article=is_article)
        records = [plan.request, plan.main]
        # Text only for a whole, decodable, new or changed article page.
        awaits_text = (
            is_article and plan.changed and exchange.truncated is None and exchange.decoded is not None
        )
        plan.awaits_text = awaits_text
        if not awaits_text:
            records.append(
                self.factory.crawl_metadata(exchange.url, exchange.date, plan.record_id, plan.metadata_fields)
            )
        locations = self._write(self.capture, records)
        state = plan.state
        if plan.kind == "response":
            state = replace(state, record_file=locations[1].filename, record_offset=locations[1].offset)
            if is_article and not awaits_text:
                state = replace(state, text_record_id=NO_TEXT)  # nothing to extract: not pending
        self._put(state)
        plan.state = state
        self._count_capture(plan, exchange, site)
        return plan

    def archive_text(
        self,
        plan_state: UrlState,
        fields: Sequence[tuple[str, str]],
        result: TextResult | None,
        *,
        site: str,
        error: str | None = None,
    ) -> str | None:
        """Write the text records of an article and the capture metadata that points at them.

        ``error``: the extraction failed (worker crash, timeout, exception); the capture metadata
        says so and the text stays pending for the next runs (:mod:`crawler.run.recovery`) until
        ``NEWSARCHIVE_TEXT_ATTEMPTS`` attempts have failed.
        """
        assert self.capture is not None and self.text is not None
        built = article_records(
            self.factory, plan_state, fields, result, site=site, error=error, max_attempts=self.text_attempts
        )
        if built.text:
            self._write(self.text, list(built.text))
        self._write(self.capture, [built.capture])
        count_text(self.stats, built, site, error, self.languages, self.text_failures)
        # The text is done, there is none to find, or it failed (then its state says so).
        self._put(built.state)
        return built.conversion_id

    def _write(self, writer: WarcFileWriter, records: list[WarcRecord]) -> list[RecordLocation]:
        try:
            return writer.write(records)
        except OSError as exc:
            self._fatal(f"{type(exc).__name__}: {exc}")
            raise ArchiveWriteError(self.fatal_error or str(exc)) from exc

    def _get(self, url: str) -> UrlState | None:
        try:
            return self.state.get(url)
        except StateError as exc:
            raise self._state_failed(exc) from exc

    def _put(self, state: UrlState) -> None:
        try:
            self.state.put(state)
        except StateError as exc:
            raise self._state_failed(exc) from exc

    def _state_failed(self, exc: StateError) -> ArchiveWriteError:
        """Stop the crawl for a state failure: "unavailable" (69) for a service, else an I/O error (74)."""
        if isinstance(exc, StateUnavailable):
            self._unavailable(str(exc))
            return ArchiveWriteError(str(exc))
        self._fatal(str(exc))
        return ArchiveWriteError(self.fatal_error or str(exc))

    def _count_capture(self, plan: CapturePlan, exchange: Exchange, site: str) -> None:
        inc = self.stats.inc_value
        inc(f"newsarchive/records/{plan.kind}")
        # Every attempt archived is an exchange; ``fetched`` (once per URL, its final outcome)
        # is counted by crawler.downloader.retry, after the retries.
        inc(f"newsarchive/site/{site}/exchanges")
        if plan.kind == "revisit":
            inc(f"newsarchive/site/{site}/unchanged")
        elif plan.state.is_article and exchange.head.status == 200:
            previous_known = plan.state.first_seen != exchange.date
            inc(f"newsarchive/site/{site}/{'changed' if previous_known else 'new'}")


class Stats(Protocol):
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


class TextFailures:
    """Failed extractions of one phase of a run, by site and cause, for one log line per site."""

    def __init__(self) -> None:
        self.causes: Counter[tuple[str, str]] = Counter()  # (site, cause) -> pages
        self.given_up: Counter[str] = Counter()  # site -> pages given up

    def add(self, site: str, error: str, given_up: bool) -> None:
        self.causes[(site, failure_cause(error))] += 1
        if given_up:
            self.given_up[site] += 1

    def lines(self, when: str, attempts: int) -> list[str]:
        """One line per site that had failures: how many pages, by cause (never one per page)."""
        by_site: dict[str, dict[str, int]] = {}
        for (site, cause), count in sorted(self.causes.items()):
            by_site.setdefault(site, {})[cause] = count
        return [
            text_failure_line(site, causes, self.given_up[site], attempts, when)
            for site, causes in by_site.items()
        ]

    def log(self, when: str, attempts: int) -> None:
        for line in self.lines(when, attempts):
            logger.error("%s", line)


def text_failure_line(site: str, causes: Mapping[str, int], given_up: int, attempts: int, when: str) -> str:
    """``text extraction failed for 12 pages of site X during the crawl: worker process died (12); ...``"""
    total = sum(causes.values())
    listed = ", ".join(f"{cause} ({count})" for cause, count in sorted(causes.items(), key=lambda kv: -kv[1]))
    retried = total - given_up
    tail = [f"{retried} retried from the stored responses by the next run"] if retried else []
    if given_up:
        tail.append(f"{given_up} given up after {attempts} attempts ({TEXT_ATTEMPTS_SETTING})")
    return f"text extraction failed for {total} pages of site {site} {when}: {listed}; " + "; ".join(tail)


def count_text(
    stats: Stats,
    built: ArticleRecords,
    site: str,
    error: str | None,
    languages: Counter[tuple[str, str]],
    failures: TextFailures,
) -> None:
    """Count one article's text, as the crawl and the start-of-run completion both do."""
    inc = stats.inc_value
    if built.language is not None:
        languages[(site, built.language)] += 1
        inc(f"newsarchive/text/language/{built.language}")
        inc("newsarchive/text/records")
    elif error is not None:
        failures.add(site, error, built.given_up)
        inc("newsarchive/text/failed")
        inc(f"newsarchive/site/{site}/text_failed")
        inc(f"newsarchive/site/{site}/text_failed/{failure_cause(error)}")
        if built.given_up:
            inc(f"newsarchive/site/{site}/text_given_up")
    else:
        inc("newsarchive/text/empty")
        inc(f"newsarchive/site/{site}/text_empty")


#: What the warcinfo of a text file adds to the crawl's fields.
TEXT_DESCRIPTION = ("description", "Extracted main text of article pages (conversion records)")


def open_writers(
    layout: ArchiveLayout,
    *,
    prefix: str,
    info: Sequence[tuple[str, str]],
    max_size: int,
    factory: RecordFactory,
) -> tuple[WarcFileWriter, WarcFileWriter]:
    """The capture and the text stream of a crawl (``PREFIX-…`` and ``PREFIX-TEXT-…`` files).

    Used by the archiver and by the start-of-run recovery, so the files recovery writes are
    named and described like the crawl's. A file is opened on its first record.
    """
    capture = WarcFileWriter(layout.capture_dir, prefix, info=list(info), max_size=max_size, factory=factory)
    text = WarcFileWriter(
        layout.text_dir, f"{prefix}-TEXT", info=[*info, TEXT_DESCRIPTION], max_size=max_size, factory=factory
    )
    return capture, text


def warcinfo_fields(settings: Any) -> list[tuple[str, str]]:
    """The warcinfo block of this crawl's files, from its settings (:func:`archive.records.warcinfo_fields`)."""
    return crawl_warcinfo(
        software=(
            f"newsarchive/{settings.get('NEWSARCHIVE_VERSION', _pkg('newsarchive'))} "
            f"(Scrapy/{_pkg('scrapy')}; trafilatura/{_pkg('trafilatura')}; langdetect/{_pkg('langdetect')})"
        ),
        run_id=settings.get("NEWSARCHIVE_RUN_ID") or "newsarchive",
        hostname=socket.gethostname(),
        robots_obeyed=settings.getbool("ROBOTSTXT_OBEY"),
        user_agent=settings.get("USER_AGENT"),
        operator=settings.get("NEWSARCHIVE_WARC_OPERATOR") or None,
        python=platform.python_version(),
    )


def _pkg(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"
