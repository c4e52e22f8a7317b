"""The run's outcome, a pure function: every row of the README's exit-code table a run can end in,
the precedence between rows, the summary's contents, and the error trees' codes.

No crawl and no mocks: :func:`crawler.run.outcome.decide` takes plain values. A few tests at the
end drive the shell (:func:`crawler.run.crawl.run_crawl`) through pre-flight failures, which stop
before Scrapy starts.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from archive import errors as archive_errors
from crawler import errors, exitcodes
from crawler.run.outcome import CrawlFacts, Outcome, RunInfo, decide, failing_sites
from crawler.run.summary import human_summary, site_summaries

STARTED = 1_700_000_000.0  # 2023-11-14T22:13:20Z
ENDED = STARTED + 12.5

RUN = RunInfo(
    run_id="20231114T221320Z-host-42",
    started=STARTED,
    ended=ENDED,
    archive_dir="archive",
    sources="sources.toml",
    log_file="archive/runs/20231114T221320Z-host-42.log",
)


def site_stats(name: str, **counts: int) -> dict[str, int]:
    """``fetched=3, errors_timeout=2`` -> the crawler's stats keys for site ``name``."""
    out: dict[str, int] = {}
    for key, value in counts.items():
        group, _, kind = key.partition("_")
        if key.startswith("text_failed_"):  # text_failed_timeout=2: failures by cause
            out[f"newsarchive/site/{name}/text_failed/{key.removeprefix('text_failed_')}"] = value
        elif group in ("errors", "cut", "skipped") and kind:
            out[f"newsarchive/site/{name}/{group}/{kind}"] = value
        else:
            out[f"newsarchive/site/{name}/{key}"] = value
    return out


def facts(reason: str = "finished", sites: tuple[str, ...] = ("a", "b"), **kw: Any) -> CrawlFacts:
    stats: dict[str, Any] = {"finish_reason": reason} if reason else {}
    stats.update(kw.pop("stats", {}))
    return CrawlFacts(stats=stats, site_names=sites, **kw)


def healthy() -> dict[str, int]:
    return {**site_stats("a", fetched=10, new=4, changed=1, unchanged=5), **site_stats("b", fetched=3, new=3)}


def outcome_of(crawl: CrawlFacts, run: RunInfo = RUN) -> tuple[int, str]:
    result = decide(None, run, crawl)
    assert result.summary is not None
    assert result.summary["exit_code"] == result.code and result.summary["outcome"] == result.text
    return result.code, result.text


# --- pre-flight: the crawl never started ---------------------------------------------------------

PREFLIGHT = [
    (errors.UsageError("--set expects NAME=VALUE, got 'x'"), exitcodes.USAGE),
    (errors.SourcesError("sources.toml: site 'a' (sites[0]): field 'name': duplicate"), exitcodes.CONFIG),
    (errors.ConfigError("NEWSARCHIVE_MAX_PAGES must be an integer, got 'many'"), exitcodes.CONFIG),
    (errors.DistributedError("NEWSARCHIVE_DIST_LEASE must be a number, got 'x'"), exitcodes.CONFIG),
    (errors.RedisUnavailable("Redis at redis://:***@db:6379/0: Connection refused"), exitcodes.UNAVAILABLE),
    (errors.ArchiveDirError("cannot write the archive directory /ro: Read-only file system"), 73),
    (errors.ArchiveDirError("cannot create the lock archive/lock: Permission denied"), 73),
    (errors.LockHeld("another run is active: archive/lock is held by another run (pid 7)"), 75),
    (
        archive_errors.StateError(
            "crawl state unusable: cannot open crawl state s.sqlite: file is not a database "
            "(the WARC files are intact; move the state file aside to start afresh)"
        ),
        exitcodes.IO_ERROR,
    ),
    (errors.RecoveryError("cannot repair files left by a killed run: [Errno 28] No space"), 74),
    (errors.ArchiveWriteError("[Errno 28] No space left on device"), exitcodes.IO_ERROR),
    (archive_errors.StateUnavailable("Redis state store: Connection refused"), exitcodes.UNAVAILABLE),
]


