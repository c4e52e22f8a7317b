"""Several ``newsarchive crawl --redis`` workers on one loopback news site (issue 8).

Every worker is the real console script in its own process group; the demo site runs in this
process, so the tests can see every request it answered and, when needed, hold responses at the
server (a worker then provably has work in flight). Waits are bounded and on observable state
(Redis, the server's counters), never on elapsed time.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.repair import repair_open_file
from crawler.demo.sources import demo_articles
from tests.distributed.conftest import (
    REDIS_PASSWORD,
    Cluster,
    GatedDemoServer,
    RedisServer,
    Worker,
    cycle_store,
    start_redis,
    unique_prefix,
    wait_for,
    worker_id,
    write_sources,
)

pytestmark = [pytest.mark.slow, pytest.mark.redis]


@dataclass
class Capture:
    kind: str  # response, revisit, conversion
    url: str
    record_id: str
    refers_to: str | None
    worker: str
    status: int | None


def captures(*workers: Worker) -> list[Capture]:
    """Response, revisit and conversion records of the workers' files, read with warcio."""
    out = []
    for worker in workers:
        paths = sorted(worker.archive.glob("warc/*.warc.gz")) + sorted(worker.archive.glob("text/*.warc.gz"))
        for path in paths:
            with path.open("rb") as fh:
                for rec in ArchiveIterator(fh):
                    if rec.rec_type not in ("response", "revisit", "conversion"):
                        continue
                    headers = rec.rec_headers
                    status = rec.http_headers.get_statuscode() if rec.http_headers else None
                    out.append(
                        Capture(
                            rec.rec_type,
                            headers.get_header("WARC-Target-URI"),
                            headers.get_header("WARC-Record-ID"),
                            headers.get_header("WARC-Refers-To"),
                            worker.name,
                            int(status) if status else None,
                        )
                    )
    return out


def warcio_check(*workers: Worker) -> None:
    """The same validity check a single run gets: ``warcio check`` on every file, none left open."""
    warcio = Path(sys.executable).with_name("warcio")
    written = 0
    for worker in workers:
        # On a loaded machine one worker may win every lease of a small site: the union counts.
        files = sorted(worker.archive.glob("warc/*.warc.gz")) + sorted(worker.archive.glob("text/*.warc.gz"))
        written += len(files)
        for path in files:
            check = subprocess.run([warcio, "check", str(path)], capture_output=True, text=True, check=False)
            assert check.returncode == 0, f"{path.name}: {check.stdout}{check.stderr}"
        assert not list(worker.archive.rglob("*.open"))
    assert written, "no worker wrote any file"


def article_urls(base: str, revision: int = 0) -> set[str]:
    return {a.url(base) for a in demo_articles(revision)}


def per_url(records: list[Capture], kind: str, urls: set[str], status: int | None = 200) -> Counter[str]:
    return Counter(
        r.url for r in records if r.kind == kind and r.url in urls and (status is None or r.status == status)
    )


def assert_quiet_success(*workers: Worker) -> None:
    """Exit 0 and, without a terminal, not a byte on stdout or stderr (cron mails nothing)."""
    for worker in workers:
        assert worker.code == 0, (
            f"{worker.name}: exit {worker.code}\n{worker.stderr()}\n{worker.log()[-4000:]}"
        )
        assert worker.stdout() == "" and worker.stderr() == "", worker.stderr()
        assert " ERROR: " not in worker.log(), worker.log()[-4000:]


def assert_no_secret(*workers: Worker) -> None:
    """The Redis password appears in no file a worker wrote (logs, summaries, WARCs) nor its output."""
    needle = REDIS_PASSWORD.encode()
    for worker in workers:
        assert needle not in worker.out.read_bytes() + worker.err.read_bytes()
        for path in worker.archive.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                if path.name.endswith(".gz"):
                    data = gzip.decompress(data)
                assert needle not in data, f"password found in {path}"


# --- one cycle with two workers, then a second cycle ----------------------------------------------
@dataclass
class FirstCycle:
    server: GatedDemoServer
    sources: Path
    cluster: Cluster
    a: Worker
    b: Worker
    sent: int  # responses the server had sent when the cycle ended


@pytest.fixture(scope="module")
def first_cycle(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstCycle]:
    tmp = tmp_path_factory.mktemp("two-workers")
    server = GatedDemoServer("127.0.0.1", 0, latency=0.02)
    server.start()
    cluster = Cluster(redis_server.url, tmp, unique_prefix("two"))
    try:
        sources = write_sources(server, tmp / "sources.toml")
        server.hold()  # nothing is answered until both workers are in the cycle
        store = cycle_store(redis_server, sources, cluster.prefix)
        a = cluster.start("A", sources, "--per-host", "2")
        b = cluster.start("B", sources, "--per-host", "2")
        wait_for(
            lambda: store.info().get("id") and len(store.workers(store.info()["id"])) == 2, 60, "two workers"
        )
        server.release()
        a.wait()
        b.wait()
        yield FirstCycle(server, sources, cluster, a, b, len(server.sent))
    finally:
        cluster.stop_all()
        server.release()
        server.stop()


