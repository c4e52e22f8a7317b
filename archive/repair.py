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
    """Yield ``(offset, length, inflated)`` per gzip member; ``inflated`` None for a torn member."""
    data = path.read_bytes()
    pos = 0
    while pos < len(data):
        decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            inflated = decomp.decompress(data[pos:])
        except zlib.error:
            yield pos, len(data) - pos, None
            return
        if not decomp.eof:
            yield pos, len(data) - pos, None
            return
        length = len(data) - pos - len(decomp.unused_data)
        yield pos, length, inflated
        pos += length


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