@pytest.mark.parametrize(
    ("error", "code"), PREFLIGHT, ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v)
)
def test_a_preflight_error_gives_its_code_its_message_and_no_summary(error: Exception, code: int) -> None:
    assert decide(error, RUN) == Outcome(code, str(error), None)


def test_a_preflight_error_wins_over_any_crawl_facts() -> None:
    result = decide(errors.LockHeld("another run is active: x"), RUN, facts(stats=healthy()))
    assert result == Outcome(exitcodes.LOCKED, "another run is active: x", None)


def test_a_passed_preflight_needs_the_crawl_facts() -> None:
    with pytest.raises(ValueError, match="facts"):
        decide(None, RUN)


# --- a crawl that started: one test per row ---------------------------------------------------


def test_0_finished() -> None:
    assert outcome_of(facts(stats=healthy())) == (exitcodes.OK, "finished")


def test_0_when_the_finish_reason_is_missing() -> None:
    assert outcome_of(facts("", stats=healthy())) == (exitcodes.OK, "finished")


def test_0_for_a_site_with_nothing_to_do() -> None:
    assert outcome_of(facts(stats=site_stats("a", fetched=2))) == (exitcodes.OK, "finished")


def test_3_a_site_that_fetched_nothing_but_had_errors() -> None:
    stats = {**site_stats("a", fetched=5), **site_stats("b", errors_dns=1)}
    assert outcome_of(facts(stats=stats)) == (exitcodes.SITE_ERRORS, "finished with failing sites: b")


def test_3_a_site_that_fetched_nothing_but_got_5xx_answers() -> None:
    # 5xx answers count as errors but not as attempts: the rate is 0, the zero-fetched rule decides.
    stats = site_stats("a", fetched=0, http_errors=3)
    assert outcome_of(facts(stats=stats)) == (exitcodes.SITE_ERRORS, "finished with failing sites: a")


def test_3_a_site_whose_every_page_answered_5xx_after_retries() -> None:
    # robots.txt answered (it is fetched, not a page): the site's one page answered 503 three
    # times. fetched counts the URLs, not the attempts: 1 error of 1 page, not 1 of 4.
    stats = site_stats("a", fetched=2, robots_txt=1, http_errors=1, exchanges=4, retries=2)
    assert outcome_of(facts(stats=stats)) == (exitcodes.SITE_ERRORS, "finished with failing sites: a")


def test_3_a_site_whose_every_page_answered_429() -> None:
    stats = site_stats("a", fetched=4, robots_txt=1, http_429=3)
    assert outcome_of(facts(stats=stats)) == (exitcodes.SITE_ERRORS, "finished with failing sites: a")


def test_3_a_site_refused_by_its_robots_txt_answering_5xx() -> None:
    # RFC 9309: a robots.txt answering 5xx disallows all; nothing else was fetched.
    stats = {**healthy(), **site_stats("b", fetched=1, robots_txt=1, skipped_robots_unavailable=3)}
    assert outcome_of(facts(stats=stats)) == (exitcodes.SITE_ERRORS, "finished with failing sites: b")


def test_0_a_site_whose_pages_answered_404() -> None:
    # 404 and 410 are answers: a site of gone pages is no failing site.
    assert outcome_of(facts(stats=site_stats("a", fetched=6, robots_txt=1))) == (exitcodes.OK, "finished")


def test_robots_refusals_do_not_fail_a_site_that_fetched_pages() -> None:
    # One of the site's hosts (a CDN) answered its robots.txt with 503; its pages elsewhere answered.
    stats = site_stats("a", fetched=5, robots_txt=2, skipped_robots_unavailable=4)
    assert outcome_of(facts(stats=stats)) == (exitcodes.OK, "finished")


