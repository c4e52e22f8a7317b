"""WARC record builders and their framing (WARC 1.1 §4, §5, §6.7, Annex D; findings §1.1, gotchas 2-3)."""

from __future__ import annotations

import gzip
import random
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from archive.records import (
    PROFILE_IDENTICAL,
    PROFILE_NOT_MODIFIED,
    RecordFactory,
    WarcRecord,
    new_record_id,
    serialize,
    warc_date,
    warc_fields,
)
from tests.helpers import fixed_factory, fixed_ids, read_records, sha1_b32, validate_warc_file, warcio_check

DATE = "2024-05-06T07:08:09.123456Z"
URL = "https://example.com/ur/news/1"
REQUEST_HEAD = b"GET /ur/news/1 HTTP/1.1\r\nHost: example.com\r\n\r\n"
RESPONSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
WARCINFO_ID = "<urn:uuid:00000000-0000-0000-0000-000000000000>"
RESPONSE_ID = "<urn:uuid:00000000-0000-0000-0000-000000000002>"


def build_all(factory: RecordFactory | None = None) -> dict[str, WarcRecord]:
    """One record of every kind, ids 000..006 in this order."""
    f = factory or fixed_factory()
    records = {
        "warcinfo": f.warcinfo(
            "x.warc.gz", DATE, [("software", "newsarchive/0.1"), ("format", "WARC File Format 1.1")]
        )
    }
    records["request"] = f.request(URL, DATE, REQUEST_HEAD, ip="127.0.0.1")
    records["response"] = f.response(URL, DATE, RESPONSE_HEAD, b"hello", ip="127.0.0.1")
    records["revisit"] = f.revisit(
        URL,
        DATE,
        RESPONSE_HEAD,
        profile=PROFILE_IDENTICAL,
        refers_to=RESPONSE_ID,
        refers_to_uri=URL,
        refers_to_date=DATE,
        payload_digest=str(records["response"].get("WARC-Payload-Digest")),
    )
    records["metadata"] = f.crawl_metadata(URL, DATE, RESPONSE_ID, [("fetchTimeMs", "12")])
    records["conversion"] = f.conversion(URL, DATE, "خبر\nhello", refers_to=RESPONSE_ID, languages="urd,eng")
    records["json"] = f.json_metadata(
        URL, DATE, {"title": "خبر", "a": 1}, refers_to=RESPONSE_ID, languages="urd"
    )
    return records


