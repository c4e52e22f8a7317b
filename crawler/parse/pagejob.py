"""What a text worker does with one page: parse it once, read its links, extract its text.

Runs in the worker processes (:mod:`crawler.extensions.workers`), so it imports no Scrapy: only lxml,
trafilatura and langdetect, loaded once per worker by :func:`archive.textjob.warm_up`.
Parsing an article page costs about as much in the crawler as in a worker, but the crawler
is one process for the whole crawl, and the workers are one per core.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from archive.text import extract_from_page, parse_html
from archive.textjob import TextResult, text_result
from crawler.parse.links import PageLinks, read_links

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PageAnalysis:
    links: PageLinks | None  # None: not parsed (no HTML, or the worker failed); the spider reads them itself
    text: TextResult | None  # None: no article text, or not asked for
    error: str | None = None  # the worker failed (timeout, crash): recorded with the capture


def analyse_page(body: bytes, url: str, declared_charset: str | None, want_text: bool) -> PageAnalysis:
    page = parse_html(body, url=url, declared_charset=declared_charset)
    if page is None:
        return PageAnalysis(links=None, text=None)
    try:
        links: PageLinks | None = read_links(page.tree, url)
    except Exception:  # a hostile tree must not cost the page its text
        logger.debug("reading the links of %s failed", url, exc_info=True)
        links = None
    text = text_result(extract_from_page(page, url=url)) if want_text else None
    return PageAnalysis(links=links, text=text)
