"""One stream of WARC files: per-record gzip, warcinfo first, size rotation, ``.open`` until closed.

Crash safety rests on three habits:
* a file is written as ``NAME.warc.gz.open`` and renamed only when closed, so indexers, replay
  and rsync never pick up a file that is still growing;
* every record is its own gzip member and a group of records (one capture event) is written
  with one ``write`` and flushed to the OS, so ``kill -9`` can only tear the *last* member;
* :func:`archive.repair.repair_open_file` cuts a torn tail and finalises the file on the next start.

Annex C of WARC 1.1: files rotate *before* a record would cross ``max_size`` (default 10^9
bytes); a record is never split; every file starts with its own warcinfo.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from archive.layout import CAPTURE_SUFFIX, OPEN_SUFFIX
from archive.records import RecordFactory, WarcRecord, serialize, warc_date

logger = logging.getLogger(__name__)

DEFAULT_MAX_SIZE = 1_000_000_000  # WARC 1.1 Annex C: 1 GB (10^9 bytes)


@dataclass(frozen=True, slots=True)
class RecordLocation:
    """Where a record ended up: final file name (after rename), byte offset, member length."""

    record_id: str
    filename: str
    offset: int
    length: int


def host_tag() -> str:
    """Short host name safe for file names (machines and processes must never collide)."""
    name = socket.gethostname() or "host"
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:60]


class WarcFileWriter:
    """Appends record groups to the current file of one stream (capture or text)."""

    def __init__(
        self,
        directory: Path,
        prefix: str,
        *,
        info: Sequence[tuple[str, str]] = (),
        max_size: int = DEFAULT_MAX_SIZE,
        factory: RecordFactory | None = None,
        fsync: bool = True,
    ) -> None:
        if max_size <= 0:
            raise ValueError(f"max_size must be positive, got {max_size!r}")
        self.directory = directory
        self.prefix = prefix
        self.info = list(info)
        self.max_size = max_size
        self.factory = factory or RecordFactory()
        self.fsync = fsync
        self._serial = 0
        self._file: BinaryIO | None = None  # unbuffered: a FileIO (a test may wrap it)
        self._path: Path | None = None
        self._size = 0
        self.records_written_here = 0
        self._warcinfo_id: str | None = None
        self.closed_files: list[Path] = []
        self.records_written = 0

    @property
    def current_name(self) -> str | None:
        """Final name of the file being written (without ``.open``)."""
        if self._path is None:
            return None
        return self._path.name[: -len(OPEN_SUFFIX)]

    def write(self, records: Sequence[WarcRecord]) -> list[RecordLocation]:
        """Write one capture event's records contiguously and hand them to the OS."""
        if self._file is None:
            self._open()
        members = [serialize(r, warcinfo_id=self._warcinfo_id) for r in records]
        group = sum(len(m) for m in members)
        if self._size + group > self.max_size and self.records_written_here > 0:
            self.rotate()
            # WARC-Warcinfo-ID must name the warcinfo of the file the records land in.
            members = [serialize(r, warcinfo_id=self._warcinfo_id) for r in records]
        assert self._file is not None
        locations = []
        offset = self._size
        name = self.current_name
        assert name is not None
        for record, member in zip(records, members, strict=True):
            locations.append(RecordLocation(record.record_id, name, offset, len(member)))
            offset += len(member)
        try:
            _write_all(self._file, b"".join(members))
        except OSError:
            self._undo_partial_write()
            raise
        self._size = offset
        self.records_written_here += len(records)
        self.records_written += len(records)
        return locations

    def _undo_partial_write(self) -> None:
        """A failed write (ENOSPC, EIO) may have put part of a record on disk: cut it off, so the
        file holds whole records only. If even that fails, the file is abandoned as ``.open``,
        never renamed, and the next run's repair cuts the torn tail."""
        assert self._file is not None
        try:
            self._file.truncate(self._size)
            self._file.seek(self._size)
        except OSError:
            logger.error("cannot cut a partial record from %s: left open for repair", self._path)
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
            self._path = None

    def rotate(self) -> None:
        self.close()
        self._open()

    def close(self) -> Path | None:
        """Flush, fsync and rename the current file to its final name; returns that path."""
        if self._file is None or self._path is None:
            return None
        if self.fsync:
            os.fsync(self._file.fileno())
        self._file.close()
        final = self._path.with_name(self._path.name[: -len(OPEN_SUFFIX)])
        self._path.replace(final)
        if self.fsync:
            _fsync_dir(self.directory)
        self._file = None
        self._path = None
        self.closed_files.append(final)
        logger.info("closed WARC file %s (%d bytes)", final, self._size)
        return final

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        while True:
            name = (
                f"{self.prefix}-{now:%Y%m%d%H%M%S}-{self._serial:05d}-{host_tag()}-{os.getpid()}"
                f"{CAPTURE_SUFFIX}"
            )
            self._serial += 1
            path = self.directory / (name + OPEN_SUFFIX)
            if not path.exists() and not (self.directory / name).exists():
                break
        self._file = path.open("xb", buffering=0)
        self._path = path
        self._size = 0
        self.records_written_here = 0
        warcinfo = self.factory.warcinfo(name, warc_date(now), self.info)
        self._warcinfo_id = warcinfo.record_id
        member = serialize(warcinfo)
        _write_all(self._file, member)
        self._size = len(member)


def _write_all(fh: BinaryIO, data: bytes) -> None:
    """Unbuffered write to the OS (a kill -9 then loses nothing that was written)."""
    view = memoryview(data)
    while view:
        written = fh.write(view)
        if not written:
            raise OSError("write returned 0 bytes")
        view = view[written:]


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX: the directory entry lives in the directory's own blocks)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
