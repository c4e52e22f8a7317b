"""Start-of-run recovery: the crawler-side glue around :mod:`archive.recovery`.

Every run, before it crawls:

1. the files a killed run left open are repaired and the state learns what they hold
   (:mod:`archive.recovery`; only when there are ``.open`` files);
2. every capture whose text is still missing gets it, from its stored response: those of the
   killed run's files, and those the state lists as pending (:func:`archive.state.pending_texts`),
   above all the pages whose extraction failed in an earlier run (a worker crash, a timeout, an
   import error). Nothing is fetched again.

The texts are extracted the way the crawl extracts them, in the contained text workers
(:class:`crawler.extensions.workers.PageWorkers`: a page that crashes or hangs its worker costs
an attempt, not the run), and written the way the crawl writes them:
:func:`archive.textrecords.article_records` builds the records, two
:class:`~archive.writer.WarcFileWriter` streams named like the archiver's
(:class:`crawler.extensions.archiver.Archiver`) take them, and the state update follows the
records. An attempt that fails again is counted (``NEWSARCHIVE_TEXT_ATTEMPTS`` per capture, the
crawl's attempt included); the last one gives the text up. The counts use the crawl's stats keys
(``newsarchive/site/SITE/text_failed``...), so the run's summary and exit code see them.
Nothing here needs a running crawl.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from scrapy.statscollectors import StatsCollector

from archive.layout import ArchiveLayout
from archive.records import RecordFactory
from archive.recovery import (
    PendingText,
    RecoveryReport,
    conversion_ids,
    reconcile_state,
    repair_files,
    stored_pending,
)
from archive.state import StateStore, needs_text
from archive.textrecords import DEFAULT_TEXT_ATTEMPTS, article_records
from archive.writer import DEFAULT_MAX_SIZE
from crawler.extensions.archiver import TextFailures, count_text, open_writers, sqlite_state_for
from crawler.parse.pagejob import PageAnalysis
from crawler.sources import Owners, Site

logger = logging.getLogger(__name__)

#: Said in the capture metadata of every text written for a killed run's torn files.
RECOVERED_FIELD = (
    "recovered",
    "text written at the start of the next run; the run that fetched it was killed",
)
#: Said in the capture metadata of every text (or failed attempt) of a pending capture.
STORED_FIELD = ("recovered", "text extracted at the start of a later run, from the stored response")
#: The error of an attempt whose stored response could not be read back.
UNREADABLE = "stored response unreadable: no whole response record at the state's file and offset"


class TextWorkers(Protocol):
    """What recovery needs of :class:`~crawler.extensions.workers.PageWorkers`."""

    workers: int

    def start(self) -> None: ...

    def close(self) -> None: ...

    async def analyse(
        self, body: bytes, url: str, declared_charset: str | None, *, want_text: bool
    ) -> PageAnalysis: ...


class RunStats(StatsCollector):
    """The counters of the start of a run, kept like a crawl's (no crawler: nothing is dumped)."""

    def __init__(self) -> None:  # StatsCollector's own needs a crawler, for STATS_DUMP only
        self._dump = False
        self._stats: dict[str, Any] = {}


@dataclass(slots=True)
class RunRecovery(RecoveryReport):
    """The report (:meth:`as_dict` is the summary's ``recovered``), plus the text counts of the
    completed captures, to add to the crawl's: stats (same keys) and languages by site."""

    stats: dict[str, int] = field(default_factory=dict)
    languages: Counter[tuple[str, str]] = field(default_factory=Counter)