def test_the_error_rate_leaves_robots_txt_out() -> None:
    # robots.txt + 1 page that answered + 1 page that answered 503: 1 of 2 pages, at the maximum.
    stats = site_stats("a", fetched=3, robots_txt=1, http_errors=1)
    assert outcome_of(facts(stats=stats)) == (exitcodes.OK, "finished")
    strict = dataclasses.replace(RUN, max_error_rate=0.4)
    assert outcome_of(facts(stats=stats), strict) == (exitcodes.SITE_ERRORS, "finished with failing sites: a")


def test_3_a_site_whose_error_rate_exceeds_the_maximum() -> None:
    stats = {**healthy(), **site_stats("b", fetched=10, errors_timeout=11)}  # 11 / 21 > 0.5
    assert outcome_of(facts(stats=stats)) == (exitcodes.SITE_ERRORS, "finished with failing sites: b")


def test_an_error_rate_at_the_maximum_is_not_failing() -> None:
    stats = site_stats("a", fetched=10, errors_timeout=10)  # 10 / 20 == 0.5
    assert outcome_of(facts(stats=stats)) == (exitcodes.OK, "finished")


def test_3_with_a_lower_max_error_rate() -> None:
    stats = site_stats("a", fetched=10, errors_timeout=2)  # 2 / 12
    strict = dataclasses.replace(RUN, max_error_rate=0.1)
    assert outcome_of(facts(stats=stats), strict) == (exitcodes.SITE_ERRORS, "finished with failing sites: a")
    assert outcome_of(facts(stats=stats)) == (exitcodes.OK, "finished")


def test_3_names_every_failing_site_in_order() -> None:
    stats = {**site_stats("a", errors_dns=2), **site_stats("b", fetched=1, http_errors=5)}
    assert outcome_of(facts(stats=stats)) == (exitcodes.SITE_ERRORS, "finished with failing sites: a, b")


def test_4_interrupted() -> None:
    assert outcome_of(facts("shutdown", stats=healthy())) == (exitcodes.INTERRUPTED, "interrupted")


def test_4_stopped_by_a_limit() -> None:
    code_text = outcome_of(facts("closespider_timeout", stats=healthy()))
    assert code_text == (exitcodes.INTERRUPTED, "stopped: closespider_timeout")


@pytest.mark.parametrize("reason", ["redis_unavailable", "state_unavailable"])
def test_69_the_service_went_away(reason: str) -> None:
    assert outcome_of(facts(reason)) == (exitcodes.UNAVAILABLE, "stopped: Redis unreachable")


def test_69_with_the_archivers_message() -> None:
    crawl = facts("finished", unavailable_error="Redis at redis://db:6379/0: Connection refused")
    assert outcome_of(crawl) == (
        exitcodes.UNAVAILABLE,
        "stopped: Redis at redis://db:6379/0: Connection refused",
    )


def test_70_bootstrap_failed() -> None:
    assert outcome_of(facts("", bootstrap_failed=True, archiver_started=False)) == (70, "failed to start")


def test_70_no_archiver() -> None:
    assert outcome_of(facts("finished", archiver_started=False)) == (exitcodes.SOFTWARE, "failed to start")


def test_74_archive_write_failed() -> None:
    crawl = facts("archive_write_failed", fatal_error="[Errno 28] No space left on device")
    assert outcome_of(crawl) == (
        exitcodes.IO_ERROR,
        "archive write failed: [Errno 28] No space left on device",
    )


# --- 3: a site whose article pages mostly got no text because extraction failed --------------


def texts(name: str, written: int, lang: str = "en") -> dict[tuple[str, str], int]:
    return {(name, lang): written} if written else {}


