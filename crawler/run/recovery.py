"""Start-of-run recovery: the crawler-side glue around :mod:`archive.recovery`.

The archive side repairs the files a killed run left open and brings the state up to date; this
side knows the sites (which URLs are articles, which site a text belongs to) and writes each
missing text the way the crawl does: :func:`archive.textrecords.article_records` builds the
records, two :class:`~archive.writer.WarcFileWriter` streams named like the archiver's
(:class:`crawler.extensions.archiver.Archiver`) take them, and the state update follows the
records. Nothing here needs a running crawl.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence

from archive.layout import ArchiveLayout
from archive.records import RecordFactory
from archive.recovery import PendingText, RecoveryReport, conversion_ids, reconcile_state, repair_files
from archive.state import StateStore
from archive.textjob import quiet_extractor_logs, run_text_job
from archive.textrecords import article_records
from archive.writer import DEFAULT_MAX_SIZE, WarcFileWriter
from crawler.extensions.archiver import open_writers, sqlite_state_for
from crawler.sources import Site

logger = logging.getLogger(__name__)

#: Said in the capture metadata of every text written here.
RECOVERED_FIELD = (
    "recovered",
    "text written at the start of the next run; the run that fetched it was killed",
)


def recover_archive(
    layout: ArchiveLayout,
    sites: Sequence[Site],
    open_state: Callable[[], StateStore] | None = None,
    *,
    info: Sequence[tuple[str, str]] = (),
    prefix: str = "NEWSARCHIVE",
    max_size: int = DEFAULT_MAX_SIZE,
    factory: RecordFactory | None = None,
) -> RecoveryReport:
    """Repair what a killed run left, update the state, write the texts it did not write.

    ``info``, ``prefix`` and ``max_size`` are the crawl's (its warcinfo fields from
    :func:`crawler.extensions.archiver.warcinfo_fields`, ``NEWSARCHIVE_WARC_PREFIX``,
    ``NEWSARCHIVE_WARC_MAX_SIZE``), so the files written here are named and described like the
    crawl's; ``factory`` makes the record ids (tests inject fixed ones). Without ``.open`` files
    nothing is opened.
    """
    report = RecoveryReport()
    if not layout.open_files():
        return report
    results = repair_files(layout, report)
    state = open_state() if open_state else sqlite_state_for(layout)
    factory = factory or RecordFactory()

    def site_of(url: str) -> Site | None:
        return next((s for s in sites if s.in_domain(url) and s.is_article(url)), None)

    with contextlib.ExitStack() as cleanup:
        cleanup.callback(state.close)  # last: after the files, as the archiver closes
        capture, text = open_writers(layout, prefix=prefix, info=info, max_size=max_size, factory=factory)
        # Files are opened on their first record, so a recovery without texts writes none.
        cleanup.callback(capture.close)
        cleanup.callback(text.close)
        pending = reconcile_state(
            results,
            layout.capture_dir,
            state,
            lambda url: site_of(url) is not None,
            conversion_ids(results, layout.text_dir, state, report),
            report,
        )
        for item in pending:
            site = site_of(item.url)
            _write_text(item, site.name if site else "", factory, capture, text, state)
            report.texts_completed += 1
    logger.warning("recovered an interrupted run: %s", report.as_dict())
    return report


def _write_text(
    item: PendingText,
    site: str,
    factory: RecordFactory,
    capture: WarcFileWriter,
    text: WarcFileWriter,
    state: StateStore,
) -> None:
    """Extract one article's text and write it as the crawl's archiver does (records, then state)."""
    quiet_extractor_logs()  # as the text workers do: an index-like page is no warning for cron
    result = run_text_job(item.body, item.url, item.charset)
    built = article_records(factory, item.state, [RECOVERED_FIELD], result, site=site)
    if built.text:
        text.write(list(built.text))
    capture.write([built.capture])
    state.put(built.state)
