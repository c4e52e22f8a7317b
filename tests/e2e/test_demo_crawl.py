"""One crawl of the demo site through the real CLI, checked record by record.

What a user gets from ``newsarchive crawl``: valid WARC 1.1 files (two independent validators),
response bodies byte-identical to what the server put on the wire, request records that say
what was asked, one text record per article with the right languages and no boilerplate.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.demo.server import DemoServer
from crawler.demo.sources import demo_articles
from tests.e2e.conftest import FAST, newsarchive, write_sources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoServer, Path, dict]]:
    root = tmp_path_factory.mktemp("demo")
    server = DemoServer("127.0.0.1", 0)
    server.start()
    try:
        sources = write_sources(server, root / "sources.toml")
        archive = root / "archive"
        result = newsarchive("crawl", str(sources), "--archive", str(archive), *FAST)
        assert result.code == 0, result.stderr
        summary = json.loads(next((archive / "runs").glob("*.json")).read_text())
        yield server, archive, summary
    finally:
        server.stop()


def records(path: Path) -> list:
    out = []
    with path.open("rb") as fh:
        for rec in ArchiveIterator(fh):
            raw = rec.raw_stream.read()
            out.append((rec, raw))
    return out


def all_files(archive: Path) -> list[Path]:
    return sorted((archive / "warc").glob("*.warc.gz")) + sorted((archive / "text").glob("*.warc.gz"))


def gzip_members(path: Path) -> int:
    data = path.read_bytes()
    count = 0
    while data:
        d = zlib.decompressobj(31)
        d.decompress(data)
        assert d.eof, f"{path}: torn gzip member"
        data = d.unused_data
        count += 1
    return count


def test_cron_quiet_on_success_and_summary_written(crawl: tuple) -> None:
    _, archive, summary = crawl
    assert summary["exit_code"] == 0
    site = summary["sites"]["demo-news"]
    assert site["new"] == len(demo_articles())
    assert site["errors"] == {}
    assert set(site["languages"]) == {"urd", "hin", "vie", "eng"}
    assert not list(archive.rglob("*.open")), "every file is closed and renamed"


def test_pending_requests_waited_on_disk_and_the_queue_is_gone(crawl: tuple) -> None:
    """Memory stays flat however many URLs a sitemap lists: the queue is Scrapy's disk queue."""
    _, archive, summary = crawl
    log = next((archive / "runs").glob("*.log")).read_text(encoding="utf-8")
    disk = int(re.search(r"'scheduler/enqueued/disk': (\d+)", log).group(1))
    assert disk >= summary["totals"]["fetched"] > 0
    assert "scheduler/enqueued/memory" not in log
    assert not (archive / "queue").exists()