def test_two_workers_archive_every_article_exactly_once(first_cycle: FirstCycle) -> None:
    fc = first_cycle
    assert_quiet_success(fc.a, fc.b)
    warcio_check(fc.a, fc.b)
    records = captures(fc.a, fc.b)
    wanted = article_urls(fc.server.base_url)
    responses = per_url(records, "response", wanted)
    assert set(responses) == wanted, f"missing: {wanted - set(responses)}"
    assert max(responses.values()) == 1, "an article archived twice"
    texts = Counter(r.url for r in records if r.kind == "conversion")
    assert {u: texts[u] for u in wanted} == dict.fromkeys(wanted, 1), "one text record per article"
    # Every URL of the site: one capture in the union (robots.txt is fetched by both, archived once).
    everything = Counter(r.url for r in records if r.kind in ("response", "revisit"))
    assert max(everything.values()) == 1, [u for u, n in everything.items() if n > 1]
    assert len(everything) == len({s.path for s in fc.server.sent[: fc.sent]} - {""})
    summaries = [fc.a.summary(), fc.b.summary()]
    assert sum(s["totals"]["articles_archived"] for s in summaries) == len(wanted)
    assert all(s["finish_reason"] == "finished" for s in summaries)
    # Politeness is global: 2 per host across both workers, although each may open 2 itself.
    assert fc.server.max_active <= 2
    assert_no_secret(fc.a, fc.b)
    for worker in (fc.a, fc.b):
        log = worker.log()
        assert "ScrapyDeprecationWarning" not in log or "scrapy_redis" not in log
        assert REDIS_PASSWORD not in log and "redis://***@127.0.0.1" in log


def test_second_cycle_revisits_whichever_worker_fetched(first_cycle: FirstCycle) -> None:
    """Cycle 2 after a change, by a worker that fetched nothing in cycle 1."""
    fc = first_cycle
    before = article_urls(fc.server.base_url, 0)
    fc.server.revision = 1
    after = article_urls(fc.server.base_url, 1)
    old = {a.path: a for a in demo_articles(0)}
    changed = {
        a.url(fc.server.base_url)
        for a in demo_articles(1)
        if a.path in old and a.paragraphs != old[a.path].paragraphs
    }
    added = after - before
    assert changed and added
    c = fc.cluster.start("C", fc.sources, "--per-host", "2")
    c.wait()
    assert_quiet_success(c)
    warcio_check(c)
    first = {r.record_id: r for r in captures(fc.a, fc.b)}
    second = captures(c)
    revisits = [r for r in second if r.kind == "revisit" and r.url in after]
    unchanged = after - changed - added
    assert {r.url for r in revisits} == unchanged
    for r in revisits:
        target = first.get(r.refers_to or "")
        assert target is not None and target.url == r.url, f"{r.url} refers to no record of cycle 1"
    assert {first[r.refers_to or ""].worker for r in revisits} <= {"A", "B"}
    assert per_url(second, "response", after) == Counter(changed | added)
    conditional = [
        s
        for s in fc.server.sent[fc.sent :]
        if "/news/" in s.path and (s.request_header("If-None-Match") or s.request_header("If-Modified-Since"))
    ]
    assert len(conditional) == len(before), "validators came from the shared state"
    assert c.summary()["sites"]["demo-news"]["unchanged"] >= len(unchanged)


# --- failures and late arrivals ------------------------------------------------------------------
def test_worker_killed_mid_cycle_loses_nothing(
    demo: GatedDemoServer, cluster: Cluster, redis_server: RedisServer, tmp_path: Path
) -> None:
    sources = write_sources(demo, tmp_path / "sources.toml")
    store = cycle_store(redis_server, sources, cluster.prefix)
    demo.hold(after=14)  # seeds, index pages and the first articles get through, then responses wait
    a = cluster.start("A", sources, "--per-host", "4", "--concurrency", "4")
    b = cluster.start("B", sources, "--per-host", "4", "--concurrency", "4")

    def a_holds_work() -> int:
        cycle = store.info().get("id")
        wid = next((w for w in store.workers(cycle) if f"-{a.pid}-" in w), None) if cycle else None
        return store.leases(cycle, wid) if wid else 0

    demo.wait_held(1)
    held = wait_for(lambda: (n := a_holds_work()) >= 2 and n, 60, "worker A holding leased requests")
    a.kill()  # kill -9: no chance to give anything back
    demo.release()
    assert b.wait() == 0, b.log()[-4000:]
    cycle = store.info()["id"]
    requeued = store.stats(cycle).get("requeued", 0)
    assert requeued >= 1, "A's leases went back to the queue"

    # A's file is the kill's: repaired as A's next start would (cut after the last whole record).
    for path in a.archive.rglob("*.open"):
        repair_open_file(path)
    records = captures(a, b)
    wanted = article_urls(demo.base_url)
    responses = per_url(records, "response", wanted)
    missing, twice = wanted - set(responses), [u for u, n in responses.items() if n > 1]
    print(
        f"\nkill -9 test: A held {held} leases when killed; {requeued} requeued; "
        f"articles archived by A {sum(1 for r in records if r.kind == 'response' and r.worker == 'A' and r.url in wanted)},"
        f" by B {sum(1 for r in records if r.kind == 'response' and r.worker == 'B' and r.url in wanted)}; "
        f"missing {len(missing)}, archived twice {len(twice)}"
    )
    assert not missing and not twice
    texts = Counter(r.url for r in records if r.kind == "conversion")
    assert all(texts[u] >= 1 for u in wanted), "every article has its text once the cycle completes"
    warcio_check(b)