def test_3_a_site_whose_text_extraction_failed_for_most_pages() -> None:
    stats = {**healthy(), **site_stats("b", text_failed=3, **{"text_failed_worker process died": 3})}
    crawl = facts(stats=stats, languages={**texts("a", 5), **texts("b", 0)})
    assert outcome_of(crawl) == (exitcodes.SITE_ERRORS, "finished with failing sites: b")
    # Pages where the extractor ran and found no text (a video page) are no failures.
    empty = {**healthy(), **site_stats("b", text_empty=3)}
    assert outcome_of(facts(stats=empty)) == (exitcodes.OK, "finished")
    # An interruption still wins (row 4 before row 3).
    assert outcome_of(facts("shutdown", stats=stats)) == (exitcodes.INTERRUPTED, "interrupted")


def test_the_failed_text_share_counts_written_empty_and_failed_pages() -> None:
    # a: 2 failed of 2 written + 1 empty + 2 failed = 0.4; b: 3 of 1 + 1 + 3 = 0.6
    stats = {
        **healthy(),
        **site_stats("a", text_failed=2, text_empty=1),
        **site_stats("b", text_failed=3, text_empty=1),
    }
    crawl = facts(stats=stats, languages={**texts("a", 2), **texts("b", 1)})
    assert outcome_of(crawl) == (exitcodes.SITE_ERRORS, "finished with failing sites: b")
    summaries = site_summaries(dict(crawl.stats), ["a", "b"], dict(crawl.languages))
    assert summaries["a"].text_failure_rate == pytest.approx(0.4)
    assert summaries["b"].text_failure_rate == pytest.approx(0.6)
    # The same threshold as fetch errors (--max-error-rate); a share at the maximum is no failure.
    assert [s.name for s in failing_sites(summaries, 0.3)] == ["a", "b"]
    assert [s.name for s in failing_sites(summaries, 0.6)] == []


def test_text_failures_and_fetch_errors_name_each_site_once() -> None:
    stats = {**site_stats("a", errors_dns=2, text_failed=1), **site_stats("b", fetched=2, text_failed=2)}
    assert outcome_of(facts(stats=stats)) == (exitcodes.SITE_ERRORS, "finished with failing sites: a, b")


# --- precedence ---------------------------------------------------------------------------------


def test_unavailable_beats_a_fatal_write_error() -> None:
    # Once Redis is gone, later state writes fail too: the cause is Redis.
    crawl = facts("redis_unavailable", fatal_error="state write failed")
    assert outcome_of(crawl) == (exitcodes.UNAVAILABLE, "stopped: Redis unreachable")
    crawl = facts("finished", fatal_error="state write failed", unavailable_error="Redis gone")
    assert outcome_of(crawl) == (exitcodes.UNAVAILABLE, "stopped: Redis gone")


def test_failed_to_start_beats_everything() -> None:
    crawl = facts("redis_unavailable", bootstrap_failed=True, fatal_error="x", unavailable_error="y")
    assert outcome_of(crawl) == (exitcodes.SOFTWARE, "failed to start")


def test_a_fatal_write_error_beats_an_interruption() -> None:
    assert outcome_of(facts("shutdown", fatal_error="disk full")) == (74, "archive write failed: disk full")


def test_an_interruption_beats_failing_sites() -> None:
    stats = site_stats("a", errors_dns=3)
    assert outcome_of(facts("shutdown", stats=stats)) == (exitcodes.INTERRUPTED, "interrupted")
    assert outcome_of(facts("finished", stats=stats)) == (3, "finished with failing sites: a")


def test_failing_sites_rule() -> None:
    stats = {
        **site_stats("idle"),
        **site_stats("dead", http_errors=1),
        **site_stats("flaky", fetched=4, errors_timeout=5),
        **site_stats("fine", fetched=9, errors_timeout=1),
    }
    summaries = site_summaries(stats, ["idle", "dead", "flaky", "fine"], {})
    assert [s.name for s in failing_sites(summaries, 0.5)] == ["dead", "flaky"]
    assert [s.name for s in failing_sites(summaries, 0.05)] == ["dead", "flaky", "fine"]


# --- the summary --------------------------------------------------------------------------------

