"""``pages.jsonl`` for a WACZ: one line per article capture, with its full extracted text.

ReplayWeb.page lists these pages and searches their ``title`` and ``text``. py-wacz cannot
find pages in a crawler's WARCs by itself (its ``--detect-pages`` keeps only URLs seen as a
``Referer``) and its own text extraction is English-oriented boilerplate removal; our text
WARCs already hold trafilatura's text in every language, so the list is built from them.

The join: a ``conversion`` record's ``WARC-Refers-To`` is the record id of the response it was
extracted from, and :mod:`archive.index` keeps every capture's record id in the CDXJ index.
So a page's ``url`` and ``ts`` come from the capture as replay sees it, and a conversion whose
response is not in the index (file still open, damaged, deleted) is skipped rather than
listed as a page that would not replay. The title comes from the JSON ``metadata`` record
that refers to the conversion.

Memory stays small for big archives: the text WARCs are read twice (ids and titles first,
then the texts, written out one by one) instead of holding every text at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.index import iter_index, merged_index_path
from archive.layout import ArchiveLayout

logger = logging.getLogger(__name__)

PAGES_FORMAT = "json-pages-1.0"
PAGES_HEADER = {"format": PAGES_FORMAT, "id": "pages", "title": "All Pages"}


@dataclass(slots=True)
class PagesReport:
    path: Path
    pages: int = 0
    conversions: int = 0
    without_capture: list[str] = field(default_factory=list)  # conversion ids whose response is not indexed


@dataclass(frozen=True, slots=True)
class _Conversion:
    record_id: str
    refers_to: str
    languages: str


def write_pages_jsonl(layout: ArchiveLayout, out: Path, *, index: Path | None = None) -> PagesReport:
    """Write ``pages.jsonl`` for every article capture that has a conversion record.

    Expects the index to be current (call :func:`archive.index.build_indexes` first).
    Text is written as UTF-8, not ``\\u`` escapes: Urdu or Hindi text stays readable and
    about half the size.
    """
    report = PagesReport(out)
    conversions, titles = _scan_text_records(layout)
    report.conversions = len(conversions)
    wanted = {c.refers_to for c in conversions.values()}
    captures = _captures_by_id(index or merged_index_path(layout), wanted)
    written: set[str] = set()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(json.dumps(PAGES_HEADER | {"hasText": True}, ensure_ascii=False) + "\n")
        # Later conversions of the same response replace earlier ones: keep only the last.
        last_for_response = {c.refers_to: c.record_id for c in conversions.values()}
        for record_id, text in _iter_conversion_texts(layout):
            conv = conversions.get(record_id)
            if conv is None or last_for_response.get(conv.refers_to) != record_id:
                continue
            capture = captures.get(conv.refers_to)
            if capture is None:
                report.without_capture.append(record_id)
                continue
            if conv.refers_to in written:
                continue
            written.add(conv.refers_to)
            url, timestamp = capture
            page = {
                "id": _page_id(conv.refers_to),
                "url": url,
                "ts": timestamp_to_iso(timestamp),
                "title": titles.get(record_id) or url,
                "text": text,
            }
            fh.write(json.dumps(page, ensure_ascii=False) + "\n")
            report.pages += 1
    if report.without_capture:
        logger.warning(
            "%d conversion records refer to responses that are not in the index (skipped)",
            len(report.without_capture),
        )
    return report


def timestamp_to_iso(timestamp: str) -> str:
    """CDX 14-digit UTC timestamp -> ``YYYY-MM-DDTHH:MM:SSZ`` (the ``ts`` form of pages.jsonl)."""
    moment = datetime.strptime(timestamp[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _page_id(record_id: str) -> str:
    """Stable page id: the response's UUID (the WACZ spec only asks for uniqueness)."""
    return record_id.strip("<>").removeprefix("urn:uuid:")


def _scan_text_records(layout: ArchiveLayout) -> tuple[dict[str, _Conversion], dict[str, str]]:
    conversions: dict[str, _Conversion] = {}
    titles: dict[str, str] = {}
    for path in layout.text_files():
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                headers = record.rec_headers
                record_id = headers.get_header("WARC-Record-ID")
                refers_to = headers.get_header("WARC-Refers-To")
                if not record_id or not refers_to:
                    continue
                if record.rec_type == "conversion":
                    languages = headers.get_header("WARC-Identified-Content-Language") or ""
                    conversions[record_id] = _Conversion(record_id, refers_to, languages)
                elif record.rec_type == "metadata" and _is_json(headers.get_header("Content-Type")):
                    title = _title_from_json(record.content_stream().read())
                    if title:
                        titles[refers_to] = title
    return conversions, titles


def _iter_conversion_texts(layout: ArchiveLayout) -> Iterator[tuple[str, str]]:
    for path in layout.text_files():
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "conversion":
                    continue
                record_id = record.rec_headers.get_header("WARC-Record-ID")
                data = record.content_stream().read()
                yield record_id, data.decode("utf-8", "replace")


def _captures_by_id(index: Path, wanted: set[str]) -> dict[str, tuple[str, str]]:
    """record id -> (url, 14-digit timestamp) for the indexed *responses* among ``wanted``."""
    found: dict[str, tuple[str, str]] = {}
    if not index.exists() or not wanted:
        return found
    for entry in iter_index(index):
        record_id = entry.record_id
        if record_id in wanted and entry.mime != "warc/revisit":
            found[record_id] = (entry.url, entry.timestamp)
    return found


def _is_json(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";")[0].strip().lower() == "application/json"


def _title_from_json(data: bytes) -> str:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ""
    title = value.get("title") if isinstance(value, dict) else None
    return title.strip() if isinstance(title, str) else ""
