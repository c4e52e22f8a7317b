"""Scrapy's cookies middleware without its one network access: fetching the Public Suffix List.

Scrapy 2.19's ``CookiesMiddleware`` asks tldextract whether a cookie's ``Domain`` is a public
suffix (a cookie for ``co.uk`` or ``github.io`` must not reach every site below it), through a
module-level extractor built with tldextract's defaults. On the first cookie of a run that
extractor downloads the list from publicsuffix.org, then from a GitHub mirror, and caches it
under ``~/.cache``: a request to a host the user never listed, which tells a third party that a
crawl is running and, on a firewalled host, holds the cookie until the fetch gives up.

:class:`CookiesMiddleware`, wired at Scrapy's place (700) with Scrapy's disabled, is Scrapy's
middleware with that extractor swapped for :data:`BUNDLED_SUFFIXES`: the snapshot of the list
that ships inside the installed tldextract, never fetched, never cached on disk, the same answer
on every machine for one tldextract version. A suffix added to the list after that release is
unknown until tldextract is upgraded (a cookie set for it is then an ordinary domain cookie, still
subject to the jar's domain-match rules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares import cookies as scrapy_cookies
from tldextract import TLDExtract

from crawler.errors import ConfigError

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

#: The Public Suffix List as shipped in tldextract: ``suffix_list_urls=()`` never fetches,
#: ``cache_dir=None`` neither reads nor writes a cache, ``fallback_to_snapshot`` is then the list.
#: Private domains included (``github.io``, ``blogspot.com``), as Scrapy's own extractor has them.
BUNDLED_SUFFIXES = TLDExtract(
    cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True, include_psl_private_domains=True
)


def use_bundled_suffix_list() -> None:
    """Point Scrapy's cookie-domain check at :data:`BUNDLED_SUFFIXES` (idempotent)."""
    if not isinstance(getattr(scrapy_cookies, "_split_domain", None), TLDExtract):
        # Scrapy is pinned to its minor release; a change here must fail loudly, not fetch.
        raise ConfigError(
            "this Scrapy's cookies middleware has no module-level TLDExtract (_split_domain) to "
            "replace: it may fetch the Public Suffix List; see crawler/downloader/cookies.py"
        )
    scrapy_cookies._split_domain = BUNDLED_SUFFIXES


class CookiesMiddleware(scrapy_cookies.CookiesMiddleware):
    """Scrapy's cookies middleware, reading the suffix list bundled with tldextract."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = super().from_crawler(crawler)  # NotConfigured unless COOKIES_ENABLED
        use_bundled_suffix_list()
        return middleware
