"""The text workers contain a crash or a hang: the page is retried or recorded, the run goes on.

Real process pools (forkserver, as in a crawl); the failing jobs really kill or stall a worker.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from crawler.extensions.workers import PageWorkers
from crawler.parse.pagejob import PageAnalysis
from tests.crawler import worker_jobs


class _Stats:
    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] += count


@pytest.fixture
def workers() -> PageWorkers:
    pool = PageWorkers(_Stats(), workers=2, timeout=20)  # type: ignore[arg-type]
    pool.start()
    yield pool
    pool.close()


def _outcome(analysis: PageAnalysis) -> str | None:
    """The job's own answer ("ok TAG"), or why the pool gave up on it."""
    return analysis.error or (analysis.links.urls[0] if analysis.links else None)


def _stats(workers: PageWorkers) -> Counter[str]:
    return workers.stats.values  # type: ignore[attr-defined]


def test_a_page_is_parsed_once_for_links_and_text(workers: PageWorkers) -> None:
    seed = Path(__file__).resolve().parent.parent / "data" / "seeds" / "001_hi_ndtv.html"
    body = seed.read_bytes()
    analysis = asyncio.run(workers.analyse(body, "https://ndtv.example/hi/a/b", "utf-8", want_text=True))
    assert analysis.error is None and analysis.text is not None
    assert [s.code for s in analysis.text.languages][:1] == ["hin"]
    assert analysis.links is not None and len(analysis.links.urls) > 5
    links_only = asyncio.run(workers.analyse(body, "https://ndtv.example/hi/a/b", "utf-8", want_text=False))
    assert links_only.text is None and links_only.links == analysis.links


def test_a_crashed_worker_costs_no_page(workers: PageWorkers, tmp_path: Path) -> None:
    async def scenario() -> list[str | None]:
        jobs = [workers.run(worker_jobs.slow_ok, f"p{i}", 0.2, url=f"p{i}") for i in range(6)]
        jobs.append(workers.run(worker_jobs.crash_once, str(tmp_path / "marker"), url="crasher"))
        return [_outcome(a) for a in await asyncio.gather(*jobs)]

    errors = asyncio.run(scenario())
    # Every job of the broken pool failed with it and was retried once on the new pool.
    assert errors == [f"ok p{i}" for i in range(6)] + ["ok after crash"]
    assert _stats(workers)["newsarchive/text/retried"] >= 1
    assert _stats(workers)["newsarchive/text/error/worker_died"] == 0


def test_a_page_that_kills_its_worker_twice_is_recorded_without_text(workers: PageWorkers) -> None:
    async def scenario() -> tuple[str | None, str | None]:
        bad = await workers.run(worker_jobs.crash_always, url="poison")
        good = await workers.run(worker_jobs.ok, "next", url="next")
        return _outcome(bad), _outcome(good)

    assert asyncio.run(scenario()) == ("worker process died", "ok next")
    assert _stats(workers)["newsarchive/text/error/worker_died"] == 1


def test_a_hung_worker_is_killed_and_the_others_go_on() -> None:
    workers = PageWorkers(_Stats(), workers=2, timeout=2)  # type: ignore[arg-type]
    workers.start()
    try:

        async def scenario() -> list[str | None]:
            jobs = [workers.run(worker_jobs.hang, 3600, url="hung")]
            jobs += [workers.run(worker_jobs.slow_ok, f"p{i}", 0.05, url=f"p{i}") for i in range(5)]
            return [_outcome(a) for a in await asyncio.gather(*jobs)]

        errors = asyncio.run(scenario())
        assert errors[0] == "timeout after 2s"
        assert errors[1:] == [f"ok p{i}" for i in range(5)]
        assert _stats(workers)["newsarchive/text/error/timeout"] == 1
        after = asyncio.run(workers.run(worker_jobs.ok, "later", url="later"))
        assert _outcome(after) == "ok later"
    finally:
        workers.close()


class PoolsThatBreakWhileStarting(PageWorkers):
    """The next ``breaking`` pools break while they are being started, as when every worker dies
    at once (code that cannot load): a worker of the new pool dies before the last warm-up job is
    submitted, and that real ``submit`` raises the real BrokenProcessPool out of ``_new_pool``."""

    def __init__(self, *args: object, breaking: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.breaking = breaking
        self.broke = 0

    def _new_pool(self):  # type: ignore[no-untyped-def]
        pool = super()._new_pool()
        if self.breaking <= 0:
            return pool
        self.breaking -= 1
        self.broke += 1
        probe = pool.submit(worker_jobs.crash_always)  # a worker dies: the pool breaks
        assert isinstance(probe.exception(timeout=60), BrokenProcessPool)
        pool.submit(worker_jobs.ok, "warm-up after the break")  # raises, as in _new_pool
        raise AssertionError("a broken pool accepted a job")


def test_pages_get_a_result_while_new_pools_break_as_they_start() -> None:
    """Item 7 of issue 13: a page in flight while the pool is replaced must not lose its result
    (its capture metadata record is written from it), however the replacement fails."""
    workers = PoolsThatBreakWhileStarting(_Stats(), workers=2, timeout=60, breaking=0)
    workers.start()  # the first pool starts
    workers.breaking = 3  # its replacements break while they start
    try:

        async def scenario() -> list[object]:
            jobs = [workers.run(worker_jobs.crash_always, url="poison")]
            jobs += [workers.run(worker_jobs.slow_ok, f"p{i}", 0.2, url=f"p{i}") for i in range(4)]
            return await asyncio.gather(*jobs, return_exceptions=True)

        results = asyncio.run(scenario())
        assert all(isinstance(r, PageAnalysis) for r in results), results
        outcomes = [_outcome(r) for r in results]  # type: ignore[arg-type]
        assert outcomes[0] == "worker process died"
        # An innocent page was done on a pool that came up, or recorded as failed: never lost.
        assert all(o in (f"ok p{i}", "worker process died") for i, o in enumerate(outcomes[1:]))
        assert workers.broke == 3
        workers.breaking = 0
        after = asyncio.run(workers.run(worker_jobs.ok, "later", url="later"))
        assert _outcome(after) == "ok later", "the next page gets a pool that works"
    finally:
        workers.close()
    late = asyncio.run(workers.run(worker_jobs.ok, "late", url="late"))
    assert _outcome(late) == "text workers stopped", "closed: no new pool for a page that comes late"
