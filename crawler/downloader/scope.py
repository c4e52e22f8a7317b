"""Keep every request inside its site: scheme, domains and address ranges.

The spider only schedules in-scope links, but redirects are followed by Scrapy's
RedirectMiddleware without asking the spider, so the check must sit in the downloader: a
redirect to another domain, to ``file://``, or to a private or loopback address (a public
site trying to reach services on our own network) is dropped here, counted and logged.

A page's redirect is a link the redirecting site found: its target goes to the site that owns
it (:func:`crawler.sources.owner_of`), as a link on a page would, and is an article when that
site's ``article_urls`` say so (an article request stays one wherever it lands). A feed, sitemap
or robots.txt stays with the site that asked for it.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from crawler import meta
from crawler.errors import OutOfScope as OutOfScope  # also importable from here, as before 0.2
from crawler.sources import Owners, Site, owner_of

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Set by Scrapy's RedirectMiddleware on the request of every hop (the URLs before it).
REDIRECT_URLS = "redirect_urls"


@functools.lru_cache(maxsize=10_000)
def is_private_host(host: str) -> bool:
    """Loopback, private, link-local or otherwise non-public addresses (and ``localhost``)."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        # The resolver also accepts the old numeric IPv4 forms: 2130706433, 0x7f000001, 0177.0.0.1.
        if not host or not all(c in "0123456789abcdefx." for c in host) or not host[0].isdigit():
            return False
        try:
            address = ipaddress.ip_address(socket.inet_aton(host))
        except OSError:
            return False
    return not address.is_global


def site_is_private(site: Site) -> bool:
    """A site configured on a private address may crawl it (the demo site, an intranet)."""
    urls = (*site.start_urls, *site.feeds, *site.sitemaps)
    return any(is_private_host(urlsplit(u).hostname or "") for u in urls)


class ScopeMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        spider = self.crawler.spider
        sites: dict[str, Site] = getattr(spider, "sites", {})
        site = sites.get(request.meta.get(meta.SITE, ""))
        if parts.scheme not in ("http", "https"):
            self._drop(request, site, "scheme", f"{parts.scheme}: URLs are never fetched")
        if site is None:
            return
        if request.meta.get(REDIRECT_URLS) and request.meta.get(meta.KIND) == "page":
            owners = getattr(spider, "owners", None)
            site = _redirect_owner(request, site, owners if isinstance(owners, Owners) else sites.values())
        host = parts.hostname or ""
        if not site.in_domain(request.url):
            self._drop(request, site, "offsite", f"{host} is outside allowed_domains")
        if is_private_host(host) and not site_is_private(site):
            self._drop(request, site, "private_address", f"{host} is a private or loopback address")

    def _drop(self, request: Request, site: Site | None, reason: str, message: str) -> None:
        name = site.name if site else request.meta.get(meta.SITE, "?")
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value(f"newsarchive/site/{name}/skipped/{reason}")
        logger.info("skipped %s: %s", request.url, message)
        raise OutOfScope(f"out of scope ({reason}): {message}")


def _redirect_owner(request: Request, finder: Site, owners: Owners | Iterable[Site]) -> Site:
    """The site a redirect's target goes to (``finder``: the site of the redirecting request);
    the request's meta says so from here on."""
    owner = owner_of(owners, request.url, finder) or finder
    if owner.name != finder.name:
        request.meta[meta.SITE] = owner.name
    if not request.meta.get(meta.ARTICLE) and owner.is_article(request.url):
        request.meta[meta.ARTICLE] = True
    return owner
