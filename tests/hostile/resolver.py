"""A DNS resolver for test crawls: ``*.hostile.test`` is 127.0.0.1, every other name fails.

Passed to a crawl with ``--set NEWSARCHIVE_DNS_RESOLVER=tests.hostile.resolver.LoopbackResolver`` (the
product's ScopedResolver wraps it).
It lets a test model a *public* site by its domain name while every connection stays on
loopback, and no test crawl ever sends a DNS query off the machine. It is also how the tests
show what happens when a domain inside a site's allowed domains resolves to a loopback or
private address (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

if TYPE_CHECKING:
    from collections.abc import Sequence

SUFFIX = ".hostile.test"


@implementer(IResolverSimple)
class LoopbackResolver:
    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> LoopbackResolver:
        return cls(reactor)

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(self)

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        host = name.lower().rstrip(".")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return defer.succeed(host)
        if host == SUFFIX[1:] or host.endswith(SUFFIX):
            return defer.succeed("127.0.0.1")
        return defer.fail(DNSLookupError(f"{name}: not a test name (tests.hostile.resolver)"))
