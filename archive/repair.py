"""Finalise files left ``.open`` by a run that was killed (``kill -9``, power loss, OOM killer).

Every record is its own gzip member and each capture event is written with one ``write``,
so a kill can only tear the tail of a file. Repair walks the members from the start, keeps
every member that inflates completely and holds a whole WARC record (header block parsed,
``Content-Length`` satisfied), cuts the file right after the last good one, and renames it
to its final name. What was cut is logged; what was complete is never touched.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
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
    records: list[ParsedRecord] = field(default_factory=list)
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
            out = bytearray()
            fed = start
            window = 256
            try:
                while not decomp.eof:
                    fill(fed + window)
                    piece = bytes(buf[fed : fed + window])
                    if not piece:
                        break
                    out += decomp.decompress(piece)
                    fed += len(piece) - (len(decomp.unused_data) if decomp.eof else 0)
                    window = min(window * 2, READ_CHUNK)
            except zlib.error:
                yield offset, len(buf) - start, None
                return
            if not decomp.eof:
                yield offset, fed - start, None
                return
            length = fed - start
            yield offset, length, bytes(out)
            offset += length
            start = fed
            if start >= READ_CHUNK:
                del buf[:start]
                start = 0


def parse_record(raw: bytes) -> tuple[dict[str, str], bytes] | None:
    """Split one uncompressed WARC record; None when it is incomplete or not a WARC record."""
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
    block = raw[end + 4 : end + 4 + length]
    if len(block) != length or raw[end + 4 + length : end + 8 + length] != b"\r\n\r\n":
        return None
    return headers, block


def repair_open_file(path: Path) -> RepairResult:
    """Cut the torn tail of ``NAME.warc.gz.open`` and rename it ``NAME.warc.gz``."""
    if not path.name.endswith(OPEN_SUFFIX):
        raise ValueError(f"not an open WARC file: {path}")
    good_end = 0
    records: list[ParsedRecord] = []
    for offset, length, inflated in iter_members(path):
        parsed = parse_record(inflated) if inflated is not None else None
        if parsed is None:
            break
        headers, block = parsed
        records.append(ParsedRecord(offset, length, headers, block))
        good_end = offset + length
    size = path.stat().st_size
    cut = size - good_end
    final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
    if not records or all(r.headers.get("warc-type") == "warcinfo" for r in records):
        path.unlink()
        logger.warning("removed %s: no complete record after its warcinfo (%d bytes)", path, size)
        return RepairResult(final, 0, size, [], removed=True)
    if cut:
        with path.open("r+b") as fh:
            fh.truncate(good_end)
            fh.flush()
            os.fsync(fh.fileno())
        logger.warning("cut a torn record of %d bytes at the end of %s", cut, path)
    path.replace(final)
    return RepairResult(final, len(records), cut, records)
