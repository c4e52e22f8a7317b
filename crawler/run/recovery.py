"""Start-of-run recovery: the crawler-side glue around :mod:`archive.recovery`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from archive.layout import ArchiveLayout
from archive.recovery import RecoveryReport, conversion_ids, reconcile_state, repair_files
from archive.state import SqliteStateStore, StateStore
from crawler.extensions.archiver import STATE_FILE, Archiver
from crawler.sources import Site

logger = logging.getLogger(__name__)


class _Counts:
    """The few stats calls the archiver makes, outside a crawl."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] = self.values.get(key, start) + count


def recover_archive(
    layout: ArchiveLayout, sites: Sequence[Site], open_state: Callable[[], StateStore] | None = None
) -> RecoveryReport:
    report = RecoveryReport()
    if not layout.open_files():
        return report
    results = repair_files(layout, report)
    state = open_state() if open_state else SqliteStateStore(layout.state_dir / STATE_FILE)

    def site_of(url: str) -> Site | None:
        return next((s for s in sites if s.in_domain(url) and s.is_article(url)), None)

    try:
        pending = reconcile_state(
            results,
            layout.capture_dir,
            state,
            lambda url: site_of(url) is not None,
            conversion_ids(layout, results),
            report,
        )
    except BaseException:
        state.close()
        raise
    if not pending:
        state.close()
        return report
    from archive.textjob import quiet_extractor_logs, run_text_job

    quiet_extractor_logs()

    archiver = Archiver(layout.root, stats=_Counts(), state=state)  # type: ignore[arg-type]
    archiver.open()
    try:
        for item in pending:
            result = run_text_job(item.body, item.url, item.charset)
            site = site_of(item.url)
            fields = [
                ("recovered", "text written at the start of the next run; the run that fetched it was killed")
            ]
            archiver.archive_text(item.state, fields, result, site=site.name if site else "")
            report.texts_completed += 1
    finally:
        archiver.close()
    logger.warning("recovered an interrupted run: %s", report.as_dict())
    return report
