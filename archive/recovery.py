"""After a killed run: finalise its files, bring the crawl state up to date, finish its text.

A run writes WARC records first and updates the state after, so a ``kill -9`` can leave
records the state does not know about (the next run would fetch and archive them again) and
article responses whose text records were never written. The WARC files are the source of
truth; this module reads the repaired files and makes the rest agree with them:

1. every ``.open`` file is cut after its last complete record and renamed (:mod:`archive.repair`);
2. each complete response record of those files updates the crawl state (the URL counts as
   archived, so the next run sends a conditional request instead of archiving it twice);
3. each article response without a conversion record gets its text extracted from the stored
   payload now, with the metadata record the killed run did not write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from archive.digests import sha1_digest
from archive.encoding import DecodeError, decode_body
from archive.layout import ArchiveLayout
from archive.repair import ParsedRecord, RepairResult, repair_open_file
from archive.state import NO_TEXT, StateStore, UrlState

logger = logging.getLogger(__name__)

MAX_DECODED = 64 * 1024 * 1024


@dataclass(slots=True)
class RecoveryReport:
    files_repaired: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)
    bytes_cut: int = 0
    records_kept: int = 0
    state_updated: int = 0
    texts_completed: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "files_repaired": self.files_repaired,
            "files_removed": self.files_removed,
            "bytes_cut": self.bytes_cut,
            "records_kept": self.records_kept,
            "state_updated": self.state_updated,
            "texts_completed": self.texts_completed,
        }


@dataclass(slots=True)
class PendingText:
    url: str
    date: str
    response_id: str
    body: bytes
    charset: str | None
    state: UrlState


def repair_files(layout: ArchiveLayout, report: RecoveryReport) -> list[RepairResult]:
    results = []
    for path in layout.open_files():
        result = repair_open_file(path)
        report.bytes_cut += result.cut_bytes
        if result.removed:
            report.files_removed.append(path.name)
        else:
            report.files_repaired.append(result.path.name)
            report.records_kept += result.kept
        results.append(result)
    return results


def reconcile_state(
    results: list[RepairResult],
    capture_dir: Path,
    state: StateStore,
    is_article: Callable[[str], bool],
    known_conversions: dict[str, str],
    report: RecoveryReport,
) -> list[PendingText]:
    """Teach the state what the repaired capture files hold; return articles still lacking text."""
    pending: list[PendingText] = []
    for result in results:
        if result.removed or result.path.parent != capture_dir:
            continue
        for record in result.records:
            if record.headers.get("warc-type") != "response":
                continue
            item = _state_from_record(record, result.path.name, is_article)
            if item is None:
                continue
            new_state, body, charset = item
            previous = state.get(new_state.url)
            if previous is not None and (previous.record_date or "") > (new_state.record_date or ""):
                continue
            if previous is not None:
                new_state = replace(
                    new_state,
                    first_seen=previous.first_seen or new_state.first_seen,
                    published=previous.published,
                )
            conversion = known_conversions.get(str(new_state.record_id))
            if conversion is None and previous is not None and previous.record_id == new_state.record_id:
                conversion = previous.text_record_id  # written meanwhile by another worker (distributed mode)
            if conversion is not None:
                new_state = replace(new_state, text_record_id=conversion)
            elif new_state.is_article and new_state.status != 200:
                new_state = replace(new_state, text_record_id=NO_TEXT)
            if previous is None or previous.record_id != new_state.record_id:
                state.put(new_state)
                report.state_updated += 1
            if new_state.is_article and new_state.status == 200 and conversion is None:
                pending.append(
                    PendingText(
                        new_state.url,
                        str(new_state.record_date),
                        str(new_state.record_id),
                        body,
                        charset,
                        new_state,
                    )
                )
    return pending


def _state_from_record(
    record: ParsedRecord, filename: str, is_article: Callable[[str], bool]
) -> tuple[UrlState, bytes, str | None] | None:
    url = record.headers.get("warc-target-uri", "")
    split = record.block.find(b"\r\n\r\n")
    if not url or split < 0:
        return None
    head = record.block[: split + 4]
    body = record.block[split + 4 :]
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ", 2)[1])
    except (IndexError, ValueError):
        return None
    fields: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            fields.setdefault(name.strip().lower(), []).append(value.strip())
    try:
        decoded = decode_body(
            body, [v.encode("latin-1") for v in fields.get("content-encoding", [])], MAX_DECODED
        )
    except DecodeError:
        decoded = None
    charset = None
    for ctype in fields.get("content-type", []):
        if "charset=" in ctype.lower():
            charset = ctype.lower().split("charset=", 1)[1].split(";")[0].strip().strip('"') or None
    date = record.headers.get("warc-date", "")
    state = UrlState(
        url=url,
        last_fetch=date,
        status=status,
        etag=(fields.get("etag") or [None])[0],
        last_modified=(fields.get("last-modified") or [None])[0],
        payload_digest=record.headers.get("warc-payload-digest"),
        content_digest=sha1_digest(decoded) if decoded is not None else None,
        record_id=record.headers.get("warc-record-id"),
        record_date=date,
        record_file=filename,
        record_offset=record.offset,
        response_head=head.decode("latin-1"),
        is_article=is_article(url),
        first_seen=date,
    )
    return state, decoded if decoded is not None else b"", charset


def conversion_ids(layout: ArchiveLayout, extra: list[RepairResult]) -> dict[str, str]:
    """Response id -> conversion id, for every text record on disk (closed + repaired files)."""
    from warcio.archiveiterator import ArchiveIterator

    refs: dict[str, str] = {}
    for path in layout.text_files():
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "conversion":
                    h = record.rec_headers
                    refs[h.get_header("WARC-Refers-To") or ""] = h.get_header("WARC-Record-ID") or ""
    return refs
