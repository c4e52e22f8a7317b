"""How a run ended: (pre-flight result, crawl facts, flags) -> exit code, outcome, summary.

Pure on purpose: no Scrapy, no files, no clock (the run's times are passed in). Cron users and
scripts rely on the exit codes and the summary JSON (``DIR/runs/RUN_ID.json``); keeping the
decision in one function of plain values lets every row of the README's exit-code table, and
the precedence between rows, be tested without running a crawl. :mod:`crawler.run.crawl` is the
imperative shell around it: it takes the lock, runs the crawl, gathers the facts, then writes
and prints what :func:`decide` returns.

Precedence of a crawl that started (the first row that holds wins):

    70  the crawler failed to start (bootstrap failure, no archiver)
    69  Redis or the state service became unreachable (checked first: once Redis is gone,
        later state writes fail too; the cause is Redis)
    74  an archive write failed
     4  interrupted (SIGTERM/SIGINT) or stopped for another reason (a limit)
     3  finished, with a failing site: no page answered (every URL's final outcome an error:
        5xx, 429, no response; or refused because its host's robots.txt answered 5xx/429),
        an error rate above ``max_error_rate`` (404/410 and other 4xx are answers), or a share of article pages whose text extraction failed (worker
        crash, timeout, import error) above ``max_error_rate`` (pages where the extractor ran
        and found no text, such as a video page, are no failures)
     0  finished

A run stopped before the crawl (the pre-flight) gets the code of its error from
:func:`crawler.exitcodes.for_error` (2, 69, 73, 74, 75, 78...) and no summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeAlias

from crawler import exitcodes
from crawler.run.summary import SiteSummary, site_summaries

__all__ = ["CrawlFacts", "Outcome", "Preflight", "RunInfo", "decide", "failing_sites"]

#: The pre-flight's result: ``None`` when every step before the crawl passed, else the error of
#: either tree (:mod:`crawler.errors`, :mod:`archive.errors`) that stopped the run.
Preflight: TypeAlias = BaseException | None

_UNAVAILABLE_REASONS = ("redis_unavailable", "state_unavailable")


@dataclass(frozen=True, slots=True)
class RunInfo:
    """The run's identity and flags, known before the crawl (``ended`` once it is over)."""

    run_id: str
    started: float  # seconds since the epoch
    ended: float
    archive_dir: str
    sources: str
    log_file: str
    max_error_rate: float = 0.5


@dataclass(frozen=True, slots=True)
class CrawlFacts:
    """What a finished crawl left behind, as plain values.

    ``archiver_started`` is false when the crawl has no archiver extension (it never started);
    ``fatal_error`` / ``unavailable_error`` are the archiver's. ``distributed`` is ``None`` outside
    distributed mode, else ``{"redis": masked URL, "crawl": cycle name}``.
    """

    stats: Mapping[str, Any] = field(default_factory=dict)
    site_names: tuple[str, ...] = ()
    bootstrap_failed: bool = False
    archiver_started: bool = True
    fatal_error: str | None = None
    unavailable_error: str | None = None
    languages: Mapping[tuple[str, str], int] = field(default_factory=dict)
    files_written: tuple[str, ...] = ()
    index_note: str = "no new files"
    recovered: Mapping[str, Any] = field(default_factory=dict)
    distributed: Mapping[str, Any] | None = None

    @property
    def finish_reason(self) -> str:
        return str(self.stats.get("finish_reason", ""))


@dataclass(frozen=True, slots=True)
class Outcome:
    """The exit code, the one-line outcome and the summary (``None``: the crawl never started,
    nothing is written and ``newsarchive: TEXT`` is the only line printed)."""

    code: int
    text: str
    summary: dict[str, Any] | None


def failing_sites(summaries: Mapping[str, SiteSummary], max_error_rate: float) -> list[SiteSummary]:
    """Sites whose pages got no answer but errors or a robots.txt that answered an error
    (:attr:`SiteSummary.answered`, :attr:`SiteSummary.robots_unavailable`), whose error rate
    exceeds ``max_error_rate``, or whose share of failed text extractions
    (:attr:`SiteSummary.text_failure_rate`) exceeds it."""
    return [
        s
        for s in summaries.values()
        if (s.answered == 0 and (s.error_count or s.robots_unavailable))
        or s.error_rate > max_error_rate
        or s.text_failure_rate > max_error_rate
    ]