SUMMARY_KEYS = [
    "run_id",
    "start",
    "end",
    "duration_s",
    "archive_dir",
    "sources",
    "exit_code",
    "outcome",
    "finish_reason",
    "recovered",
    "totals",
    "sites",
    "files_written",
    "index",
    "log_file",
]


def full_facts(**kw: Any) -> CrawlFacts:
    stats = {
        **site_stats("a", discovered=20, fetched=10, new=4, changed=1, unchanged=5, errors_timeout=2),
        **site_stats("a", cut_max_pages=7, skipped_robots_txt=1, http_errors=1, exchanges=13, retries=3),
        **site_stats("b", fetched=3, new=3, text_empty=1, text_failed=2, text_given_up=1),
        **site_stats("b", **{"text_failed_worker process died": 1, "text_failed_timeout after 120s": 1}),
        **site_stats("stray", fetched=1),  # in the stats, not in the sources file
        "newsarchive/records/response": 13,
        "newsarchive/records/revisit": 5,
        "newsarchive/distributed/politeness_waits": 4,
        "downloader/request_count": 99,
    }
    return facts(
        stats=stats,
        sites=("a", "b", "quiet"),
        languages={("a", "ur"): 3, ("a", "en"): 5, ("b", "hi"): 7},
        files_written=("warc/x-00000.warc.gz", "text/x-00000.warc.gz"),
        index_note="1 file(s) indexed, 18 index lines",
        recovered={"files_repaired": 1, "texts_completed": 0},
        **kw,
    )


def summary_of(crawl: CrawlFacts) -> dict[str, Any]:
    summary = decide(None, RUN, crawl).summary
    assert summary is not None
    return summary


def test_summary_keys_and_run_fields() -> None:
    summary = summary_of(full_facts())
    assert list(summary) == SUMMARY_KEYS
    assert summary["run_id"] == RUN.run_id
    assert summary["start"] == "2023-11-14T22:13:20+00:00"
    assert summary["end"] == "2023-11-14T22:13:32.500000+00:00"
    assert summary["duration_s"] == 12.5
    assert (summary["archive_dir"], summary["sources"], summary["log_file"]) == (
        "archive",
        "sources.toml",
        RUN.log_file,
    )
    assert (summary["exit_code"], summary["outcome"], summary["finish_reason"]) == (0, "finished", "finished")
    assert summary["recovered"] == {"files_repaired": 1, "texts_completed": 0}
    assert summary["files_written"] == ["warc/x-00000.warc.gz", "text/x-00000.warc.gz"]
    assert summary["index"] == "1 file(s) indexed, 18 index lines"


def test_summary_totals() -> None:
    assert summary_of(full_facts())["totals"] == {
        "fetched": 14,
        "articles_archived": 8,
        "revisits": 5,
        "errors": 3,
        "records": {"response": 13, "revisit": 5},
        "text_failed": 2,
        "text_empty": 1,
        "text_given_up": 1,
        "exchanges": 13,
        "retries": 3,
    }


def test_summary_per_site() -> None:
    sites = summary_of(full_facts())["sites"]
    assert list(sites) == ["a", "b", "quiet", "stray"]
    assert sites["a"] == {
        "discovered": 20,
        "fetched": 10,
        "new": 4,
        "changed": 1,
        "unchanged": 5,
        "revisits": 5,
        "articles_archived": 5,
        "http_errors_5xx": 1,
        "errors": {"timeout": 2},
        "cut": {"max_pages": 7},
        "skipped": {"robots_txt": 1},
        "languages": {"en": 5, "ur": 3},
        "text_failed": 0,
        "text_empty": 0,
        "text_given_up": 0,
        "text_failures": {},
        "exchanges": 13,
        "retries": 3,
        "http_errors_429": 0,
    }
    assert list(sites["a"]["languages"]) == ["en", "ur"]  # most frequent first
    assert sites["quiet"]["fetched"] == 0 and sites["quiet"]["errors"] == {}
    assert sites["stray"]["fetched"] == 1
    assert sites["b"]["languages"] == {"hi": 7}
    assert {k: sites["b"][k] for k in list(sites["b"])[-7:-3]} == {
        "text_failed": 2,
        "text_empty": 1,
        "text_given_up": 1,
        "text_failures": {"timeout after 120s": 1, "worker process died": 1},
    }


