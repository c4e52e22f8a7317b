"""Start-of-run recovery writes the texts a killed run missed exactly as the crawl writes them.

Real files throughout: the killed run's torn capture file is built from real records, the
recovery runs the real extraction, and what it writes is compared byte for byte (uncompressed)
with :func:`archive.textrecords.article_records`, the function the crawl's archiver uses.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archive.layout import ArchiveLayout
from archive.records import RecordFactory, WarcRecord, serialize, warc_fields
from archive.repair import iter_members, iter_records
from archive.state import NO_TEXT, UrlState
from archive.textjob import run_text_job
from archive.textrecords import article_records
from archive.writer import DEFAULT_MAX_SIZE
from crawler.extensions.archiver import TEXT_DESCRIPTION, Archiver, sqlite_state_for
from crawler.run.recovery import RECOVERED_FIELD, recover_archive
from crawler.sources import Site
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
    report = recover_archive(layout, [SITE], factory=RecordFactory(make_id=fixed_ids(INJECTED)))
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
    recover_archive(layout, [SITE], info=info)
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
    recover_archive(layout, [SITE])
    _, text_records = written(layout.text_dir, f"{PREFIX}-TEXT")
    _, capture_records = written(layout.capture_dir, PREFIX)
    assert text_records[0].endswith(warc_fields([TEXT_DESCRIPTION]) + b"\r\n\r\n")
    assert capture_records[0].endswith(b"Content-Length: 0\r\n\r\n\r\n\r\n")


def test_without_open_files_nothing_is_opened(tmp_path: Path) -> None:
    layout = ArchiveLayout(tmp_path)
    layout.create()
    report = recover_archive(layout, [SITE], lambda: pytest.fail("the state was opened"))
    assert report.as_dict() == {
        "files_repaired": [],
        "files_removed": [],
        "bytes_cut": 0,
        "records_kept": 0,
        "state_updated": 0,
        "texts_completed": 0,
    }


def test_without_missing_texts_no_file_is_written(tmp_path: Path) -> None:
    layout, responses, _ = killed_run(tmp_path)
    (layout.capture_dir / f"{KILLED_CAPTURE}.open").unlink()
    factory = RecordFactory(make_id=fixed_ids("22222222-0000-0000-0000-"))
    warcinfo = factory.warcinfo(KILLED_CAPTURE, DATE, [])
    members = [serialize(warcinfo), serialize(responses["/"], warcinfo_id=warcinfo.record_id)]
    (layout.capture_dir / f"{KILLED_CAPTURE}.open").write_bytes(b"".join(members))
    report = recover_archive(layout, [SITE])
    assert report.texts_completed == 0 and report.state_updated == 1
    assert [p.name for p in layout.capture_dir.iterdir()] == [KILLED_CAPTURE]
    assert list(layout.text_dir.iterdir()) == []
