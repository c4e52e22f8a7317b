"""The links of a parsed page, as canonical absolute URLs: what the spider may follow.

Pure lxml, no Scrapy: the text workers call it on the tree they parse for extraction anyway
(an article page is parsed once, in a worker, not a second time in the crawler process), and
the spider calls it on Scrapy's own tree for pages whose links it needs at once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from archive.urls import canonical_url

if TYPE_CHECKING:
    from lxml.etree import _Element

#: hrefs that never lead to another page.
NOT_PAGES = ("#", "javascript:", "mailto:", "tel:", "data:")
_ABSOLUTE = ("http://", "https://")


@dataclass(frozen=True, slots=True)
class PageLinks:
    urls: tuple[str, ...]  # canonical, distinct, in page order
    invalid: int  # distinct hrefs that are no http(s) URL once resolved


def read_links(root: _Element, page_url: str) -> PageLinks:
    """``<a href>`` targets of a page, resolved against its ``<base href>`` like a browser."""
    base = page_url
    for element in root.iter("base"):
        href = (element.get("href") or "").strip()
        if href:
            base = urljoin(page_url, href)
            break
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"
    urls: dict[str, None] = {}
    invalid = 0
    # Menus, footers and "most read" boxes repeat the same links on every page: each distinct
    # href once per page, and its resolution memoised across pages. A root-relative or
    # absolute href resolves the same on every page of the site, so it is memoised against the
    # origin alone; only a page-relative href needs the page's own base.
    hrefs = root.xpath("//a/@href", smart_strings=False)
    for href in dict.fromkeys(h.strip() for h in hrefs):
        if not href or href.startswith(NOT_PAGES):
            continue
        if (href.startswith("/") and not href.startswith("//")) or href.startswith(_ABSOLUTE):
            url = _resolve(origin, href)  # urljoin reads only the base's scheme for these
        else:
            url = _resolve(base, href)
        if url is None:
            invalid += 1
        else:
            urls[url] = None
    return PageLinks(tuple(urls), invalid)


# Menus, footers and "most read" boxes are a few hundred links per site; an article's own links
# (related stories) rarely come back. A small memo keeps the first and lets the rest go, so a
# worker's memory stays flat over a long crawl.
@functools.lru_cache(maxsize=8192)
def _resolve(base: str, href: str) -> str | None:
    try:
        return canonical_url(urljoin(base, href))
    except ValueError:
        return None


@functools.lru_cache(maxsize=16_384)
def canonical(url: str) -> str:
    """:func:`archive.urls.canonical_url`, memoised (a site's links repeat on every page)."""
    return canonical_url(url)
