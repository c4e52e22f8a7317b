"""One crawl cycle, as cron runs it: pre-flight (sources, directory, lock, repair), crawl, outcome.

The imperative shell around :func:`crawler.run.outcome.decide`, which chooses the exit code,
the outcome and the summary from plain values. Every pre-flight step raises an error of the
tree (:mod:`crawler.errors`, :mod:`archive.errors`); :func:`run_crawl` catches them in one place.

Order matters: the sources are read first and once (exit 78 before anything is created), then
the directory is created, then the lock is taken (a second run exits 75 at once), then the
repair of files a killed run left open (before anything new is written), then the crawl.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.misc import load_object
from scrapy.utils.project import get_project_settings

from archive.errors import ArchiveError, StateError
from archive.layout import ArchiveLayout
from crawler import exitcodes
from crawler.downloader.crawldelay import max_crawl_delay
from crawler.downloader.retry import max_retry_after
from crawler.errors import ArchiveDirError, ConfigError, CrawlerError, LockHeld, RecoveryError
from crawler.extensions.archiver import Archiver, text_attempts_from, warcinfo_fields
from crawler.extensions.workers import PageWorkers
from crawler.run.lock import ArchiveLock
from crawler.run.outcome import CrawlFacts, Outcome, RunInfo, decide
from crawler.run.recovery import recover_archive
from crawler.run.summary import human_summary, write_summary
from crawler.sources import SITES_SETTING, Site, load_sources
from crawler.spiders.news import NewsSpider

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class CrawlOptions:
    max_pages: int | None = None
    max_depth: int | None = None
    concurrency: int | None = None
    per_host: int | None = None
    delay: float | None = None
    autothrottle: bool | None = None
    log_level: str = "INFO"
    log_file: str | None = None
    user_agent: str | None = None
    contact: str | None = None
    max_error_rate: float = 0.5
    text_workers: int | None = None
    warc_max_size: int | None = None
    redis_url: str | None = None  # distributed mode (scrapy-redis) when set
    show_progress: bool | None = None  # None: on a terminal only
    print_summary: bool | None = None  # None: on a terminal only
    extra_settings: dict[str, Any] = field(default_factory=dict)


def run_id_now() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{socket.gethostname().split('.')[0]}-{os.getpid()}"


def run_crawl(sources: Path, archive_dir: Path, options: CrawlOptions) -> int:
    """One cron cycle; returns its exit code (see :func:`crawler.run.outcome.decide`)."""
    started = time.time()
    run_id = run_id_now()
    layout = ArchiveLayout(archive_dir)
    log_file = Path(options.log_file) if options.log_file else layout.runs_dir / f"{run_id}.log"
    lock = ArchiveLock(layout.lock_path)

    def run_info() -> RunInfo:
        return RunInfo(
            run_id=run_id,
            started=started,
            ended=time.time(),
            archive_dir=str(layout.root),
            sources=str(sources),
            log_file=str(log_file),
            max_error_rate=options.max_error_rate,
        )

    try:
        try:
            ready = _preflight(sources, layout, options, run_id, log_file, lock)
        except (CrawlerError, ArchiveError) as exc:  # the one place a run stops before its crawl
            return _report(decide(exc, run_info()), layout, run_id, log_file, options)
        crawl = _crawl(ready, sources, layout, options)
        return _report(decide(None, run_info(), crawl), layout, run_id, log_file, options)
    finally:
        lock.release()


@dataclass(frozen=True, slots=True)
class _Ready:
    """What the pre-flight hands to the crawl."""

    settings: Settings
    sites: tuple[Site, ...]
    spider_cls: type[NewsSpider]
    recovered: dict[str, object]
    # the start-of-run completion's text counts, added to the crawl's (same keys): its failed
    # texts count for the exit code as the crawl's do
    recovery_stats: dict[str, int] = field(default_factory=dict)
    recovery_languages: dict[tuple[str, str], int] = field(default_factory=dict)


def _preflight(
    sources: Path,
    layout: ArchiveLayout,
    options: CrawlOptions,
    run_id: str,
    log_file: Path,
    lock: ArchiveLock,
) -> _Ready:
    """Every step before the crawl, in order; each failure raises an error of the tree.

    The sources come first (exit 78 before anything is created), then the directory (73), the
    lock (75: a second run stops at once), distributed mode (69/78), then the state store and the
    repair of files a killed run left open and the completion of every text still missing (74),
    before anything new is written.
    """
    settings = build_settings(sources, layout, options, run_id, log_file)
    sites = _load_sites(sources, settings)
    settings.set(SITES_SETTING, sites, priority="cmdline")
    try:
        text_attempts = text_attempts_from(settings)  # a setting error is exit 78, before anything is created
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    max_crawl_delay(settings)  # likewise: checked here, not by the middlewares once the crawl has started
    max_retry_after(settings)
    _prepare_dir(layout)
    _acquire(lock, layout)
    spider_cls: type[NewsSpider] = NewsSpider
    if options.redis_url:
        from crawler.distributed import enable_distributed

        spider_cls = enable_distributed(settings, options.redis_url, sites)
    if not options.redis_url and settings.getbool("NEWSARCHIVE_QUEUE_ON_DISK"):
        shutil.rmtree(layout.queue_dir, ignore_errors=True)  # a killed run's queue: never resumed
        settings.set("NEWSARCHIVE_QUEUE_DIR", str(layout.queue_dir / run_id), priority="cmdline")
    state_factory = load_object(settings.get("NEWSARCHIVE_STATE_STORE"))
    try:
        state_factory(settings, layout).close()  # fail fast on a corrupt or locked state store
        recovery = recover_archive(
            layout,
            sites,
            lambda: state_factory(settings, layout),
            # The crawl's own limits and workers: one setting each, read from the same settings.
            max_decoded=settings.getint("NEWSARCHIVE_MAX_DECODED_SIZE"),
            workers=lambda stats: PageWorkers(
                stats, settings.getint("NEWSARCHIVE_TEXT_WORKERS"), settings.getfloat("NEWSARCHIVE_TEXT_TIMEOUT")
            ),
            text_attempts=text_attempts,
            info=warcinfo_fields(settings),
            prefix=settings.get("NEWSARCHIVE_WARC_PREFIX"),
            max_size=settings.getint("NEWSARCHIVE_WARC_MAX_SIZE"),
        )
    except StateError as exc:
        # The same kind again (an unreachable service stays StateUnavailable: 69), with the advice.
        raise type(exc)(
            f"crawl state unusable: {exc} "
            "(the WARC files are intact; move the state file aside to start afresh)"
        ) from exc
    except OSError as exc:
        raise RecoveryError(f"cannot repair files left by a killed run: {exc}") from exc
    return _Ready(
        settings, sites, spider_cls, recovery.as_dict(), recovery.stats, dict(recovery.languages)
    )


def _load_sites(sources: Path, settings: Settings) -> tuple[Site, ...]:
    """The sources file, read once per run with the command line's defaults (``--max-pages``,
    ``--max-depth``, else the settings' ``NEWSARCHIVE_MAX_PAGES`` / ``NEWSARCHIVE_MAX_DEPTH``)."""
    defaults: dict[str, int] = {}
    for name in ("NEWSARCHIVE_MAX_PAGES", "NEWSARCHIVE_MAX_DEPTH"):
        try:
            defaults[name] = settings.getint(name)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be an integer, got {settings.get(name)!r}") from None
    return tuple(
        load_sources(
            sources,
            default_max_pages=defaults["NEWSARCHIVE_MAX_PAGES"],
            default_max_depth=defaults["NEWSARCHIVE_MAX_DEPTH"],
        )
    )