def test_late_joining_worker_takes_work(
    demo: GatedDemoServer, cluster: Cluster, redis_server: RedisServer, tmp_path: Path
) -> None:
    sources = write_sources(demo, tmp_path / "sources.toml")
    store = cycle_store(redis_server, sources, cluster.prefix)
    demo.hold(after=4)
    a = cluster.start("A", sources, "--concurrency", "2", "--per-host", "4")
    wait_for(lambda: store.info().get("status") == "running", 60, "cycle seeded")
    cycle = store.info()["id"]
    wait_for(lambda: store.queue_length(cycle) > 0, 60, "queued work")
    b = cluster.start("B", sources, "--concurrency", "2", "--per-host", "4")

    def b_holds_work() -> int:
        wid = next((w for w in store.workers(cycle) if f"-{b.pid}-" in w), None)
        return store.leases(cycle, wid) if wid else 0

    wait_for(b_holds_work, 60, "the late worker leasing work")
    demo.release()
    a.wait()
    b.wait()
    assert_quiet_success(a, b)
    assert b.summary()["totals"]["fetched"] >= 1
    records = captures(a, b)
    wanted = article_urls(demo.base_url)
    responses = per_url(records, "response", wanted)
    assert set(responses) == wanted and max(responses.values()) == 1
    assert a.summary()["outcome"] == b.summary()["outcome"] == "finished"


