"""CDXJ indexes of the capture WARCs: one per closed file, and one merged, sorted ``index.cdxj``.

    DIR/indexes/per-file/NAME.warc.gz.cdxj   index of one capture WARC (sorted)
    DIR/indexes/index.cdxj                   all of them merged: what pywb reads
    DIR/indexes/manifest.json                size + mtime of each WARC when it was indexed

Why this shape:
* Cron runs add files and never touch closed ones, so only WARCs without an up-to-date
  per-file index are read again; the merged index is then a streaming merge of sorted files,
  never a re-read of the WARCs.
* Per-file indexes live in a sub-folder so that a tool pointed at ``indexes/`` as a directory
  of CDXJ files (pywb does that with directories) does not count every capture twice.
* Only ``response`` and ``revisit`` records are indexed. A ``metadata`` record with a JSON body,
  a ``conversion`` or a ``resource`` under the article URL would be replayed *instead of the
  page* (pywb picks any capture at the closest timestamp); crawl metadata in the capture files
  is ``application/warc-fields``, which no replay tool needs either.
* Each line also carries the record's ``warc-record-id`` (pywb ignores unknown fields), so
  text records, which point at responses by id, can be joined to captures without re-reading
  the capture WARCs (see :mod:`archive.pages`).
* Files are replaced atomically (write to a temporary name, then ``os.replace``): pywb re-opens
  the index on every lookup, so a running replay server sees new captures after the next
  ``build_indexes`` without a restart and never reads half a file.
"""

from __future__ import annotations

import contextlib
import fcntl
import heapq
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from cdxj_indexer.main import CDXJIndexer

from archive.layout import ArchiveLayout

logger = logging.getLogger(__name__)

PER_FILE_DIRNAME = "per-file"
MERGED_NAME = "index.cdxj"
MANIFEST_NAME = "manifest.json"
INDEX_SUFFIX = ".cdxj"
INDEXED_RECORDS = "response,revisit"
RECORD_ID_FIELD = "warc-record-id"
MANIFEST_VERSION = 1
MERGE_FAN_IN = 128  # files open at once while merging; keeps far below the usual fd limit of 1024


@dataclass(slots=True)
class IndexReport:
    """What :func:`build_indexes` did."""

    merged: Path
    indexed: list[str] = field(default_factory=list)  # WARC names (re)indexed now
    kept: int = 0  # WARCs whose per-file index was already up to date
    removed: list[str] = field(default_factory=list)  # indexes dropped because their WARC is gone
    failed: dict[str, str] = field(default_factory=dict)  # WARC name -> error; left out of the merge
    lines: int = 0  # lines in the merged index
    merged_rebuilt: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True, slots=True)
class CdxEntry:
    """One parsed CDXJ line."""

    urlkey: str
    timestamp: str  # 14 digits, UTC
    fields: dict[str, str]

    @property
    def url(self) -> str:
        return self.fields.get("url", "")

    @property
    def mime(self) -> str:
        return self.fields.get("mime", "")

    @property
    def record_id(self) -> str | None:
        return self.fields.get(RECORD_ID_FIELD)


def per_file_dir(layout: ArchiveLayout) -> Path:
    return layout.index_dir / PER_FILE_DIRNAME


def per_file_index_path(layout: ArchiveLayout, warc: Path) -> Path:
    return per_file_dir(layout) / (warc.name + INDEX_SUFFIX)


def merged_index_path(layout: ArchiveLayout) -> Path:
    return layout.index_dir / MERGED_NAME