def test_summary_distributed_only_in_distributed_mode() -> None:
    assert "distributed" not in summary_of(full_facts())
    summary = summary_of(full_facts(distributed={"redis": "redis://:***@db:6379/0", "crawl": "0123456789ab"}))
    assert list(summary) == [*SUMMARY_KEYS, "distributed"]
    assert summary["distributed"] == {
        "redis": "redis://:***@db:6379/0",
        "crawl": "0123456789ab",
        "politeness_waits": 4,
    }


def test_summary_of_a_failed_start() -> None:
    summary = summary_of(facts("", sites=("a",), bootstrap_failed=True, archiver_started=False))
    assert (summary["exit_code"], summary["outcome"], summary["finish_reason"]) == (70, "failed to start", "")
    assert summary["files_written"] == [] and summary["index"] == "no new files"
    assert summary["sites"]["a"]["fetched"] == 0


def test_summary_is_json_and_reads_as_text() -> None:
    summary = summary_of(full_facts(distributed={"redis": "redis://db:6379/0", "crawl": "c"}))
    assert json.loads(json.dumps(summary)) == summary
    text = human_summary(summary)
    assert text.splitlines()[0] == (
        f"newsarchive run {RUN.run_id}: finished (exit 0) in 12.5s; 14 pages fetched, "
        "8 articles archived, 5 revisits, 3 errors"
    )
    assert "  files written: 2 in archive" in text
    assert "    text extraction failed: 2 pages (timeout after 120s 1, worker process died 1); 1 given up" in text


def test_decide_does_not_change_its_inputs() -> None:
    crawl = full_facts()
    before = (dict(crawl.stats), dict(crawl.languages), dict(crawl.recovered))
    first = decide(None, RUN, crawl)
    assert decide(None, RUN, crawl) == first
    assert (dict(crawl.stats), dict(crawl.languages), dict(crawl.recovered)) == before


# --- every error class of both trees has its code ----------------------------------------------

ERROR_CODES: list[tuple[type[BaseException], int]] = [
    (errors.CrawlerError, exitcodes.SOFTWARE),
    (errors.UsageError, exitcodes.USAGE),
    (errors.ConfigError, exitcodes.CONFIG),
    (errors.SourcesError, exitcodes.CONFIG),
    (errors.DistributedError, exitcodes.CONFIG),
    (errors.RedisUnavailable, exitcodes.UNAVAILABLE),
    (errors.ServiceUnavailable, exitcodes.UNAVAILABLE),
    (errors.ArchiveDirError, exitcodes.CANT_CREATE),
    (errors.LockHeld, exitcodes.LOCKED),
    (errors.ArchiveWriteError, exitcodes.IO_ERROR),
    (errors.RecoveryError, exitcodes.IO_ERROR),
    (errors.ReadFailed, exitcodes.READ_FAILED),
    # Download skips never leave the crawl; were one to escape, it is a bug (70).
    (errors.DownloadSkipped, exitcodes.SOFTWARE),
    (errors.OutOfScope, exitcodes.SOFTWARE),
    (errors.NotDecodable, exitcodes.SOFTWARE),
    (errors.Truncated, exitcodes.SOFTWARE),
    (archive_errors.ArchiveError, exitcodes.SOFTWARE),
    (archive_errors.DecodeError, exitcodes.SOFTWARE),
    (archive_errors.DecodedTooLarge, exitcodes.SOFTWARE),
    (archive_errors.StateError, exitcodes.IO_ERROR),
    (archive_errors.StateUnavailable, exitcodes.UNAVAILABLE),
    (archive_errors.ReplayEnvMissing, exitcodes.SOFTWARE),
    (archive_errors.ForeignCodeError, exitcodes.SOFTWARE),
    (archive_errors.WaczError, exitcodes.READ_FAILED),
    (KeyboardInterrupt, exitcodes.INTERRUPTED),
    (ValueError, exitcodes.SOFTWARE),  # unforeseen
]


