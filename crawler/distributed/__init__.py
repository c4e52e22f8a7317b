"""Distributed mode: many workers share one crawl cycle through Redis (scrapy-redis).

``newsarchive crawl SOURCES --archive DIR --redis URL`` on every machine (or the URL in
``NEWSARCHIVE_REDIS_URL`` / ``--redis-url-file``). :func:`enable_distributed` checks the URL
and the server, switches the settings to the distributed profile and returns the spider class;
the rest of the run (lock, repair, summary, exit codes) is the single-machine one.

Modules: :mod:`.connection` (URLs, masking, clients), :mod:`.settings` (the profile),
:mod:`.store` (cycle operations in Redis), :mod:`.cycle` (this worker's membership: leases,
heartbeat, end of cycle), :mod:`.scheduler` and :mod:`.queue` (scrapy-redis subclasses),
:mod:`.spider`, :mod:`.archiver` (idempotent archiving), :mod:`.state` (shared per-URL state),
:mod:`.politeness` (per-host limits across workers), :mod:`.serializer` (JSON requests).
See docs/distributed.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import redis

from crawler.distributed.connection import check_server, mask_url, parse_redis_url
from crawler.errors import DistributedError, RedisUnavailable

if TYPE_CHECKING:
    from scrapy.settings import Settings

    from crawler.sources import Site
    from crawler.spiders.news import NewsSpider

__all__ = ["DistributedError", "RedisUnavailable", "enable_distributed", "mask_url"]


def enable_distributed(settings: Settings, url: str, sites: Sequence[Site]) -> type[NewsSpider]:
    """Check ``url`` and its server, apply the distributed profile to ``settings`` in place.

    Raises :class:`DistributedError` (exit 78) for a malformed URL or unusable settings, and
    :class:`RedisUnavailable` (exit 69) when the server cannot be reached or refuses the
    credentials. No message contains the password.
    """
    from crawler.distributed.settings import apply_profile
    from crawler.distributed.spider import DistributedNewsSpider
    from crawler.distributed.store import CycleStore

    target = parse_redis_url(url)
    client = check_server(target)
    apply_profile(settings, target, sites)
    store = CycleStore(
        client, settings.get("NEWSARCHIVE_DIST_PREFIX"), settings.get("NEWSARCHIVE_DIST_CRAWL")
    )
    try:
        store.load_scripts()
    except redis.ResponseError as exc:
        raise DistributedError(
            f"Redis at {target.masked} does not run Lua scripts ({target.scrub(str(exc))}); "
            "distributed mode needs EVAL/EVALSHA (Redis >= 5)"
        ) from None
    except redis.RedisError as exc:
        raise RedisUnavailable(f"Redis at {target.masked}: {target.scrub(str(exc))}") from None
    return DistributedNewsSpider
