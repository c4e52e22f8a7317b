"""Reading and validating WARC files in tests, with the tools users and replay software use.

Every check here goes through an independent implementation (warcio, FastWARC, plain zlib),
never through the project's own reader, so a bug in the writer cannot hide behind the same
bug in the reader. Import as ``from tests.helpers import ...``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastwarc.warc import ArchiveIterator as FastArchiveIterator
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders

from archive.records import RecordFactory


def fixed_ids(prefix: str = "00000000-0000-0000-0000-") -> Callable[[], str]:
    """Record id factory giving ``<urn:uuid:...000000000000>``, ``...001``... for golden bytes."""
    counter = itertools.count()
    return lambda: f"<urn:uuid:{prefix}{next(counter):012d}>"


def fixed_factory() -> RecordFactory:
    return RecordFactory(make_id=fixed_ids())


def sha1_b32(data: bytes) -> str:
    """The WARC digest form, computed here independently of :mod:`archive.digests`."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


@dataclass
class ReadRecord:
    """One record as warcio reads it back."""

    rec_type: str
    headers: list[tuple[str, str]]  # WARC header fields in file order
    block: bytes  # the whole block (HTTP head + payload for request/response/revisit)
    offset: int  # of the gzip member in the file
    length: int  # of the gzip member
    http_headers: StatusAndHeaders | None  # as warcio parses them (request/response/revisit)
    payload: bytes  # block after the HTTP head (== block for non-HTTP records)

    def get(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [v for k, v in self.headers if k.lower() == wanted]

    @property
    def record_id(self) -> str:
        value = self.get("WARC-Record-ID")
        assert value is not None, "record without WARC-Record-ID"
        return value


def read_records(path: Path) -> list[ReadRecord]:
    """All records of a file via warcio: raw blocks in one pass, parsed HTTP heads in another."""
    raw: list[tuple[str, list[tuple[str, str]], bytes, int, int]] = []
    with path.open("rb") as fh:
        it = ArchiveIterator(fh, no_record_parse=True)
        for record in it:
            block = record.raw_stream.read()
            headers = list(record.rec_headers.headers)
            raw.append((record.rec_type, headers, block, it.get_record_offset(), it.get_record_length()))
    parsed: list[tuple[StatusAndHeaders | None, bytes]] = []
    with path.open("rb") as fh:
        for record in ArchiveIterator(fh):
            payload = record.raw_stream.read()
            parsed.append((record.http_headers, payload))
    assert len(raw) == len(parsed), "warcio read a different number of records in its two modes"
    return [
        ReadRecord(rec_type, headers, block, offset, length, http, payload)
        for (rec_type, headers, block, offset, length), (http, payload) in zip(raw, parsed, strict=True)
    ]


def warcio_digest_problems(path: Path) -> list[str]:
    """warcio's own digest verification, in process (what ``warcio check`` does, without a fork).

    Returns the problems found; also fails when a record that carries a digest was not
    checked at all (warcio skips revisits by design: those are checked by :func:`own_digest_problems`).
    """
    problems: list[str] = []
    with path.open("rb") as fh:
        it = ArchiveIterator(fh, check_digests=True)
        for record in it:
            stream = record.content_stream()
            while stream.read(1 << 20):
                pass
            checker = record.digest_checker
            where = f"{record.rec_type} at {it.get_record_offset()}"
            if checker.passed is False:
                problems += [f"{where}: {p}" for p in checker.problems]
            elif checker.passed is None and record.rec_type != "revisit":
                # warcio does not check the digest of an empty block; neither do we.
                has_digest = record.rec_headers.get_header("WARC-Block-Digest")
                if has_digest and record.rec_headers.get_header("Content-Length") != "0":
                    problems.append(f"{where}: digest present but not checked")
    return problems


def own_digest_problems(records: list[ReadRecord]) -> list[str]:
    """Block digests of every record and payload digests of request/response, recomputed here."""
    problems = []
    for rec in records:
        block_digest = rec.get("WARC-Block-Digest")
        if block_digest is not None and block_digest != sha1_b32(rec.block):
            problems.append(f"{rec.rec_type} {rec.record_id}: block digest {block_digest} is wrong")
        payload_digest = rec.get("WARC-Payload-Digest")
        if rec.rec_type in ("request", "response") and payload_digest is not None:
            head_end = rec.block.find(b"\r\n\r\n")
            payload = rec.block[head_end + 4 :] if head_end >= 0 else b""
            if payload_digest != sha1_b32(payload):
                problems.append(f"{rec.rec_type} {rec.record_id}: payload digest {payload_digest} is wrong")
    return problems


def _warcio_command() -> list[str]:
    sibling = Path(sys.executable).parent / "warcio"
    if sibling.exists():
        return [str(sibling)]
    return [sys.executable, "-m", "warcio.cli"]


def warcio_check(path: Path) -> str:
    """Run ``warcio check -v`` like a user would; assert it exits 0 and return its report."""
    proc = subprocess.run(
        [*_warcio_command(), "check", "-v", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"warcio check failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@dataclass
class FastWarcReport:
    records: int
    block_checked: int
    payload_checked: int


def fastwarc_check(path: Path) -> FastWarcReport:
    """FastWARC's block digests on every record, and payload digests where they are meaningful.

    Revisits are left out of the payload check on purpose: FastWARC hashes their (absent)
    payload and reports a false PAYLOAD_FAIL (see the WARC findings, gotcha 10).
    """
    records = block_checked = payload_checked = 0
    with path.open("rb") as fh:
        for record in FastArchiveIterator(fh, parse_http=False):
            records += 1
            if record.headers.get("WARC-Block-Digest"):
                assert record.verify_block_digest(consume=False), (
                    f"FastWARC: block digest fails on {record.record_type} {record.record_id}"
                )
                block_checked += 1
    with path.open("rb") as fh:
        for record in FastArchiveIterator(fh, parse_http=True):
            if record.headers.get("WARC-Type") == "revisit" or not record.headers.get("WARC-Payload-Digest"):
                continue
            assert record.verify_payload_digest(consume=False), (
                f"FastWARC: payload digest fails on {record.record_type} {record.record_id}"
            )
            payload_checked += 1
    return FastWarcReport(records, block_checked, payload_checked)


def gzip_members(path: Path) -> list[bytes]:
    """The inflated members of a gzip file, split with plain zlib (no WARC knowledge)."""
    data = path.read_bytes()
    members = []
    while data:
        decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        members.append(decomp.decompress(data) + decomp.flush())
        assert decomp.eof, "gzip member does not end"
        data = decomp.unused_data
    return members


def gzip_member_count(path: Path) -> int:
    return len(gzip_members(path))


def validate_warc_file(path: Path, *, check_warcinfo_id: bool = True) -> list[ReadRecord]:
    """Everything a finished WARC file must satisfy; returns its records for further asserts.

    warcio (in process) and FastWARC agree on every digest, every record is its own gzip
    member, and the file starts with a warcinfo that the other records point at.
    """
    records = read_records(path)
    assert records, f"{path} has no record"
    assert not warcio_digest_problems(path)
    assert not own_digest_problems(records)
    report = fastwarc_check(path)
    assert report.records == len(records)
    assert gzip_member_count(path) == len(records), "not one gzip member per record"
    assert records[0].rec_type == "warcinfo", "a WARC file must start with its warcinfo"
    assert [r.rec_type for r in records].count("warcinfo") == 1
    warcinfo_id = records[0].record_id
    for rec in records[1:] if check_warcinfo_id else []:
        assert rec.get("WARC-Warcinfo-ID") == warcinfo_id, (
            f"{rec.rec_type} {rec.record_id} points at warcinfo {rec.get('WARC-Warcinfo-ID')}, "
            f"not at its file's {warcinfo_id}"
        )
    return records