def _prepare_dir(layout: ArchiveLayout) -> None:
    try:
        layout.root.mkdir(parents=True, exist_ok=True)
        layout.create()
        probe = layout.root / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ArchiveDirError(
            f"cannot write the archive directory {layout.root}: {exc.strerror or exc}"
        ) from exc


def _acquire(lock: ArchiveLock, layout: ArchiveLayout) -> None:
    try:
        lock.acquire()
    except LockHeld as exc:
        raise LockHeld(f"another run is active: {exc}") from exc
    except OSError as exc:
        raise ArchiveDirError(f"cannot create the lock {layout.lock_path}: {exc.strerror or exc}") from exc


def build_settings(
    sources: Path, layout: ArchiveLayout, options: CrawlOptions, run_id: str, log_file: Path
) -> Settings:
    settings = get_project_settings()
    s: dict[str, Any] = {
        "NEWSARCHIVE_ARCHIVE_DIR": str(layout.root),
        "NEWSARCHIVE_SOURCES": str(sources),
        "NEWSARCHIVE_RUN_ID": run_id,
        "LOG_LEVEL": options.log_level.upper(),
        "LOG_FILE": str(log_file),
        "LOG_FILE_APPEND": True,
    }
    if options.max_pages is not None:
        s["NEWSARCHIVE_MAX_PAGES"] = options.max_pages
    if options.max_depth is not None:
        s["NEWSARCHIVE_MAX_DEPTH"] = options.max_depth
    if options.concurrency is not None:
        s["CONCURRENT_REQUESTS"] = options.concurrency
    if options.per_host is not None:
        s["CONCURRENT_REQUESTS_PER_DOMAIN"] = options.per_host
    if options.delay is not None:
        s["DOWNLOAD_DELAY"] = options.delay
        s["AUTOTHROTTLE_START_DELAY"] = max(options.delay, 0.01)
    if options.autothrottle is not None:
        s["AUTOTHROTTLE_ENABLED"] = options.autothrottle
    if options.contact:
        s["NEWSARCHIVE_CONTACT"] = options.contact
        s["USER_AGENT"] = f"newsarchive/{settings.get('NEWSARCHIVE_VERSION')} (+{options.contact})"
    if options.user_agent:
        s["USER_AGENT"] = options.user_agent
    if options.text_workers is not None:
        s["NEWSARCHIVE_TEXT_WORKERS"] = options.text_workers
    if options.warc_max_size is not None:
        s["NEWSARCHIVE_WARC_MAX_SIZE"] = options.warc_max_size
    if _want(options.show_progress):
        s["EXTENSIONS"] = {**settings.getdict("EXTENSIONS"), "crawler.extensions.progress.Progress": 500}
    s.update(options.extra_settings)
    settings.setdict(s, priority="cmdline")
    return settings


