"""WARC 1.1 records for one capture event, built from plain values.

Each builder returns a :class:`WarcRecord` (ordered WARC headers + exact block bytes);
:func:`serialize` frames it (WARC 1.1 §4: header block, blank line, block, two CRLF) and
gzips it as its own member (Annex D, "record-at-time compression").

Field rules enforced here (WARC 1.1 §5):
* ``WARC-Concurrent-To`` and ``WARC-IP-Address`` never on ``conversion``/``warcinfo`` (§5.7, §5.9);
* ``WARC-Refers-To-Target-URI``/``-Date`` only on ``revisit`` (§5.12, §5.13);
* ``WARC-Payload-Digest`` only where there is a payload: request/response (over the entity body
  as stored), revisit (the original's); never on metadata or conversion (FastWARC flags it);
* all records of one capture share ``WARC-Date`` (§5.4).

Record ids and dates are injected (``make_id``) so tests can compare bytes exactly.
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from archive.digests import StreamingDigest, sha1_digest

WARC_VERSION = "WARC/1.1"
PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
HTTP_REQUEST = "application/http; msgtype=request"
HTTP_RESPONSE = "application/http; msgtype=response"
WARC_FIELDS = "application/warc-fields"
CONFORMS_TO = "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"

GZIP_LEVEL = 6  # level 9 costs ~2x the CPU for ~2 % smaller files on news HTML


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def warc_date(moment: datetime | None = None) -> str:
    """W3C-DTF UTC with microseconds (WARC 1.1 §5.4 allows 1-9 fractional digits)."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


Bytes = bytes | memoryview


