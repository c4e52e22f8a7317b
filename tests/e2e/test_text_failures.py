"""Text that failed is counted, retried from the stored response, and fails the run (issue 13).

Real crawls of the demo site through the command line. The failing runs use
``python -m tests.e2e.failing_text``: the product's command, whose text workers die on every
article page they are asked for text (the crawl's and the start-of-run completion's alike); the
healthy runs are the plain command. Everything is read back from the real WARC files, the run
summaries, the logs, the demo server's request log and the SQLite state.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler import exitcodes
from crawler.demo.server import DemoServer
from crawler.demo.sources import demo_articles
from tests.e2e.conftest import FAST, RunResult, newsarchive, write_sources

pytestmark = pytest.mark.slow

ARTICLES = len(demo_articles(0))
SITE = "demo-news"
TEXT_FAILED = "!"  # archive.state.TEXT_FAILED, as stored in the state (never renamed)


def failing_crawl(sources: Path, archive: Path, *extra: str) -> RunResult:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.e2e.failing_text", "crawl", str(sources), "--archive", str(archive), *FAST, *extra],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return RunResult(proc.returncode, proc.stdout, proc.stderr)


def healthy_crawl(sources: Path, archive: Path, *extra: str) -> RunResult:
    return newsarchive("crawl", str(sources), "--archive", str(archive), *FAST, *extra)


class Runs:
    """Runs of one archive; each run's summary and log are the files it added."""

    def __init__(self, server: DemoServer, tmp_path: Path) -> None:
        self.server = server
        self.sources = write_sources(server, tmp_path / "sources.toml")
        self.archive = tmp_path / "archive"

    def run(self, failing: bool, *extra: str) -> tuple[RunResult, dict[str, Any], str, list[Any]]:
        before = set(self.archive.glob("runs/*")) if self.archive.exists() else set()
        sent = len(self.server.sent)
        crawl = failing_crawl if failing else healthy_crawl
        result = crawl(self.sources, self.archive, *extra)
        added = set(self.archive.glob("runs/*")) - before
        (summary_path,) = [p for p in added if p.suffix == ".json"]
        (log_path,) = [p for p in added if p.suffix == ".log"]
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        return result, summary, log_path.read_text(encoding="utf-8"), self.server.sent[sent:]


def records(archive: Path, kind: str) -> list[tuple[str, dict[str, str], bytes]]:
    out = []
    for path in sorted((archive / kind).glob("*.warc.gz")):
        with path.open("rb") as fh:
            for rec in ArchiveIterator(fh):
                out.append((rec.rec_type, dict(rec.rec_headers.headers), rec.content_stream().read()))
    return out


def article_responses(archive: Path) -> dict[str, str]:
    """URL -> response record id, for the article pages (exactly one response each)."""
    found: dict[str, list[str]] = {}
    for kind, headers, _ in records(archive, "warc"):
        if kind == "response" and "/news/" in headers["WARC-Target-URI"]:
            found.setdefault(headers["WARC-Target-URI"], []).append(headers["WARC-Record-ID"])
    assert all(len(ids) == 1 for ids in found.values()), "an article was archived in full twice"
    return {url: ids[0] for url, ids in found.items()}


def conversions(archive: Path) -> dict[str, str]:
    """Response record id -> conversion record id."""
    return {
        h["WARC-Refers-To"]: h["WARC-Record-ID"] for kind, h, _ in records(archive, "text") if kind == "conversion"
    }


def capture_metadata(archive: Path, response_id: str) -> list[str]:
    """The warc-fields blocks of the capture metadata records about one response."""
    return [
        body.decode("utf-8")
        for kind, h, body in records(archive, "warc")
        if kind == "metadata" and h.get("WARC-Concurrent-To") == response_id
    ]


def text_states(archive: Path) -> Counter[tuple[object, int]]:
    """(text_record_id kind, text_attempts) of every article in the SQLite state."""
    with sqlite3.connect(archive / "state" / "state.sqlite3") as db:
        rows = [json.loads(data) for (data,) in db.execute("SELECT data FROM url_state")]
    kinds: Counter[tuple[object, int]] = Counter()
    for row in rows:
        if row["is_article"]:
            text = row["text_record_id"]
            kinds[(text if text in (None, "-", TEXT_FAILED) else "written", row.get("text_attempts", 0))] += 1
    return kinds


