"""Recovery after a killed run reads the torn files and the state, nothing else, one record at a time.

Each test builds what ``kill -9`` leaves behind with real records (:mod:`archive.records`): a
capture ``.open`` file and a text ``.open`` file, both torn at the end, closed WARCs of earlier
runs, and the SQLite state as the killed run left it.
"""

from __future__ import annotations

import gzip
import tracemalloc
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from archive.layout import ArchiveLayout
from archive.records import RecordFactory, WarcRecord, serialize
from archive.recovery import (
    PendingText,
    RecoveryReport,
    conversion_ids,
    reconcile_state,
    repair_files,
    stored_pending,
)
from archive.state import NO_TEXT, SqliteStateStore, UrlState
from archive.writer import WarcFileWriter
from tests.helpers import fixed_factory

DATE = "2024-05-06T07:08:09.000000Z"
LIMIT = 32 * 1024 * 1024  # the crawl's NEWSARCHIVE_MAX_DECODED_SIZE
LATER = "2024-05-07T07:08:09.000000Z"
SITE = "https://news.example"


def is_article(url: str) -> bool:
    return "/news/" in url


def page(factory: RecordFactory, path: str, body: bytes, *, status: str = "200 OK") -> WarcRecord:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return factory.response(SITE + path, DATE, head, body)


def request(factory: RecordFactory, path: str) -> WarcRecord:
    return factory.request(SITE + path, DATE, f"GET {path} HTTP/1.1\r\nHost: news.example\r\n\r\n".encode())


def conversion(factory: RecordFactory, response: WarcRecord) -> WarcRecord:
    url = response.get("WARC-Target-URI")
    assert url is not None
    return factory.conversion(url, DATE, f"text of {url}", refers_to=response.record_id, languages="en")


