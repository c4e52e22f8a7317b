"""Every ``request.meta`` key newsarchive uses, declared once: its stored string, who writes, who reads.

The strings are stored: the distributed queue keeps a request's meta in Redis
(:mod:`crawler.distributed.serializer`), so a key is never renamed (``shared/conventions.md``).
Keys of *queued* meta carry plain data (str, int, bool); keys marked transient hold per-process
objects or per-attempt facts and are never queued (:data:`TRANSIENT`).
"""

from __future__ import annotations

#: The site (its ``name`` in the sources file) that owns the request's URL (:func:`crawler.sources.owner_of`).
#: Written by the spider (and by the scope middleware for a page's redirect target); read by the
#: scope and capture middlewares, the spider's callbacks.
SITE = "newsarchive_site"
#: Link depth from the site's start pages (int). Written and read by the spider.
DEPTH = "newsarchive_depth"
#: What the request fetches: "page", "feed", "sitemap" or "robots". Written by the spider.
KIND = "newsarchive_kind"
#: True when the URL matches its owner's ``article_urls``. Written by the spider (and the scope
#: middleware on a redirect); read by capture.
ARTICLE = "newsarchive_article"

# --- transient: per process, per attempt ------------------------------------------------------
#: :class:`crawler.downloader.capture.CaptureInfo` of the archived exchange.
#: Written by the capture middleware; read by the spider (``parse_page``) and the text pipeline.
CAPTURE = "newsarchive_capture"
#: :class:`crawler.downloader.handlers.WireFacts` (reason phrase, raw headers).
#: Written by the download handler; read by the capture middleware.
WIRE = "newsarchive_wire"
#: ``time.monotonic()`` when the request entered the downloader. Written and read by capture.
START = "_newsarchive_start"
#: Body bytes received so far (int). Written and read by capture (its size bound).
BYTES = "_newsarchive_bytes"
#: Lease id of a request popped from the shared queue.
#: Written by :mod:`crawler.distributed.queue`; read by the cycle coordinator and the scheduler.
LEASE = "_newsarchive_lease"
#: Politeness permit token. Written and read by :mod:`crawler.distributed.politeness`.
PERMIT = "_newsarchive_permit"

#: Never queued in Redis: ours above, and Scrapy's per-attempt facts.
TRANSIENT = frozenset({CAPTURE, WIRE, START, BYTES, LEASE, "download_latency", "download_slot"})
