"""Start-of-run recovery writes the texts a killed run missed exactly as the crawl writes them.

Real files throughout: the killed run's torn capture file is built from real records, the
recovery runs the real extraction, and what it writes is compared byte for byte (uncompressed)
with :func:`archive.textrecords.article_records`, the function the crawl's archiver uses.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.capture import Exchange
from archive.http import ResponseHead
from archive.layout import ArchiveLayout
from archive.records import RecordFactory, WarcRecord, serialize, warc_fields
from archive.repair import iter_members, iter_records
from archive.state import NO_TEXT, TEXT_FAILED, UrlState
from archive.textjob import run_text_job
from archive.textrecords import article_records
from archive.writer import DEFAULT_MAX_SIZE
from crawler.extensions.archiver import TEXT_DESCRIPTION, Archiver, sqlite_state_for
from crawler.extensions.workers import PageWorkers
from crawler.parse.pagejob import PageAnalysis
from crawler.run.crawl import CrawlOptions, _preflight
from crawler.run.lock import ArchiveLock
from crawler.run.recovery import RECOVERED_FIELD, RunStats, recover_archive
from crawler.sources import Site
from tests.crawler import worker_jobs
from tests.helpers import fixed_ids

PREFIX = "NEWSARCHIVE"  # the default NEWSARCHIVE_WARC_PREFIX

DATE = "2024-05-06T07:08:09.000000Z"
SITE = Site(
    name="harbour-news",
    start_urls=("https://news.example/",),
    allowed_domains=("news.example",),
    article_urls=(re.compile(r"/news/"),),
)
ARTICLE = (
    b"<html><head><title>Bridge to close for repairs</title></head><body><article>"
    b"<h1>Old swing bridge to close for repairs in the spring</h1>"
    b"<p>The harbour authority said on Tuesday that the old swing bridge would close for repairs in "
    b"the spring, forcing thousands of commuters onto a ferry service for at least three months.</p>"
    b"<p>Engineers found corrosion in the turning mechanism last year. The repairs are expected to cost "
    b"about four million, most of it paid from the regional transport fund.</p>"
    b"<p>Local shop owners fear that fewer people will cross to the old town while the bridge is shut, "
    b"and asked the council for a reduced rent during the works.</p>"
    b"</article></body></html>"
)
NO_ARTICLE = b"<html><body><nav><a href='/'>home</a></nav></body></html>"
KILLED_CAPTURE = "NEWSARCHIVE-20240506070809-00000-host-7.warc.gz"
INJECTED = "11111111-0000-0000-0000-"
LIMIT = 32 * 1024 * 1024  # the crawl's NEWSARCHIVE_MAX_DECODED_SIZE


def workers(stats: RunStats) -> PageWorkers:
    """The crawl's text workers (real processes), as the pre-flight makes them."""
    return PageWorkers(stats, workers=2, timeout=60)


def one_worker(stats: RunStats) -> PageWorkers:
    """One real worker: pages complete in the order they were handed in, so ids injected in that
    order are known (with two, whichever page finishes first is written first)."""
    return PageWorkers(stats, workers=1, timeout=60)


def no_workers(stats: RunStats) -> PageWorkers:
    pytest.fail("text workers were started without a missing text")


def response(factory: RecordFactory, path: str, body: bytes) -> WarcRecord:
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return factory.response("https://news.example" + path, DATE, head, body)


def killed_run(root: Path) -> tuple[ArchiveLayout, dict[str, WarcRecord], UrlState]:
    """A capture file left open by ``kill -9``: an article with text, an article without, an index
    page, and a torn response at the end. The state knows the first article (text pending)."""
    layout = ArchiveLayout(root)
    layout.create()
    factory = RecordFactory(make_id=fixed_ids())
    responses = {
        "/news/bridge": response(factory, "/news/bridge", ARTICLE),
        "/news/empty": response(factory, "/news/empty", NO_ARTICLE),
        "/": response(factory, "/", b"<html>index</html>"),
    }
    warcinfo = factory.warcinfo(KILLED_CAPTURE, DATE, [("software", "tests")])
    members = [serialize(warcinfo)]
    members += [serialize(r, warcinfo_id=warcinfo.record_id) for r in responses.values()]
    members.append(serialize(response(factory, "/news/torn", ARTICLE))[:-20])
    (layout.capture_dir / f"{KILLED_CAPTURE}.open").write_bytes(b"".join(members))
    known = UrlState(
        url="https://news.example/news/bridge",
        last_fetch=DATE,
        status=200,
        record_id=responses["/news/bridge"].record_id,
        record_date=DATE,
        record_file=KILLED_CAPTURE,
        is_article=True,
        published="2024-05-01T00:00:00+00:00",  # from a feed: kept
        first_seen=DATE,
    )
    state = sqlite_state_for(layout)
    state.put(known)
    state.close()
    return layout, responses, known


