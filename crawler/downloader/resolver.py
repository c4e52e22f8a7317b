"""DNS that keeps a public site's links off our own network.

:mod:`crawler.downloader.scope` refuses links whose host *is* a private address. A name can still
*resolve* to one (split-horizon DNS, a record pointing at 127.0.0.1 or 169.254.169.254, DNS
rebinding). This resolver wraps the configured one (``NEWSARCHIVE_DNS_RESOLVER``, Scrapy's
caching resolver by default) and refuses a private or loopback answer for any name that is
not the host of a URL in the sources file: a site configured on an intranet name still works,
a link from it to another name that resolves inwards does not.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.utils.misc import load_object
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from crawler.downloader.scope import is_private_host
from crawler.errors import SourcesError
from crawler.sources import sites_from_settings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from scrapy.crawler import Crawler
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)


@implementer(IResolverSimple)
class ScopedResolver:
    def __init__(self, reactor: Any, inner: Any, configured: set[str]) -> None:
        self.reactor = reactor
        self.inner = inner
        self.configured = configured

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> ScopedResolver:
        """``crawler`` is the crawler *process* here (one resolver per reactor): the sites come
        from the sources file named in the settings."""
        inner_cls = load_object(crawler.settings.get("NEWSARCHIVE_DNS_RESOLVER"))
        return cls(reactor, inner_cls.from_crawler(crawler, reactor), configured_hosts(crawler.settings))

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(self)

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        deferred: Deferred[str] = self.inner.getHostByName(name, timeout)
        deferred.addCallback(self._check, name)
        return deferred

    def _check(self, address: str, name: str) -> str:
        inward = is_private_host(address) and not is_private_host(name)
        if inward and name.lower().rstrip(".") not in self.configured:
            logger.warning("refused %s: it resolves to the private address %s", name, address)
            raise DNSLookupError(f"{name} resolves to a private or loopback address ({address}): refused")
        return address


def configured_hosts(settings: Any) -> set[str]:
    """Hosts named by the sources file's URLs: these may resolve to private addresses."""
    try:
        sites = sites_from_settings(settings)
    except SourcesError:  # no usable sources file (the spider reports it): no host is configured
        return set()
    urls = [url for site in sites for url in (*site.start_urls, *site.feeds, *site.sitemaps)]
    return {(urlsplit(url).hostname or "").lower() for url in urls}