@pytest.mark.parametrize(("cls", "code"), ERROR_CODES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_for_error(cls: type[BaseException], code: int) -> None:
    assert exitcodes.for_error(cls("message")) == code


def test_for_error_covers_every_class_of_both_trees() -> None:
    covered = {cls.__name__ for cls, _ in ERROR_CODES}
    assert set(errors.__all__) <= covered
    assert set(archive_errors.__all__) <= covered


def test_every_code_is_in_the_table() -> None:
    documented = {code for code, _ in exitcodes.TABLE}
    assert {code for _, code in ERROR_CODES} <= documented
    assert {code for _, code in PREFLIGHT} <= documented


# --- the shell's pre-flight, up to the point where Scrapy would start -------------------------

SOURCES = """\
[[sites]]
name = "a"
start_urls = ["https://example.org/"]
article_urls = ['/news/']
"""


@pytest.fixture
def project_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "crawler.settings")


@pytest.mark.usefixtures("project_settings")
def test_shell_a_bad_sources_file_prints_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from crawler.run.crawl import CrawlOptions, run_crawl

    sources = tmp_path / "sources.toml"
    sources.write_text("[[sites]]\nname = 1\n", encoding="utf-8")
    code = run_crawl(sources, tmp_path / "archive", CrawlOptions(print_summary=True))
    out, err = capsys.readouterr()
    assert code == exitcodes.CONFIG
    assert out == ""
    assert (
        err.startswith(f"newsarchive: {sources}: sites[0]: field 'name': required") and err.count("\n") == 1
    )
    assert not (tmp_path / "archive").exists()  # nothing created before the sources are read


@pytest.mark.usefixtures("project_settings")
def test_shell_a_held_lock_exits_75(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from archive.layout import ArchiveLayout
    from crawler.run.crawl import CrawlOptions, run_crawl
    from crawler.run.lock import ArchiveLock

    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES, encoding="utf-8")
    layout = ArchiveLayout(tmp_path / "archive")
    layout.root.mkdir()
    with ArchiveLock(layout.lock_path):
        code = run_crawl(sources, layout.root, CrawlOptions(print_summary=True))
    out, err = capsys.readouterr()
    assert code == exitcodes.LOCKED
    assert out == ""
    assert err.startswith(
        f"newsarchive: another run is active: {layout.lock_path} is held by another run (pid "
    )
    assert err.endswith(")\n") and err.count("\n") == 1
    assert not list(layout.runs_dir.glob("*.json"))


@pytest.mark.usefixtures("project_settings")
def test_shell_an_invalid_page_limit_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from crawler.run.crawl import CrawlOptions, run_crawl

    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES, encoding="utf-8")
    options = CrawlOptions(extra_settings={"NEWSARCHIVE_MAX_PAGES": "many"})
    assert run_crawl(sources, tmp_path / "archive", options) == exitcodes.CONFIG
    assert capsys.readouterr().err == "newsarchive: NEWSARCHIVE_MAX_PAGES must be an integer, got 'many'\n"


@pytest.mark.usefixtures("project_settings")
def test_shell_an_invalid_number_of_text_attempts_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from crawler.run.crawl import CrawlOptions, run_crawl

    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES, encoding="utf-8")
    options = CrawlOptions(extra_settings={"NEWSARCHIVE_TEXT_ATTEMPTS": "0"})
    assert run_crawl(sources, tmp_path / "archive", options) == exitcodes.CONFIG
    assert capsys.readouterr().err == (
        "newsarchive: NEWSARCHIVE_TEXT_ATTEMPTS must be a whole number of at least 1, got '0'\n"
    )
    assert not (tmp_path / "archive").exists(), "refused before anything is created"


