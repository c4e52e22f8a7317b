"""Idempotent archiving: a request delivered twice in a cycle is archived once.

At-least-once delivery means a request can come back (its worker was killed after archiving
the page but before acknowledging it). The first successful capture of a URL in a cycle is
recorded in the cycle's ``archived`` set right after its records are written; a later fetch of
the same URL in the same cycle writes nothing. If the first worker died before writing the
article's text, the later one writes it, attached to the first capture (same response record
id), provided the content is the same.

Error answers (status >= 400) are always archived: a retry of a 503 must not be suppressed.
Left open by design: a worker frozen for longer than its lease while it held a page may
capture it at the same moment as the worker that took the page over (a duplicate capture,
never a lost one).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from archive.capture import CapturePlan, Exchange, plan_capture
from crawler.archiver import Archiver

if TYPE_CHECKING:
    from crawler.distributed.cycle import CycleCoordinator

logger = logging.getLogger(__name__)


class DistributedArchiver(Archiver):
    def spider_opened(self, spider: Any) -> None:
        super().spider_opened(spider)
        from crawler.distributed.cycle import CycleCoordinator

        crawler = self._crawler
        self._cycle: CycleCoordinator | None = (
            crawler.get_extension(CycleCoordinator) if crawler is not None else None
        )

    def archive_exchange(self, exchange: Exchange, *, site: str, is_article: bool) -> CapturePlan:
        cycle = getattr(self, "_cycle", None)
        final = exchange.head.status < 400
        if cycle is not None and final and cycle.archived_in_cycle(exchange.url):
            return self._already_archived(exchange, is_article)
        plan = super().archive_exchange(exchange, site=site, is_article=is_article)
        if cycle is not None and final:
            cycle.mark_archived(exchange.url)
        return plan

    def _already_archived(self, exchange: Exchange, is_article: bool) -> CapturePlan:
        """A plan that writes nothing; text only when the first capture's text is missing."""
        previous = self.state.get(exchange.url)
        plan = plan_capture(exchange, previous, self.factory, is_article=is_article)
        self.stats.inc_value("newsarchive/distributed/capture_skipped")
        logger.info("%s: already archived in this cycle, not archived again", exchange.url)
        if previous is None:
            plan.extra["awaits_text"] = False
            return plan
        same_content = plan.content_digest is not None and plan.content_digest == previous.content_digest
        needs_text = bool(
            is_article
            and previous.record_id
            and not previous.text_record_id
            and previous.status == 200
            and same_content
            and exchange.truncated is None
        )
        plan.state = previous
        plan.changed = False
        plan.extra["awaits_text"] = needs_text
        if needs_text:
            self.stats.inc_value("newsarchive/distributed/text_completed")
        return plan
