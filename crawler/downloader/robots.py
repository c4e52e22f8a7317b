"""Scrapy's robots.txt middleware (at its 100), with RFC 9309's rule for a robots.txt that answers an error.

RFC 9309 2.3.1.4: a robots.txt that is unreachable because of a server error means "disallow
all". Scrapy 2.19's ``RobotsTxtMiddleware`` parses whatever body came back, so a robots.txt
answering 503 (an error page, or nothing) allows the whole host. Here a robots.txt whose final
response (after Scrapy's retries) is a 5xx or a 429 disallows every URL of its host for the run:
each request refused for it raises :class:`RobotsUnavailable` and is counted by the spider as
``newsarchive/site/SITE/skipped/robots_unavailable``; a site that could fetch no page because
of it is a failed site (:func:`crawler.run.outcome.failing_sites`, exit 3). One warning per host.

A 4xx robots.txt (404, 410, 403...) still allows all (RFC 9309 2.3.1.3), as does a robots.txt
that could not be fetched at all (connection refused, timeout): that host's pages are tried and
fail on their own, counted as errors.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from twisted.internet.defer import Deferred

from crawler.downloader.retry import is_error_status

if TYPE_CHECKING:
    from scrapy.http import Request, Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

UNAVAILABLE = "skipped/robots_unavailable"  # stats key tail, per site
HOSTS = "newsarchive/robots_unavailable/hosts"  # hosts whose robots.txt answered an error


class RobotsUnavailable(IgnoreRequest):
    """The request's host answered its robots.txt with a server error: nothing there is fetched."""


class DisallowAll:
    """The rules of a host whose robots.txt answered ``status``: no URL is allowed."""

    def __init__(self, status: int) -> None:
        self.status = status

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False

    def sitemaps(self) -> list[str]:
        return []


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        if isinstance(rp, DisallowAll):
            raise RobotsUnavailable(f"robots.txt answered {rp.status}: disallow all (RFC 9309)")
        super().process_request_2(rp, request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if not is_error_status(response.status):
            await super()._parse_robots(response, netloc, request)
            return
        self._stats.inc_value("robotstxt/response_count")
        self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        self._stats.inc_value(HOSTS)
        logger.warning(
            "%s answered %d: nothing on %s is fetched this run (RFC 9309: disallow all)",
            response.url,
            response.status,
            netloc,
        )
        waiting: Any = self._parsers[netloc]
        assert isinstance(waiting, Deferred)
        rules: Any = DisallowAll(response.status)
        self._parsers[netloc] = rules
        waiting.callback(rules)