def index_warc(warc: Path, out: Path) -> int:
    """Write the sorted CDXJ index of one WARC to ``out`` (atomically); returns its line count.

    ``filename`` in each line is the WARC's base name: replay resolves it against the capture
    directory, so the archive directory can be moved or copied as a whole.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    with _atomic_text(out) as fh:
        indexer = CDXJIndexer(
            output=fh,
            inputs=[str(warc)],
            sort=True,
            records=INDEXED_RECORDS,
            fields=RECORD_ID_FIELD,
        )
        indexer.process_all()
    with out.open("rb") as fh:
        return sum(1 for _ in fh)


def build_indexes(layout: ArchiveLayout, *, force: bool = False) -> IndexReport:
    """Bring per-file indexes and the merged ``index.cdxj`` up to date with ``DIR/warc``.

    Files still being written (``*.warc.gz.open``) are ignored. A WARC that cannot be read is
    reported in ``failed`` and left out, so one damaged file does not hide the rest of the
    archive; it is retried on the next call. Safe to call from a cron job while a replay
    server is running, and from two processes at once (they take turns on a lock file).
    """
    layout.index_dir.mkdir(parents=True, exist_ok=True)
    per_file_dir(layout).mkdir(parents=True, exist_ok=True)
    report = IndexReport(merged=merged_index_path(layout))
    with _locked(layout.index_dir / ".lock"):
        manifest = _load_manifest(layout)
        old_files: dict[str, dict[str, int]] = manifest.get("files", {})
        new_files: dict[str, dict[str, int]] = {}
        warcs = layout.capture_files()
        for warc in warcs:
            stat = warc.stat()
            signature = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
            index_path = per_file_index_path(layout, warc)
            previous = old_files.get(warc.name)
            if (
                not force
                and previous is not None
                and index_path.exists()
                and {k: previous.get(k) for k in signature} == signature
            ):
                new_files[warc.name] = previous
                report.kept += 1
                continue
            try:
                lines = index_warc(warc, index_path)
            except Exception as exc:  # any parse error: report it, keep the rest replayable
                logger.warning("cannot index %s: %s", warc, exc)
                report.failed[warc.name] = f"{type(exc).__name__}: {exc}"
                index_path.unlink(missing_ok=True)
                continue
            new_files[warc.name] = {**signature, "lines": lines}
            report.indexed.append(warc.name)

        present = {w.name for w in warcs}
        for stale in sorted(per_file_dir(layout).glob(f"*{INDEX_SUFFIX}")):
            name = stale.name[: -len(INDEX_SUFFIX)]
            if name not in present or name in report.failed:
                stale.unlink()
                if name not in present:
                    report.removed.append(name)

        merged = merged_index_path(layout)
        only_added = set(new_files) >= set(old_files) and all(
            old_files[name] == new_files[name] for name in old_files
        )
        full = force or not manifest or not merged.exists() or report.removed or report.failed
        if full or not only_added:
            sources = [per_file_index_path(layout, layout.capture_dir / n) for n in sorted(new_files)]
            _merge_files(sources, merged)
            report.merged_rebuilt = True
        elif report.indexed:
            added = [per_file_index_path(layout, layout.capture_dir / n) for n in report.indexed]
            _merge_files([merged, *added], merged)
            report.merged_rebuilt = True
        report.lines = sum(int(v.get("lines", 0)) for v in new_files.values())
        _save_manifest(layout, {"version": MANIFEST_VERSION, "files": new_files})
    return report


def iter_index(path: Path) -> Iterator[CdxEntry]:
    """Parse a CDXJ file line by line (``urlkey timestamp {json}``)."""
    with path.open("r", encoding="utf-8") as fh:
        for line in fh:
            entry = parse_cdxj_line(line)
            if entry is not None:
                yield entry


def parse_cdxj_line(line: str) -> CdxEntry | None:
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) != 3 or not parts[2].startswith("{"):
        return None
    return CdxEntry(parts[0], parts[1], json.loads(parts[2]))


def _merge_files(sources: list[Path], out: Path) -> None:
    """k-way merge of sorted CDXJ files into ``out`` (which may be one of the sources).

    Lines compare as Python strings, i.e. by code point, which for UTF-8 is the byte order
    pywb's binary search expects. More than :data:`MERGE_FAN_IN` sources are merged in rounds.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".merge-") as tmp:
        round_no = 0
        while len(sources) > MERGE_FAN_IN:
            batches = [sources[i : i + MERGE_FAN_IN] for i in range(0, len(sources), MERGE_FAN_IN)]
            next_sources = []
            for number, batch in enumerate(batches):
                part = Path(tmp) / f"round{round_no}-{number}{INDEX_SUFFIX}"
                _merge_batch(batch, part)
                next_sources.append(part)
            sources = next_sources
            round_no += 1
        _merge_batch(sources, out)


def _merge_batch(sources: Iterable[Path], out: Path) -> None:
    with contextlib.ExitStack() as stack:
        handles = [stack.enter_context(p.open("r", encoding="utf-8")) for p in sources]
        with _atomic_text(out) as dest:
            for line in heapq.merge(*handles):
                dest.write(line if line.endswith("\n") else line + "\n")


@contextlib.contextmanager
def _atomic_text(path: Path) -> Iterator[TextIO]:
    """A text file that appears at ``path`` only once fully written."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        tmp.chmod(0o644)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _load_manifest(layout: ArchiveLayout) -> dict[str, Any]:
    path = layout.index_dir / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
        return {}
    return data


def _save_manifest(layout: ArchiveLayout, data: dict[str, Any]) -> None:
    path = layout.index_dir / MANIFEST_NAME
    with _atomic_text(path) as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
        fh.write("\n")