@pytest.mark.usefixtures("project_settings")
@pytest.mark.parametrize("name", ["NEWSARCHIVE_MAX_CRAWL_DELAY", "NEWSARCHIVE_MAX_RETRY_AFTER"])
def test_shell_an_invalid_seconds_setting_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    from crawler.run.crawl import CrawlOptions, run_crawl

    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES, encoding="utf-8")
    options = CrawlOptions(extra_settings={name: "soon"})
    assert run_crawl(sources, tmp_path / "archive", options) == exitcodes.CONFIG
    assert capsys.readouterr().err == f"newsarchive: {name} must be a number of seconds >= 0, got 'soon'\n"
    assert not (tmp_path / "archive").exists(), "refused before anything is created"


@pytest.mark.usefixtures("project_settings")
def test_shell_reads_the_sources_with_the_command_lines_defaults(tmp_path: Path) -> None:
    from archive.layout import ArchiveLayout
    from crawler.run import crawl
    from crawler.sources import SITES_SETTING, sites_from_settings

    sources = tmp_path / "sources.toml"
    sources.write_text(
        SOURCES + "\n[[sites]]\nname = 'b'\nstart_urls = ['https://example.net/']\n"
        "article_urls = ['/n/']\nmax_pages = 5\n",
        encoding="utf-8",
    )
    layout = ArchiveLayout(tmp_path / "archive")

    def loaded(options: crawl.CrawlOptions) -> list[tuple[str, int, int]]:
        settings = crawl.build_settings(sources, layout, options, "run", tmp_path / "log")
        sites = crawl._load_sites(sources, settings)
        settings.set(SITES_SETTING, sites, priority="cmdline")
        assert sites_from_settings(settings) == sites  # what the spider and the resolver read
        return [(s.name, s.max_pages, s.max_depth) for s in sites]

    assert loaded(crawl.CrawlOptions()) == [("a", 1000, 3), ("b", 5, 3)]
    assert loaded(crawl.CrawlOptions(max_pages=50, max_depth=1)) == [("a", 50, 1), ("b", 5, 1)]


def test_the_outcome_module_is_pure() -> None:
    """Importing the decision loads no Scrapy or Twisted (a fresh interpreter, so indirect imports count)."""
    import subprocess
    import sys

    code = "import sys, crawler.run.outcome; print(sorted(m for m in ('scrapy', 'twisted') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_demo_site_that_cannot_listen_exits_69(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    from crawler.cli import main

    with socket.socket() as taken:  # the port is in use: the demo site cannot start
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["demo", "--archive", str(tmp_path / "a"), "--port", str(port), "--quiet"])
    assert code == exitcodes.UNAVAILABLE == 69
    assert f"newsarchive: cannot start the demo site on 127.0.0.1:{port}:" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_the_human_summary_names_final_http_errors_and_robots_refusals() -> None:
    from crawler.run.summary import human_summary

    site = {
        "fetched": 1,
        "new": 0,
        "changed": 0,
        "unchanged": 0,
        "languages": {},
        "errors": {"TimeoutError": 2},
        "http_errors_5xx": 3,
        "http_errors_429": 1,
        "cut": {},
        "skipped": {"robots_unavailable": 4},
    }
    summary = {
        "run_id": "r",
        "outcome": "finished with failing sites: down",
        "exit_code": 3,
        "duration_s": 1.0,
        "totals": {"fetched": 1, "articles_archived": 0, "revisits": 0, "errors": 6},
        "sites": {"down": site},
        "archive_dir": "archive",
    }
    text = human_summary(summary)
    assert "errors: HTTP 5xx 3, HTTP 429 1, TimeoutError 2" in text
    assert "robots.txt unavailable (5xx/429: disallow all): 4 pages not fetched" in text