def decide(preflight: Preflight, run: RunInfo, crawl: CrawlFacts | None = None) -> Outcome:
    """The outcome of a run: of its pre-flight error if there was one, else of its crawl."""
    if preflight is not None:
        return Outcome(exitcodes.for_error(preflight), str(preflight), None)
    if crawl is None:
        raise ValueError("a run whose pre-flight passed needs the facts of its crawl")
    summaries = site_summaries(dict(crawl.stats), list(crawl.site_names), dict(crawl.languages))
    code, text = _code(crawl, failing_sites(summaries, run.max_error_rate))
    return Outcome(code, text, _summary(run, crawl, summaries, code, text))


def _code(crawl: CrawlFacts, failing: Sequence[SiteSummary]) -> tuple[int, str]:
    reason = crawl.finish_reason
    if crawl.bootstrap_failed or not crawl.archiver_started:
        return exitcodes.SOFTWARE, "failed to start"
    if reason in _UNAVAILABLE_REASONS or crawl.unavailable_error:
        # Before the write error: once Redis is gone, later state writes fail too; the cause is Redis.
        if crawl.unavailable_error:
            return exitcodes.UNAVAILABLE, f"stopped: {crawl.unavailable_error}"
        return exitcodes.UNAVAILABLE, "stopped: Redis unreachable"
    if crawl.fatal_error:
        return exitcodes.IO_ERROR, f"archive write failed: {crawl.fatal_error}"
    if reason == "shutdown":
        return exitcodes.INTERRUPTED, "interrupted"
    if reason and reason != "finished":
        return exitcodes.INTERRUPTED, f"stopped: {reason}"
    if failing:
        return exitcodes.SITE_ERRORS, "finished with failing sites: " + ", ".join(s.name for s in failing)
    return exitcodes.OK, "finished"


def _suffixed(stats: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """``{last part of the key: value}`` of the stats whose key starts with ``prefix``."""
    return {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith(prefix)}


def _summary(
    run: RunInfo, crawl: CrawlFacts, summaries: Mapping[str, SiteSummary], code: int, text: str
) -> dict[str, Any]:
    """The run summary (``DIR/runs/RUN_ID.json``): users' scripts read these keys; only add keys."""
    sites = summaries.values()
    summary: dict[str, Any] = {
        "run_id": run.run_id,
        "start": datetime.fromtimestamp(run.started, UTC).isoformat(),
        "end": datetime.fromtimestamp(run.ended, UTC).isoformat(),
        "duration_s": round(run.ended - run.started, 3),
        "archive_dir": run.archive_dir,
        "sources": run.sources,
        "exit_code": code,
        "outcome": text,
        "finish_reason": crawl.finish_reason,
        "recovered": dict(crawl.recovered),
        "totals": {
            "fetched": sum(s.fetched for s in sites),
            "articles_archived": sum(s.new + s.changed for s in sites),
            "revisits": sum(s.unchanged for s in sites),
            "errors": sum(s.error_count for s in sites),
            "records": _suffixed(crawl.stats, "newsarchive/records/"),
            "text_failed": sum(s.text_failed for s in sites),
            "text_empty": sum(s.text_empty for s in sites),
            "text_given_up": sum(s.text_given_up for s in sites),
            "exchanges": sum(s.exchanges for s in sites),
            "retries": sum(s.retries for s in sites),
        },
        "sites": {name: s.as_dict() for name, s in summaries.items()},
        "files_written": list(crawl.files_written),
        "index": crawl.index_note,
        "log_file": run.log_file,
    }
    if crawl.distributed is not None:
        summary["distributed"] = {
            **crawl.distributed,
            **_suffixed(crawl.stats, "newsarchive/distributed/"),
        }
    return summary
