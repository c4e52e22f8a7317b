"""Scrapy's retries, counted per URL, with ``Retry-After`` honoured (downloader middleware, at 610).

At 610, not Scrapy's 550: responses pass the downloader middlewares from the highest number
down, so here every response is seen before ``RedirectMiddleware`` (600) turns a 3xx into a new
request. A redirect is its URL's final outcome (an answer, archived) and counts as fetched; at
550 it was never seen. Retries and redirects handle disjoint statuses, so their order changes
nothing else.

Scrapy's ``RetryMiddleware`` retries a response whose status is in ``RETRY_HTTP_CODES`` (5xx,
429, 408) and a connection failure (``RETRY_EXCEPTIONS``), ``RETRY_TIMES`` times (2: three
requests at most). The capture middleware (950, closer to the downloader) has already archived
every response by then: each attempt is a real exchange and stays in the WARC files. This
subclass adds what the run summary and the exit code need, per site
(``newsarchive/site/SITE/...``):

* ``retries``: one per retried attempt (a response or a connection failure that is tried again);
* ``fetched``: one per URL with a final outcome: the response that is not retried (any status,
  after the retries). A URL whose every attempt failed before a response is not fetched: the
  spider counts it as ``errors/NAME``;
* ``http_errors`` (5xx) and ``http_429``: the final responses that are errors of the site.
  404, 410 and the other 4xx are answers, not errors;
* ``robots_txt``: of the fetched URLs, the robots.txt files Scrapy's robots.txt middleware read
  (no page of the site: the error rate leaves them out).

``Retry-After`` on a 429 or 503 (seconds or an HTTP date) delays the retry by that long, up to
``NEWSARCHIVE_MAX_RETRY_AFTER`` seconds (60; longer asks are lowered to it, and logged; 0
ignores the header). The wait is an asynchronous delay of that one request (the reactor runs
on): it then goes back to the scheduler as Scrapy's retry does.
"""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware as ScrapyRetryMiddleware
from scrapy.http import Request
from scrapy.utils.asyncio import sleep

from crawler import meta
from crawler.downloader.capture import request_site
from crawler.downloader.crawldelay import seconds_setting

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

#: Seconds: the longest ``Retry-After`` honoured; a longer one is lowered to it. 0: ignored.
MAX_RETRY_AFTER = "NEWSARCHIVE_MAX_RETRY_AFTER"
DEFAULT_MAX_RETRY_AFTER = 60.0  # crawler.settings' value; also under settings without it
RETRY_AFTER_STATUSES = frozenset({429, 503})
CAPPED = "newsarchive/retry_after/capped"  # retries whose Retry-After was longer than the cap
WAITED = "newsarchive/retry_after/waited"  # retries delayed by a Retry-After


def max_retry_after(settings: Any) -> float:
    """``NEWSARCHIVE_MAX_RETRY_AFTER`` as seconds (a ConfigError unless a number >= 0)."""
    return seconds_setting(settings, MAX_RETRY_AFTER, DEFAULT_MAX_RETRY_AFTER)


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header value asks to wait (RFC 9110 10.2.3: delay-seconds or an
    HTTP date, against ``now``, seconds since the epoch); None when absent or unreadable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def is_error_status(status: int) -> bool:
    """A final response that is an error of the site: 5xx and 429. Other statuses are answers."""
    return status >= 500 or status == 429


def is_robots_fetch(request: Request) -> bool:
    """The robots.txt request of Scrapy's RobotsTxtMiddleware (the spider's requests carry a site)."""
    return bool(request.meta.get("dont_obey_robotstxt")) and meta.SITE not in request.meta


class RetryMiddleware(ScrapyRetryMiddleware):
    max_retry_after: float

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        mw = super().from_crawler(crawler)
        mw.max_retry_after = max_retry_after(crawler.settings)
        return mw

    def _site(self, request: Request) -> str:
        return request_site(self.crawler, request)

    def _inc(self, request: Request, name: str) -> None:
        site = self._site(request)
        if site:  # a host no site owns (robots.txt of a redirect target) counts for nobody
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(f"newsarchive/site/{site}/{name}")

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request):
            self._inc(request, "retries")
            delay = self._retry_after(request, response)
            if delay:
                await sleep(delay)
            return result
        self._inc(request, "fetched")
        if is_robots_fetch(request):
            self._inc(request, "robots_txt")
        elif response.status == 429:
            self._inc(request, "http_429")
        elif response.status >= 500:
            self._inc(request, "http_errors")
        return result

    def process_exception(
        self, request: Request, exception: Exception, spider: Any = None
    ) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            self._inc(request, "retries")
        return result

    def _retry_after(self, request: Request, response: Response) -> float:
        if response.status not in RETRY_AFTER_STATUSES or self.max_retry_after <= 0:
            return 0.0
        asked = retry_after_seconds(response.headers.get(b"Retry-After"))
        if asked is None or asked <= 0:
            return 0.0
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(WAITED)
        if asked > self.max_retry_after:
            self.crawler.stats.inc_value(CAPPED)
            logger.info(
                "%s: Retry-After %.0f s lowered to %.0f s (%s)",
                request.url,
                asked,
                self.max_retry_after,
                MAX_RETRY_AFTER,
            )
            return self.max_retry_after
        return asked
