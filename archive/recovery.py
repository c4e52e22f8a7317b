"""Start of a run: finalise a killed run's files, bring the crawl state up to date, find the
captures whose text is still missing.

A run writes WARC records first and updates the state after, so a ``kill -9`` can leave
records the state does not know about (the next run would fetch and archive them again) and
article responses whose text records were never written. The WARC files are the source of
truth; this module reads the repaired files and makes the rest agree with them:

1. every ``.open`` file is cut after its last complete record and renamed (:mod:`archive.repair`);
2. each complete response record of those files updates the crawl state (the URL counts as
   archived, so the next run sends a conditional request instead of archiving it twice);
3. each article response without a conversion record gets its text extracted from the stored
   payload now, with the metadata record the killed run did not write.

Only the repaired files and the state are read. Whether a response has its text is known from
the state (``text_record_id`` of the same ``record_id``) and, for the one thing the state can
miss, from the repaired text files: the killed run may have written a conversion record and
died before the state update that names it. That record is in the text file that was open at
the kill (records go to the current file, and the state update follows before the next text
write), so the closed text WARCs, however many runs wrote them, are never opened. Records are
read one at a time and the texts to write are handed out one at a time, so memory holds one
record, whatever the size of the files.

Texts go missing in a run that was not killed too: an extraction that failed (a worker crash,
a timeout, an import error) leaves its capture's text pending (``text_record_id`` None, one more
``text_attempts``). The state knows these captures (:func:`archive.state.pending_texts`) and
where their responses are (``record_file``, ``record_offset``): :func:`stored_pending` reads each
one at its offset, so every run can complete them without fetching the pages again. Bodies are
decoded under the crawl's limit (``max_decoded``, ``NEWSARCHIVE_MAX_DECODED_SIZE``): one limit.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from archive.digests import sha1_digest
from archive.encoding import DecodeError, decode_body
from archive.layout import ArchiveLayout
from archive.repair import (
    READ_CHUNK,
    ParsedRecord,
    RepairResult,
    iter_records,
    parse_record,
    repair_open_file,
)
from archive.state import NO_TEXT, StateStore, UrlState, pending_texts

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class RecoveryReport:
    files_repaired: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)
    bytes_cut: int = 0
    records_kept: int = 0
    state_updated: int = 0
    texts_completed: int = 0  # pending texts settled at the start of the run: written, or none found
    texts_failed: int = 0  # pending texts whose extraction failed again (still pending, or given up)
    texts_given_up: int = 0  # of those, the ones whose last allowed attempt it was
    texts_elsewhere: int = 0  # pending texts whose response is in no file of this archive

    def as_dict(self) -> dict[str, object]:
        """The summary's ``recovered`` block (keys only grow, at the end)."""
        return {
            "files_repaired": self.files_repaired,
            "files_removed": self.files_removed,
            "bytes_cut": self.bytes_cut,
            "records_kept": self.records_kept,
            "state_updated": self.state_updated,
            "texts_completed": self.texts_completed,
            "texts_failed": self.texts_failed,
            "texts_given_up": self.texts_given_up,
            "texts_elsewhere": self.texts_elsewhere,
        }


@dataclass(slots=True)
class PendingText:
    url: str
    date: str
    response_id: str
    body: bytes  # content-decoded payload of the response
    charset: str | None
    state: UrlState  # as just stored: text_record_id None, pending
    readable: bool = True  # False: the stored response could not be read back (body empty)


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


def conversion_ids(
    results: Iterable[RepairResult], text_dir: Path, state: StateStore, report: RecoveryReport
) -> dict[str, str]:
    """Response id -> conversion id, for the conversion records of the repaired text files only.

    These are the conversions the state may not know yet (every other one is in the state, see
    the module docstring). The state learns each one it missed here, even when its response
    is in a capture file that was closed before the kill; only ids are kept, never a text.
    """
    refs: dict[str, str] = {}
    for path in _repaired_in(results, text_dir):
        for record in iter_records(path):
            if record.headers.get("warc-type") != "conversion":
                continue
            response_id = record.headers.get("warc-refers-to", "")
            conversion_id = record.headers.get("warc-record-id", "")
            refs[response_id] = conversion_id
            previous = state.get(record.headers.get("warc-target-uri", ""))
            if previous is not None and previous.record_id == response_id and previous.text_record_id is None:
                state.put(replace(previous, text_record_id=conversion_id))
                report.state_updated += 1
    return refs


def reconcile_state(
    results: Iterable[RepairResult],
    capture_dir: Path,
    state: StateStore,
    is_article: Callable[[str], bool],
    known_conversions: dict[str, str],
    report: RecoveryReport,
    *,
    max_decoded: int,
) -> Iterator[PendingText]:
    """Teach the state what the repaired capture files hold; yield each article still lacking text.

    ``known_conversions`` comes from :func:`conversion_ids` (called first); ``max_decoded`` is
    the crawl's decoding limit. A generator, so that one record (or one decoded body) is in
    memory at a time: the caller writes each text and its state before the next record is read.
    The state is updated as the generator runs, so consume it to the end.
    """
    for path in _repaired_in(results, capture_dir):
        for record in iter_records(path):
            pending = _reconcile(record, path.name, state, is_article, known_conversions, report, max_decoded)
            del record  # the decoded body (a copy) is all that lives on while the caller works
            if pending is not None:
                yield pending
                del pending  # not alive while the next record is read


