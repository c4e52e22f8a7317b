"""Distributed mode: a host's robots.txt Crawl-delay is the floor of its delay across all workers
(GlobalPoliteness, against a real Redis), and the worker's own download slots are left alone."""

from __future__ import annotations

import itertools
from collections.abc import Coroutine
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from crawler import meta
from crawler.distributed.cycle import CycleCoordinator
from crawler.distributed.politeness import GlobalPoliteness
from crawler.downloader.crawldelay import CrawlDelayMiddleware
from tests.crawler.test_crawldelay import _crawler, _robots
from tests.distributed.conftest import Cluster, RedisServer, cycle_store, unique_prefix, wait_for
from tests.e2e.polite_site import CRAWL_DELAY, PoliteShop
from tests.e2e.test_politeness import LIMIT, SOURCES

pytestmark = pytest.mark.redis


def _granted(step: Coroutine[Any, Any, None]) -> None:
    """The request got its permit at once (it did not wait: no reactor needed)."""
    with pytest.raises(StopIteration):
        step.send(None)


def _waits(step: Coroutine[Any, Any, None]) -> None:
    """The request waits for the host's next start (abandoned here: the reactor never runs)."""
    from twisted.internet import reactor

    assert step.send(None) is not None
    step.close()
    for call in reactor.getDelayedCalls():  # its poll timer
        call.cancel()


def _redis_ms(client: Any) -> int:
    seconds, micros = client.time()
    return int(seconds) * 1000 + int(micros) // 1000


def _worker(crawler: Any, client: Any, wid: str, monkeypatch: pytest.MonkeyPatch) -> GlobalPoliteness:
    """A worker's GlobalPoliteness over the real Redis, its cycle coordinator a stand-in."""
    coordinator = SimpleNamespace(
        client=client, broken=False, wid=wid, lease_ms=30_000, on_heartbeat=lambda _: None, redis_failed=None
    )
    monkeypatch.setattr(CycleCoordinator, "of", classmethod(lambda cls, _crawler: coordinator))
    politeness = GlobalPoliteness.from_crawler(crawler)
    politeness.spider_opened(crawler.spider)  # before any download, as in a crawl
    return politeness


def _settings(prefix: str) -> dict[str, Any]:
    return {
        "NEWSARCHIVE_DIST_PREFIX": prefix,
        "NEWSARCHIVE_DIST_PER_HOST": 4,
        "NEWSARCHIVE_DIST_DELAY": 0.25,  # the --delay distributed mode moved out of the local slots
        "NEWSARCHIVE_DIST_AUTOTHROTTLE": True,
        "AUTOTHROTTLE_START_DELAY": 0.25,
        "AUTOTHROTTLE_ENABLED": False,  # as distributed mode sets it: the shared rule replaces it
    }


def test_the_shared_delay_of_a_host_is_at_least_its_crawl_delay(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    prefix = unique_prefix(request.node.name[:20])
    client = redis_server.client()
    crawler = _crawler(**_settings(prefix))
    politeness = _worker(crawler, client, "w1", monkeypatch)
    local = crawler.get_downloader_middleware(CrawlDelayMiddleware)
    assert politeness.crawl_delays is local and local is not None and not local.local
    downloader = crawler.engine.downloader

    # A host without Crawl-delay: --delay apart.
    quick = Request("http://quick.example/news/", meta={meta.SITE: "s"})
    local.process_request(quick)
    _granted(politeness.process_request(quick))
    wait = int(client.get(f"{prefix}:host:quick.example:next")) - _redis_ms(client)
    assert 200 <= wait <= 250, wait

    # robots.txt asks for 1 s: the first page after it waits that long after the robots.txt fetch,
    # and the delay is shared with the workers that have not read it yet.
    _robots(crawler, "http://polite.example/", b"User-agent: *\nCrawl-delay: 1\n")
    page = Request("http://polite.example/news/", meta={meta.SITE: "s"})
    local.process_request(page)  # the worker's own slot is not paced: the shared delay is the one
    _waits(politeness.process_request(page))
    wait = int(client.get(f"{prefix}:host:polite.example:next")) - _redis_ms(client)
    assert 950 <= wait <= 1000, wait
    assert int(client.get(f"{prefix}:host:polite.example:crawl_delay")) == 1000
    assert client.pttl(f"{prefix}:host:polite.example:crawl_delay") > 23 * 3600 * 1000
    _, slot = downloader._get_slot(page)
    assert slot.delay < 0.5, "no local delay on top of the shared one"

    # Another worker, before it has read robots.txt (its own robots.txt fetch): the shared delay.
    client.delete(f"{prefix}:host:polite.example:next")
    other = _worker(_crawler(**_settings(prefix)), client, "w2", monkeypatch)
    _granted(other.process_request(Request("http://polite.example/robots.txt")))
    wait = int(client.get(f"{prefix}:host:polite.example:next")) - _redis_ms(client)
    assert 950 <= wait <= 1000, wait

    # AutoThrottle's shared rule: fast answers lower the delay, down to the host's floor.
    for host, floor_ms in (("polite.example", 1000), ("quick.example", 250)):
        answered = Request(f"http://{host}/a", meta={"download_latency": 0.001})
        for _ in range(4):
            politeness.process_response(answered, HtmlResponse(answered.url, body=b"<p>", request=answered))
        assert int(client.hget(f"{prefix}:host:delays", host)) == floor_ms, host
    # A slow host: the shared delay may go above the Crawl-delay.
    slow = Request("http://polite.example/slow", meta={"download_latency": 3.0})
    politeness.process_response(slow, HtmlResponse(slow.url, body=b"<p>", request=slow))
    assert int(client.hget(f"{prefix}:host:delays", "polite.example")) > 1000


@pytest.mark.slow
def test_two_workers_keep_a_hosts_crawl_delay_between_them(redis_server: RedisServer, tmp_path: Path) -> None:
    """Each worker reads robots.txt itself; all their requests start a Crawl-delay apart."""
    server = PoliteShop()
    server.start()
    cluster = Cluster(redis_server.url, tmp_path, unique_prefix("crawl-delay"))
    try:
        sources = tmp_path / "sources.toml"
        sources.write_text(SOURCES.format(base=server.base_url, limit=LIMIT), encoding="utf-8")
        store = cycle_store(redis_server, sources, cluster.prefix)
        server.hold()  # nothing is answered until both workers are in the cycle
        # One request at a time per worker: the work is shared out, not taken by one at once.
        a = cluster.start("A", sources, "--concurrency", "1")
        b = cluster.start("B", sources, "--concurrency", "1")
        wait_for(
            lambda: store.info().get("id") and len(store.workers(store.info()["id"])) == 2, 60, "two workers"
        )
        server.release()
        assert (a.wait(), b.wait()) == (0, 0), a.stderr() + b.stderr()
    finally:
        cluster.stop_all()
        server.stop()
    served = server.served
    gaps = [round(y.at - x.at, 3) for x, y in itertools.pairwise(served)]
    # Every request, the second worker's robots.txt fetch too (the host's delay is shared).
    assert min(gaps) >= CRAWL_DELAY - 0.1, (gaps, [s.path + "?" + s.query for s in served])
    pages = [s for s in served if s.path != "/robots.txt"]
    # Variants are counted per worker: at most LIMIT each.
    assert 1 + LIMIT <= len(pages) <= 1 + 2 * LIMIT, [p.query for p in pages]
