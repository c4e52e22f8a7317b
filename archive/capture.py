"""Turn one HTTP exchange into WARC records: a full response, or a revisit when nothing changed.

Deciding "unchanged" (cron re-crawls):
* ``304 Not Modified`` to a conditional request -> revisit, server-not-modified profile;
* ``200`` whose *content-decoded* body hashes like last time's -> revisit, identical-payload-digest
  profile. Hashing the decoded body means a server that gzips the same page differently from
  one run to the next (other level, other timestamp in the gzip header) does not defeat
  de-duplication.

What goes into a revisit (WARC 1.1 §6.7 lets the block be empty or the response headers):
pywb replays a revisit with the revisit's own HTTP headers over the original record's payload.
So the block must describe *that* payload: when the bytes received are the very bytes stored
before, the new response headers are used (the spec's recommendation); otherwise (a 304, or the
same content re-compressed) the block is the original response's status line and headers, and
the headers actually received are kept in the concurrent metadata record, so nothing is lost
and replay yields status 200 with the original payload. ``WARC-Payload-Digest`` is always the
digest of the stored payload the revisit points at, so it stays true to bytes on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from archive.digests import sha1_digest
from archive.http import Header, ResponseHead, request_header_block, response_header_block
from archive.records import PROFILE_IDENTICAL, PROFILE_NOT_MODIFIED, RecordFactory, WarcRecord
from archive.state import UrlState

# Request headers that may carry the operator's secrets: never written into a WARC.
SECRET_REQUEST_HEADERS = {b"authorization", b"proxy-authorization", b"cookie2"}


@dataclass(frozen=True, slots=True)
class Exchange:
    """Everything known about one fetch, as plain values."""

    url: str
    method: str
    request_headers: tuple[Header, ...]
    head: ResponseHead
    body: bytes | memoryview  # as received: content-encoded, de-chunked (a view when cut)
    decoded: bytes | None  # content-decoded body; None when it could not be decoded
    date: str  # WARC-Date shared by every record of this capture event
    request_body: bytes = b""
    ip: str | None = None
    fetch_ms: int | None = None
    truncated: str | None = None  # WARC-Truncated reason when the body was cut
    notes: tuple[tuple[str, str], ...] = ()  # extra crawl-time facts for the metadata record


@dataclass(slots=True)
class CapturePlan:
    """Records to write for one exchange and the state to remember afterwards."""

    kind: str  # "response" or "revisit"
    request: WarcRecord
    main: WarcRecord  # the response or revisit record
    metadata_fields: list[tuple[str, str]]
    state: UrlState
    changed: bool  # a new full response (new or changed content)
    content_digest: str | None = None
    # The metadata record waits for the page's text (set by the archiver: a whole, decodable,
    # new or changed article page); the text pipeline then writes it with the text records.
    awaits_text: bool = False

    @property
    def record_id(self) -> str:
        return self.main.record_id


def plan_capture(
    exchange: Exchange,
    previous: UrlState | None,
    factory: RecordFactory,
    *,
    is_article: bool = False,
) -> CapturePlan:
    head = exchange.head
    content_digest = sha1_digest(exchange.decoded) if exchange.decoded is not None else None
    received_head = response_header_block(head, len(exchange.body))
    payload_digest = sha1_digest(exchange.body)
    notes = list(exchange.notes)
    if exchange.fetch_ms is not None:
        notes.insert(0, ("fetchTimeMs", str(exchange.fetch_ms)))

    main: WarcRecord
    kind = "response"
    if _can_revisit(previous) and exchange.truncated is None:
        assert previous is not None
        if head.status == 304:
            kind = "revisit"
            main = _revisit(factory, exchange, previous, PROFILE_NOT_MODIFIED, _original_head(previous))
            notes += _received_fields(received_head)
        elif head.status == 200 and content_digest and content_digest == previous.content_digest:
            kind = "revisit"
            if payload_digest == previous.payload_digest:
                # The very bytes stored before: the new headers describe them (the spec's choice).
                main = _revisit(factory, exchange, previous, PROFILE_IDENTICAL, received_head)
            else:
                main = _revisit(factory, exchange, previous, PROFILE_IDENTICAL, _original_head(previous))
                notes += _received_fields(received_head)
                notes.append(("payload-digest-received", payload_digest))
    if kind == "response":
        main = factory.response(
            exchange.url,
            exchange.date,
            received_head,
            exchange.body,
            ip=exchange.ip,
            truncated=exchange.truncated,
            payload_digest=payload_digest,
        )
    request = factory.request(
        exchange.url,
        exchange.date,
        request_header_block(
            exchange.method,
            exchange.url,
            [(k, v) for k, v in exchange.request_headers if k.lower() not in SECRET_REQUEST_HEADERS],
        ),
        exchange.request_body,
        ip=exchange.ip,
    )
    # WARC 1.1 §5.7: records of one capture event point at each other.
    request.headers.insert(3, ("WARC-Concurrent-To", main.record_id))
    state = _next_state(exchange, previous, kind, main, received_head, content_digest, is_article)
    if content_digest:
        notes.append(("content-digest", content_digest))
    return CapturePlan(
        kind=kind,
        request=request,
        main=main,
        metadata_fields=notes,
        state=state,
        changed=kind == "response",
        content_digest=content_digest,
    )


def _can_revisit(previous: UrlState | None) -> bool:
    """Only a whole earlier response can be pointed at.

    An article whose text is still pending (its extraction failed, or the run was stopped before
    it) is revisited too when the state knows where its response is stored (``record_file``):
    the start of every run completes pending texts from the stored responses
    (:mod:`archive.recovery`), so the unchanged page is not fetched and archived again. Without
    that place (a state of an older version) it is archived in full again, so its text is
    extracted this time."""
    return bool(
        previous
        and previous.record_id
        and previous.payload_digest
        and previous.record_date
        and previous.status == 200
        and not (previous.is_article and previous.text_record_id is None and not previous.record_file)
    )


def _original_head(previous: UrlState) -> bytes:
    return (previous.response_head or "").encode("latin-1")


def _revisit(
    factory: RecordFactory, exchange: Exchange, previous: UrlState, profile: str, block: bytes
) -> WarcRecord:
    """A revisit of ``previous``: its payload digest (true to the bytes stored), ``block`` replayable with them."""
    return factory.revisit(
        exchange.url,
        exchange.date,
        block,
        profile=profile,
        refers_to=str(previous.record_id),
        refers_to_uri=previous.url,
        refers_to_date=str(previous.record_date),
        payload_digest=str(previous.payload_digest),
        ip=exchange.ip,
    )


def _received_fields(head_block: bytes) -> list[tuple[str, str]]:
    """The response actually received, one warc-fields line per header (nothing is lost)."""
    lines = head_block.decode("latin-1").split("\r\n")
    out = [("http-status-line-received", lines[0])]
    out += [("http-header-received", line) for line in lines[1:] if line]
    return out


def _next_state(
    exchange: Exchange,
    previous: UrlState | None,
    kind: str,
    main: WarcRecord,
    received_head: bytes,
    content_digest: str | None,
    is_article: bool,
) -> UrlState:
    head = exchange.head
    base = previous or UrlState(url=exchange.url, first_seen=exchange.date)
    etag = head.get(b"etag")
    last_modified = head.get(b"last-modified")
    state = replace(
        base,
        last_fetch=exchange.date,
        is_article=is_article or base.is_article,
        etag=etag.decode("latin-1") if etag else (base.etag if head.status == 304 else None),
        last_modified=(
            last_modified.decode("latin-1")
            if last_modified
            else (base.last_modified if head.status == 304 else None)
        ),
    )
    if kind == "response":
        state = replace(
            state,
            status=head.status,
            payload_digest=main.get("WARC-Payload-Digest"),
            content_digest=content_digest,
            record_id=main.record_id,
            record_date=exchange.date,
            record_file=None,
            record_offset=None,
            response_head=received_head.decode("latin-1"),
            text_record_id=None,
            text_attempts=0,  # a new response: its text has had no attempt yet
        )
    return state
