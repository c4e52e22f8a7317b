"""Idempotent archiving: a request delivered twice in a cycle is archived once.

At-least-once delivery means a request can come back (its worker was killed after archiving
the page but before acknowledging it), and every worker fetches robots.txt itself. Before
writing, a worker claims the URL for the cycle (atomically, in Redis); the claim becomes the
cycle's ``archived`` mark once the records are written. A fetch that finds the URL archived, or
claimed by a live worker, writes nothing. A claim whose worker died lapses, so a crash between
claim and write never loses the page. If the first worker died before writing an article's
text, the later one writes it, attached to the first capture (same response record id),
provided the content is the same.

Error answers (status >= 400) are always archived: a retry of a 503 must not be suppressed.
Left open by design: the short window between the end of a write and the ``archived`` mark
(a worker killed exactly there has its page archived again by the next delivery: a duplicate,
never a loss).
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

import redis

from archive.capture import CapturePlan, Exchange, plan_capture
from crawler.extensions.archiver import Archiver

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
        if cycle is None or exchange.head.status >= 400:
            return super().archive_exchange(exchange, site=site, is_article=is_article)
        try:
            verdict = cycle.claim_archive(exchange.url)
        except redis.RedisError as exc:
            # Redis is gone: this worker stops acknowledging (the page will be delivered again)
            # and keeps what it fetched; at worst the page is archived twice, never lost.
            cycle.redis_failed(exc)
            return super().archive_exchange(exchange, site=site, is_article=is_article)
        if verdict != "mine":
            return self._already_archived(exchange, is_article, verdict)
        try:
            plan = super().archive_exchange(exchange, site=site, is_article=is_article)
        except BaseException:
            with contextlib.suppress(redis.RedisError):
                cycle.release_claim(exchange.url)
            raise
        try:
            cycle.mark_archived(exchange.url)
        except redis.RedisError as exc:
            cycle.redis_failed(exc)
        return plan

    def _already_archived(self, exchange: Exchange, is_article: bool, verdict: str) -> CapturePlan:
        """A plan that writes nothing; text only when the first capture's text is missing."""
        previous = self._get(exchange.url)
        plan = plan_capture(exchange, previous, self.factory, is_article=is_article)
        self.stats.inc_value("newsarchive/distributed/capture_skipped")
        logger.info(
            "%s: %s in this cycle, not archived again",
            exchange.url,
            "already archived" if verdict == "archived" else "being archived by another worker",
        )
        if previous is None or verdict == "busy":
            plan.awaits_text = False
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
        plan.awaits_text = needs_text
        if needs_text:
            self.stats.inc_value("newsarchive/distributed/text_completed")
        return plan