_COMMON = (
    b"WARC-Date: 2024-05-06T07:08:09.123456Z\r\n"
    b"WARC-Warcinfo-ID: <urn:uuid:00000000-0000-0000-0000-000000000000>\r\n"
    b"WARC-Target-URI: https://example.com/ur/news/1\r\n"
)
GOLDEN = {
    "warcinfo": (
        b"WARC/1.1\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000000>\r\n"
        b"WARC-Date: 2024-05-06T07:08:09.123456Z\r\nWARC-Filename: x.warc.gz\r\n"
        b"WARC-Block-Digest: sha1:YYONSMF4HE2LDWVV24SHQECRAPYX75NO\r\n"
        b"Content-Type: application/warc-fields\r\nContent-Length: 57\r\n\r\n"
        b"software: newsarchive/0.1\r\nformat: WARC File Format 1.1\r\n\r\n\r\n"
    ),
    "request": (
        b"WARC/1.1\r\nWARC-Type: request\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n"
        + _COMMON
        + b"WARC-IP-Address: 127.0.0.1\r\n"
        b"WARC-Payload-Digest: sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ\r\n"
        b"WARC-Block-Digest: sha1:K3XZVI7A5NU32TLHJKEG3XE6MCZHXOFK\r\n"
        b"Content-Type: application/http; msgtype=request\r\nContent-Length: 46\r\n\r\n"
        b"GET /ur/news/1 HTTP/1.1\r\nHost: example.com\r\n\r\n\r\n\r\n"
    ),
    "response": (
        b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000002>\r\n"
        + _COMMON
        + b"WARC-IP-Address: 127.0.0.1\r\n"
        b"WARC-Payload-Digest: sha1:VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N\r\n"
        b"WARC-Block-Digest: sha1:EIXNIFVWRF6HI2HGZIS7J43FJMLM4H6K\r\n"
        b"Content-Type: application/http; msgtype=response\r\nContent-Length: 43\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello\r\n\r\n"
    ),
    "revisit": (
        b"WARC/1.1\r\nWARC-Type: revisit\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000003>\r\n"
        + _COMMON
        + b"WARC-Profile: http://netpreserve.org/warc/1.1/revisit/identical-payload-digest\r\n"
        b"WARC-Refers-To: <urn:uuid:00000000-0000-0000-0000-000000000002>\r\n"
        b"WARC-Refers-To-Target-URI: https://example.com/ur/news/1\r\n"
        b"WARC-Refers-To-Date: 2024-05-06T07:08:09.123456Z\r\n"
        b"WARC-Payload-Digest: sha1:VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N\r\n"
        b"WARC-Truncated: length\r\n"
        b"WARC-Block-Digest: sha1:GMW3SJM2RXYRHM3EZMEEQTP277YNVKZG\r\n"
        b"Content-Type: application/http; msgtype=response\r\nContent-Length: 38\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n\r\n\r\n"
    ),
    "metadata": (
        b"WARC/1.1\r\nWARC-Type: metadata\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000004>\r\n"
        + _COMMON
        + b"WARC-Concurrent-To: <urn:uuid:00000000-0000-0000-0000-000000000002>\r\n"
        b"WARC-Block-Digest: sha1:NIB2BWQS3HN7KF3L6G2TWK32Q3RN52IO\r\n"
        b"Content-Type: application/warc-fields\r\nContent-Length: 17\r\n\r\n"
        b"fetchTimeMs: 12\r\n\r\n\r\n"
    ),
    "conversion": (
        b"WARC/1.1\r\nWARC-Type: conversion\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000005>\r\n"
        + _COMMON
        + b"WARC-Refers-To: <urn:uuid:00000000-0000-0000-0000-000000000002>\r\n"
        b"WARC-Identified-Content-Language: urd,eng\r\n"
        b"WARC-Block-Digest: sha1:MB4SUOAKRKY56X5GZB6BC6EYKCMDDZWN\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 12\r\n\r\n"
        + "خبر\nhello".encode()
        + b"\r\n\r\n"
    ),
    "json": (
        b"WARC/1.1\r\nWARC-Type: metadata\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000006>\r\n"
        + _COMMON
        + b"WARC-Refers-To: <urn:uuid:00000000-0000-0000-0000-000000000002>\r\n"
        b"WARC-Identified-Content-Language: urd\r\n"
        b"WARC-Block-Digest: sha1:C7SSGFE5T4T5T4NW2EEKUZKINIXV34NL\r\n"
        b"Content-Type: application/json\r\nContent-Length: 27\r\n\r\n"
        + '{"a": 1, "title": "خبر"}'.encode()
        + b"\r\n\r\n"
    ),
}


@pytest.mark.parametrize("kind", list(GOLDEN))
def test_golden_bytes(kind: str) -> None:
    record = build_all()[kind]
    warcinfo_id = None if kind == "warcinfo" else WARCINFO_ID
    assert serialize(record, warcinfo_id=warcinfo_id, gzip=False) == GOLDEN[kind]


@pytest.mark.parametrize("kind", list(GOLDEN))
def test_golden_digests_are_true(kind: str) -> None:
    """The golden literals are not just snapshots: their digests are recomputed here."""
    record = build_all()[kind]
    assert record.get("WARC-Block-Digest") == sha1_b32(record.block)
    if kind in ("request", "response"):
        payload = record.block.split(b"\r\n\r\n", 1)[1]
        assert record.get("WARC-Payload-Digest") == sha1_b32(payload)


@pytest.mark.parametrize("kind", list(GOLDEN))
def test_each_record_is_one_gzip_member(kind: str) -> None:
    record = build_all()[kind]
    member = serialize(record, warcinfo_id=WARCINFO_ID)
    decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
    raw = decomp.decompress(member)
    assert decomp.eof and decomp.unused_data == b""
    assert raw == serialize(record, warcinfo_id=WARCINFO_ID, gzip=False)
    assert gzip.decompress(member) == raw


def test_every_record_kind_passes_warcio_and_fastwarc(tmp_path: Path) -> None:
    records = build_all()
    path = tmp_path / "all.warc.gz"
    path.write_bytes(
        b"".join(
            serialize(r, warcinfo_id=None if k == "warcinfo" else WARCINFO_ID) for k, r in records.items()
        )
    )
    read = validate_warc_file(path)
    assert [r.rec_type for r in read] == [
        "warcinfo",
        "request",
        "response",
        "revisit",
        "metadata",
        "conversion",
        "metadata",
    ]
    report = warcio_check(path)
    assert "digest present but not checked (revisit)" in report
    assert report.count("digest pass") == 6


# --- field rules (WARC 1.1 §5; findings §1.1 and gotcha 2) --------------------------------------