def test_failed_texts_fail_the_run_and_the_next_run_completes_them_from_the_stored_responses(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    runs = Runs(demo_server, tmp_path)
    first, summary, log, _ = runs.run(failing=True)

    assert first.code == exitcodes.SITE_ERRORS, first.stderr
    assert summary["outcome"] == f"finished with failing sites: {SITE}"
    assert SITE in first.stderr, "cron mails the failing site"
    site = summary["sites"][SITE]
    assert (site["text_failed"], site["text_empty"], site["text_given_up"]) == (ARTICLES, 0, 0)
    assert site["text_failures"] == {"worker process died": ARTICLES}
    assert (summary["totals"]["text_failed"], summary["totals"]["text_empty"]) == (ARTICLES, 0)
    assert "text extraction failed: " in first.stderr
    # One log line per site and cause, none per page.
    failure_lines = [line for line in log.splitlines() if "text extraction failed for" in line]
    assert len(failure_lines) == 1, failure_lines
    assert f"text extraction failed for {ARTICLES} pages of site {SITE}" in failure_lines[0]
    assert f"worker process died ({ARTICLES})" in failure_lines[0]
    assert "died twice while extracting" not in log
    # Recorded as failed, never as "no text": every capture says why, and its text is pending.
    responses = article_responses(runs.archive)
    assert len(responses) == ARTICLES and conversions(runs.archive) == {}
    for response_id in responses.values():
        (fields,) = capture_metadata(runs.archive, response_id)
        assert "text-extraction-error: worker process died" in fields
        assert "no article text found" not in fields
    assert text_states(runs.archive) == {(None, 1): ARTICLES}

    second, summary, _, sent = runs.run(failing=False)
    assert second.code == exitcodes.OK, second.stderr
    assert summary["recovered"]["texts_completed"] == ARTICLES
    assert summary["sites"][SITE]["text_failed"] == 0
    # Completed from the stored responses: no article was fetched in full again...
    article_requests = [s for s in sent if "/news/" in s.path]
    assert article_requests and all(s.status == 304 for s in article_requests)
    assert article_responses(runs.archive) == responses
    # ... and every text refers to the first run's response, its capture metadata too.
    texts = conversions(runs.archive)
    assert set(texts) == set(responses.values())
    for response_id in responses.values():
        failed, completed = capture_metadata(runs.archive, response_id)
        assert "text-extraction-error: worker process died" in failed
        assert f"conversion-record-id: {texts[response_id]}" in completed
        assert "text-extraction-failed-before: 1" in completed
    assert text_states(runs.archive) == {("written", 1): ARTICLES}


def test_a_304_does_not_freeze_a_page_whose_text_failed(demo_server: DemoServer, tmp_path: Path) -> None:
    runs = Runs(demo_server, tmp_path)
    assert runs.run(failing=True)[0].code == exitcodes.SITE_ERRORS
    responses = article_responses(runs.archive)

    # The text fails again at the start of the second run; the pages answer 304.
    second, summary, _, sent = runs.run(failing=True)
    assert second.code == exitcodes.SITE_ERRORS, "still failing: still reported"
    assert summary["sites"][SITE]["text_failed"] == ARTICLES
    assert summary["recovered"]["texts_failed"] == ARTICLES
    assert [s.status for s in sent if "/news/" in s.path] == [304] * ARTICLES
    # A revisit of the stored response, whose text stays pending: not a 304 "response".
    article_kinds = Counter(
        (kind, h.get("WARC-Profile", "").rsplit("/", 1)[-1])
        for kind, h, _ in records(runs.archive, "warc")
        if kind in ("response", "revisit") and "/news/" in h["WARC-Target-URI"]
    )
    assert article_kinds == {("response", ""): ARTICLES, ("revisit", "server-not-modified"): ARTICLES}
    assert text_states(runs.archive) == {(None, 2): ARTICLES}

    third, summary, _, _ = runs.run(failing=False)
    assert third.code == exitcodes.OK, third.stderr
    assert summary["recovered"]["texts_completed"] == ARTICLES
    assert set(conversions(runs.archive)) == set(responses.values())


def test_after_the_allowed_attempts_a_text_is_given_up_and_reported(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    runs = Runs(demo_server, tmp_path)
    attempts = ("--set", "NEWSARCHIVE_TEXT_ATTEMPTS=2")
    assert runs.run(True, *attempts)[0].code == exitcodes.SITE_ERRORS

    second, summary, _, _ = runs.run(True, *attempts)
    assert second.code == exitcodes.SITE_ERRORS
    site = summary["sites"][SITE]
    assert (site["text_failed"], site["text_given_up"]) == (ARTICLES, ARTICLES)
    assert summary["recovered"]["texts_given_up"] == ARTICLES
    assert f"{ARTICLES} given up after 2 attempts (NEWSARCHIVE_TEXT_ATTEMPTS)" in second.stderr
    assert text_states(runs.archive) == {(TEXT_FAILED, 2): ARTICLES}

    # Healthy again: a given-up text is not retried (until its page changes); the run is clean.
    third, summary, _, sent = runs.run(False, *attempts)
    assert third.code == exitcodes.OK, third.stderr
    assert summary["recovered"]["texts_completed"] == 0 and summary["sites"][SITE]["text_failed"] == 0
    assert conversions(runs.archive) == {}
    assert [s.status for s in sent if "/news/" in s.path] == [304] * ARTICLES
