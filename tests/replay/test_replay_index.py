"""CDXJ indexing of the capture WARCs (main venv only: cdxj-indexer is a crawler dependency)."""

from __future__ import annotations

import shutil
from pathlib import Path

from replay_fixtures import REVISIT_VARIANTS, build_archive

from archive import index as index_mod
from archive.index import build_indexes, iter_index, merged_index_path, per_file_index_path
from archive.layout import ArchiveLayout


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_first_build_indexes_every_closed_capture_file(tmp_path: Path) -> None:
    archive = build_archive(tmp_path / "a")
    layout = archive.layout
    (layout.capture_dir / "NEWSARCHIVE-20261122100000-00000-testhost-3.warc.gz.open").write_bytes(b"partial")
    report = build_indexes(layout)

    assert report.ok
    assert sorted(report.indexed) == [p.name for p in layout.capture_files()]
    assert len(report.indexed) == 2  # the .open file is ignored
    merged = _lines(merged_index_path(layout))
    assert merged == sorted(merged)
    assert report.lines == len(merged)
    entries = list(iter_index(merged_index_path(layout)))
    # one line per response and revisit, nothing else (no request, no warc-fields metadata)
    assert len(entries) == len(archive.captures)
    assert {e.record_id for e in entries} == {c.record_id for c in archive.captures}
    assert {e.mime for e in entries} == {"text/html", "warc/revisit"}
    # filenames are base names: replay resolves them against DIR/warc, the directory can move
    assert all("/" not in e.fields["filename"] for e in entries)
    # the text WARCs are never indexed: no conversion / JSON metadata line shadows a page
    assert not any(e.fields["filename"].startswith("NEWSARCHIVE-TEXT") for e in entries)


def test_second_build_is_a_no_op_and_new_files_are_merged_incrementally(tmp_path: Path) -> None:
    layout = build_archive(tmp_path / "a", experiments=False).layout
    build_indexes(layout)
    before = _lines(merged_index_path(layout))

    again = build_indexes(layout)
    assert again.indexed == [] and again.kept == 2 and not again.merged_rebuilt

    # a later cron run (another worker's file) arrives
    other = build_archive(tmp_path / "b", experiments=True).layout
    newcomer = other.capture_files()[1]
    renamed = layout.capture_dir / newcomer.name.replace("testhost-2", "worker2-9")
    shutil.copy2(newcomer, renamed)
    third = build_indexes(layout)
    assert third.indexed == [renamed.name]
    assert third.kept == 2
    merged = _lines(merged_index_path(layout))
    assert merged == sorted(merged)
    added = _lines(per_file_index_path(layout, renamed))
    assert sorted(before + added) == merged

    # the same result as a full rebuild
    full = build_indexes(layout, force=True)
    assert sorted(full.indexed) == sorted(p.name for p in layout.capture_files())
    assert _lines(merged_index_path(layout)) == merged


def test_removed_and_damaged_files(tmp_path: Path) -> None:
    layout = build_archive(tmp_path / "a").layout
    build_indexes(layout)
    first, second = layout.capture_files()

    second.unlink()
    report = build_indexes(layout)
    assert report.removed == [second.name]
    assert not per_file_index_path(layout, second).exists()
    assert all(e.fields["filename"] == first.name for e in iter_index(merged_index_path(layout)))

    # a damaged file (bytes that are no WARC record after the last member) is reported, the
    # rest stays replayable, and it is retried next time. (A file merely cut short inside a
    # gzip member is read up to the cut by warcio without any error.)
    damaged = layout.capture_dir / "NEWSARCHIVE-20261123100000-00000-testhost-9.warc.gz"
    damaged.write_bytes(first.read_bytes() + bytes(range(1, 256)) * 4)
    report = build_indexes(layout)
    assert list(report.failed) == [damaged.name]
    assert not report.ok
    assert all(e.fields["filename"] == first.name for e in iter_index(merged_index_path(layout)))
    assert list(build_indexes(layout).failed) == [damaged.name]


def test_changed_file_is_reindexed(tmp_path: Path) -> None:
    layout = build_archive(tmp_path / "a", experiments=False).layout
    build_indexes(layout)
    target = layout.capture_files()[0]
    replacement = build_archive(tmp_path / "b", experiments=True).layout.capture_files()[0]
    shutil.copy2(replacement, target)  # e.g. a repaired file put back under the same name
    report = build_indexes(layout)
    assert report.indexed == [target.name]
    assert report.merged_rebuilt
    urls = {e.url for e in iter_index(merged_index_path(layout))}
    assert any("/exp/" in u for u in urls)


def test_merge_in_rounds_matches_a_single_sort(tmp_path: Path, monkeypatch) -> None:
    layout = ArchiveLayout(tmp_path / "many")
    layout.create()
    source = build_archive(tmp_path / "src").layout.capture_files()
    for number in range(7):
        for path in source:
            shutil.copy2(path, layout.capture_dir / path.name.replace("testhost", f"w{number}"))
    monkeypatch.setattr(index_mod, "MERGE_FAN_IN", 3)
    report = build_indexes(layout)
    assert report.ok and len(report.indexed) == 14
    merged = _lines(merged_index_path(layout))
    assert merged == sorted(merged)
    assert len(merged) == 7 * (len(REVISIT_VARIANTS) * 2 + 5)