# Fields each kind must carry and must not carry.
REQUIRED = {
    "warcinfo": {"WARC-Filename", "WARC-Block-Digest"},
    "request": {"WARC-Target-URI", "WARC-Payload-Digest", "WARC-Block-Digest"},
    "response": {"WARC-Target-URI", "WARC-Payload-Digest", "WARC-Block-Digest"},
    "revisit": {
        "WARC-Target-URI",
        "WARC-Profile",
        "WARC-Refers-To",
        "WARC-Refers-To-Target-URI",
        "WARC-Refers-To-Date",
        "WARC-Payload-Digest",
        "WARC-Truncated",
        "WARC-Block-Digest",
    },
    "metadata": {"WARC-Target-URI", "WARC-Concurrent-To", "WARC-Block-Digest"},
    "conversion": {"WARC-Target-URI", "WARC-Refers-To", "WARC-Block-Digest"},
    "json": {"WARC-Target-URI", "WARC-Refers-To", "WARC-Block-Digest"},
}
FORBIDDEN = {
    "warcinfo": {
        "WARC-Target-URI",
        "WARC-Concurrent-To",
        "WARC-IP-Address",
        "WARC-Payload-Digest",
        "WARC-Refers-To",
    },
    "request": {"WARC-Refers-To", "WARC-Filename", "WARC-Profile"},
    "response": {"WARC-Refers-To", "WARC-Filename", "WARC-Profile", "WARC-Truncated"},
    "revisit": {"WARC-Filename"},
    "metadata": {"WARC-Payload-Digest", "WARC-Filename", "WARC-Profile", "WARC-IP-Address"},
    "conversion": {
        "WARC-Payload-Digest",
        "WARC-Concurrent-To",
        "WARC-IP-Address",
        "WARC-Filename",
        "WARC-Profile",
    },
    "json": {"WARC-Payload-Digest", "WARC-Concurrent-To", "WARC-IP-Address", "WARC-Filename", "WARC-Profile"},
}
REVISIT_ONLY = {"WARC-Refers-To-Target-URI", "WARC-Refers-To-Date"}


@pytest.mark.parametrize("kind", list(GOLDEN))
def test_required_and_forbidden_fields(kind: str) -> None:
    record = build_all()[kind]
    names = {name for name, _ in record.headers}
    assert REQUIRED[kind] <= names, f"{kind} lacks {REQUIRED[kind] - names}"
    assert not FORBIDDEN[kind] & names, f"{kind} carries {FORBIDDEN[kind] & names}"
    if kind != "revisit":
        assert not REVISIT_ONLY & names
    for must in ("WARC-Type", "WARC-Record-ID", "WARC-Date"):
        assert [n for n, _ in record.headers].count(must) == 1
    assert len(names) == len(record.headers), "a field is repeated"


def test_revisit_is_a_headers_only_11_revisit() -> None:
    revisit = build_all()["revisit"]
    assert revisit.get("WARC-Truncated") == "length"
    assert revisit.get("WARC-Refers-To") == RESPONSE_ID
    assert revisit.get("WARC-Profile") == "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    assert revisit.content_type == "application/http; msgtype=response"
    f = fixed_factory()
    not_modified = f.revisit(
        URL,
        DATE,
        b"",
        profile=PROFILE_NOT_MODIFIED,
        refers_to="<x>",
        refers_to_uri=URL,
        refers_to_date=DATE,
        payload_digest="sha1:X",
    )
    assert not_modified.get("WARC-Profile") == "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
    # An empty block gets no Content-Type (there is nothing to type) but a Content-Length of 0.
    raw = serialize(not_modified, gzip=False)
    assert b"Content-Type" not in raw and b"\r\nContent-Length: 0\r\n\r\n\r\n\r\n" in raw


def test_response_options() -> None:
    f = fixed_factory()
    cut = f.response(URL, DATE, RESPONSE_HEAD, b"hel", truncated="length", payload_digest="sha1:GIVEN")
    assert cut.get("WARC-Truncated") == "length"
    assert cut.get("WARC-Payload-Digest") == "sha1:GIVEN"
    assert cut.get("WARC-IP-Address") is None
    assert cut.block == RESPONSE_HEAD + b"hel"


def test_conversion_without_languages_has_no_language_field_and_keeps_a_given_id() -> None:
    conv = fixed_factory().conversion(
        URL, DATE, "t", refers_to="<r>", languages="", record_id="<urn:uuid:given>"
    )
    assert conv.get("WARC-Identified-Content-Language") is None
    assert conv.record_id == "<urn:uuid:given>"


def test_warcinfo_id_goes_only_on_non_warcinfo_records() -> None:
    records = build_all()
    assert b"WARC-Warcinfo-ID" not in serialize(
        records["warcinfo"], warcinfo_id="<urn:uuid:self>", gzip=False
    )
    assert b"WARC-Warcinfo-ID" not in serialize(records["response"], gzip=False)