def written(directory: Path, name_prefix: str) -> tuple[Path, list[bytes]]:
    """The one file recovery wrote in ``directory`` and its records, uncompressed, as on disk."""
    (path,) = [p for p in directory.glob(f"{name_prefix}-*.warc.gz") if p.name != KILLED_CAPTURE]
    return path, [inflated for _, _, inflated in iter_members(path) if inflated is not None]


def as_written(record: WarcRecord, warcinfo_id: str) -> bytes:
    return serialize(record, warcinfo_id=warcinfo_id, gzip=False)


def test_missing_texts_are_written_as_article_records_builds_them(tmp_path: Path) -> None:
    layout, responses, known = killed_run(tmp_path)
    report = recover_archive(
        layout, [SITE], max_decoded=LIMIT, workers=one_worker, factory=RecordFactory(make_id=fixed_ids(INJECTED))
    )
    assert report.texts_completed == 2
    assert report.files_repaired == [KILLED_CAPTURE]

    text_path, text_records = written(layout.text_dir, f"{PREFIX}-TEXT")
    capture_path, capture_records = written(layout.capture_dir, PREFIX)
    text_info, capture_info = (next(iter_records(p)) for p in (text_path, capture_path))
    ids = [
        r.headers["warc-record-id"]
        for p in (text_path, capture_path)
        for r in iter_records(p)
        if r.headers["warc-type"] != "warcinfo"
    ]
    assert ids and all(i.startswith(f"<urn:uuid:{INJECTED}") for i in ids), "the injected factory made them"
    conversion_id, metadata_id, bridge_capture_id, empty_capture_id = ids

    # What the crawl would write for the same page and text, with the same record ids.
    text = run_text_job(ARTICLE, known.url, "utf-8")
    assert text is not None
    bridge = article_records(
        RecordFactory(make_id=iter([conversion_id, metadata_id, bridge_capture_id]).__next__),
        known,
        [RECOVERED_FIELD],
        text,
        site=SITE.name,
    )
    assert run_text_job(NO_ARTICLE, "https://news.example/news/empty", "utf-8") is None
    empty_state = UrlState(
        url="https://news.example/news/empty",
        record_id=responses["/news/empty"].record_id,
        record_date=DATE,
    )
    empty = article_records(
        RecordFactory(make_id=lambda: empty_capture_id), empty_state, [RECOVERED_FIELD], None, site=SITE.name
    )
    text_warcinfo_id = text_info.headers["warc-record-id"]
    capture_warcinfo_id = capture_info.headers["warc-record-id"]
    assert text_records[1:] == [as_written(r, text_warcinfo_id) for r in bridge.text]
    assert capture_records[1:] == [
        as_written(bridge.capture, capture_warcinfo_id),
        as_written(empty.capture, capture_warcinfo_id),
    ]

    state = sqlite_state_for(layout)
    try:
        assert state.get(known.url) == bridge.state  # feed date kept, conversion id stored
        stored_empty = state.get(empty_state.url)
        assert stored_empty is not None and stored_empty.text_record_id == NO_TEXT
        index = state.get("https://news.example/")
        assert index is not None and not index.is_article and index.record_id == responses["/"].record_id
        assert state.get("https://news.example/news/torn") is None
    finally:
        state.close()


