"""The distributed settings profile: what ``--redis URL`` changes in a crawl's settings.

Each ``NEWSARCHIVE_DIST_*`` setting has a default here and can be overridden per worker with
``--set NAME=VALUE``. Settings of scrapy-redis that would break a shared cycle are forced:
``SCHEDULER_PERSIST`` is always on and ``SCHEDULER_FLUSH_ON_START`` always off (with several
workers they wipe the shared queue: dist-cron findings, tests C and F); a worker that asks for
them gets a warning, not a wiped queue.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

from scrapy.settings import Settings

from crawler.distributed.connection import RedisTarget
from crawler.errors import DistributedError
from crawler.sources import Site

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    # Key prefix: one archive collection per prefix. Per-URL state, politeness and cycles live
    # under it; two independent collections on one Redis need two prefixes (or two databases).
    "NEWSARCHIVE_DIST_PREFIX": "newsarchive",
    # Name of the crawl whose cycles workers share. Empty: a digest of the sites in the sources
    # file, so machines with the same sources share cycles and a different file never mixes in.
    "NEWSARCHIVE_DIST_CRAWL": "",
    # Seconds a worker stays "alive" without a heartbeat; its leases go back to the queue after.
    "NEWSARCHIVE_DIST_LEASE": 30.0,
    # Seconds between heartbeats (0: a tenth of the lease, at most 1 s). An idle worker notices
    # new work and the end of the cycle at its next heartbeat.
    "NEWSARCHIVE_DIST_HEARTBEAT": 0.0,
    # Seconds a live worker may hold one request before it is handed to another worker
    # (a stuck worker must not stall the cycle). 0 disables.
    "NEWSARCHIVE_DIST_LEASE_MAX_AGE": 1800.0,
    # A worker that finds the last cycle *started* less than this many seconds ago, and
    # finished, does nothing (exit 0). Set it a little below the cron period so a late machine
    # does not start a second cycle right after the first. 0: always start a new cycle.
    "NEWSARCHIVE_DIST_MIN_INTERVAL": 0.0,
    # Seconds a finished cycle's keys (duplicate filter, archived set, counters) are kept.
    "NEWSARCHIVE_DIST_KEEP": 86400,
}

# Forced: the Redis scheduler and our fixes of it.
PROFILE: dict[str, Any] = {
    "SCHEDULER": "crawler.distributed.scheduler.LeasedScheduler",
    "SCHEDULER_QUEUE_CLASS": "crawler.distributed.queue.LeasedPriorityQueue",
    "DUPEFILTER_CLASS": "crawler.distributed.scheduler.CycleDupeFilter",
    "SCHEDULER_SERIALIZER": "crawler.distributed.serializer",
    "SCHEDULER_PERSIST": True,
    "SCHEDULER_FLUSH_ON_START": False,
    "SCHEDULER_IDLE_BEFORE_CLOSE": 0,  # a blocking pop would freeze the reactor
    "NEWSARCHIVE_STATE_STORE": "crawler.distributed.state.redis_state",
}


#: Bumped whenever workers of two versions would disagree on what a cycle does with the same
#: sites (which site owns a URL, what counts against a budget): such workers must never join one
#: cycle. 2: one owner per URL (0.2); the digest of 0.1 had no version.
CYCLE_RULES = 2


def crawl_name(sites: Sequence[Site]) -> str:
    """Digest of the sites definitions (not of the file's bytes: comments do not matter) and of
    the cycle rules (:data:`CYCLE_RULES`)."""
    text = "\n".join([f"cycle-rules {CYCLE_RULES}", *(repr(site) for site in sites)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def apply_profile(settings: Settings, target: RedisTarget, sites: Sequence[Site]) -> None:
    """Switch ``settings`` to distributed mode, in place."""
    for name, value in DEFAULTS.items():
        if settings.get(name) in (None, ""):
            settings.set(name, value, priority="default")
    _validate(settings)
    if not settings.get("NEWSARCHIVE_DIST_CRAWL"):
        settings.set("NEWSARCHIVE_DIST_CRAWL", crawl_name(sites), priority="default")
    persist = settings.get("SCHEDULER_PERSIST")
    if settings.getbool("SCHEDULER_FLUSH_ON_START") or (
        persist is not None and not settings.getbool("SCHEDULER_PERSIST")
    ):
        logger.warning(
            "distributed mode ignores SCHEDULER_PERSIST=False and SCHEDULER_FLUSH_ON_START=True: "
            "with several workers they wipe the shared queue; each cycle gets a fresh duplicate "
            "filter instead"
        )
    # Politeness moves from the local downloader to Redis (GlobalPoliteness): keep the values
    # the user asked for, then turn the local mechanisms off so delays are not applied twice.
    settings.set("NEWSARCHIVE_DIST_DELAY", settings.getfloat("DOWNLOAD_DELAY"), priority="cmdline")
    settings.set(
        "NEWSARCHIVE_DIST_AUTOTHROTTLE", settings.getbool("AUTOTHROTTLE_ENABLED"), priority="cmdline"
    )
    settings.set(
        "NEWSARCHIVE_DIST_PER_HOST", settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"), priority="cmdline"
    )
    overrides = dict(PROFILE)
    overrides["NEWSARCHIVE_REDIS_URL"] = target.url
    overrides["DOWNLOAD_DELAY"] = 0
    overrides["AUTOTHROTTLE_ENABLED"] = False
    overrides["EXTENSIONS"] = {
        **settings.getdict("EXTENSIONS"),
        "crawler.extensions.archiver.Archiver": None,
        "crawler.distributed.archiver.DistributedArchiver": 100,
        "crawler.distributed.cycle.CycleCoordinator": 50,
    }
    overrides["DOWNLOADER_MIDDLEWARES"] = {
        **settings.getdict("DOWNLOADER_MIDDLEWARES"),
        # After the scope check, before the capture middleware starts its fetch clock.
        "crawler.distributed.politeness.GlobalPoliteness": 900,
    }
    # Above "cmdline": a --set cannot undo what makes the shared cycle safe.
    settings.setdict(overrides, priority=50)


def _validate(settings: Settings) -> None:
    def number(name: str, *, minimum: float, allow_zero: bool = False) -> float:
        try:
            value = float(settings.get(name))
        except (TypeError, ValueError):
            raise DistributedError(f"{name} must be a number, got {settings.get(name)!r}") from None
        if not (value >= minimum or (allow_zero and value == 0)):
            raise DistributedError(f"{name} must be at least {minimum}, got {value}")
        return value

    lease = number("NEWSARCHIVE_DIST_LEASE", minimum=1.0)
    heartbeat = number("NEWSARCHIVE_DIST_HEARTBEAT", minimum=0.05, allow_zero=True)
    if heartbeat and heartbeat * 2 > lease:
        raise DistributedError(
            f"NEWSARCHIVE_DIST_HEARTBEAT ({heartbeat}) must be at most half of NEWSARCHIVE_DIST_LEASE ({lease})"
        )
    number("NEWSARCHIVE_DIST_LEASE_MAX_AGE", minimum=lease, allow_zero=True)
    number("NEWSARCHIVE_DIST_MIN_INTERVAL", minimum=0.0)
    number("NEWSARCHIVE_DIST_KEEP", minimum=1.0)
    for name in ("NEWSARCHIVE_DIST_PREFIX", "NEWSARCHIVE_DIST_CRAWL"):
        value = str(settings.get(name) or "")
        if any(c.isspace() or c in "{}*?[]" for c in value):
            raise DistributedError(f"{name} must not contain spaces or {{}}*?[], got {value!r}")
    if not settings.get("NEWSARCHIVE_DIST_PREFIX"):
        raise DistributedError("NEWSARCHIVE_DIST_PREFIX must not be empty")


def heartbeat_interval(settings: Settings) -> float:
    lease = settings.getfloat("NEWSARCHIVE_DIST_LEASE")
    return settings.getfloat("NEWSARCHIVE_DIST_HEARTBEAT") or min(1.0, lease / 10)