def test_header_values_cannot_break_the_record_framing(tmp_path: Path) -> None:
    f = RecordFactory(make_id=fixed_ids())
    evil = "https://example.com/a\r\nWARC-Type: response"
    record = f.crawl_metadata(evil, DATE, "<x>\r\nContent-Length: 0", [("note", "line1\r\nline2\nline3")])
    raw = serialize(record, gzip=False)
    head_lines = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert [line for line in head_lines if line.startswith(b"WARC-Type:")] == [b"WARC-Type: metadata"]
    assert len([line for line in head_lines if line.startswith(b"Content-Length:")]) == 1
    assert b"WARC-Target-URI: https://example.com/a  WARC-Type: response" in head_lines
    assert record.block == b"note: line1  line2 line3\r\n"
    path = tmp_path / "evil.warc.gz"
    path.write_bytes(serialize(record))
    (read,) = read_records(path)
    assert read.rec_type == "metadata"
    assert read.block == record.block


def test_warc_fields_block() -> None:
    assert warc_fields([("a", "1"), ("b", "x\ny"), ("c", 3)]) == b"a: 1\r\nb: x y\r\nc: 3\r\n"  # type: ignore[list-item]
    assert warc_fields([]) == b""
    assert warc_fields([("t", "خبر")]) == "t: خبر\r\n".encode()


def test_warc_date_is_utc_w3cdtf_with_microseconds() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, 678, tzinfo=timezone(timedelta(hours=5)))
    assert warc_date(moment) == "2024-01-01T22:04:05.000678Z"
    assert warc_date(datetime(2024, 1, 2, tzinfo=UTC)) == "2024-01-02T00:00:00.000000Z"
    now = warc_date()
    assert len(now) == 27 and now.endswith("Z")


def test_new_record_ids_are_unique_urn_uuids() -> None:
    ids = {new_record_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("<urn:uuid:") and i.endswith(">") and len(i) == 47 for i in ids)


def test_record_id_property_and_lookup() -> None:
    record = build_all()["response"]
    assert record.record_id == RESPONSE_ID
    assert record.get("warc-target-uri") == URL
    assert record.get("Nope") is None


def _encoded_response(body: bytes, head_fields: bytes) -> WarcRecord:
    head = b"HTTP/1.1 200 OK\r\n" + head_fields + b"Content-Length: %d\r\n\r\n" % len(body)
    return fixed_factory().response(URL, DATE, head, body, ip="127.0.0.1")


@pytest.mark.parametrize(
    "head_fields",
    [
        b"Content-Type: text/html\r\nContent-Encoding: gzip\r\n",
        b"content-encoding:  deflate\r\nContent-Type: text/html\r\n",
        b"Content-Type: image/jpeg\r\n",
    ],
    ids=["gzip", "deflate-lowercase", "jpeg"],
)
@pytest.mark.parametrize("size", [1024, 70_000, 200_000])  # one, two and four stored blocks
def test_compressed_payload_is_stored_in_one_valid_member(
    head_fields: bytes, size: int, tmp_path: Path
) -> None:
    """An already-compressed payload goes into stored deflate blocks after the compressed
    headers: still one gzip member per record, byte-identical content, no bigger a file."""
    payload = random.Random(size).randbytes(size)  # as incompressible as gzip output
    record = _encoded_response(payload, head_fields)
    member = serialize(record, warcinfo_id=WARCINFO_ID)
    plain = serialize(record, warcinfo_id=WARCINFO_ID, gzip=False)
    decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert decomp.decompress(member) == plain
    assert decomp.eof and decomp.unused_data == b""
    assert gzip.decompress(member) == plain  # CRC32 and ISIZE checked
    level6 = zlib.compressobj(6, zlib.DEFLATED, 31)
    assert len(member) <= len(level6.compress(plain) + level6.flush()) + 16 + 5 * (size // 65535 + 1)
    path = tmp_path / "encoded.warc.gz"
    path.write_bytes(serialize(build_all()["warcinfo"]) + member * 2)
    read = validate_warc_file(path)  # warcio check and FastWARC, digests verified
    assert [r.rec_type for r in read] == ["warcinfo", "response", "response"]
    warcio_check(path)


@pytest.mark.parametrize(
    "head_fields",
    [b"Content-Type: text/html\r\n", b"Content-Type: text/html\r\nContent-Encoding: identity\r\n"],
)
def test_plain_payload_is_still_compressed(head_fields: bytes) -> None:
    body = b"<p>" + "خبر ".encode() * 2000 + b"</p>"
    member = serialize(_encoded_response(body, head_fields), warcinfo_id=WARCINFO_ID)
    assert len(member) < len(body) / 5
