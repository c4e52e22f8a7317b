"""Cycle operations, leases, serializer, settings profile and state store, against a real Redis."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy import Request, Spider
from scrapy.core import engine as scrapy_engine
from scrapy.settings import Settings
from scrapy.utils.request import request_from_dict

from archive.state import StateError, StateUnavailable, UrlState
from crawler.distributed import serializer
from crawler.distributed.connection import (
    DistributedError,
    RedisUnavailable,
    check_server,
    mask_url,
    parse_redis_url,
)
from crawler.distributed.queue import LeasedPriorityQueue
from crawler.distributed.scheduler import CycleDupeFilter, LeasedScheduler
from crawler.distributed.settings import apply_profile
from crawler.distributed.state import redis_state
from crawler.distributed.store import CycleStore
from tests.distributed.conftest import REDIS_PASSWORD, RedisServer, start_redis, unique_prefix, wait_for

pytestmark = pytest.mark.redis

LEASE = 30_000


@pytest.fixture
def store(redis_server: RedisServer, request: pytest.FixtureRequest) -> CycleStore:
    s = CycleStore(redis_server.client(), unique_prefix(request.node.name[:20]), "crawl1")
    s.load_scripts()
    return s


def _expire_worker(store: CycleStore, cycle_id: str, wid: str) -> None:
    """What happens when a worker stops renewing its lease (kill -9): the key disappears."""
    store.client.pexpire(store.key(cycle_id, f"alive:{wid}"), 1)
    wait_for(lambda: not store.client.exists(store.key(cycle_id, f"alive:{wid}")), 5, "lease expiry")


def test_first_worker_seeds_others_join_and_a_finished_cycle_starts_a_new_one(store: CycleStore) -> None:
    a = store.join("A", "host:/a", lease_ms=LEASE)
    b = store.join("B", "host:/b", lease_ms=LEASE)
    assert (a.role, b.role) == ("seed", "join")
    assert a.cycle_id == b.cycle_id == "1"
    assert store.finish("1", keep_s=60) == "seeding", "never over before the seeds are queued"
    store.seeded("1", "A")
    assert store.finish("1", keep_s=60) == "done"
    assert store.client.ttl(store.key("1", "workers")) > 0, "a finished cycle's keys expire"
    again = store.join("B", "host:/b", lease_ms=LEASE)
    assert (again.cycle_id, again.role) == ("2", "seed")
    store.seeded("2", "B")
    store.finish("2", keep_s=60)
    late = store.join("C", "host:/c", lease_ms=LEASE, min_interval_ms=3_600_000)
    assert (late.cycle_id, late.role) == ("2", "done"), "within MIN_INTERVAL a late worker does nothing"


def test_each_cycle_has_a_fresh_duplicate_filter(store: CycleStore) -> None:
    store.join("A", "h:/a", lease_ms=LEASE)
    assert store.push("1", b"seed", 0, "fp-seed")
    assert not store.push("1", b"seed", 0, "fp-seed"), "seen in this cycle"
    store.pop("1", "A", lease_ms=LEASE)
    store.ack("1", "A", _lease_ids(store, "1", "A"))
    store.seeded("1", "A")
    assert store.finish("1", keep_s=60) == "done"
    assert store.join("A", "h:/a", lease_ms=LEASE).cycle_id == "2"
    assert store.push("2", b"seed", 0, "fp-seed"), "the same seed is new in the next cycle"


def _lease_ids(store: CycleStore, cycle_id: str, wid: str) -> list[str]:
    return [k.decode() for k in store.client.hkeys(store.key(cycle_id, f"inflight:{wid}"))]


def test_pop_leases_and_the_cycle_waits_for_leases(store: CycleStore) -> None:
    store.join("A", "h:/a", lease_ms=LEASE)
    store.seeded("1", "A")
    for n, priority in enumerate((0, 10, 5)):
        assert store.push("1", f"r{n}".encode(), -priority, f"fp{n}")
    popped = [store.pop("1", "A", lease_ms=LEASE) for _ in range(3)]
    assert [p[1] for p in popped if p] == [b"r1", b"r2", b"r0"], "highest priority first"
    assert store.pop("1", "A", lease_ms=LEASE) is None
    assert store.leases("1", "A") == 3
    assert store.finish("1", keep_s=60) == "leased", "queue empty, but A still holds work"
    store.ack("1", "A", [p[0] for p in popped if p])
    assert store.finish("1", keep_s=60) == "done"


def test_a_dead_workers_leases_go_back_to_the_queue(store: CycleStore) -> None:
    store.join("A", "h:/a", lease_ms=LEASE)
    store.join("B", "h:/b", lease_ms=LEASE)
    store.seeded("1", "A")
    for n in range(4):
        store.push("1", f"r{n}".encode(), 0, f"fp{n}")
    held = [store.pop("1", "A", lease_ms=LEASE) for _ in range(3)]
    assert store.reclaim("1", max_age_ms=0) == 0, "A is alive"
    _expire_worker(store, "1", "A")
    assert store.reclaim("1", max_age_ms=0) == 3
    assert store.queue_length("1") == 4
    assert store.stats("1")["requeued"] == 3
    assert "A" not in store.workers("1")
    store.ack("1", "A", [h[0] for h in held if h])  # a zombie's late acknowledgement is harmless
    assert sorted(bytes(store.pop("1", "B", lease_ms=LEASE)[1]) for _ in range(4)) == [  # type: ignore[index]
        b"r0",
        b"r1",
        b"r2",
        b"r3",
    ]


def test_a_restart_on_the_same_archive_directory_gives_back_at_once(store: CycleStore) -> None:
    store.join("A1", "host:/data/a", lease_ms=LEASE)
    store.push("1", b"r", 0, "fp")
    store.pop("1", "A1", lease_ms=LEASE)
    restarted = store.join("A2", "host:/data/a", lease_ms=LEASE)
    assert restarted.requeued == 1, "the directory lock proves A1 is gone: no need to wait for its lease"
    assert store.queue_length("1") == 1


def test_a_live_worker_stuck_on_a_request_loses_it_after_the_maximum_age(store: CycleStore) -> None:
    store.join("A", "h:/a", lease_ms=LEASE)
    store.push("1", b"r", 0, "fp")
    store.pop("1", "A", lease_ms=LEASE)
    assert wait_for(lambda: store.reclaim("1", max_age_ms=1), 5, "stale lease") == 1
    assert store.stats("1")["requeued_stale"] == 1


def test_one_worker_archives_a_url_per_cycle_and_a_dead_claimant_does_not_block(store: CycleStore) -> None:
    store.join("A", "h:/a", lease_ms=LEASE)
    store.join("B", "h:/b", lease_ms=LEASE)
    url = "http://127.0.0.1:9/robots.txt"
    assert store.claim_archive("1", url, "A", ttl_ms=LEASE) == "mine"
    assert store.claim_archive("1", url, "B", ttl_ms=LEASE) == "busy", "A is writing it right now"
    _expire_worker(store, "1", "A")
    assert store.claim_archive("1", url, "B", ttl_ms=LEASE) == "mine", "A died before writing: B archives it"
    store.mark_archived("1", url)
    assert store.claim_archive("1", url, "C", ttl_ms=LEASE) == "archived"
    assert not store.client.exists(store.key("1", f"claim:{url}"))


def test_seeding_is_taken_over_when_the_seeder_dies(store: CycleStore) -> None:
    store.join("A", "h:/a", lease_ms=LEASE)
    store.join("B", "h:/b", lease_ms=LEASE)
    assert not store.take_over_seeding("1", "B", lease_ms=LEASE), "A's seed lock is alive"
    store.client.delete(f"{store.base}:seedlock")  # A died: its lock expired
    assert store.take_over_seeding("1", "B", lease_ms=LEASE)
    assert not store.take_over_seeding("1", "C", lease_ms=LEASE), "exactly one takes over"
    store.seeded("1", "B")
    assert store.info()["status"] == "running"
    assert not store.take_over_seeding("1", "C", lease_ms=LEASE)


class _Spider(Spider):
    name = "news"

    def parse_page(self, response: object) -> None:
        return None


def test_requests_travel_as_json_and_foreign_meta_is_dropped() -> None:
    spider = _Spider()
    request = Request(
        "https://example.org/ur/news/1-خبر",
        callback=spider.parse_page,
        headers={"If-None-Match": '"abc"'},
        body=b"\x00\xff",
        priority=5,
        meta={
            "newsarchive_site": "s",
            "newsarchive_depth": 2,
            "redirect_urls": ["https://example.org/a"],
            "newsarchive_capture": object(),
            "foreign": object(),
            "_newsarchive_lease": "x",
        },
    )
    data = serializer.dumps(request.to_dict(spider=spider))
    assert data.startswith(b"{") and b"object at" not in data
    back = request_from_dict(serializer.loads(data), spider=spider)
    assert back.url == request.url and back.body == request.body and back.priority == 5
    assert back.headers.get("If-None-Match") == b'"abc"'
    assert back.meta == {
        "newsarchive_site": "s",
        "newsarchive_depth": 2,
        "redirect_urls": ["https://example.org/a"],
    }
    assert back.callback == spider.parse_page
    with pytest.raises(ValueError):
        serializer.loads(b'["not", "a request"]')


def test_persist_false_and_flush_on_start_cannot_wipe_the_shared_queue(store: CycleStore) -> None:
    settings = Settings({"SCHEDULER_PERSIST": False, "SCHEDULER_FLUSH_ON_START": True})
    apply_profile(settings, parse_redis_url("redis://127.0.0.1:6379/0"), [])
    assert settings.getbool("SCHEDULER_PERSIST") and not settings.getbool("SCHEDULER_FLUSH_ON_START")

    store.join("A", "h:/a", lease_ms=LEASE)
    store.push("1", b"r", 0, "fp")
    coordinator = SimpleNamespace(client=store.client, store=store, cycle_id="1", wid="A", lease_ms=LEASE)
    scheduler = LeasedScheduler(coordinator, serializer)  # type: ignore[arg-type]
    scheduler.flush()
    dupefilter = CycleDupeFilter(store.client, key=store.key("1", "dupefilter"))
    dupefilter.close("finished")
    dupefilter.clear()
    queue = LeasedPriorityQueue(
        store.client, Spider(name="news"), store.key("1", "queue"), serializer, coordinator=coordinator
    )
    queue.clear()
    assert store.queue_length("1") == 1
    assert store.client.sismember(store.key("1", "dupefilter"), "fp")


def test_the_one_private_scrapy_attribute_we_read_still_exists() -> None:
    """Leases are acknowledged when a request leaves ``engine._slot.inprogress`` (cycle.py)."""
    source = inspect.getsource(scrapy_engine._Slot)
    assert "self.inprogress: set[Request] = set()" in source
    assert "def remove_request" in source and "self.nextcall" in source
    assert "self._slot.remove_request" in inspect.getsource(scrapy_engine.ExecutionEngine)


@pytest.mark.parametrize(
    "url",
    [
        f"http://:{REDIS_PASSWORD}@127.0.0.1:6379/0",
        f"redis://:{REDIS_PASSWORD}@127.0.0.1:notaport/0",
        f"redis://:{REDIS_PASSWORD}@127.0.0.1:6379/notadb",
        f"redis://:{REDIS_PASSWORD}@:6379/0",
        f"redis://user:{REDIS_PASSWORD}@127.0.0.1:6379/0#frag",
        f"unix://:{REDIS_PASSWORD}@",
    ],
)
def test_malformed_urls_are_config_errors_without_the_password(url: str) -> None:
    with pytest.raises(DistributedError) as info:
        parse_redis_url(url)
    assert not isinstance(info.value, RedisUnavailable)
    assert REDIS_PASSWORD not in str(info.value)


def test_masking() -> None:
    assert mask_url("redis://:pw@h:1/0") == "redis://***@h:1/0"
    assert mask_url("rediss://user:pw@h:1/2?ssl_cert_reqs=none") == "rediss://***@h:1/2?ssl_cert_reqs=none"
    assert mask_url("redis://h:1/0") == "redis://h:1/0"
    target = parse_redis_url("redis://us%40er:p%40ss@h:1/0")
    assert target.scrub("AUTH us@er p@ss / us%40er:p%40ss") == "AUTH *** *** / ***"


def test_unreachable_server_and_wrong_password_are_unavailable(redis_server: RedisServer) -> None:
    with pytest.raises(
        RedisUnavailable, match=re.escape("cannot reach Redis at redis://***@127.0.0.1:1/0")
    ) as info:
        check_server(parse_redis_url(f"redis://:{REDIS_PASSWORD}@127.0.0.1:1/0"))
    assert REDIS_PASSWORD not in str(info.value)
    wrong = f"redis://:wrong-{REDIS_PASSWORD}@127.0.0.1:{redis_server.port}/0"
    with pytest.raises(RedisUnavailable, match="refused the credentials") as info:
        check_server(parse_redis_url(wrong))
    assert REDIS_PASSWORD not in str(info.value)
    check_server(parse_redis_url(redis_server.url))


def test_shared_state_store(redis_server: RedisServer, tmp_path: Path) -> None:
    settings = Settings(
        {"NEWSARCHIVE_REDIS_URL": redis_server.url, "NEWSARCHIVE_DIST_PREFIX": unique_prefix("state")}
    )
    store = redis_state(settings, None)  # type: ignore[arg-type]
    assert store.get("https://example.org/a") is None
    state = UrlState(url="https://example.org/a", etag='"e"', record_id="<urn:uuid:1>", is_article=True)
    store.put(state)
    other_worker = redis_state(settings, None)  # type: ignore[arg-type]
    assert other_worker.get("https://example.org/a") == state
    assert [s.url for s in other_worker] == ["https://example.org/a"] and len(other_worker) == 1


def test_state_store_tells_an_unreachable_server_from_a_refused_command(tmp_path: Path) -> None:
    """Unreachable is exit 69 (try later), not an archive write failure (exit 74)."""
    server = start_redis()
    try:
        settings = Settings(
            {"NEWSARCHIVE_REDIS_URL": server.url, "NEWSARCHIVE_DIST_PREFIX": unique_prefix("s")}
        )
        store = redis_state(settings, None)  # type: ignore[arg-type]
        state = UrlState(url="https://example.org/a")
        store.client.set(store.key, "not a hash")
        with pytest.raises(StateError) as refused:
            store.put(state)  # WRONGTYPE: the server answered, the data is wrong
        assert not isinstance(refused.value, StateUnavailable)
        store.client.delete(store.key)
        store.put(state)
    finally:
        server.process.kill()
        server.process.wait()
    with pytest.raises(StateUnavailable, match=re.escape("crawl state in Redis at redis://***@127.0.0.1")):
        store.put(state)


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_rediss_tls_with_password(tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    cert, key = _self_signed(tmp_path)
    server = start_redis(tls=(cert, key))
    try:
        url = f"rediss://:{REDIS_PASSWORD}@127.0.0.1:{server.port}/0?ssl_ca_certs={cert}"
        client = check_server(parse_redis_url(url))
        assert client.set("k", "v") and client.get("k") == b"v"
        untrusted = f"rediss://:{REDIS_PASSWORD}@127.0.0.1:{server.port}/1"
        with pytest.raises(RedisUnavailable) as info:
            check_server(parse_redis_url(untrusted))
        assert "certificate" in str(info.value).lower() and REDIS_PASSWORD not in str(info.value)
    finally:
        server.process.terminate()
        server.process.wait(10)


def test_a_forged_queue_entry_is_dropped_not_run(store: CycleStore) -> None:
    class Queued(_Spider):
        queue_callbacks = frozenset({"parse_page"})

        def seed_now(self, response: object) -> None:
            raise AssertionError("must never be called from a queue entry")

    spider = Queued()
    store.join("A", "h:/a", lease_ms=LEASE)
    coordinator = SimpleNamespace(client=store.client, store=store, cycle_id="1", wid="A", lease_ms=LEASE)
    queue = LeasedPriorityQueue(
        store.client, spider, store.key("1", "queue"), serializer, coordinator=coordinator
    )
    good = Request("http://127.0.0.1:9/a", callback=spider.parse_page)
    forged = serializer.loads(serializer.dumps(good.to_dict(spider=spider)))
    forged.update(url="http://127.0.0.1:9/b", callback="seed_now")
    store.push("1", serializer.dumps(forged), 0, None)
    store.push("1", serializer.dumps(good.to_dict(spider=spider)), 1, None)
    popped = queue.pop()
    assert popped is not None and popped.url == "http://127.0.0.1:9/a"
    assert queue.pop() is None, "the forged entry was dropped"
    assert store.leases("1", "A") == 1, "and acknowledged, so it does not come back"


def test_the_cycle_name_changes_with_the_cycle_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers of versions that would treat the same sites differently never join one cycle."""
    from crawler.distributed import settings as dist_settings
    from crawler.sources import parse_sources

    sites = parse_sources({"sites": [{"name": "a", "start_urls": ["https://a.example/"], "article_urls": ["/n/"]}]})
    now = dist_settings.crawl_name(sites)
    monkeypatch.setattr(dist_settings, "CYCLE_RULES", dist_settings.CYCLE_RULES + 1)
    assert dist_settings.crawl_name(sites) != now