def test_recovery_writes_with_the_crawl_archivers_names_and_warcinfo(tmp_path: Path) -> None:
    info = [("software", "newsarchive/test"), ("isPartOf", "run-1")]
    layout, _, _ = killed_run(tmp_path / "killed")
    recover_archive(layout, [SITE], max_decoded=LIMIT, workers=workers, info=info)
    text_path, text_records = written(layout.text_dir, f"{PREFIX}-TEXT")
    capture_path, capture_records = written(layout.capture_dir, PREFIX)
    assert text_records[0].endswith(warc_fields([*info, TEXT_DESCRIPTION]) + b"\r\n\r\n")
    assert capture_records[0].endswith(warc_fields(info) + b"\r\n\r\n")

    archiver = Archiver(tmp_path / "crawl", stats=None, info=info)  # type: ignore[arg-type]  # no stats on open
    archiver.open()
    try:
        assert archiver.text is not None and archiver.capture is not None
        assert (archiver.text.prefix, archiver.text.info) == (f"{PREFIX}-TEXT", [*info, TEXT_DESCRIPTION])
        assert (archiver.capture.prefix, archiver.capture.info) == (PREFIX, info)
        assert archiver.text.max_size == archiver.capture.max_size == DEFAULT_MAX_SIZE
    finally:
        archiver.close()
    assert re.fullmatch(rf"{archiver.text.prefix}-\d{{14}}-\d{{5}}-.+\.warc\.gz", text_path.name)
    assert re.fullmatch(rf"{archiver.capture.prefix}-\d{{14}}-\d{{5}}-.+\.warc\.gz", capture_path.name)


def test_the_default_warcinfo_is_todays(tmp_path: Path) -> None:
    layout, _, _ = killed_run(tmp_path)
    recover_archive(layout, [SITE], max_decoded=LIMIT, workers=workers)
    _, text_records = written(layout.text_dir, f"{PREFIX}-TEXT")
    _, capture_records = written(layout.capture_dir, PREFIX)
    assert text_records[0].endswith(warc_fields([TEXT_DESCRIPTION]) + b"\r\n\r\n")
    assert capture_records[0].endswith(b"Content-Length: 0\r\n\r\n\r\n\r\n")


def test_without_open_files_or_pending_texts_nothing_is_written(tmp_path: Path) -> None:
    layout = ArchiveLayout(tmp_path)
    layout.create()
    report = recover_archive(layout, [SITE], max_decoded=LIMIT, workers=no_workers)
    assert report.as_dict() == {
        "files_repaired": [],
        "files_removed": [],
        "bytes_cut": 0,
        "records_kept": 0,
        "state_updated": 0,
        "texts_completed": 0,
        "texts_failed": 0,
        "texts_given_up": 0,
        "texts_elsewhere": 0,
    }
    assert list(layout.capture_dir.iterdir()) == list(layout.text_dir.iterdir()) == []


def test_without_missing_texts_no_file_is_written(tmp_path: Path) -> None:
    layout, responses, _ = killed_run(tmp_path)
    (layout.capture_dir / f"{KILLED_CAPTURE}.open").unlink()
    factory = RecordFactory(make_id=fixed_ids("22222222-0000-0000-0000-"))
    warcinfo = factory.warcinfo(KILLED_CAPTURE, DATE, [])
    members = [serialize(warcinfo), serialize(responses["/"], warcinfo_id=warcinfo.record_id)]
    (layout.capture_dir / f"{KILLED_CAPTURE}.open").write_bytes(b"".join(members))
    report = recover_archive(layout, [SITE], max_decoded=LIMIT, workers=no_workers)
    assert report.texts_completed == 0 and report.state_updated == 1
    assert [p.name for p in layout.capture_dir.iterdir()] == [KILLED_CAPTURE]
    assert list(layout.text_dir.iterdir()) == []


# --- every run completes the texts still missing, from the stored responses ---------------------

URL = "https://news.example/news/bridge"


class Counts:
    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] += count