def test_scrapyd_job_and_cron_worker_share_a_cycle(
    demo: GatedDemoServer, cluster: Cluster, redis_server: RedisServer, tmp_path: Path
) -> None:
    """A worker started the way Scrapyd starts jobs (its runner, its cwd, its arguments)."""
    sources = write_sources(demo, tmp_path / "sources.toml")
    store = cycle_store(redis_server, sources, cluster.prefix)
    demo.hold()
    cron = cluster.start("cron", sources)
    scrapyd_dir = tmp_path / "scrapyd"
    scrapyd_dir.mkdir()
    job_log = scrapyd_dir / "logs" / "newsarchive" / "news" / "job1.log"
    job_log.parent.mkdir(parents=True)
    args = ["-a", "_job=job1", "-a", f"sources={sources}", "-a", f"archive={tmp_path / 'archive-scrapyd'}"]
    args += ["-s", f"LOG_FILE={job_log}", "-s", "FEEDS={}", "-s", f"NEWSARCHIVE_DIST_PREFIX={cluster.prefix}"]
    args += [
        "-s",
        "NEWSARCHIVE_DIST_LEASE=3",
        "-s",
        "NEWSARCHIVE_DIST_HEARTBEAT=0.2",
        "-s",
        "DOWNLOAD_DELAY=0",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPY_")}
    env |= {"NEWSARCHIVE_REDIS_URL": redis_server.url, "SCRAPY_PROJECT": "newsarchive", "SCRAPY_JOB": "job1"}
    with (tmp_path / "scrapyd.out").open("wb") as out:
        job = subprocess.Popen(
            [sys.executable, "-m", "crawler.distributed.scrapyd", "crawl", "news", *args],
            cwd=scrapyd_dir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(
            lambda: store.info().get("id") and len(store.workers(store.info()["id"])) == 2, 60, "both in"
        )
        demo.release()
        assert job.wait(90) == 0, (tmp_path / "scrapyd.out").read_text()
    finally:
        if job.poll() is None:
            job.kill()
    cron.wait()
    assert_quiet_success(cron)
    assert job_log.exists() and "cycle" in job_log.read_text() and " ERROR: " not in job_log.read_text()
    scrapyd_worker = Worker(
        "scrapyd", tmp_path / "archive-scrapyd", job, tmp_path / "scrapyd.out", tmp_path / "scrapyd.out"
    )
    summary = scrapyd_worker.summary()
    assert summary["exit_code"] == 0 and summary["outcome"] == "finished"
    records = captures(cron, scrapyd_worker)
    wanted = article_urls(demo.base_url)
    responses = per_url(records, "response", wanted)
    assert set(responses) == wanted and max(responses.values()) == 1


def test_sigterm_finishes_in_flight_work_and_the_cycle_completes(
    demo: GatedDemoServer, cluster: Cluster, redis_server: RedisServer, tmp_path: Path
) -> None:
    sources = write_sources(demo, tmp_path / "sources.toml")
    store = cycle_store(redis_server, sources, cluster.prefix)
    demo.hold(after=14)
    a = cluster.start("A", sources, "--concurrency", "4")
    b = cluster.start("B", sources, "--concurrency", "4")
    demo.wait_held(1)
    cycle = wait_for(lambda: store.info().get("id"), 60, "cycle")
    wait_for(lambda: (w := worker_id(store, cycle, a.pid)) and store.leases(cycle, w), 60, "A holding work")
    os.killpg(a.pid, signal.SIGTERM)
    demo.release()
    assert a.wait() == 4, a.log()[-3000:]  # interrupted: in-flight pages finished, files closed
    assert worker_id(store, cycle, a.pid) is None, "A left the cycle: nobody waits for its lease"
    assert b.wait() == 0, b.log()[-3000:]
    assert a.summary()["outcome"] == "interrupted"
    assert not list(a.archive.rglob("*.open"))
    records = captures(a, b)
    wanted = article_urls(demo.base_url)
    responses = per_url(records, "response", wanted)
    assert set(responses) == wanted and max(responses.values()) == 1


def test_redis_lost_mid_cycle_stops_the_worker_promptly(demo: GatedDemoServer, tmp_path: Path) -> None:
    """Redis dies while a worker holds work: it winds down (finish reason redis_unavailable)."""
    server = start_redis()
    try:
        cluster = Cluster(server.url, tmp_path, unique_prefix("outage"))
        sources = write_sources(demo, tmp_path / "sources.toml")
        store = cycle_store(server, sources, cluster.prefix)
        demo.hold(after=8)
        a = cluster.start("A", sources)
        demo.wait_held(1)
        cycle = wait_for(lambda: store.info().get("id"), 60, "cycle")
        wait_for(
            lambda: (w := worker_id(store, cycle, a.pid)) and store.leases(cycle, w), 60, "A holding work"
        )
        server.process.kill()
        server.process.wait()
        demo.release()
        # Whichever notices first, the heartbeat (redis_unavailable) or a state write of the
        # archiver (state_unavailable), the cause is Redis: exit 69, never "archive write failed".
        code = a.wait(60)
        summary = a.summary()
        assert code == 69 and summary["finish_reason"] in {"redis_unavailable", "state_unavailable"}, a.log()[
            -3000:
        ]
        assert "archive write failed" not in summary["outcome"]
        assert "Redis at redis://***@127.0.0.1" in a.log()
        assert_no_secret(a)
    finally:
        cluster.stop_all()
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


def test_a_seeder_that_died_while_seeding_is_replaced(
    demo: GatedDemoServer, cluster: Cluster, redis_server: RedisServer, tmp_path: Path
) -> None:
    """A cycle left 'seeding' by a dead worker: a joining worker takes the seeding over."""
    sources = write_sources(demo, tmp_path / "sources.toml")
    store = cycle_store(redis_server, sources, cluster.prefix)
    r, base = store.client, store.base
    now_ms = int(r.time()[0]) * 1000
    r.set(f"{base}:seq", 1)
    r.hset(f"{base}:cycle", mapping={"id": 1, "status": "seeding", "started": now_ms, "seeder": "ghost"})
    r.set(f"{base}:seedlock", "ghost")  # the dead seeder's lock
    b = cluster.start("B", sources)
    wait_for(lambda: worker_id(store, "1", b.pid), 60, "B joined the cycle being seeded")
    r.delete(f"{base}:seedlock")  # ... expires: B must notice and seed
    assert b.wait() == 0, b.log()[-3000:]
    assert_quiet_success(b)
    assert "the seeding worker died; seeding again here" in b.log()
    assert b.summary()["totals"]["articles_archived"] == len(article_urls(demo.base_url))


def test_a_tick_after_the_cycle_ended_does_nothing_within_min_interval(first_cycle: FirstCycle) -> None:
    fc = first_cycle
    sent = len(fc.server.sent)
    late = fc.cluster.start("late", fc.sources, "--set", "NEWSARCHIVE_DIST_MIN_INTERVAL=3600")
    late.wait()
    assert_quiet_success(late)
    assert late.summary()["totals"]["fetched"] == 0 and len(fc.server.sent) == sent
    assert "nothing to do" in late.log()
