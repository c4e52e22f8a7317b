"""HTTP/1.1 download handler that keeps what Scrapy's own drops: the reason phrase and header order.

Scrapy 2.19's handler builds a ``Response`` from Twisted's and throws away ``phrase``; its
``Headers`` also reorder the fields (``Content-Length`` first). A WARC response record must
carry the status line the server sent, so this handler records, per request, Twisted's
``phrase`` and raw header list in ``request.meta[crawler.meta.WIRE]``.

It subclasses private Scrapy classes (``_ScrapyAgent``); ``pyproject.toml`` pins Scrapy to the
2.19 series for that reason. Upstream, exposing the reason phrase on ``Response`` would let us
drop this module.

It also turns off Twisted's own resend: ``HTTPConnectionPool`` sends a request a second time, by
itself, when a reused keep-alive connection closes before any response. Scrapy's RetryMiddleware
already retries that failure (``RETRY_TIMES``), so with both a URL was requested up to twice as
often as the retry setting allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler, _ScrapyAgent, logger
from scrapy.exceptions import ResponseDataLossError
from scrapy.utils._download_handlers import get_dataloss_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future

from crawler import meta

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from twisted.internet.defer import Deferred



@dataclass(frozen=True, slots=True)
class WireFacts:
    """What the server sent that Scrapy's Response cannot tell."""

    reason: str
    headers: tuple[tuple[bytes, bytes], ...]  # order kept; Content-Length/Transfer-Encoding are
    # consumed by Twisted's parser and never appear here


class _WireAgent(_ScrapyAgent):
    def _cb_bodyready(self, txresponse: Any, request: Request) -> Any:
        request.meta[meta.WIRE] = WireFacts(
            reason=(txresponse.phrase or b"").decode("latin-1"),
            headers=tuple(
                (name, value) for name, values in txresponse.headers.getAllRawHeaders() for value in values
            ),
        )
        return super()._cb_bodyready(txresponse, request)


class WireHTTP11DownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        # Retries are RetryMiddleware's alone (RETRY_TIMES): no silent resend on a reused connection.
        self._pool.retryAutomatically = False

    async def download_request(self, request: Request) -> Response:
        agent = _WireAgent(
            contextFactory=self._contextFactory,
            bindAddress=self._bind_address,
            pool=self._pool,
            maxsize=request.meta.get("download_maxsize", self._default_maxsize),
            warnsize=request.meta.get("download_warnsize", self._default_warnsize),
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        try:
            with wrap_twisted_exceptions():
                deferred: Deferred[Response] = agent.download_request(request)
                return await maybe_deferred_to_future(deferred)
        except ResponseDataLossError:
            if not self._fail_on_dataloss_warned:
                logger.warning(get_dataloss_msg(request.url))
                self._fail_on_dataloss_warned = True
            raise