def crawled(root: Path, *, text: str | None) -> tuple[ArchiveLayout, Counts, str]:
    """A crawl of one article whose text ``text`` ("failed": the extraction failed; "lost": the
    page never came back from the spider; None: written), through the real archiver."""
    counts = Counts()
    archiver = Archiver(root, stats=counts, text_attempts=3)  # type: ignore[arg-type]
    archiver.open()
    head = ResponseHead("HTTP/1.1", 200, "OK", ((b"Content-Type", b"text/html; charset=utf-8"), (b"ETag", b'"1"')))
    exchange = Exchange(URL, "GET", (), head, ARTICLE, ARTICLE, DATE)
    plan = archiver.archive_exchange(exchange, site=SITE.name, is_article=True)
    assert plan.awaits_text
    if text == "failed":
        archiver.archive_text(plan.state, plan.metadata_fields, None, site=SITE.name, error="worker process died")
    elif text is None:
        archiver.archive_text(plan.state, plan.metadata_fields, run_text_job(ARTICLE, URL, "utf-8"), site=SITE.name)
    archiver.close()
    return archiver.layout, counts, plan.record_id


def records_of(directory: Path) -> list[tuple[str, dict[str, str], bytes]]:
    out = []
    for path in sorted(directory.glob("*.warc.gz")):
        with path.open("rb") as fh:
            out += [(r.rec_type, dict(r.rec_headers.headers), r.content_stream().read()) for r in ArchiveIterator(fh)]
    return out


def about(layout: ArchiveLayout, response_id: str) -> tuple[list[str], list[str]]:
    """The capture metadata blocks about a response, and the ids of the conversions of it."""
    metadata = [
        body.decode()
        for kind, h, body in records_of(layout.capture_dir)
        if kind == "metadata" and h["WARC-Concurrent-To"] == response_id
    ]
    texts = [
        h["WARC-Record-ID"]
        for kind, h, _ in records_of(layout.text_dir)
        if kind == "conversion" and h["WARC-Refers-To"] == response_id
    ]
    return metadata, texts


def test_a_text_that_failed_in_the_crawl_is_completed_from_its_stored_response(tmp_path: Path) -> None:
    layout, counts, response_id = crawled(tmp_path, text="failed")
    assert counts.values["newsarchive/site/harbour-news/text_failed"] == 1
    assert counts.values["newsarchive/site/harbour-news/text_failed/worker process died"] == 1
    assert counts.values["newsarchive/text/empty"] == 0, "a failure is not 'no text'"
    (failed,), texts = about(layout, response_id)
    assert "text-extraction-error: worker process died" in failed and texts == []

    report = recover_archive(layout, [SITE], max_decoded=LIMIT, workers=workers)
    assert (report.texts_completed, report.texts_failed, report.files_repaired) == (1, 0, [])
    assert report.languages == {(SITE.name, "eng"): 1}
    assert "newsarchive/site/harbour-news/text_failed" not in report.stats
    (_, completed), (conversion_id,) = about(layout, response_id)
    assert f"conversion-record-id: {conversion_id}" in completed
    assert "text-extraction-failed-before: 1" in completed
    state = sqlite_state_for(layout)
    try:
        done = state.get(URL)
        assert done is not None and done.text_record_id == conversion_id and done.text_attempts == 1
    finally:
        state.close()
    again = recover_archive(layout, [SITE], max_decoded=LIMIT, workers=no_workers)
    assert again.texts_completed == 0, "done once: nothing is pending"


def test_a_page_whose_text_never_came_back_gets_its_records_from_the_next_run(tmp_path: Path) -> None:
    """The spider's call to the workers raised, or the run stopped: the capture's metadata record
    and its text were never written. The state still says the text is pending."""
    layout, _, response_id = crawled(tmp_path, text="lost")
    assert about(layout, response_id) == ([], [])
    report = recover_archive(layout, [SITE], max_decoded=LIMIT, workers=workers)
    assert report.texts_completed == 1
    (metadata,), (conversion_id,) = about(layout, response_id)
    assert f"conversion-record-id: {conversion_id}" in metadata
    assert "text extracted at the start of a later run, from the stored response" in metadata


def test_a_written_text_is_not_extracted_again(tmp_path: Path) -> None:
    layout, _, _ = crawled(tmp_path, text=None)
    assert recover_archive(layout, [SITE], max_decoded=LIMIT, workers=no_workers).texts_completed == 0


class CrashingWorkers(PageWorkers):
    """Real text workers whose job dies on every page (as a segfaulting parser would)."""

    async def analyse(self, body: bytes, url: str, declared_charset: str | None, *, want_text: bool) -> PageAnalysis:
        return await self.run(worker_jobs.crash_always, url=url)


