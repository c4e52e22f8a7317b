"""Downloader middleware that archives every HTTP exchange the moment it arrives.

It sits closest to the downloader (order 950), so it sees each response before redirects,
retries or decompression change anything, with the body exactly as received. It then hands
on a *decoded* response (and takes over the job of HttpCompressionMiddleware, which is
disabled): the body is decoded once, under a size bound, and the charset detection that
Scrapy runs over still-compressed bodies never happens.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import StopDownload
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes

from archive.capture import CapturePlan, Exchange
from archive.encoding import DecodedTooLarge, DecodeError, decode_body
from archive.http import ResponseHead, header_pairs
from archive.records import warc_date
from archive.state import UrlState
from crawler import meta
from crawler.downloader.handlers import WireFacts

# Also importable from here, as before 0.2 (explicit re-exports).
# Also importable from here, as before 0.2 (explicit re-exports).
from crawler.errors import NotDecodable as NotDecodable
from crawler.errors import Truncated as Truncated
from crawler.extensions.archiver import Archiver
from crawler.sources import owner_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)



@dataclass(frozen=True, slots=True)
class CaptureInfo:
    """What is read later of an archived exchange: by the spider (does the page await its text?)
    and by the text pipeline (the state and crawl-time facts its text records complete).

    Only these few values, never the capture plan with its bodies: it rides in ``request.meta``
    until the page's text is written.
    """

    state: UrlState  # the URL's state after this capture (response record id and date)
    fields: tuple[tuple[str, str], ...]  # crawl-time facts for the capture's metadata record
    awaits_text: bool  # the metadata record waits for the text (new or changed article page)

    @classmethod
    def of(cls, plan: CapturePlan) -> CaptureInfo:
        return cls(state=plan.state, fields=tuple(plan.metadata_fields), awaits_text=plan.awaits_text)


_HTML_TYPES = (b"text/html", b"application/xhtml+xml")


def _looks_like_html(head: ResponseHead, decoded: bytes | None) -> bool:
    ctype = (head.get(b"content-type") or b"").split(b";")[0].strip().lower()
    if ctype:
        return ctype in _HTML_TYPES
    if not decoded:
        return False
    start = decoded[:512].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def request_site(crawler: Crawler, request: Request) -> str:
    """The site a request counts for: the one the spider named (``meta.SITE``), else the owner of
    its URL (a request the spider did not make, such as robots.txt)."""
    return str(request.meta.get(meta.SITE) or _site_of(crawler, request.url))


def _site_of(crawler: Crawler, url: str) -> str:
    """Site of a request the spider did not make (robots.txt from RobotsTxtMiddleware): the URL's
    owner by the one rule, :func:`crawler.sources.owner_of`, with no finder (the spider's
    ``site_for_url`` asks its precomputed :class:`~crawler.sources.Owners`); "" when no site's
    domains contain it."""
    site_for = getattr(crawler.spider, "site_for_url", None)
    if site_for is not None:
        return str(site_for(url))
    owner = owner_of(getattr(crawler.spider, "sites", {}).values(), url)
    return owner.name if owner is not None else ""


class CaptureMiddleware:
    def __init__(self, crawler: Crawler, max_decoded_size: int, max_body_size: int) -> None:
        self.crawler = crawler
        self.max_decoded_size = max_decoded_size
        self.max_body_size = max_body_size
        self._archiver: Archiver | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureMiddleware:
        settings = crawler.settings
        mw = cls(
            crawler,
            settings.getint("NEWSARCHIVE_MAX_DECODED_SIZE"),
            settings.getint("NEWSARCHIVE_MAX_BODY_SIZE"),
        )
        for name in ("NEWSARCHIVE_MAX_BODY_SIZE", "NEWSARCHIVE_MAX_DECODED_SIZE"):
            if settings.getint(name) <= 0:
                # The only bound on what one response may cost in memory: it cannot be switched off.
                raise ValueError(f"{name} must be a positive number of bytes, got {settings.get(name)!r}")
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.bytes_received, signal=signals.bytes_received)
        return mw

    def bytes_received(self, data: bytes, request: Request, spider: Any) -> None:
        """Stop reading a body at the size limit; the part read is archived, marked truncated.

        Scrapy's own DOWNLOAD_MAXSIZE throws the whole response away; an archive would rather
        keep the first ``NEWSARCHIVE_MAX_BODY_SIZE`` bytes with ``WARC-Truncated: length``.
        """
        received = request.meta.get(meta.BYTES, 0) + len(data)
        request.meta[meta.BYTES] = received
        if received > self.max_body_size:
            raise StopDownload(fail=False)

    def spider_opened(self, spider: Any) -> None:
        self._archiver = self.crawler.get_extension(Archiver)

    def process_request(self, request: Request) -> None:
        request.meta[meta.START] = time.monotonic()

    def process_response(self, request: Request, response: Response) -> Response:
        assert self._archiver is not None
        stats = self.crawler.stats
        assert stats is not None
        wire: WireFacts | None = request.meta.get(meta.WIRE)
        if wire is not None:
            headers = wire.headers
            reason: str | None = wire.reason
        else:  # a handler other than ours (file://, data:, a test double): no wire facts
            headers = tuple(header_pairs(response.headers.items()))
            reason = None
        head = ResponseHead(response.protocol or "HTTP/1.1", response.status, reason, headers)
        notes: list[tuple[str, str]] = []
        body: bytes | memoryview = response.body
        truncated: str | None = None
        if "download_stopped" in response.flags:
            truncated = "length"
            # A view, not a slice: a 32 MB body is not copied again just to drop its tail.
            body = memoryview(response.body)[: self.max_body_size]
            notes.append(("truncated", f"body cut at {self.max_body_size} bytes (NEWSARCHIVE_MAX_BODY_SIZE)"))
            stats.inc_value("newsarchive/truncated/length")
            logger.warning(
                "%s: body larger than %d bytes, archived truncated", response.url, self.max_body_size
            )
        elif "dataloss" in response.flags:
            truncated = "disconnect"
            notes.append(("body-incomplete", "connection closed before the announced length"))
        encodings = head.get_all(b"content-encoding")
        decoded: bytes | None = None
        decode_error: str | None = None
        if truncated is None:  # a cut body is neither compared nor extracted: no need to decode it
            try:
                # Not cut, so body is response.body itself (bytes, never a view).
                decoded = (
                    decode_body(response.body, encodings, self.max_decoded_size)
                    if encodings
                    else response.body
                )
            except DecodedTooLarge as exc:
                decode_error = f"too large: {exc}"
                stats.inc_value("newsarchive/decode/too_large")
            except DecodeError as exc:
                decode_error = str(exc)
                stats.inc_value("newsarchive/decode/error")
        if decode_error:
            notes.append(("content-decoding-error", decode_error))
            logger.warning("archived %s raw, body not decoded: %s", response.url, decode_error)
        start = request.meta.get(meta.START)
        site = request_site(self.crawler, request)
        is_article = bool(request.meta.get(meta.ARTICLE))
        exchange = Exchange(
            url=response.url,
            method=request.method,
            request_headers=tuple(header_pairs(request.headers.items())),
            request_body=request.body,
            head=head,
            body=body,
            decoded=decoded,
            date=warc_date(),
            ip=str(response.ip_address) if response.ip_address else None,
            fetch_ms=int((time.monotonic() - start) * 1000) if start else None,
            truncated=truncated,
            notes=tuple(notes),
        )
        # Text is extracted from HTML only: an image or PDF at an article URL is archived, not parsed.
        is_article = is_article and response.status == 200 and _looks_like_html(head, decoded)
        plan = self._archiver.archive_exchange(exchange, site=site, is_article=is_article)
        request.meta[meta.CAPTURE] = CaptureInfo.of(plan)
        if truncated:
            raise Truncated(f"body truncated ({truncated}): archived as received, no text extracted")
        if decoded is None:
            raise NotDecodable(f"not decodable, archived raw: {decode_error}")
        if not encodings:
            return response
        new_headers = Headers(response.headers)
        new_headers.pop(b"Content-Encoding", None)
        new_headers.pop(b"Content-Length", None)
        respcls = responsetypes.from_args(headers=new_headers, url=response.url, body=decoded)
        # Built afresh, not with response.replace(): replace() reads .encoding of the old,
        # still-compressed response and runs charset detection over gzip bytes.
        return respcls(
            url=response.url,
            status=response.status,
            headers=new_headers,
            body=decoded,
            flags=response.flags,
            request=response.request,
            certificate=response.certificate,
            ip_address=response.ip_address,
            protocol=response.protocol,
        )
