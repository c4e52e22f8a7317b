"""pages.jsonl built from the text WARCs, joined to captures through the index (main venv only)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from replay_fixtures import HINDI, URDU_1, URDU_2, build_archive

from archive.index import build_indexes
from archive.pages import PAGES_HEADER, timestamp_to_iso, write_pages_jsonl


def _read(path: Path) -> tuple[dict, list[dict]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def test_one_page_per_article_capture_with_full_text(tmp_path: Path) -> None:
    archive = build_archive(tmp_path / "a")
    build_indexes(archive.layout)
    out = tmp_path / "pages.jsonl"
    report = write_pages_jsonl(archive.layout, out)

    header, pages = _read(out)
    assert {k: header[k] for k in PAGES_HEADER} == PAGES_HEADER
    assert header["hasText"] is True  # ReplayWeb.page builds its full-text index only then
    with_text = [c for c in archive.captures if c.kind == "response" and c.text]
    assert report.pages == len(pages) == len(with_text) == 3
    by_url = {p["url"]: p for p in pages}
    for capture in with_text:
        page = by_url[capture.url]
        assert page["ts"] == timestamp_to_iso(capture.timestamp)
        assert page["title"] == capture.title
        assert page["text"] == capture.text  # every paragraph, every language
        assert page["id"] == capture.record_id.strip("<>").removeprefix("urn:uuid:")
    assert by_url["https://news.example/hi/article-2.html"]["text"].splitlines() == list(HINDI)
    assert URDU_1[1] in by_url["https://news.example/ur/article-1.html"]["text"]
    # UTF-8 as such, not \\u escapes
    raw = out.read_text(encoding="utf-8")
    assert URDU_2[0] in raw


def test_conversion_without_indexed_capture_is_skipped(tmp_path: Path) -> None:
    archive = build_archive(tmp_path / "a", experiments=False)
    layout = archive.layout
    # the run-1 capture file is gone (or still .open): its conversions must not become pages
    first = layout.capture_files()[0]
    shutil.move(first, first.with_name(first.name + ".open"))
    build_indexes(layout)
    report = write_pages_jsonl(layout, tmp_path / "pages.jsonl")
    assert report.pages == 0
    assert report.conversions == 3
    assert len(report.without_capture) == 3


def test_timestamp_to_iso() -> None:
    assert timestamp_to_iso("20261121100000") == "2026-11-21T10:00:00Z"