def _update_indexes(layout: ArchiveLayout) -> str:
    """Index the new capture files, so a running ``newsarchive replay`` shows them at once."""
    from archive.index import build_indexes

    try:
        report = build_indexes(layout)
    except Exception as exc:  # the archive is complete without its index; never fail the run for it
        logger.warning("could not update the CDXJ index: %s", exc)
        return f"index not updated: {exc}"
    if report.failed:
        logger.warning("CDXJ index: files left out: %s", report.failed)
    return f"{len(report.indexed)} file(s) indexed, {report.lines} index lines"


def _want(flag: bool | None) -> bool:
    return sys.stderr.isatty() if flag is None else flag


def _crawl(ready: _Ready, sources: Path, layout: ArchiveLayout, options: CrawlOptions) -> CrawlFacts:
    """The Scrapy crawl, then its facts: stats, the archiver's errors, the files it wrote."""
    process = CrawlerProcess(ready.settings)
    crawler = process.create_crawler(ready.spider_cls)
    process.crawl(crawler, sources=str(sources))
    process.start()
    shutil.rmtree(layout.queue_dir, ignore_errors=True)
    stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
    for key, count in ready.recovery_stats.items():  # the start of the run's texts count too
        stats[key] = stats.get(key, 0) + count
    languages = Counter(ready.recovery_languages)
    archiver = crawler.get_extension(Archiver) if crawler.extensions else None
    if archiver is not None:
        languages.update(archiver.languages)
    files = tuple(str(p.relative_to(layout.root)) for p in (archiver.files_closed() if archiver else []))
    distributed: dict[str, Any] | None = None
    if options.redis_url:
        from crawler.distributed import mask_url

        distributed = {
            "redis": mask_url(options.redis_url),
            "crawl": ready.settings.get("NEWSARCHIVE_DIST_CRAWL"),
        }
    return CrawlFacts(
        stats=stats,
        site_names=tuple(s.name for s in ready.sites),
        bootstrap_failed=bool(process.bootstrap_failed),
        archiver_started=archiver is not None,
        fatal_error=archiver.fatal_error if archiver else None,
        unavailable_error=archiver.unavailable_error if archiver else None,
        languages=dict(languages),
        files_written=files,
        index_note=_update_indexes(layout) if files else "no new files",
        recovered=ready.recovered,
        distributed=distributed,
    )


def _report(
    outcome: Outcome, layout: ArchiveLayout, run_id: str, log_file: Path, options: CrawlOptions
) -> int:
    """Write and print the outcome; return its exit code."""
    summary = outcome.summary
    if summary is None:  # stopped before the crawl: one line, no summary file
        print(f"newsarchive: {outcome.text}", file=sys.stderr)
        return outcome.code
    try:
        write_summary(layout.runs_dir / f"{run_id}.json", summary)
    except OSError as exc:
        print(f"newsarchive: cannot write run summary: {exc}", file=sys.stderr)
    text = human_summary(summary)
    logging.getLogger("newsarchive").info(text.splitlines()[0])
    if _want(options.print_summary):
        print(text)
    elif outcome.code != exitcodes.OK:
        # Without a terminal (cron) only failures print, so cron mails only when something is wrong.
        print(text, file=sys.stderr)
        print(f"  log: {log_file}", file=sys.stderr)
    return outcome.code