def test_attempts_that_fail_again_are_counted_until_the_text_is_given_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    layout, _, response_id = crawled(tmp_path, text="failed")  # attempt 1 of 3, in the crawl

    def crashing(stats: RunStats) -> PageWorkers:
        return CrashingWorkers(stats, workers=1, timeout=60)

    second = recover_archive(layout, [SITE], max_decoded=LIMIT, workers=crashing)
    assert (second.texts_completed, second.texts_failed, second.texts_given_up) == (0, 1, 0)
    assert second.stats["newsarchive/site/harbour-news/text_failed"] == 1
    assert second.stats["newsarchive/site/harbour-news/text_failed/worker process died"] == 1
    assert "newsarchive/site/harbour-news/text_given_up" not in second.stats
    caplog.clear()
    third = recover_archive(layout, [SITE], max_decoded=LIMIT, workers=crashing)
    assert (third.texts_failed, third.texts_given_up) == (1, 1)
    assert third.stats["newsarchive/site/harbour-news/text_given_up"] == 1
    lines = [r.getMessage() for r in caplog.records if "text extraction failed" in r.getMessage()]
    assert lines == [
        "text extraction failed for 1 pages of site harbour-news at the start of the run, from the stored "
        "responses: worker process died (1); 1 given up after 3 attempts (NEWSARCHIVE_TEXT_ATTEMPTS)"
    ]
    metadata, texts = about(layout, response_id)
    assert texts == [] and len(metadata) == 3, "one capture metadata record per failed attempt"
    assert "text-extraction: failed (attempt 2 of 3)" in metadata[1]
    assert "text-extraction: failed 3 time(s): given up" in metadata[2]
    state = sqlite_state_for(layout)
    try:
        given_up = state.get(URL)
        assert given_up is not None and given_up.text_record_id == TEXT_FAILED and given_up.text_attempts == 3
    finally:
        state.close()
    # Given up: no later run tries it again (until the page changes and is archived anew).
    assert recover_archive(layout, [SITE], max_decoded=LIMIT, workers=no_workers).texts_failed == 0


def test_the_preflight_recovers_with_the_crawls_decode_limit(tmp_path: Path) -> None:
    """Item 7: one limit, one setting. A killed run's gzipped article that decodes to 20 KB is not
    decoded by a recovery run with NEWSARCHIVE_MAX_DECODED_SIZE=10000, as the crawl would not."""
    page_body = ARTICLE + b"<!--" + b" " * 20_000 + b"-->"
    packed = gzip.compress(page_body)
    factory = RecordFactory(make_id=fixed_ids())
    url = "https://news.example/news/big"
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\n"
        f"Content-Length: {len(packed)}\r\n\r\n"
    ).encode()
    outcomes = {}
    for limit in (None, 10_000):
        layout = ArchiveLayout(tmp_path / f"limit-{limit}")
        layout.create()
        warcinfo = factory.warcinfo(KILLED_CAPTURE, DATE, [])
        members = [serialize(warcinfo), serialize(factory.response(url, DATE, head, packed), warcinfo_id=warcinfo.record_id)]
        (layout.capture_dir / f"{KILLED_CAPTURE}.open").write_bytes(b"".join(members))
        sources = tmp_path / "sources.toml"
        sources.write_text(
            '[[sites]]\nname = "harbour-news"\nstart_urls = ["https://news.example/"]\n'
            "article_urls = ['/news/']\n",
            encoding="utf-8",
        )
        extra = {"NEWSARCHIVE_TEXT_WORKERS": 1} | ({"NEWSARCHIVE_MAX_DECODED_SIZE": limit} if limit else {})
        lock = ArchiveLock(layout.lock_path)
        try:
            ready = _preflight(sources, layout, CrawlOptions(extra_settings=extra), "run-1", tmp_path / "log", lock)
        finally:
            lock.release()
        state = sqlite_state_for(layout)
        try:
            big = state.get(url)
        finally:
            state.close()
        assert big is not None and ready.recovered["files_repaired"] == [KILLED_CAPTURE]
        outcomes[limit] = (big.content_digest is not None, big.text_record_id not in (None, NO_TEXT))
    assert outcomes == {None: (True, True), 10_000: (False, False)}
