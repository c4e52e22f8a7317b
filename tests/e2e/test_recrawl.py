"""Cron-style re-crawls of a site that changes between runs (issue: incremental re-crawl)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.records import PROFILE_IDENTICAL, PROFILE_NOT_MODIFIED
from crawler.demo.server import DemoServer
from crawler.demo.sources import demo_articles
from tests.e2e.conftest import FAST, newsarchive, write_sources

pytestmark = pytest.mark.slow


def _records(archive: Path, kind: str = "warc") -> list[tuple[str, dict, bytes]]:
    out = []
    for path in sorted((archive / kind).glob("*.warc.gz")):
        with path.open("rb") as fh:
            for rec in ArchiveIterator(fh):
                out.append((rec.rec_type, dict(rec.rec_headers.headers), rec.content_stream().read()))
    return out


def test_second_run_sends_validators_writes_revisits_and_finds_changes(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    sources = write_sources(demo_server, tmp_path / "sources.toml")
    archive = tmp_path / "archive"
    first = newsarchive("crawl", str(sources), "--archive", str(archive), *FAST)
    assert first.code == 0, first.stderr
    assert first.stdout == "" and first.stderr == "", "without a terminal a good run prints nothing"
    sent_before = len(demo_server.sent)

    demo_server.revision = 1
    before = {a.path: a for a in demo_articles(0)}
    after = {a.path: a for a in demo_articles(1)}
    changed = [p for p in after if p in before and after[p].paragraphs != before[p].paragraphs]
    added = [p for p in after if p not in before]
    assert len(changed) == 1 and len(added) == 1

    second = newsarchive("crawl", str(sources), "--archive", str(archive), *FAST)
    assert second.code == 0, second.stderr
    run2 = demo_server.sent[sent_before:]
    article_requests = [s for s in run2 if "/news/" in s.path]
    conditional = [
        s
        for s in article_requests
        if s.request_header("If-None-Match") or s.request_header("If-Modified-Since")
    ]
    assert len(conditional) == len(before), "every known article is re-checked with validators"
    assert sum(1 for s in article_requests if s.status == 304) == len(before) - 1

    summaries = sorted((archive / "runs").glob("*.json"))
    s2 = json.loads(summaries[-1].read_text())["sites"]["demo-news"]
    assert (s2["new"], s2["changed"]) == (1, 1)
    assert s2["unchanged"] >= len(before) - 1

    recs = _records(archive)
    base = demo_server.base_url
    for path, article in after.items():
        url = article.url(base)
        responses = [h for t, h, _ in recs if t == "response" and h["WARC-Target-URI"] == url]
        revisits = [(h, b) for t, h, b in recs if t == "revisit" and h["WARC-Target-URI"] == url]
        if path in changed:
            assert len(responses) == 2 and not revisits
        elif path in added:
            assert len(responses) == 1 and not revisits
        else:
            assert len(responses) == 1 and len(revisits) == 1, path
            headers, _block = revisits[0]
            assert headers["WARC-Profile"] == PROFILE_NOT_MODIFIED
            assert headers["WARC-Refers-To"] == responses[0]["WARC-Record-ID"]
            assert headers["WARC-Refers-To-Date"] == responses[0]["WARC-Date"]
            assert headers["WARC-Payload-Digest"] == responses[0]["WARC-Payload-Digest"]
            assert headers["WARC-Truncated"] == "length"
    # Index pages are fetched in full every run; unchanged ones become identical-payload revisits.
    profiles = {h.get("WARC-Profile") for t, h, _ in recs if t == "revisit"}
    assert PROFILE_IDENTICAL in profiles
    # The 304's own headers are kept in the concurrent metadata record.
    metadata = [b for t, h, b in recs if t == "metadata" and b"http-status-line-received: HTTP/1.1 304" in b]
    assert len(metadata) == len(before) - 1

    texts = [h for t, h, _ in _records(archive, "text") if t == "conversion"]
    assert len(texts) == len(before) + 2, "text only for new and changed articles"

    listing = newsarchive("ls", str(archive), "--json")
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    revisit_rows = [r for r in rows if r["record_type"] == "revisit" and "/news/" in r["url"]]
    assert len(revisit_rows) == len(before) - 1
    assert all(r["languages"] and r["title"] for r in revisit_rows), "a revisit shows its original's text"


def test_old_articles_are_not_refetched_by_default(demo_server: DemoServer, tmp_path: Path) -> None:
    """A run's work grows with what is new: known articles past recheck_days are not fetched."""
    sources = write_sources(demo_server, tmp_path / "sources.toml")
    # The demo re-checks everything; here the site keeps the real-world default of 7 days.
    sources.write_text(sources.read_text().replace("recheck_days = 36500", "recheck_days = 7"))
    archive = tmp_path / "archive"
    assert newsarchive("crawl", str(sources), "--archive", str(archive), *FAST).code == 0
    sent_before = len(demo_server.sent)
    assert newsarchive("crawl", str(sources), "--archive", str(archive), *FAST).code == 0
    run2 = demo_server.sent[sent_before:]
    # (an article reached by following a redirect from an index page is the one exception)
    refetched = [
        s for s in run2 if "/news/" in s.path and "old-link" not in (s.request_header("Referer") or "")
    ]
    assert not refetched, "no known, old article is fetched again"
    assert any(s.path.startswith("/feeds/") for s in run2), "feeds are read every run"
    summary = json.loads(sorted((archive / "runs").glob("*.json"))[-1].read_text())
    assert summary["sites"]["demo-news"]["skipped"]["not_due"] >= len(demo_articles())
