"""One crawl cycle, as cron runs it: lock, repair, crawl, summarise, exit code.

Order matters: the lock comes first (a second run exits 75 at once), then the repair of
files a killed run left open (before anything new is written), then the crawl.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.misc import load_object
from scrapy.utils.project import get_project_settings

from archive.layout import ArchiveLayout
from archive.state import StateError
from crawler import exitcodes
from crawler.extensions.archiver import Archiver
from crawler.run.lock import ArchiveLock, LockHeld
from crawler.run.recovery import recover_archive
from crawler.run.summary import human_summary, site_summaries, write_summary
from crawler.sources import SourcesError, load_sources
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


def fail(code: int, message: str) -> int:
    print(f"newsarchive: {message}", file=sys.stderr)
    return code


def run_crawl(sources: Path, archive_dir: Path, options: CrawlOptions) -> int:
    started = time.time()
    run_id = run_id_now()
    try:
        sites = load_sources(sources)
    except SourcesError as exc:
        return fail(exitcodes.CONFIG, str(exc))
    layout = ArchiveLayout(archive_dir)
    try:
        layout.root.mkdir(parents=True, exist_ok=True)
        layout.create()
        probe = layout.root / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return fail(
            exitcodes.CANT_CREATE, f"cannot write the archive directory {archive_dir}: {exc.strerror or exc}"
        )
    lock = ArchiveLock(layout.lock_path)
    try:
        lock.acquire()
    except LockHeld as exc:
        return fail(exitcodes.LOCKED, f"another run is active: {exc}")
    except OSError as exc:
        return fail(
            exitcodes.CANT_CREATE, f"cannot create the lock {layout.lock_path}: {exc.strerror or exc}"
        )
    try:
        return _locked_run(sources, sites, layout, options, run_id, started)
    finally:
        lock.release()


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
        s["USER_AGENT"] = f"newsarchive/{settings.get('NEWSARCHIVE_VERSION', '0.1')} (+{options.contact})"
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


def _locked_run(
    sources: Path, sites: list[Any], layout: ArchiveLayout, options: CrawlOptions, run_id: str, started: float
) -> int:
    log_file = Path(options.log_file) if options.log_file else layout.runs_dir / f"{run_id}.log"
    settings = build_settings(sources, layout, options, run_id, log_file)
    spider_cls: type[NewsSpider] = NewsSpider
    if options.redis_url:
        from crawler.distributed import DistributedError, RedisUnavailable, enable_distributed

        try:
            spider_cls = enable_distributed(settings, options.redis_url, sites)
        except RedisUnavailable as exc:
            return fail(exitcodes.UNAVAILABLE, str(exc))
        except DistributedError as exc:
            return fail(exitcodes.CONFIG, str(exc))
    on_disk = not options.redis_url and settings.getbool("NEWSARCHIVE_QUEUE_ON_DISK")
    if on_disk:
        shutil.rmtree(layout.queue_dir, ignore_errors=True)  # a killed run's queue: never resumed
        settings.set("NEWSARCHIVE_QUEUE_DIR", str(layout.queue_dir / run_id), priority="cmdline")
    state_factory = load_object(settings.get("NEWSARCHIVE_STATE_STORE"))
    try:
        state_factory(settings, layout).close()  # fail fast on a corrupt or locked state store
        recovery = recover_archive(layout, sites, lambda: state_factory(settings, layout))
    except StateError as exc:
        return fail(
            exitcodes.IO_ERROR,
            f"crawl state unusable: {exc} (the WARC files are intact; move the state file aside to start afresh)",
        )
    except OSError as exc:
        return fail(exitcodes.IO_ERROR, f"cannot repair files left by a killed run: {exc}")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider_cls)
    process.crawl(crawler, sources=str(sources))
    process.start()
    shutil.rmtree(layout.queue_dir, ignore_errors=True)
    stats = crawler.stats.get_stats() if crawler.stats else {}
    archiver = crawler.get_extension(Archiver) if crawler.extensions else None
    finish_reason = str(stats.get("finish_reason", ""))
    summaries = site_summaries(stats, [s.name for s in sites], dict(archiver.languages) if archiver else {})
    failing = [
        s
        for s in summaries.values()
        if (s.fetched == 0 and s.error_count) or s.error_rate > options.max_error_rate
    ]
    if process.bootstrap_failed or archiver is None:
        code, outcome = exitcodes.SOFTWARE, "failed to start"
    elif finish_reason in ("redis_unavailable", "state_unavailable") or archiver.unavailable_error:
        # Checked first: once Redis is gone, later state writes fail too; the cause is Redis.
        code, outcome = exitcodes.UNAVAILABLE, "stopped: Redis unreachable"
        if archiver.unavailable_error:
            outcome = f"stopped: {archiver.unavailable_error}"
    elif archiver.fatal_error:
        code, outcome = exitcodes.IO_ERROR, f"archive write failed: {archiver.fatal_error}"
    elif finish_reason == "shutdown":
        code, outcome = exitcodes.INTERRUPTED, "interrupted"
    elif finish_reason and finish_reason != "finished":
        code, outcome = exitcodes.INTERRUPTED, f"stopped: {finish_reason}"
    elif failing:
        code, outcome = (
            exitcodes.SITE_ERRORS,
            "finished with failing sites: " + ", ".join(s.name for s in failing),
        )
    else:
        code, outcome = exitcodes.OK, "finished"
    files = [str(p.relative_to(layout.root)) for p in (archiver.files_closed() if archiver else [])]
    index_note = _update_indexes(layout) if files else "no new files"
    summary = {
        "run_id": run_id,
        "start": datetime.fromtimestamp(started, UTC).isoformat(),
        "end": datetime.now(UTC).isoformat(),
        "duration_s": round(time.time() - started, 3),
        "archive_dir": str(layout.root),
        "sources": str(sources),
        "exit_code": code,
        "outcome": outcome,
        "finish_reason": finish_reason,
        "recovered": recovery.as_dict(),
        "totals": {
            "fetched": sum(s.fetched for s in summaries.values()),
            "articles_archived": sum(s.new + s.changed for s in summaries.values()),
            "revisits": sum(s.unchanged for s in summaries.values()),
            "errors": sum(s.error_count for s in summaries.values()),
            "records": {
                k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("newsarchive/records/")
            },
        },
        "sites": {name: s.as_dict() for name, s in summaries.items()},
        "files_written": files,
        "index": index_note,
        "log_file": str(log_file),
    }
    if options.redis_url:
        from crawler.distributed import mask_url

        summary["distributed"] = {
            "redis": mask_url(options.redis_url),
            "crawl": settings.get("NEWSARCHIVE_DIST_CRAWL"),
            **{k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("newsarchive/distributed/")},
        }
    try:
        write_summary(layout.runs_dir / f"{run_id}.json", summary)
    except OSError as exc:
        print(f"newsarchive: cannot write run summary: {exc}", file=sys.stderr)
    text = human_summary(summary)
    logging.getLogger("newsarchive").info(text.splitlines()[0])
    if _want(options.print_summary):
        print(text)
    elif code != exitcodes.OK:
        # Without a terminal (cron) only failures print, so cron mails only when something is wrong.
        print(text, file=sys.stderr)
        print(f"  log: {log_file}", file=sys.stderr)
    return code
