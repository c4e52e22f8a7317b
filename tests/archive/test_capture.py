"""plan_capture: a full response, or a revisit whose headers and digest stay true to stored bytes."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from archive.capture import Exchange, plan_capture
from archive.http import ResponseHead
from archive.records import PROFILE_IDENTICAL, PROFILE_NOT_MODIFIED, RecordFactory, serialize
from archive.state import UrlState
from archive.writer import WarcFileWriter
from tests.helpers import fixed_factory, sha1_b32, validate_warc_file

URL = "https://example.com/ur/news/1?page=2"
HTML = "<html><body><p>خبر</p></body></html>".encode()
DAY1, DAY2, DAY3 = (f"2024-05-0{d}T00:00:00.000000Z" for d in (1, 2, 3))
REQUEST_HEADERS = (
    (b"Accept", b"text/html"),
    (b"Authorization", b"Bearer s3cret-token"),
    (b"proxy-authorization", b"Basic cHJveHk6czNjcmV0"),
    (b"Accept-Encoding", b"gzip, deflate, br"),
)


def ok_head(body: bytes, *extra: tuple[bytes, bytes], reason: str = "OK") -> ResponseHead:
    headers = (
        (b"Content-Type", b"text/html; charset=utf-8"),
        (b"Content-Encoding", b"gzip"),
        (b"ETag", b'"v1"'),
        (b"Last-Modified", b"Wed, 01 May 2024 00:00:00 GMT"),
        (b"Content-Length", str(len(body)).encode()),
        *extra,
    )
    return ResponseHead("HTTP/1.1", 200, reason, headers)


def exchange(head: ResponseHead, body: bytes, decoded: bytes | None, date: str, **kw) -> Exchange:
    return Exchange(URL, "GET", REQUEST_HEADERS, head, body, decoded, date, ip="127.0.0.1", **kw)


@pytest.fixture
def factory() -> RecordFactory:
    return fixed_factory()


@pytest.fixture
def first(factory: RecordFactory):
    body = gzip.compress(HTML, mtime=1)
    plan = plan_capture(exchange(ok_head(body), body, HTML, DAY1), None, factory, is_article=True)
    assert plan.state.text_record_id is None, "an article's text is pending until it is written"
    plan.state.text_record_id = "<urn:uuid:text-written>"  # what the archiver records after the text
    return plan, body


def test_an_article_whose_text_was_never_written_is_archived_again(factory: RecordFactory) -> None:
    """A run stopped between the capture and its text (disk full): the next fetch must not be a
    revisit, or the text would never be extracted."""
    body = gzip.compress(HTML, mtime=1)
    pending = plan_capture(exchange(ok_head(body), body, HTML, DAY1), None, factory, is_article=True).state
    again = plan_capture(exchange(ok_head(body), body, HTML, DAY2), pending, factory, is_article=True)
    assert again.kind == "response" and again.changed


def test_first_sight_is_a_full_response(first) -> None:
    plan, body = first
    assert plan.kind == "response" and plan.changed
    assert plan.main.rec_type == "response"
    assert plan.main.block.endswith(body)
    assert plan.main.get("WARC-Payload-Digest") == sha1_b32(body)  # over the bytes stored (gzip)
    assert plan.content_digest == sha1_b32(HTML)  # over the decoded content
    assert plan.main.get("WARC-IP-Address") == "127.0.0.1"
    state = plan.state
    assert state.record_id == plan.main.record_id and state.record_date == DAY1
    assert state.payload_digest == sha1_b32(body) and state.content_digest == sha1_b32(HTML)
    assert state.status == 200 and state.etag == '"v1"' and state.is_article
    assert state.response_head is not None
    assert state.response_head.encode("latin-1") + body == plan.main.block
    assert state.first_seen == DAY1 and state.last_fetch == DAY1
    assert ("content-digest", sha1_b32(HTML)) in plan.metadata_fields


def test_request_record_has_no_credentials_and_points_at_the_main_record(first) -> None:
    plan, _ = first
    block = plan.request.block
    assert b"s3cret" not in block and b"cHJveHk6czNjcmV0" not in block
    assert b"authorization" not in block.lower()
    assert block.startswith(b"GET /ur/news/1?page=2 HTTP/1.1\r\nHost: example.com\r\n")
    assert b"\r\nAccept-Encoding: gzip, deflate, br\r\n" in block
    assert plan.request.get("WARC-Concurrent-To") == plan.main.record_id
    assert plan.request.get("WARC-Date") == plan.main.get("WARC-Date") == DAY1
    assert plan.request.get("WARC-Target-URI") == plan.main.get("WARC-Target-URI") == URL


def test_304_with_known_state_is_a_server_not_modified_revisit(factory: RecordFactory, first) -> None:
    plan1, body = first
    head304 = ResponseHead(
        "HTTP/1.1", 304, "Not Modified", ((b"ETag", b'"v1"'), (b"Date", b"Thu, 02 May 2024 00:00:00 GMT"))
    )
    plan = plan_capture(exchange(head304, b"", None, DAY2), plan1.state, factory)
    assert plan.kind == "revisit" and not plan.changed
    rev = plan.main
    assert rev.get("WARC-Profile") == PROFILE_NOT_MODIFIED
    assert rev.get("WARC-Refers-To") == plan1.main.record_id
    assert rev.get("WARC-Refers-To-Target-URI") == URL
    assert rev.get("WARC-Refers-To-Date") == DAY1
    assert rev.get("WARC-Payload-Digest") == sha1_b32(body)
    assert rev.get("WARC-Truncated") == "length"
    # The block is the ORIGINAL response head: replay yields 200 + the original payload.
    assert rev.block == plan1.state.response_head.encode("latin-1")
    assert rev.block.startswith(b"HTTP/1.1 200 OK\r\n")
    # What the server really said is kept in the metadata fields.
    assert ("http-status-line-received", "HTTP/1.1 304 Not Modified") in plan.metadata_fields
    assert ("http-header-received", "Date: Thu, 02 May 2024 00:00:00 GMT") in plan.metadata_fields
    assert ("http-header-received", 'ETag: "v1"') in plan.metadata_fields
    # The state still describes the stored response, with the fetch date moved on.
    assert plan.state.record_id == plan1.state.record_id
    assert plan.state.status == 200 and plan.state.last_fetch == DAY2
    assert plan.state.etag == '"v1"'
    assert plan.state.last_modified == "Wed, 01 May 2024 00:00:00 GMT"  # kept from before on a 304


def test_same_bytes_again_is_an_identical_payload_revisit_with_the_new_headers(
    factory: RecordFactory, first
) -> None:
    plan1, body = first
    head2 = ok_head(body, (b"Date", b"Thu, 02 May 2024 00:00:00 GMT"), reason="Fine")
    plan = plan_capture(exchange(head2, body, HTML, DAY2), plan1.state, factory)
    assert plan.kind == "revisit"
    rev = plan.main
    assert rev.get("WARC-Profile") == PROFILE_IDENTICAL
    assert rev.get("WARC-Payload-Digest") == sha1_b32(body) == plan1.main.get("WARC-Payload-Digest")
    assert rev.block.startswith(b"HTTP/1.1 200 Fine\r\n")  # the headers received now
    assert b"\r\nDate: Thu, 02 May 2024 00:00:00 GMT\r\n" in rev.block
    assert rev.block.endswith(b"\r\n\r\n") and body not in rev.block
    assert not any(name == "http-status-line-received" for name, _ in plan.metadata_fields)
    assert plan.state.record_id == plan1.state.record_id


def test_same_content_recompressed_is_a_revisit_true_to_the_stored_bytes(
    factory: RecordFactory, first
) -> None:
    plan1, body1 = first
    body2 = gzip.compress(HTML, compresslevel=1, mtime=2)
    assert body2 != body1
    plan = plan_capture(exchange(ok_head(body2), body2, HTML, DAY2), plan1.state, factory)
    assert plan.kind == "revisit"
    rev = plan.main
    assert rev.get("WARC-Profile") == PROFILE_IDENTICAL
    # The digest is the ORIGINAL's: the revisit points at bytes that exist in the archive.
    assert rev.get("WARC-Payload-Digest") == plan1.main.get("WARC-Payload-Digest") == sha1_b32(body1)
    # The block is the original head, whose Content-Length matches the original payload.
    assert rev.block == plan1.state.response_head.encode("latin-1")
    assert f"Content-Length: {len(body1)}\r\n".encode() in rev.block
    assert ("payload-digest-received", sha1_b32(body2)) in plan.metadata_fields
    assert ("http-header-received", f"Content-Length: {len(body2)}") in plan.metadata_fields
    assert plan.state.payload_digest == sha1_b32(body1)


def test_changed_content_is_a_new_response(factory: RecordFactory, first) -> None:
    plan1, _ = first
    html2 = HTML.replace("خبر".encode(), "تازہ خبر".encode())
    body2 = gzip.compress(html2, mtime=1)
    head2 = ok_head(body2)
    plan = plan_capture(exchange(head2, body2, html2, DAY2), plan1.state, factory)
    assert plan.kind == "response" and plan.changed
    assert plan.main.block.endswith(body2)
    assert plan.state.record_id == plan.main.record_id != plan1.main.record_id
    assert plan.state.record_date == DAY2
    assert plan.state.content_digest == sha1_b32(html2)
    assert plan.state.first_seen == DAY1


@pytest.mark.parametrize("status", [301, 404, 500])
def test_other_statuses_are_full_responses(factory: RecordFactory, first, status: int) -> None:
    plan1, _ = first
    head = ResponseHead("HTTP/1.1", status, None, ())
    plan = plan_capture(exchange(head, b"", b"", DAY2), plan1.state, factory)
    assert plan.kind == "response"
    assert plan.main.block.startswith(f"HTTP/1.1 {status} ".encode())
    assert plan.state.status == status


def test_304_without_usable_state_is_stored_as_a_response(factory: RecordFactory) -> None:
    head304 = ResponseHead("HTTP/1.1", 304, "Not Modified", ())
    plan = plan_capture(exchange(head304, b"", None, DAY1), None, factory)
    assert plan.kind == "response"
    stale = UrlState(url=URL, status=404, record_id="<x>", payload_digest="sha1:X", record_date=DAY1)
    assert plan_capture(exchange(head304, b"", None, DAY2), stale, factory).kind == "response"


def test_undecodable_body_is_never_a_revisit(factory: RecordFactory, first) -> None:
    plan1, body = first
    plan = plan_capture(exchange(ok_head(body), body, None, DAY2), plan1.state, factory)
    assert plan.kind == "response"
    assert plan.content_digest is None


def test_truncated_body_is_never_a_revisit(factory: RecordFactory, first) -> None:
    plan1, body = first
    plan = plan_capture(exchange(ok_head(body), body, HTML, DAY2, truncated="length"), plan1.state, factory)
    assert plan.kind == "response"
    assert plan.main.get("WARC-Truncated") == "length"


def test_fetch_time_and_notes_go_into_metadata_fields(factory: RecordFactory) -> None:
    body = b"plain"
    head = ResponseHead("HTTP/1.1", 200, "OK", ())
    ex = exchange(head, body, body, DAY1, fetch_ms=42, notes=(("robots", "allowed"),))
    plan = plan_capture(ex, None, factory)
    assert plan.metadata_fields[0] == ("fetchTimeMs", "42")
    assert ("robots", "allowed") in plan.metadata_fields


def test_a_cron_sequence_written_to_disk_validates(tmp_path: Path, factory: RecordFactory, first) -> None:
    """Response, 304 revisit, identical revisit, recompressed revisit, changed response: one file."""
    plan1, body1 = first
    plans = [plan1]
    head304 = ResponseHead("HTTP/1.1", 304, "Not Modified", ((b"ETag", b'"v1"'),))
    plans.append(plan_capture(exchange(head304, b"", None, DAY2), plans[-1].state, factory))
    plans.append(plan_capture(exchange(ok_head(body1), body1, HTML, DAY2), plans[-1].state, factory))
    body2 = gzip.compress(HTML, compresslevel=9, mtime=7)
    plans.append(plan_capture(exchange(ok_head(body2), body2, HTML, DAY3), plans[-1].state, factory))
    html3 = HTML + b"<!-- changed -->"
    plans.append(plan_capture(exchange(ok_head(html3), html3, html3, DAY3), plans[-1].state, factory))
    assert [p.kind for p in plans] == ["response", "revisit", "revisit", "revisit", "response"]
    writer = WarcFileWriter(tmp_path, "cron", factory=factory, fsync=False)
    for plan in plans:
        meta = factory.crawl_metadata(
            URL, plan.main.get("WARC-Date") or "", plan.record_id, plan.metadata_fields
        )
        writer.write([plan.request, plan.main, meta])
    path = writer.close()
    assert path is not None
    records = validate_warc_file(path)
    revisits = [r for r in records if r.rec_type == "revisit"]
    assert len(revisits) == 3
    for rev in revisits:
        assert rev.get("WARC-Refers-To") == plan1.main.record_id
        assert rev.http_headers is not None and rev.http_headers.get_statuscode() == "200"
    assert all(b"s3cret" not in serialize(p.request, gzip=False) for p in plans)
