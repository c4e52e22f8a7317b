"""A failed extraction is not "no text": it is recorded, counted per capture, retried, then given up.

Pure functions of plain values (:func:`archive.textrecords.article_records`,
:func:`archive.capture.plan_capture`), with records built by a real factory and read back as
written.
"""

from __future__ import annotations

import gzip
from dataclasses import replace

from archive.capture import Exchange, plan_capture
from archive.http import ResponseHead
from archive.records import PROFILE_NOT_MODIFIED, serialize
from archive.state import NO_TEXT, TEXT_FAILED, UrlState, needs_text
from archive.textrecords import DEFAULT_TEXT_ATTEMPTS, article_records, failure_cause
from tests.helpers import fixed_factory

URL = "https://news.example/news/1"
DAY1, DAY2 = "2024-05-01T00:00:00.000000Z", "2024-05-02T00:00:00.000000Z"
HTML = b"<html><body><article><p>The council met on Tuesday.</p></article></body></html>"
FIELDS = [("fetchTimeMs", "12")]


def captured() -> UrlState:
    """An article's state right after its response was archived (text pending)."""
    return UrlState(
        url=URL,
        last_fetch=DAY1,
        status=200,
        etag='"v1"',
        payload_digest="sha1:AAAA",
        content_digest="sha1:BBBB",
        record_id="<urn:uuid:response>",
        record_date=DAY1,
        record_file="NEWSARCHIVE-1.warc.gz",
        record_offset=1234,
        response_head="HTTP/1.1 200 OK\r\nETag: \"v1\"\r\n\r\n",
        is_article=True,
        first_seen=DAY1,
    )


def block(record: object) -> str:
    return serialize(record, gzip=False).decode("utf-8")  # type: ignore[arg-type]


def test_a_failed_extraction_keeps_the_text_pending_and_says_why() -> None:
    built = article_records(fixed_factory(), captured(), FIELDS, None, site="s", error="worker process died")
    assert built.text == () and built.conversion_id is None and built.language is None
    assert built.failed and not built.given_up
    assert built.state == replace(captured(), text_attempts=1)
    assert built.state.text_record_id is None and needs_text(built.state), "pending, never NO_TEXT"
    written = block(built.capture)
    assert "WARC-Concurrent-To: <urn:uuid:response>" in written
    assert "fetchTimeMs: 12\r\n" in written
    assert "text-extraction-error: worker process died\r\n" in written
    assert "text-extraction: failed (attempt 1 of 3)" in written
    assert "no article text found" not in written


def test_the_last_allowed_attempt_gives_the_text_up() -> None:
    state = captured()
    for attempt in range(1, DEFAULT_TEXT_ATTEMPTS + 1):
        built = article_records(fixed_factory(), state, [], None, site="s", error="timeout after 120s")
        state = built.state
        assert state.text_attempts == attempt
    assert built.given_up and state.text_record_id == TEXT_FAILED != NO_TEXT
    assert not needs_text(state)
    assert "text-extraction: failed 3 time(s): given up" in block(built.capture)
    once = article_records(fixed_factory(), captured(), [], None, site="s", error="x", max_attempts=1)
    assert once.given_up, "NEWSARCHIVE_TEXT_ATTEMPTS=1: no retry"


def test_no_text_found_is_not_a_failure() -> None:
    built = article_records(fixed_factory(), captured(), FIELDS, None, site="s")
    assert not built.failed and built.state.text_record_id == NO_TEXT
    assert "text-extraction: no article text found" in block(built.capture)


def test_failure_causes_are_the_error_up_to_its_colon() -> None:
    assert failure_cause("worker process died") == "worker process died"
    assert failure_cause("timeout after 120s") == "timeout after 120s"
    assert failure_cause("ModuleNotFoundError: No module named 'lxml'") == "ModuleNotFoundError"


def exchange(head: ResponseHead, body: bytes, decoded: bytes | None, date: str) -> Exchange:
    return Exchange(URL, "GET", (), head, body, decoded, date)


def test_a_304_of_a_page_whose_text_failed_is_a_revisit_and_its_text_stays_pending() -> None:
    """The stored response completes the text (every run's start): the page is not archived again."""
    failed = replace(captured(), text_attempts=1)
    head304 = ResponseHead("HTTP/1.1", 304, "Not Modified", ((b"ETag", b'"v1"'),))
    plan = plan_capture(exchange(head304, b"", None, DAY2), failed, fixed_factory(), is_article=True)
    assert plan.kind == "revisit" and plan.main.get("WARC-Profile") == PROFILE_NOT_MODIFIED
    assert plan.main.get("WARC-Refers-To") == failed.record_id
    assert plan.state.record_id == failed.record_id and plan.state.status == 200
    assert needs_text(plan.state) and plan.state.text_attempts == 1


def test_a_new_response_starts_its_attempts_afresh() -> None:
    body = gzip.compress(HTML, mtime=1)
    head = ResponseHead("HTTP/1.1", 200, "OK", ((b"Content-Encoding", b"gzip"),))
    given_up = replace(captured(), text_record_id=TEXT_FAILED, text_attempts=3)
    plan = plan_capture(exchange(head, body, HTML, DAY2), given_up, fixed_factory(), is_article=True)
    assert plan.kind == "response" and plan.changed
    assert plan.state.text_record_id is None and plan.state.text_attempts == 0