def left_open(directory: Path, name: str, factory: RecordFactory, records: list[WarcRecord]) -> Path:
    """``NAME.warc.gz.open`` as a killed writer leaves it: warcinfo, the records, the last one torn."""
    directory.mkdir(parents=True, exist_ok=True)
    warcinfo = factory.warcinfo(name, DATE, [("software", "tests")])
    members = [serialize(warcinfo), *(serialize(r, warcinfo_id=warcinfo.record_id) for r in records)]
    members[-1] = members[-1][: len(members[-1]) // 2]
    path = directory / f"{name}.open"
    path.write_bytes(b"".join(members))
    return path


def closed(directory: Path, prefix: str, factory: RecordFactory, records: list[WarcRecord]) -> Path:
    writer = WarcFileWriter(directory, prefix, factory=factory, fsync=False, info=[("software", "tests")])
    writer.write(records)
    path = writer.close()
    assert path is not None
    return path


def article_state(response: WarcRecord, **changes: object) -> UrlState:
    """The entry the crawl stores right after archiving an article's response (text pending)."""
    url = response.get("WARC-Target-URI")
    assert url is not None
    state = UrlState(
        url=url,
        last_fetch=DATE,
        status=200,
        record_id=response.record_id,
        record_date=DATE,
        is_article=True,
        first_seen=DATE,
    )
    return replace(state, **changes)


def recover(layout: ArchiveLayout, state: SqliteStateStore) -> tuple[list[PendingText], RecoveryReport]:
    report = RecoveryReport()
    results = repair_files(layout, report)
    known = conversion_ids(results, layout.text_dir, state, report)
    pending = list(
        reconcile_state(results, layout.capture_dir, state, is_article, known, report, max_decoded=LIMIT)
    )
    return pending, report


@dataclass
class KilledRun:
    layout: ArchiveLayout
    state: SqliteStateStore
    responses: dict[str, WarcRecord]  # by path
    conversions: dict[str, WarcRecord]  # by path of their response
    closed_text: Path  # a text WARC of an earlier run (it holds /news/a's conversion)
    closed_capture: Path


@pytest.fixture
def killed(tmp_path: Path) -> KilledRun:
    """One killed run, every case of "has this response its text?" in it:

    * ``/news/a``: text written and stored in the state; its conversion is in a closed text WARC;
    * ``/news/b``: conversion written to the torn text file, the kill came before the state knew;
    * ``/news/d``: the same, and the state did not even know the capture;
    * ``/news/c``: no conversion anywhere: pending;
    * ``/news/gone``: a 404 article: nothing to extract;
    * ``/news/old``: the state knows a newer capture: this one changes nothing;
    * ``/index``: not an article; ``/news/torn``: the torn response, never reconciled.
    """
    layout = ArchiveLayout(tmp_path / "archive")
    layout.create()
    factory = fixed_factory()
    responses = {
        path: page(factory, path, f"<html><body><p>{path}</p></body></html>".encode())
        for path in ("/news/a", "/news/b", "/news/d", "/news/c", "/news/old", "/index", "/news/torn")
    }
    responses["/news/gone"] = page(factory, "/news/gone", b"not found", status="404 Not Found")
    conversions = {path: conversion(factory, responses[path]) for path in ("/news/a", "/news/b", "/news/d")}
    capture = [r for path, response in responses.items() for r in (request(factory, path), response)]
    capture.append(capture.pop(capture.index(responses["/news/torn"])))  # the torn one comes last
    left_open(layout.capture_dir, "NEWSARCHIVE-20240506070809-00001-host-2.warc.gz", factory, capture)
    torn_metadata = factory.json_metadata(
        SITE + "/news/d", DATE, {"title": "d"}, refers_to=conversions["/news/d"].record_id, languages="en"
    )
    left_open(
        layout.text_dir,
        "NEWSARCHIVE-TEXT-20240506070809-00001-host-2.warc.gz",
        factory,
        [conversions["/news/b"], conversions["/news/d"], torn_metadata],
    )
    closed_text = closed(layout.text_dir, "NEWSARCHIVE-TEXT", factory, [conversions["/news/a"]])
    closed_capture = closed(layout.capture_dir, "NEWSARCHIVE", factory, [request(factory, "/earlier")])
    state = SqliteStateStore(layout.state_dir / "state.sqlite3")
    state.put(article_state(responses["/news/a"], text_record_id=conversions["/news/a"].record_id))
    state.put(article_state(responses["/news/b"]))
    state.put(article_state(responses["/news/old"], record_id="<urn:uuid:newer>", record_date=LATER))
    return KilledRun(layout, state, responses, conversions, closed_text, closed_capture)


def test_recovery_finds_which_texts_are_missing_from_the_torn_files_and_the_state(killed: KilledRun) -> None:
    before_old = killed.state.get(SITE + "/news/old")
    pending, report = recover(killed.layout, killed.state)

    assert [p.url for p in pending] == [SITE + "/news/c"]
    c = killed.responses["/news/c"]
    assert (pending[0].response_id, pending[0].date, pending[0].charset) == (c.record_id, DATE, "utf-8")
    assert pending[0].body == b"<html><body><p>/news/c</p></body></html>"
    assert pending[0].state == killed.state.get(SITE + "/news/c")
    text_of = {
        path: (s.text_record_id if (s := killed.state.get(SITE + path)) else "absent")
        for path in ("/news/a", "/news/b", "/news/d", "/news/c", "/news/gone", "/index", "/news/torn")
    }
    assert text_of == {
        "/news/a": killed.conversions["/news/a"].record_id,
        "/news/b": killed.conversions["/news/b"].record_id,  # the conversion the kill hid from the state
        "/news/d": killed.conversions["/news/d"].record_id,
        "/news/c": None,  # pending until its text is written
        "/news/gone": NO_TEXT,
        "/index": None,
        "/news/torn": "absent",
    }
    assert killed.state.get(SITE + "/news/old") == before_old
    d = killed.state.get(SITE + "/news/d")
    assert d is not None and d.record_id == killed.responses["/news/d"].record_id and d.record_offset
    assert d.record_file == "NEWSARCHIVE-20240506070809-00001-host-2.warc.gz"
    assert report.files_repaired == [
        "NEWSARCHIVE-20240506070809-00001-host-2.warc.gz",
        "NEWSARCHIVE-TEXT-20240506070809-00001-host-2.warc.gz",
    ]
    assert report.files_removed == []
    assert report.records_kept == (1 + 15) + (1 + 2)  # warcinfo + 8 requests + 7 responses; warcinfo + 2
    assert report.bytes_cut > 0
    assert report.state_updated == 5  # b's text id; d, c, gone and index stored
    assert report.texts_completed == 0  # the caller writes the texts


@pytest.mark.parametrize("unreadable", ["garbage", "directory"])
def test_closed_warcs_are_never_opened(killed: KilledRun, unreadable: str) -> None:
    """Closed files of earlier runs can be thousands; the state already knows their texts."""
    for path in (killed.closed_text, killed.closed_capture):
        path.unlink()
        if unreadable == "garbage":
            path.write_bytes(gzip.compress(b"not a WARC record\r\n\r\n"))  # any reader rejects it
        else:
            path.mkdir()
    pending, report = recover(killed.layout, killed.state)
    assert [p.url for p in pending] == [SITE + "/news/c"]
    a = killed.state.get(SITE + "/news/a")
    assert a is not None and a.text_record_id == killed.conversions["/news/a"].record_id
    assert report.state_updated == 5


def test_a_conversion_the_state_missed_is_learned_when_its_response_is_in_a_closed_file(
    tmp_path: Path,
) -> None:
    """The capture stream rotated between the page and its text: only the text file was torn."""
    layout = ArchiveLayout(tmp_path)
    layout.create()
    factory = fixed_factory()
    response = page(factory, "/news/a", b"<html>a</html>")
    closed(layout.capture_dir, "NEWSARCHIVE", factory, [response])
    converted = conversion(factory, response)
    left_open(
        layout.text_dir, "NEWSARCHIVE-TEXT-x.warc.gz", factory, [converted, conversion(factory, response)]
    )
    state = SqliteStateStore(layout.state_dir / "state.sqlite3")
    state.put(article_state(response))
    pending, report = recover(layout, state)
    assert pending == []
    assert state.get(SITE + "/news/a") == article_state(response, text_record_id=converted.record_id)
    assert report.state_updated == 1


def test_a_capture_file_with_only_its_warcinfo_is_removed_and_teaches_nothing(tmp_path: Path) -> None:
    layout = ArchiveLayout(tmp_path)
    layout.create()
    factory = fixed_factory()
    left_open(layout.capture_dir, "NEWSARCHIVE-x.warc.gz", factory, [page(factory, "/news/a", b"a")])
    state = SqliteStateStore(layout.state_dir / "state.sqlite3")
    pending, report = recover(layout, state)
    assert pending == [] and list(state) == []
    assert report.files_removed == ["NEWSARCHIVE-x.warc.gz.open"] and report.files_repaired == []
    assert list(layout.capture_dir.iterdir()) == []


BODY = 512 * 1024
MANY = 40  # 20 MB of bodies: ten times the bound below


def test_pending_texts_come_one_at_a_time(tmp_path: Path) -> None:
    """Every body of a 1 GB torn file in one list would be 1 GB of memory before the first text."""
    layout = ArchiveLayout(tmp_path)
    layout.create()
    factory = fixed_factory()
    body = (b"<p>The council met on Tuesday to discuss the bridge.</p>\n" * (BODY // 56 + 1))[:BODY]
    records = [page(factory, f"/news/{n}", body) for n in range(MANY + 1)]
    left_open(layout.capture_dir, "NEWSARCHIVE-x.warc.gz", factory, records)
    state = SqliteStateStore(layout.state_dir / "state.sqlite3")
    report = RecoveryReport()
    results = repair_files(layout, report)
    known = conversion_ids(results, layout.text_dir, state, report)
    seen: list[int] = []
    tracemalloc.start()
    try:
        for item in reconcile_state(
            results, layout.capture_dir, state, is_article, known, report, max_decoded=LIMIT
        ):
            seen.append(len(item.body))
            del item  # what the caller does once the text is written
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen == [BODY] * MANY
    assert report.state_updated == MANY
    assert peak < 5 * BODY, f"peak {peak / BODY:.1f} bodies of memory for {MANY} pending texts"


# --- pending texts of any run, read back from their stored responses ------------------------------


def stored(layout: ArchiveLayout, state: SqliteStateStore, bodies: dict[str, bytes], **head: str) -> None:
    """Responses written by a real writer, the state pointing at each (file, offset): text pending."""
    factory = fixed_factory()
    writer = WarcFileWriter(layout.capture_dir, "NEWSARCHIVE", factory=factory, fsync=False)
    extra = "".join(f"{k}: {v}\r\n" for k, v in head.items())
    for path, body in bodies.items():
        head_block = (
            f"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=windows-1256\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        response = factory.response(SITE + path, DATE, head_block, body)
        (where,) = writer.write([request(factory, path), response])[1:]
        state.put(article_state(response, record_file=where.filename, record_offset=where.offset))
    writer.close()


def pending_of(layout: ArchiveLayout, state: SqliteStateStore, limit: int = LIMIT) -> tuple[list[PendingText], RecoveryReport]:
    report = RecoveryReport()
    return list(stored_pending(layout.capture_dir, state, report, max_decoded=limit)), report


def test_a_pending_text_is_read_back_from_its_stored_response(tmp_path: Path) -> None:
    layout = ArchiveLayout(tmp_path)
    layout.create()
    state = SqliteStateStore(layout.state_dir / "state.sqlite3")
    bodies = {"/news/a": b"<html><p>a</p></html>", "/news/b": b"<html><p>b</p></html>"}
    stored(layout, state, bodies)
    done = state.get(SITE + "/news/a")
    assert done is not None
    state.put(replace(done, text_record_id="<urn:uuid:text-a>"))  # a's text is written: not pending
    (item,), report = pending_of(layout, state)
    assert (item.url, item.body, item.charset, item.readable) == (SITE + "/news/b", bodies["/news/b"], "windows-1256", True)
    assert item.state == state.get(SITE + "/news/b") and item.response_id == item.state.record_id
    assert report.texts_elsewhere == 0


def test_a_gzipped_response_is_decoded_under_the_crawls_limit(tmp_path: Path) -> None:
    layout = ArchiveLayout(tmp_path)
    layout.create()
    state = SqliteStateStore(layout.state_dir / "state.sqlite3")
    page_body = b"<html><p>" + b"news " * 4000 + b"</p></html>"  # 20 KB decoded
    stored(layout, state, {"/news/a": gzip.compress(page_body)}, **{"Content-Encoding": "gzip"})
    (item,), _ = pending_of(layout, state)
    assert item.body == page_body
    (item,), _ = pending_of(layout, state, limit=10_000)  # NEWSARCHIVE_MAX_DECODED_SIZE=10000
    assert item.readable and item.body == b"", "too large to decode: no text, as in the crawl"


def test_a_response_that_cannot_be_read_back_is_handed_out_as_unreadable(tmp_path: Path) -> None:
    layout = ArchiveLayout(tmp_path)
    layout.create()
    state = SqliteStateStore(layout.state_dir / "state.sqlite3")
    stored(layout, state, {"/news/a": b"<html>a</html>", "/news/b": b"<html>b</html>"})
    a, b = state.get(SITE + "/news/a"), state.get(SITE + "/news/b")
    assert a is not None and b is not None and a.record_offset is not None
    state.put(replace(a, record_offset=a.record_offset + 1))  # not the start of a record
    state.put(replace(b, record_offset=a.record_offset))  # another record than b's
    items, _ = pending_of(layout, state)
    assert [(i.url, i.readable, i.body) for i in items] == [(a.url, False, b""), (b.url, False, b"")]


def test_a_response_in_another_archive_is_left_to_it(tmp_path: Path) -> None:
    """Distributed mode: the shared state names files of every worker's directory."""
    layout = ArchiveLayout(tmp_path)
    layout.create()
    state = SqliteStateStore(layout.state_dir / "state.sqlite3")
    stored(layout, state, {"/news/a": b"<html>a</html>"})
    a = state.get(SITE + "/news/a")
    assert a is not None
    state.put(replace(a, record_file="NEWSARCHIVE-20240506070809-00000-other-worker-9.warc.gz"))
    items, report = pending_of(layout, state)
    assert items == [] and report.texts_elsewhere == 1


def test_recovery_of_a_torn_file_decodes_under_the_crawls_limit(tmp_path: Path) -> None:
    """One limit: a body the crawl would not decode (NEWSARCHIVE_MAX_DECODED_SIZE) is not decoded here."""
    layout = ArchiveLayout(tmp_path)
    layout.create()
    factory = fixed_factory()
    page_body = b"<html><p>" + b"news " * 4000 + b"</p></html>"
    packed = gzip.compress(page_body)
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
        f"Content-Length: {len(packed)}\r\n\r\n"
    ).encode()
    response = factory.response(SITE + "/news/big", DATE, head, packed)
    left_open(layout.capture_dir, "NEWSARCHIVE-x.warc.gz", factory, [response, page(factory, "/torn", b"x")])
    state = SqliteStateStore(layout.state_dir / "state.sqlite3")
    report = RecoveryReport()
    results = repair_files(layout, report)
    (item,) = reconcile_state(results, layout.capture_dir, state, is_article, {}, report, max_decoded=10_000)
    assert item.body == b""
    big = state.get(SITE + "/news/big")
    assert big is not None and big.content_digest is None, "not decoded, as the crawl would not"