def test_every_file_validates_with_warcio_and_fastwarc(crawl: tuple) -> None:
    _, archive, _ = crawl
    files = all_files(archive)
    assert len(files) >= 2
    for path in files:
        check = subprocess.run(
            [Path(sys.executable).with_name("warcio"), "check", "-v", str(path)],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        fast = subprocess.run(
            [Path(sys.executable).with_name("fastwarc"), "check", str(path)], capture_output=True, text=True
        )
        assert fast.returncode == 0, fast.stdout + fast.stderr
        recs = records(path)
        assert gzip_members(path) == len(recs), "one gzip member per record"
        assert recs[0][0].rec_type == "warcinfo"
        assert recs[0][0].rec_headers.get_header("WARC-Filename") == path.name
        for rec, _ in recs:
            assert rec.rec_headers.protocol == "WARC/1.1"


def test_stored_bodies_equal_what_the_server_sent(crawl: tuple) -> None:
    """gzip, chunked and identity responses: the payload is the wire body, byte for byte."""
    server, archive, _ = crawl
    sent = {(s.path + ("?" + s.query if s.query else "")): s for s in server.sent if s.status == 200}
    kinds = set()
    checked = 0
    for path in sorted((archive / "warc").glob("*.warc.gz")):
        for rec, _ in records(path):
            if rec.rec_type != "response":
                continue
            with path.open("rb") as fh:
                fh.seek(0)
            url = rec.rec_headers.get_header("WARC-Target-URI")
            parts = urlsplit(url)
            key = parts.path + ("?" + parts.query if parts.query else "")
            if key not in sent:
                continue
            wire = sent[key]
            stored = _payload(path, rec.rec_headers.get_header("WARC-Record-ID"))
            assert stored == wire.body, url
            kinds.add(("gzip" if wire.header("Content-Encoding") == "gzip" else "identity", wire.chunked))
            checked += 1
    assert checked > 20
    assert {("gzip", False), ("identity", True), ("gzip", True), ("identity", False)} <= kinds


def _payload(path: Path, record_id: str) -> bytes:
    with path.open("rb") as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_headers.get_header("WARC-Record-ID") == record_id:
                return rec.raw_stream.read()
    raise AssertionError(record_id)


def test_response_headers_are_faithful(crawl: tuple) -> None:
    server, archive, _ = crawl
    home = next(s for s in server.sent if s.path == "/" and s.status == 200)
    for path in sorted((archive / "warc").glob("*.warc.gz")):
        with path.open("rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type != "response":
                    continue
                body = rec.raw_stream.read()
                http = rec.http_headers
                assert int(http.get_header("Content-Length")) == len(body)
                assert http.get_header("Transfer-Encoding") is None
                if rec.rec_headers.get_header("WARC-Target-URI").endswith(f":{server.port}/"):
                    cookies = [v for k, v in http.headers if k.lower() == "set-cookie"]
                    assert cookies == home.header_values("Set-Cookie") and len(cookies) == 2
                    assert http.protocol == "HTTP/1.1" and http.statusline.startswith("200 ")


def test_request_records_say_what_was_asked(crawl: tuple) -> None:
    _, archive, _ = crawl
    seen = 0
    for path in sorted((archive / "warc").glob("*.warc.gz")):
        by_id = {}
        pairs = []
        with path.open("rb") as fh:
            for rec in ArchiveIterator(fh):
                by_id[rec.rec_headers.get_header("WARC-Record-ID")] = rec.rec_headers
                if rec.rec_type == "request":
                    pairs.append((rec.rec_headers, rec.http_headers))
        for warc, http in pairs:
            target = warc.get_header("WARC-Target-URI")
            main = by_id[warc.get_header("WARC-Concurrent-To")]
            assert main.get_header("WARC-Date") == warc.get_header("WARC-Date")
            assert main.get_header("WARC-Target-URI") == target
            assert http.get_header("Host") == urlsplit(target).netloc
            assert http.get_header("User-Agent").startswith("newsarchive/")
            assert "zstd" not in (http.get_header("Accept-Encoding") or "")
            line_target = http.statusline.split(" ")[0]
            parts = urlsplit(target)
            assert line_target == parts.path + ("?" + parts.query if parts.query else "")
            seen += 1
    assert seen > 20


def test_every_article_listed_with_languages_and_clean_text(crawl: tuple) -> None:
    _, archive, _ = crawl
    listing = newsarchive("ls", str(archive), "--json")
    assert listing.code == 0
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    by_url = {r["url"]: r for r in rows}
    base = next(r["url"] for r in rows if r["url"].endswith("/robots.txt"))[: -len("/robots.txt")]
    for article in demo_articles():
        row = by_url.get(article.url(base))
        assert row, f"{article.path} not archived"
        assert row["record_type"] == "response" and row["status"] == 200
        assert row["languages"].split(",")[0] == article.expected_languages[0], article.path
        assert row["title"]
        text = newsarchive("text", str(archive), article.url(base)).stdout
        for paragraph in (article.paragraphs[0], article.paragraphs[-1]):
            assert paragraph.strip()[:60] in text, f"{article.path}: missing {paragraph[:40]!r}"
        for junk in article.must_not_contain:
            assert junk not in text, f"{article.path}: boilerplate {junk!r} kept"


def test_text_records_are_conversions_linked_to_responses(crawl: tuple) -> None:
    _, archive, _ = crawl
    responses = {}
    for path in sorted((archive / "warc").glob("*.warc.gz")):
        with path.open("rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type == "response":
                    h = rec.rec_headers
                    responses[h.get_header("WARC-Record-ID")] = (
                        h.get_header("WARC-Target-URI"),
                        h.get_header("WARC-Date"),
                    )
    conversions = 0
    for path in sorted((archive / "text").glob("*.warc.gz")):
        with path.open("rb") as fh:
            for rec in ArchiveIterator(fh):
                h = rec.rec_headers
                if rec.rec_type == "conversion":
                    conversions += 1
                    uri, date = responses[h.get_header("WARC-Refers-To")]
                    assert h.get_header("WARC-Target-URI") == uri and h.get_header("WARC-Date") == date
                    assert h.get_header("Content-Type") == "text/plain; charset=utf-8"
                    assert (
                        h.get_header("WARC-Concurrent-To") is None and h.get_header("WARC-IP-Address") is None
                    )
                    assert h.get_header("WARC-Payload-Digest") is None
                    langs = h.get_header("WARC-Identified-Content-Language")
                    assert langs and all(len(code) == 3 for code in langs.split(","))
                elif rec.rec_type == "metadata":
                    meta = json.loads(rec.content_stream().read())
                    assert meta["extractor"]["name"] == "trafilatura"
                    assert meta["languages"][0]["probability"] > 0.5
    assert conversions == len(demo_articles())


def test_robots_txt_is_obeyed(crawl: tuple) -> None:
    server, _, _ = crawl
    assert not [s for s in server.sent if s.path.startswith("/private")]
    assert any(s.path == "/robots.txt" for s in server.sent)


def test_tracking_parameters_never_fetched(crawl: tuple) -> None:
    server, _, _ = crawl
    assert not [s for s in server.sent if "utm_" in s.query]
    paths = [s.path + "?" + s.query for s in server.sent if s.method == "GET"]
    assert len(paths) == len(set(paths)), "each URL fetched once per run"


def test_gzip_bodies_are_real_gzip(crawl: tuple) -> None:
    server, _, _ = crawl
    gz = [s for s in server.sent if s.header("Content-Encoding") == "gzip" and s.status == 200]
    assert gz and all(gzip.decompress(s.body) for s in gz)