def recover_archive(
    layout: ArchiveLayout,
    sites: Sequence[Site],
    open_state: Callable[[], StateStore] | None = None,
    *,
    max_decoded: int,
    workers: Callable[[StatsCollector], TextWorkers],
    text_attempts: int = DEFAULT_TEXT_ATTEMPTS,
    info: Sequence[tuple[str, str]] = (),
    prefix: str = "NEWSARCHIVE",
    max_size: int = DEFAULT_MAX_SIZE,
    factory: RecordFactory | None = None,
) -> RunRecovery:
    """Repair what a killed run left, update the state, write every text still missing.

    ``max_decoded`` is the crawl's decoding limit (``NEWSARCHIVE_MAX_DECODED_SIZE``);
    ``workers`` makes the text workers (given the stats they count in), started only when a
    text is missing; ``text_attempts`` is ``NEWSARCHIVE_TEXT_ATTEMPTS``. ``info``, ``prefix`` and
    ``max_size`` are the crawl's (its warcinfo fields from
    :func:`crawler.extensions.archiver.warcinfo_fields`, ``NEWSARCHIVE_WARC_PREFIX``,
    ``NEWSARCHIVE_WARC_MAX_SIZE``), so the files written here are named and described like the
    crawl's; ``factory`` makes the record ids (tests inject fixed ones). Files are opened on
    their first record: without a missing text, none is written.
    """
    report = RunRecovery()
    results = repair_files(layout, report) if layout.open_files() else []
    state = open_state() if open_state else sqlite_state_for(layout)
    factory = factory or RecordFactory()
    stats = RunStats()
    failures = TextFailures()

    owners = Owners(sites)

    def site_of(url: str) -> Site | None:
        """The site that owns an article URL (the crawl's rule, crawler.sources.owner_of)."""
        owner = owners.owner_of(url)
        return owner if owner is not None and owner.is_article(url) else None

    # Files are opened on their first record: a run without a missing text writes none.
    capture, text = open_writers(layout, prefix=prefix, info=info, max_size=max_size, factory=factory)

    def missing() -> Iterator[tuple[PendingText, tuple[str, str]]]:
        """The texts to write, with the note for their capture metadata: first those of the
        killed run's files (the state learns these files as they are read), then the pending
        captures of the state (those not already handed out)."""
        torn: set[str] = set()
        for item in reconcile_state(
            results,
            layout.capture_dir,
            state,
            lambda url: site_of(url) is not None,
            conversion_ids(results, layout.text_dir, state, report),
            report,
            max_decoded=max_decoded,
        ):
            torn.add(item.url)
            yield item, RECOVERED_FIELD
        for item in stored_pending(
            layout.capture_dir, state, report, max_decoded=max_decoded, wanted=lambda url: url not in torn
        ):
            yield item, STORED_FIELD

    def write(item: PendingText, note: tuple[str, str], analysis: PageAnalysis) -> None:
        current = state.get(item.url)
        if current is None or current.record_id != item.response_id or not needs_text(current):
            return  # settled meanwhile (by another worker of a distributed crawl)
        owner = owners.owner_of(item.url)
        name = owner.name if owner else ""  # no site of the sources: its text is written all the same
        fields = [note]
        if analysis.error is None and current.text_attempts:
            fields.append(("text-extraction-failed-before", str(current.text_attempts)))
        built = article_records(
            factory, current, fields, analysis.text, site=name, error=analysis.error, max_attempts=text_attempts
        )
        if built.text:
            text.write(list(built.text))
        capture.write([built.capture])
        state.put(built.state)
        count_text(stats, built, name, analysis.error, report.languages, failures)
        if analysis.error is None:
            report.texts_completed += 1
        else:
            report.texts_failed += 1
            report.texts_given_up += int(built.given_up)

    with contextlib.ExitStack() as cleanup:
        cleanup.callback(state.close)  # last: after the files, as the archiver closes
        cleanup.callback(capture.close)
        cleanup.callback(text.close)
        todo = missing()
        first = next(todo, None)  # the killed run's files are reconciled whole by now, if none is missing
        if first is not None:
            text_workers = workers(stats)
            text_workers.start()
            cleanup.callback(text_workers.close)  # first: the workers stop before the files close
            asyncio.run(_complete(itertools.chain([first], todo), text_workers, write))
    report.stats = {k: v for k, v in stats.get_stats().items() if isinstance(v, int)}
    failures.log("at the start of the run, from the stored responses", text_attempts)
    if report.texts_elsewhere:  # usual in a distributed crawl: no warning at every start
        logger.info(
            "%d pending texts have their response in no file of this archive (another worker's "
            "directory in a distributed crawl, or a removed file): left to the archive that holds them",
            report.texts_elsewhere,
        )
    if results:
        logger.warning("recovered an interrupted run: %s", report.as_dict())
    elif report.texts_completed or report.texts_failed:
        # No kill to report (failures have their own lines): the summary's "recovered" says it.
        logger.info("pending texts at the start of the run: %s", report.as_dict())
    return report


async def _complete(
    items: Iterator[tuple[PendingText, tuple[str, str]]],
    workers: TextWorkers,
    write: Callable[[PendingText, tuple[str, str], PageAnalysis], None],
) -> None:
    """Extract and write the items, a few at a time (two per worker): bodies are read one by one
    as slots free up, so memory holds a handful of responses whatever the number pending."""
    slots = asyncio.Semaphore(2 * max(1, workers.workers))
    running: set[asyncio.Task[None]] = set()

    async def one(item: PendingText, note: tuple[str, str]) -> None:
        try:
            if item.readable:
                analysis = await workers.analyse(item.body, item.url, item.charset, want_text=True)
            else:
                analysis = PageAnalysis(links=None, text=None, error=UNREADABLE)
            write(item, note, analysis)
        finally:
            slots.release()

    for item, note in items:
        await slots.acquire()
        task = asyncio.create_task(one(item, note))
        running.add(task)
        task.add_done_callback(running.discard)
        del item
    await asyncio.gather(*running)
