"""Read an archive back: one row per capture, and the text of a capture.

Captures come from the capture WARCs (response and revisit records); languages, title and
text come from the text WARCs, joined on ``WARC-Refers-To`` (conversion -> response id).
A revisit shows the text of the response it refers to: that is what replay shows for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.layout import ArchiveLayout


@dataclass(frozen=True, slots=True)
class Capture:
    url: str
    date: str
    record_type: str  # response or revisit
    status: int | None
    record_id: str
    refers_to: str | None
    file: str
    languages: str = ""
    title: str = ""
    text_length: int = 0
    text_record_id: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class TextEntry:
    conversion_id: str
    response_id: str
    url: str
    date: str
    languages: str
    text: str
    file: str
    title: str = ""


def iter_text_entries(layout: ArchiveLayout) -> Iterator[TextEntry]:
    titles: dict[str, str] = {}
    conversions: list[TextEntry] = []
    for path in layout.text_files():
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                h = record.rec_headers
                if record.rec_type == "conversion":
                    conversions.append(
                        TextEntry(
                            conversion_id=h.get_header("WARC-Record-ID"),
                            response_id=h.get_header("WARC-Refers-To") or "",
                            url=h.get_header("WARC-Target-URI") or "",
                            date=h.get_header("WARC-Date") or "",
                            languages=h.get_header("WARC-Identified-Content-Language") or "",
                            text=record.content_stream().read().decode("utf-8", "replace"),
                            file=path.name,
                        )
                    )
                elif record.rec_type == "metadata" and "json" in (h.get_header("Content-Type") or ""):
                    try:
                        meta = json.loads(record.content_stream().read())
                    except ValueError:
                        continue
                    titles[h.get_header("WARC-Refers-To") or ""] = str(meta.get("title") or "")
    for entry in conversions:
        yield TextEntry(**{**asdict(entry), "title": titles.get(entry.conversion_id, "")})


def list_captures(root: Path) -> list[Capture]:
    layout = ArchiveLayout(root)
    texts = {t.response_id: t for t in iter_text_entries(layout)}
    rows: list[Capture] = []
    for path in layout.capture_files():
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type not in ("response", "revisit"):
                    continue
                h = record.rec_headers
                status = None
                if record.http_headers is not None:
                    try:
                        status = int(record.http_headers.get_statuscode())
                    except (TypeError, ValueError):
                        status = None
                record_id = h.get_header("WARC-Record-ID")
                refers = h.get_header("WARC-Refers-To")
                text = texts.get(record_id) or (texts.get(refers) if refers else None)
                rows.append(
                    Capture(
                        url=h.get_header("WARC-Target-URI") or "",
                        date=h.get_header("WARC-Date") or "",
                        record_type=record.rec_type,
                        status=status,
                        record_id=record_id,
                        refers_to=refers,
                        file=path.name,
                        languages=text.languages if text else "",
                        title=text.title if text else "",
                        text_length=len(text.text) if text else 0,
                        text_record_id=text.conversion_id if text else None,
                    )
                )
    rows.sort(key=lambda c: (c.url, c.date))
    return rows


def find_text(root: Path, url: str, date: str | None = None) -> TextEntry | None:
    """Text of the capture of ``url`` at ``date`` (prefix match, e.g. ``2026-11-23``), else the latest."""
    captures = [c for c in list_captures(root) if c.url == url and c.text_record_id]
    if date:
        compact = date.replace("-", "").replace(":", "").replace("T", "")
        captures = [
            c
            for c in captures
            if c.date.startswith(date)
            or c.date.replace("-", "").replace(":", "").replace("T", "").startswith(compact)
        ]
    if not captures:
        return None
    wanted = captures[-1].text_record_id
    layout = ArchiveLayout(root)
    return next((t for t in iter_text_entries(layout) if t.conversion_id == wanted), None)
