"""Finalise files left ``.open`` by a run that was killed (``kill -9``, power loss, OOM killer).

Every record is its own gzip member and each capture event is written with one ``write``,
so a kill can only tear the tail of a file. Repair walks the members from the start, keeps
every member that inflates completely and holds a whole WARC record (header block parsed,
``Content-Length`` satisfied), cuts the file right after the last good one, and renames it
to its final name. What was cut is logged; what was complete is never touched.

A torn file can be 1 GB of records up to 64 MB each, so nothing here holds more than one
inflated record at a time: :func:`repair_open_file` only remembers where the last good record
ends, and :func:`iter_records` hands the records of the repaired file out one by one (it reads
the file again: only the few torn files are ever read, so a second pass is cheaper than keeping
their records).
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from archive.layout import OPEN_SUFFIX

logger = logging.getLogger(__name__)

READ_CHUNK = 1024 * 1024


@dataclass(slots=True)
class ParsedRecord:
    offset: int
    length: int
    headers: dict[str, str]
    block: bytes


@dataclass(slots=True)
class RepairResult:
    path: Path  # final path after rename (or the deleted file's path)
    kept: int  # complete records kept (warcinfo included)
    cut_bytes: int  # bytes of torn tail removed
    removed: bool = False


def iter_members(path: Path) -> Iterator[tuple[int, int, bytes | None]]:
    """Yield ``(offset, length, inflated)`` per gzip member; ``inflated`` None for a torn member.

    Members are found by feeding each decompressor growing windows (256 bytes, doubling) until it
    reports the end of its member: only the unused tail of the last window is fed again to the
    next member, so every byte is inflated about twice at most and a 1 GB file repairs in one
    pass, holding one read chunk and one inflated record in memory.
    """
    with path.open("rb") as fh:
        buf = bytearray()
        start = 0  # where the current member begins in buf
        offset = 0  # file offset of the current member
        exhausted = False

        def fill(end: int) -> None:
            nonlocal exhausted
            while len(buf) < end and not exhausted:
                chunk = fh.read(READ_CHUNK)
                if chunk:
                    buf.extend(chunk)
                else:
                    exhausted = True

        while True:
            fill(start + 1)
            if start >= len(buf):
                return
            decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out: list[bytes] = []
            fed = start
            window = 256
            try:
                while not decomp.eof:
                    fill(fed + window)
                    piece = bytes(buf[fed : fed + window])
                    if not piece:
                        break
                    out.append(decomp.decompress(piece))
                    fed += len(piece) - (len(decomp.unused_data) if decomp.eof else 0)
                    window = min(window * 2, READ_CHUNK)
            except zlib.error:
                yield offset, len(buf) - start, None
                return
            if not decomp.eof:
                yield offset, fed - start, None
                return
            length = fed - start
            record = b"".join(out)
            out.clear()  # the pieces go before the record is handed out: one copy lives on
            yield offset, length, record
            del record  # the consumer decides how long a record lives, not this generator
            offset += length
            start = fed
            if start >= READ_CHUNK:
                del buf[:start]
                start = 0


def parse_record(raw: bytes) -> tuple[dict[str, str], bytes] | None:
    """Split one uncompressed WARC record; None when it is incomplete or not a WARC record."""
    framed = _frame(raw)
    if framed is None:
        return None
    headers, start, length = framed
    return headers, raw[start : start + length]


def _frame(raw: bytes) -> tuple[dict[str, str], int, int] | None:
    """Headers, block offset and block length of a whole record (no copy of the block)."""
    end = raw.find(b"\r\n\r\n")
    if end < 0 or not raw.startswith(b"WARC/"):
        return None
    headers: dict[str, str] = {}
    for line in raw[:end].decode("utf-8", "replace").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    try:
        length = int(headers.get("content-length", ""))
    except ValueError:
        return None
    start = end + 4
    if length < 0 or len(raw) < start + length or raw[start + length : start + length + 4] != b"\r\n\r\n":
        return None
    return headers, start, length


def iter_records(path: Path) -> Iterator[ParsedRecord]:
    """The whole records of a file, one at a time, up to the first member that is not one.

    Meant for a file :func:`repair_open_file` has just finalised (every member is whole); the
    caller holds one record while it works on it and this generator holds none meanwhile.
    """
    for offset, length, inflated in iter_members(path):
        parsed = parse_record(inflated) if inflated is not None else None
        del inflated  # the parsed block is a copy: the raw record goes now
        if parsed is None:
            return
        yield ParsedRecord(offset, length, *parsed)


def repair_open_file(path: Path) -> RepairResult:
    """Cut the torn tail of ``NAME.warc.gz.open`` and rename it ``NAME.warc.gz``.

    Only the end of the last whole record and whether any record besides warcinfo was seen are
    remembered: read the records afterwards with :func:`iter_records` on the result's path.
    """
    if not path.name.endswith(OPEN_SUFFIX):
        raise ValueError(f"not an open WARC file: {path}")
    good_end = 0
    kept = 0
    content = False  # a record other than warcinfo: without one the file is worth nothing
    for offset, length, inflated in iter_members(path):
        framed = _frame(inflated) if inflated is not None else None
        del inflated  # not alive while the next member is inflated
        if framed is None:
            break
        kept += 1
        content = content or framed[0].get("warc-type") != "warcinfo"
        good_end = offset + length
    size = path.stat().st_size
    cut = size - good_end
    final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
    if not content:
        path.unlink()
        logger.warning("removed %s: no complete record after its warcinfo (%d bytes)", path, size)
        return RepairResult(final, 0, size, removed=True)
    if cut:
        with path.open("r+b") as fh:
            fh.truncate(good_end)
            fh.flush()
            os.fsync(fh.fileno())
        logger.warning("cut a torn record of %d bytes at the end of %s", cut, path)
    path.replace(final)
    return RepairResult(final, kept, cut)