@dataclass(slots=True)
class WarcRecord:
    """One record: its type, ordered named fields, and the block as parts (e.g. HTTP head, body).

    Keeping the parts apart means a 32 MB body is never copied to be framed, digested or
    compressed: each step walks the parts in order.
    """

    rec_type: str
    headers: list[tuple[str, str]]
    parts: tuple[Bytes, ...]
    content_type: str | None = None
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def block(self) -> bytes:
        return b"".join(self.parts)

    @property
    def length(self) -> int:
        return sum(len(p) for p in self.parts)

    def get(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    @property
    def record_id(self) -> str:
        value = self.get("WARC-Record-ID")
        assert value is not None
        return value


class RecordFactory:
    """Builds the records of the capture and text streams."""

    def __init__(self, make_id: Callable[[], str] = new_record_id) -> None:
        self._make_id = make_id

    def _base(self, rec_type: str, url: str | None, date: str) -> list[tuple[str, str]]:
        headers = [("WARC-Type", rec_type), ("WARC-Record-ID", self._make_id()), ("WARC-Date", date)]
        if url is not None:
            headers.append(("WARC-Target-URI", url))
        return headers

    def warcinfo(self, filename: str, date: str, info: Sequence[tuple[str, str]]) -> WarcRecord:
        headers = [
            ("WARC-Type", "warcinfo"),
            ("WARC-Record-ID", self._make_id()),
            ("WARC-Date", date),
            ("WARC-Filename", filename),
        ]
        return _finish(WarcRecord("warcinfo", headers, (warc_fields(info),), WARC_FIELDS))

    def request(
        self, url: str, date: str, head: bytes, body: Bytes = b"", *, ip: str | None = None
    ) -> WarcRecord:
        headers = self._base("request", url, date)
        if ip:
            headers.append(("WARC-IP-Address", ip))
        headers.append(("WARC-Payload-Digest", sha1_digest(body)))
        return _finish(WarcRecord("request", headers, (head, body), HTTP_REQUEST))

    def response(
        self,
        url: str,
        date: str,
        head: bytes,
        body: Bytes,
        *,
        ip: str | None = None,
        truncated: str | None = None,
        payload_digest: str | None = None,
    ) -> WarcRecord:
        """``truncated`` is a WARC-Truncated reason (``length``, ``time``...) when the body is cut."""
        headers = self._base("response", url, date)
        if ip:
            headers.append(("WARC-IP-Address", ip))
        headers.append(("WARC-Payload-Digest", payload_digest or sha1_digest(body)))
        if truncated:
            headers.append(("WARC-Truncated", truncated))
        return _finish(WarcRecord("response", headers, (head, body), HTTP_RESPONSE))

    def revisit(
        self,
        url: str,
        date: str,
        head: bytes,
        *,
        profile: str,
        refers_to: str,
        refers_to_uri: str,
        refers_to_date: str,
        payload_digest: str,
        ip: str | None = None,
    ) -> WarcRecord:
        """A headers-only revisit (WARC 1.1 §6.7): the block is HTTP headers, the payload is elsewhere.

        ``WARC-Truncated: length`` is required when the block is headers only (§6.7.2), and
        ``WARC-Refers-To`` is added because warcio's own builder forgets it.
        """
        headers = self._base("revisit", url, date)
        if ip:
            headers.append(("WARC-IP-Address", ip))
        headers += [
            ("WARC-Profile", profile),
            ("WARC-Refers-To", refers_to),
            ("WARC-Refers-To-Target-URI", refers_to_uri),
            ("WARC-Refers-To-Date", refers_to_date),
            ("WARC-Payload-Digest", payload_digest),
            ("WARC-Truncated", "length"),
        ]
        return _finish(WarcRecord("revisit", headers, (head,), HTTP_RESPONSE))

    def crawl_metadata(
        self, url: str, date: str, concurrent_to: str, fields: Sequence[tuple[str, str]]
    ) -> WarcRecord:
        """Crawl-time metadata (application/warc-fields): pywb and cdxj-indexer do not index it,
        so it can sit in the capture files without shadowing the page at replay."""
        headers = self._base("metadata", url, date)
        headers.append(("WARC-Concurrent-To", concurrent_to))
        return _finish(WarcRecord("metadata", headers, (warc_fields(fields),), WARC_FIELDS))

    def conversion(
        self,
        url: str,
        date: str,
        text: str,
        *,
        refers_to: str,
        languages: str,
        record_id: str | None = None,
    ) -> WarcRecord:
        """Main text of a page, Common Crawl WET style: original URI and date, no payload digest."""
        headers = [
            ("WARC-Type", "conversion"),
            ("WARC-Record-ID", record_id or self._make_id()),
            ("WARC-Date", date),
            ("WARC-Target-URI", url),
            ("WARC-Refers-To", refers_to),
        ]
        if languages:
            headers.append(("WARC-Identified-Content-Language", languages))
        block = text.encode("utf-8")
        return _finish(WarcRecord("conversion", headers, (block,), "text/plain; charset=utf-8"))

    def json_metadata(
        self, url: str, date: str, payload: dict[str, object], *, refers_to: str, languages: str
    ) -> WarcRecord:
        headers = self._base("metadata", url, date)
        headers.append(("WARC-Refers-To", refers_to))
        if languages:
            headers.append(("WARC-Identified-Content-Language", languages))
        block = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return _finish(WarcRecord("metadata", headers, (block,), "application/json"))


def crawl_warcinfo(
    *,
    software: str,
    run_id: str,
    hostname: str,
    robots_obeyed: bool,
    user_agent: str,
    python: str,
    operator: str | None = None,
) -> list[tuple[str, str]]:
    """The ``warcinfo`` fields of a crawl's files (WARC 1.1 §6.1 and Annex B), in their order."""
    fields = [
        ("software", software),
        ("format", "WARC File Format 1.1"),
        ("conformsTo", CONFORMS_TO),
        ("isPartOf", run_id),
        ("hostname", hostname),
        ("robots", "classic" if robots_obeyed else "ignore"),
        ("http-header-user-agent", user_agent),
        (
            "description",
            "HTTP exchanges rebuilt from Scrapy: bodies as received (content-encoded, de-chunked); "
            "status line with the server's reason phrase; header case is Twisted's canonical form; "
            "Transfer-Encoding renamed X-Crawler-Transfer-Encoding; Content-Length fixed to the stored body.",
        ),
        ("python", python),
    ]
    if operator:
        fields.insert(4, ("operator", operator))
    return fields


def warc_fields(fields: Iterable[tuple[str, str]]) -> bytes:
    """``application/warc-fields`` block: one ``name: value`` line each (WARC 1.1 §4)."""
    lines = []
    for name, value in fields:
        clean = str(value).replace("\r", " ").replace("\n", " ")
        lines.append(f"{name}: {clean}\r\n")
    return "".join(lines).encode("utf-8")


def _finish(record: WarcRecord) -> WarcRecord:
    digest = StreamingDigest()
    for part in record.parts:
        digest.update(part)
    record.headers.append(("WARC-Block-Digest", digest.value()))
    return record


def serialize(record: WarcRecord, *, warcinfo_id: str | None = None, gzip: bool = True) -> bytes:
    """The record's bytes on disk: one gzip member per record when ``gzip``."""
    lines = [WARC_VERSION]
    type_done = False
    for name, value in record.headers:
        lines.append(f"{name}: {_clean(value)}")
        if name == "WARC-Type":
            type_done = True
        if type_done and warcinfo_id and name == "WARC-Date" and record.rec_type != "warcinfo":
            lines.append(f"WARC-Warcinfo-ID: {warcinfo_id}")
    length = record.length
    if record.content_type and length:
        lines.append(f"Content-Type: {record.content_type}")
    lines.append(f"Content-Length: {length}")
    pieces: list[Bytes] = [("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"), *record.parts, b"\r\n\r\n"]
    if not gzip:
        return b"".join(pieces)
    if _payload_is_compressed(record):
        return _gzip_storing_payload(pieces[:2], pieces[2:])
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    out = [compressor.compress(piece) for piece in pieces]
    out.append(compressor.flush())
    return b"".join(out)


# RFC 1952 member header: deflate, no flags, no mtime, no extra flags, OS "Unix" (as zlib writes it).
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
_COMPRESSED_TYPES = (b"image/", b"video/", b"audio/", b"application/zip", b"application/gzip", b"font/woff")


def _payload_is_compressed(record: WarcRecord) -> bool:
    """A response whose body is gzip/br/deflate-encoded, or an image, video or archive: deflate
    cannot shrink it (level 6 spends ~0.5 ms per 20 kB page to save nothing)."""
    if record.rec_type != "response" or len(record.parts) != 2 or len(record.parts[1]) < 1024:
        return False
    head = bytes(record.parts[0][:8192]).lower()
    if b"\ncontent-encoding:" in head:
        encoding = head.split(b"\ncontent-encoding:", 1)[1].split(b"\r\n", 1)[0].strip()
        return encoding not in (b"", b"identity")
    type_start = head.find(b"\ncontent-type:")
    if type_start < 0:
        return False
    content_type = head[type_start + 14 :].split(b"\r\n", 1)[0].strip()
    return content_type.startswith(_COMPRESSED_TYPES)


def _gzip_storing_payload(compressed: list[Bytes], stored: list[Bytes]) -> bytes:
    """One gzip member (RFC 1952) whose deflate stream (RFC 1951) compresses the WARC and HTTP
    headers and carries the already-compressed payload in stored blocks.

    The headers' deflate output is sync-flushed (byte-aligned, not final), and level-0 deflate
    output follows it: stored blocks hold no back-references, so the two concatenate into one
    valid stream. Any gzip reader sees an ordinary member; the file is as small as with level 6.
    """
    crc = 0
    size = 0
    out: list[bytes] = [_GZIP_HEADER]
    headers = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15)
    for piece in compressed:
        out.append(headers.compress(piece))
        crc = zlib.crc32(piece, crc)
        size += len(piece)
    out.append(headers.flush(zlib.Z_SYNC_FLUSH))
    payload = zlib.compressobj(0, zlib.DEFLATED, -15)
    for piece in stored:
        out.append(payload.compress(piece))
        crc = zlib.crc32(piece, crc)
        size += len(piece)
    out.append(payload.flush())
    out.append((crc & 0xFFFFFFFF).to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little"))
    return b"".join(out)


def _clean(value: str) -> str:
    return value.replace("\r", " ").replace("\n", " ")