def _reconcile(
    record: ParsedRecord,
    filename: str,
    state: StateStore,
    is_article: Callable[[str], bool],
    known_conversions: dict[str, str],
    report: RecoveryReport,
    max_decoded: int,
) -> PendingText | None:
    """Store what one response record says (unless the state knows a newer capture); the text to
    write for it, if it is an article whose conversion is neither in the state nor on disk."""
    if record.headers.get("warc-type") != "response":
        return None
    item = _state_from_record(record, filename, is_article, max_decoded)
    if item is None:
        return None
    new_state, body, charset = item
    previous = state.get(new_state.url)
    if previous is not None and (previous.record_date or "") > (new_state.record_date or ""):
        return None
    if previous is not None and previous.record_id == new_state.record_id:
        # The killed run stored this capture; its entry says whether the text was written too
        # (or another worker wrote it meanwhile, in distributed mode).
        new_state = previous
    elif previous is not None:
        new_state = replace(
            new_state,
            first_seen=previous.first_seen or new_state.first_seen,
            published=previous.published,
        )
    conversion = known_conversions.get(str(new_state.record_id), new_state.text_record_id)
    if conversion is not None:
        new_state = replace(new_state, text_record_id=conversion)
    elif new_state.is_article and new_state.status != 200:
        new_state = replace(new_state, text_record_id=NO_TEXT)
    if new_state != previous:
        state.put(new_state)
        report.state_updated += 1
    if not (new_state.is_article and new_state.status == 200 and conversion is None):
        return None
    return PendingText(
        new_state.url, str(new_state.record_date), str(new_state.record_id), body, charset, new_state
    )


def _repaired_in(results: Iterable[RepairResult], directory: Path) -> Iterator[Path]:
    """The finalised files (not the removed ones) of one directory, in repair order."""
    for result in results:
        if not result.removed and result.path.parent == directory:
            yield result.path


def stored_pending(
    capture_dir: Path,
    state: StateStore,
    report: RecoveryReport,
    *,
    max_decoded: int,
    wanted: Callable[[str], bool] = lambda _url: True,
) -> Iterator[PendingText]:
    """Each capture the state says still needs its text (and the caller ``wanted``), with its
    response body read back from ``record_file`` at ``record_offset`` (one at a time: the
    caller writes each text first).

    A response in no file of ``capture_dir`` is skipped and counted (``texts_elsewhere``): in
    distributed mode another worker's directory holds it, and that worker completes it. One that
    cannot be read back (a damaged file, another record at the offset) is handed out with
    ``readable`` False and no body, so that the caller counts a failed attempt instead of
    trying again forever.
    """
    for current in pending_texts(state):
        if not wanted(current.url):
            continue
        if not current.record_file or current.record_offset is None:
            continue  # an older version's entry: the page is archived in full again (capture)
        path = capture_dir / current.record_file
        if not path.is_file():
            report.texts_elsewhere += 1
            continue
        record = read_record_at(path, current.record_offset)
        parsed = None
        if (
            record is not None
            and record.headers.get("warc-type") == "response"
            and record.headers.get("warc-record-id") == current.record_id
        ):
            parsed = _state_from_record(record, current.record_file, lambda _url: True, max_decoded)
        del record
        readable = parsed is not None
        body, charset = (parsed[1], parsed[2]) if parsed is not None else (b"", None)
        del parsed
        yield PendingText(
            current.url, str(current.record_date), str(current.record_id), body, charset, current, readable
        )
        del body


def read_record_at(path: Path, offset: int) -> ParsedRecord | None:
    """The record whose gzip member starts at ``offset`` (None: no whole WARC record there)."""
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            pieces: list[bytes] = []
            length = 0
            while not inflater.eof:
                chunk = fh.read(READ_CHUNK)
                if not chunk:
                    return None
                pieces.append(inflater.decompress(chunk))
                length += len(chunk) - (len(inflater.unused_data) if inflater.eof else 0)
    except (OSError, zlib.error):
        return None
    raw = b"".join(pieces)
    pieces.clear()
    parsed = parse_record(raw)
    del raw
    return ParsedRecord(offset, length, *parsed) if parsed is not None else None


def _state_from_record(
    record: ParsedRecord, filename: str, is_article: Callable[[str], bool], max_decoded: int
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
        decoded: bytes | None = decode_body(
            body, [v.encode("latin-1") for v in fields.get("content-encoding", [])], max_decoded
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
        etag=_first(fields, "etag"),
        last_modified=_first(fields, "last-modified"),
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


def _first(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return values[0] if values else None
