"""This worker's part in the shared crawl cycle (a Scrapy extension).

* **Join** (at scheduler open): start a new cycle and seed it, take over the seeding of a cycle
  whose seeder died, or join a running one (:class:`crawler.distributed.store.CycleStore`).
* **Leases**: every request popped from the queue is leased; the lease is acknowledged once the
  engine is completely done with the request: downloaded, archived, its callback run, the links
  it found pushed and its items through the pipelines (for a retry or redirect: once the new
  request is queued). Scrapy has no public signal for that moment; the engine's set of
  requests in progress (``engine._slot.inprogress``, read-only) is exactly it, and
  ``tests/distributed`` fails if a Scrapy upgrade removes it.
* **Heartbeat**: keeps this worker alive in Redis, acknowledges finished leases, gives back the
  leases of dead workers, takes over seeding from a dead seeder, and wakes the engine when work
  appears while it idles (otherwise it would look only every 5 s).
* **End**: at ``spider_idle`` the worker asks Redis whether the cycle is over (queue empty, no
  leases held by anyone, seeding finished). If not, it waits (``DontCloseSpider``) however long
  other workers need; there is no idle timer to expire.

The idle handling replaces scrapy-redis's ``RedisMixin.spider_idle``, whose idle start time is
a *class* attribute set at import and reset only while the start-URLs key is non-empty, so a
worker closes at its first idle moment once N seconds have passed since the process started,
even while other workers are still filling the queue (findings 1.3). Upstream change that would
let us use it: an instance attribute reset on activity (``response_received``).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.asyncio import create_looping_call

from archive.state import StateError
from archive.writer import host_tag
from crawler.distributed.connection import client_for, fail_fast, parse_redis_url
from crawler.distributed.queue import LEASE_META
from crawler.distributed.settings import heartbeat_interval
from crawler.distributed.store import CycleStore, Joined

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

STATS = "newsarchive/distributed"


class CycleCoordinator:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        url = settings.get("NEWSARCHIVE_REDIS_URL")
        if not url:
            raise NotConfigured("no NEWSARCHIVE_REDIS_URL: not in distributed mode")
        self.crawler = crawler
        self.target = parse_redis_url(url)
        self.client = client_for(self.target)
        self.store = CycleStore(
            self.client, settings.get("NEWSARCHIVE_DIST_PREFIX"), settings.get("NEWSARCHIVE_DIST_CRAWL")
        )
        self.lease_ms = int(settings.getfloat("NEWSARCHIVE_DIST_LEASE") * 1000)
        self.max_age_ms = int(settings.getfloat("NEWSARCHIVE_DIST_LEASE_MAX_AGE") * 1000)
        self.min_interval_ms = int(settings.getfloat("NEWSARCHIVE_DIST_MIN_INTERVAL") * 1000)
        self.keep_s = settings.getint("NEWSARCHIVE_DIST_KEEP")
        self.interval = heartbeat_interval(settings)
        self.wid = f"{host_tag()}-{os.getpid()}-{secrets.token_hex(3)}"
        # One process per archive directory (its lock): a later process with the same key
        # proves the earlier one dead, so its leases are given back at once.
        archive_dir = Path(settings.get("NEWSARCHIVE_ARCHIVE_DIR") or ".").resolve()
        self.dirkey = f"{socket.gethostname()}:{archive_dir}"
        self.joined: Joined | None = None
        self.leases: dict[str, Request] = {}
        self.broken = False
        self._status = ""
        self._heartbeat: Any = None
        self._on_heartbeat: list[Callable[[], None]] = []
        self._waiting_logged = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CycleCoordinator:
        coordinator = cls(crawler)
        crawler.signals.connect(coordinator.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(coordinator.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(coordinator.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(coordinator.spider_error, signal=signals.spider_error)
        return coordinator

    @classmethod
    def of(cls, crawler: Crawler) -> CycleCoordinator:
        coordinator = crawler.get_extension(cls)
        if coordinator is None:
            raise RuntimeError("the CycleCoordinator extension is not enabled")
        return coordinator

    # --- properties the other components use --------------------------------------------------
    @property
    def cycle_id(self) -> str:
        assert self.joined is not None, "not joined yet"
        return self.joined.cycle_id

    @property
    def role(self) -> str:
        return self.joined.role if self.joined else ""

    def on_heartbeat(self, callback: Callable[[], None]) -> None:
        self._on_heartbeat.append(callback)

    def _inc(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"{STATS}/{key}", count)

    # --- joining ------------------------------------------------------------------------------
    def join(self) -> Joined:
        if self.joined is not None:
            return self.joined
        joined = self.store.join(
            self.wid, self.dirkey, lease_ms=self.lease_ms, min_interval_ms=self.min_interval_ms
        )
        self.joined = joined
        stats = self.crawler.stats
        if stats is not None:
            stats.set_value(f"{STATS}/cycle", int(joined.cycle_id))
            stats.set_value(f"{STATS}/role", joined.role)
            stats.set_value(f"{STATS}/worker", self.wid)
        where = f"crawl {self.store.crawl} on {self.target.masked}"
        if joined.role == "done":
            logger.info(
                "cycle %s of %s finished less than NEWSARCHIVE_DIST_MIN_INTERVAL ago: nothing to do",
                joined.cycle_id,
                where,
            )
        elif joined.role == "seed":
            logger.info("worker %s seeds cycle %s of %s", self.wid, joined.cycle_id, where)
        else:
            logger.info("worker %s joins cycle %s of %s", self.wid, joined.cycle_id, where)
        if joined.requeued:
            logger.warning(
                "gave back %d requests held by the previous (killed) run on this archive directory",
                joined.requeued,
            )
            self._inc("requeued", joined.requeued)
        return joined

    def seeded(self, count: int) -> None:
        """Every seed request is queued: the cycle may now end when its work runs out."""
        self.store.seeded(self.cycle_id, self.wid)
        self._inc("seeds", count)
        logger.info("cycle %s seeded: %d start requests", self.cycle_id, count)

    # --- leases -------------------------------------------------------------------------------
    def leased(self, request: Request) -> None:
        self.leases[request.meta[LEASE_META]] = request
        self._inc("leased")

    def _in_progress(self) -> set[Request] | None:
        slot = getattr(self.crawler.engine, "_slot", None)
        return getattr(slot, "inprogress", None) if slot is not None else None

    def sweep(self) -> None:
        """Acknowledge the leases of requests the engine has completely finished."""
        if not self.leases or self.broken or self._archive_failed():
            return
        in_progress = self._in_progress()
        if in_progress is None:
            return  # engine closing: leave() settles what is left
        done = [lease for lease, request in self.leases.items() if request not in in_progress]
        if done:
            self.store.ack(self.cycle_id, self.wid, done)
            for lease in done:
                del self.leases[lease]
            self._inc("acked", len(done))

    def _archive_failed(self) -> bool:
        from crawler.extensions.archiver import Archiver

        archiver = self.crawler.get_extension(Archiver) if self.crawler.extensions else None
        return bool(archiver is not None and (archiver.fatal_error or archiver.unavailable_error))

    def leave(self, reason: str) -> None:
        """Scheduler closed: the engine has finished every request it had, one way or another."""
        self._stop_heartbeat()
        if self.joined is None or self.joined.role == "done" or self.broken:
            return
        try:
            for callback in self._on_heartbeat:
                callback()
            if self._archive_failed():
                # Archiving failed part-way: give back everything not yet acknowledged.
                given_back = self.store.leave(self.cycle_id, self.wid, requeue=True)
                if given_back:
                    logger.warning("gave back %d requests to the queue", given_back)
            else:
                self.store.ack(self.cycle_id, self.wid, list(self.leases))
                self.store.leave(self.cycle_id, self.wid, requeue=False)
            self.leases.clear()
        except redis.RedisError as exc:
            logger.error("could not leave the cycle cleanly: %s", self.target.scrub(str(exc)))

    # --- idempotent archiving -----------------------------------------------------------------
    def claim_archive(self, url: str) -> str:
        """'mine', 'archived' (already, this cycle) or 'busy' (a live worker is writing it)."""
        if self.joined is None or self.role == "done":
            return "mine"
        return self.store.claim_archive(self.cycle_id, url, self.wid, ttl_ms=self.lease_ms)

    def mark_archived(self, url: str) -> None:
        if self.joined is not None and self.role != "done":
            self.store.mark_archived(self.cycle_id, url)

    def release_claim(self, url: str) -> None:
        if self.joined is not None and self.role != "done":
            self.store.release_claim(self.cycle_id, url)

    # --- heartbeat and end of cycle -------------------------------------------------------------
    def spider_opened(self, spider: Any) -> None:
        if self.role == "done":
            return
        self._heartbeat = create_looping_call(self._beat)
        self._heartbeat.start(self.interval, now=False)

    def spider_closed(self, spider: Any, reason: str) -> None:
        self._stop_heartbeat()

    def _stop_heartbeat(self) -> None:
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        self._heartbeat = None

    def _beat(self) -> None:
        if self.joined is None or self.broken:
            return
        try:
            self.store.heartbeat(self.cycle_id, self.wid, lease_ms=self.lease_ms)
            self.sweep()
            for callback in self._on_heartbeat:
                callback()
            given_back = self.store.reclaim(self.cycle_id, max_age_ms=self.max_age_ms)
            if given_back:
                logger.warning(
                    "cycle %s: %d requests of dead or stuck workers back in the queue",
                    self.cycle_id,
                    given_back,
                )
                self._inc("requeued", given_back)
            if self._status != "running":
                self._check_seeding()
        except redis.RedisError as exc:
            self.redis_failed(exc)
            return
        except Exception:  # a LoopingCall stops at its first exception: the heartbeat must go on
            logger.exception("distributed heartbeat failed")
        self._wake_engine()

    def _check_seeding(self) -> None:
        self._status = self.store.info().get("status", "")
        if self._status != "seeding" or self.role == "seed":
            return
        if self.store.take_over_seeding(self.cycle_id, self.wid, lease_ms=self.lease_ms):
            logger.warning("cycle %s: the seeding worker died; seeding again here", self.cycle_id)
            seed_now = getattr(self.crawler.spider, "seed_now", None)
            count = seed_now() if seed_now is not None else 0
            self.seeded(count)

    def _wake_engine(self) -> None:
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None and slot.closing is None:
            slot.nextcall.schedule()

    def spider_idle(self, spider: Any) -> None:
        if self.broken or self.joined is None or self.role == "done":
            return
        try:
            self.sweep()
            status = self.store.finish(self.cycle_id, keep_s=self.keep_s)
        except redis.RedisError as exc:
            self.redis_failed(exc)
            return
        if status in ("done", "gone"):
            logger.info("cycle %s is complete: queue empty and no worker holds work", self.cycle_id)
            return
        if not self._waiting_logged:
            logger.info("cycle %s: waiting for work (%s)", self.cycle_id, status)
            self._waiting_logged = True
        raise DontCloseSpider

    def spider_error(self, failure: Any, response: Any, spider: Any) -> None:
        """A callback failed on the shared state (Redis down): its links may be lost, so stop
        acknowledging; the request comes back to another worker when this lease expires."""
        self.check_failure(failure)

    def check_failure(self, failure: Any) -> None:
        if failure.check(redis.RedisError, StateError):
            self.redis_failed(failure.value)

    def redis_failed(self, exc: Exception) -> None:
        """Redis is gone (after the client's retries): stop; the leases expire for others."""
        if self.broken:
            return
        self.broken = True
        fail_fast(self.client)
        logger.error(
            "Redis at %s failed: %s; stopping this worker (its unfinished work goes back to the "
            "queue when its lease expires)",
            self.target.masked,
            self.target.scrub(str(exc)),
        )
        engine = self.crawler.engine
        if engine is not None and getattr(engine, "spider", None) is not None:
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(engine.close_spider_async(reason="redis_unavailable"))
