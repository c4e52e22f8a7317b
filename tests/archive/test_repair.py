"""Repair of ``.open`` files left by a killed run: the torn tail is cut, complete records kept."""

from __future__ import annotations

import logging
import tracemalloc
import zlib
from pathlib import Path

import pytest

import archive.repair
from archive.repair import iter_members, iter_records, parse_record, repair_open_file
from archive.writer import WarcFileWriter
from tests.helpers import fixed_factory, read_records, validate_warc_file, warcio_check

DATE = "2024-05-06T07:08:09.000000Z"


def closed_file(directory: Path, groups: int, body: bytes = b"<html>short page</html>") -> Path:
    """A finished WARC file: warcinfo + ``groups`` x (request, response)."""
    factory = fixed_factory()
    writer = WarcFileWriter(directory, "cap", factory=factory, fsync=False, info=[("software", "tests")])
    for n in range(groups):
        url = f"https://example.com/{n}"
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        response = factory.response(url, DATE, head, body)
        request = factory.request(url, DATE, b"GET /%d HTTP/1.1\r\nHost: example.com\r\n\r\n" % n)
        writer.write([request, response])
    path = writer.close()
    assert path is not None
    return path


def as_open(path: Path, data: bytes) -> Path:
    open_path = path.with_name(path.name + ".open")
    open_path.write_bytes(data)
    return open_path


def test_a_cut_at_every_offset_of_the_last_record_keeps_exactly_the_records_before(tmp_path: Path) -> None:
    original = closed_file(tmp_path / "src", groups=2)
    data = original.read_bytes()
    records = read_records(original)
    last = records[-1]
    assert last.offset + last.length == len(data)
    expected = [r.record_id for r in records[:-1]]
    work = tmp_path / "work"
    work.mkdir()
    for cut in range(last.offset, len(data)):
        open_path = as_open(work / original.name, data[:cut])
        result = repair_open_file(open_path)
        assert not result.removed, cut
        assert result.path == work / original.name
        assert not open_path.exists()
        assert result.path.read_bytes() == data[: last.offset], f"cut at {cut}"
        assert result.kept == len(expected)
        assert result.cut_bytes == cut - last.offset
        assert [r.headers["warc-record-id"] for r in iter_records(result.path)] == expected
        result.path.unlink()
    # The repaired file is a valid WARC file for the real tools, not only for repair itself.
    repaired = repair_open_file(as_open(work / original.name, data[: len(data) - 1])).path
    assert [r.record_id for r in validate_warc_file(repaired)] == expected
    warcio_check(repaired)


def test_complete_open_file_is_renamed_unchanged(tmp_path: Path) -> None:
    original = closed_file(tmp_path, groups=3)
    data = original.read_bytes()
    open_path = original.rename(original.with_name(original.name + ".open"))
    result = repair_open_file(open_path)
    assert result.path == original and not result.removed
    assert result.cut_bytes == 0
    assert result.kept == 7
    assert original.read_bytes() == data
    assert [r.offset for r in iter_records(result.path)] == [r.offset for r in read_records(original)]


def test_zero_filled_tail_after_a_crash_is_cut(tmp_path: Path) -> None:
    """After power loss a file can end in blocks of zeros (size updated, data never written)."""
    original = closed_file(tmp_path, groups=1)
    data = original.read_bytes()
    original.unlink()
    result = repair_open_file(as_open(original, data + bytes(4096)))
    assert result.path.read_bytes() == data
    assert result.cut_bytes == 4096


def test_garbage_after_the_last_record_is_cut(tmp_path: Path) -> None:
    original = closed_file(tmp_path, groups=1)
    data = original.read_bytes()
    original.unlink()
    result = repair_open_file(as_open(original, data + b"\x1f\x8b\x08\x00garbage"))
    assert result.path.read_bytes() == data


@pytest.mark.parametrize("tail", ["none", "torn"])
def test_file_with_only_a_warcinfo_is_removed(tmp_path: Path, tail: str) -> None:
    original = closed_file(tmp_path / "src", groups=1)
    records = read_records(original)
    data = original.read_bytes()
    warcinfo_only = data[: records[1].offset]
    if tail == "torn":
        warcinfo_only += data[records[1].offset : records[1].offset + 10]
    open_path = as_open(tmp_path / original.name, warcinfo_only)
    result = repair_open_file(open_path)
    assert result.removed and result.kept == 0
    assert not open_path.exists() and not result.path.exists()


@pytest.mark.parametrize("content", [b"", b"\x00" * 100, b"not gzip at all"], ids=["empty", "zeros", "text"])
def test_file_without_any_complete_record_is_removed(tmp_path: Path, content: bytes) -> None:
    open_path = tmp_path / "x.warc.gz.open"
    open_path.write_bytes(content)
    result = repair_open_file(open_path)
    assert result.removed
    assert list(tmp_path.iterdir()) == []


def test_only_open_files_are_repaired(tmp_path: Path) -> None:
    path = closed_file(tmp_path, groups=1)
    data = path.read_bytes()
    with pytest.raises(ValueError, match="not an open WARC file"):
        repair_open_file(path)
    assert path.read_bytes() == data


def test_the_cut_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    original = closed_file(tmp_path, groups=1)
    data = original.read_bytes()
    original.unlink()
    with caplog.at_level(logging.WARNING, logger="archive.repair"):
        repair_open_file(as_open(original, data + b"\x1f\x8b"))
    assert any("cut a torn record of 2 bytes" in r.getMessage() for r in caplog.records)


def test_iter_members_reports_offsets_and_a_torn_tail(tmp_path: Path) -> None:
    original = closed_file(tmp_path, groups=1)
    data = original.read_bytes()
    records = read_records(original)
    members = list(iter_members(original))
    assert [(o, n) for o, n, _ in members] == [(r.offset, r.length) for r in records]
    torn = tmp_path / "torn"
    torn.write_bytes(data[:-5])
    *good, (offset, length, inflated) = iter_members(torn)
    assert inflated is None and offset == records[-1].offset and offset + length == len(data) - 5
    assert len(good) == len(records) - 1


def test_parse_record_wants_a_whole_record() -> None:
    raw = b"WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n"
    parsed = parse_record(raw)
    assert parsed == ({"warc-type": "resource", "content-length": "3"}, b"abc")
    assert parse_record(raw[:-1]) is None  # end marker incomplete
    assert parse_record(raw.replace(b"abc", b"ab")) is None  # block short
    assert parse_record(raw.replace(b"Content-Length: 3", b"Content-Length: x")) is None
    assert parse_record(b"HTTP/1.1 200 OK\r\n\r\n") is None
    assert parse_record(b"WARC/1.1\r\nWARC-Type: resource") is None


class CountingZlib:
    """Stands in for ``zlib`` inside archive.repair and counts the compressed bytes it is fed."""

    def __init__(self) -> None:
        self.fed = 0

    def __getattr__(self, name: str):
        return getattr(zlib, name)

    def decompressobj(self, *args, **kwargs):
        inner = zlib.decompressobj(*args, **kwargs)
        counter = self

        class Counted:
            def decompress(self, data, *more):
                counter.fed += len(data)
                return inner.decompress(data, *more)

            def __getattr__(self, name: str):
                return getattr(inner, name)

        return Counted()


def test_repair_reads_each_byte_a_bounded_number_of_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = closed_file(tmp_path, groups=150)
    data = original.read_bytes()
    original.unlink()
    counting = CountingZlib()
    monkeypatch.setattr(archive.repair, "zlib", counting)
    result = repair_open_file(as_open(original, data[:-3]))
    assert result.kept == 300
    assert counting.fed <= 3 * len(data), f"fed {counting.fed / len(data):.0f}x the file size to zlib"


def test_iter_records_gives_each_record_of_the_repaired_file_as_warcio_reads_it(tmp_path: Path) -> None:
    original = closed_file(tmp_path / "src", groups=3)
    data = original.read_bytes()
    result = repair_open_file(as_open(tmp_path / original.name, data[:-7]))
    expected = read_records(original)[:-1]
    got = list(iter_records(result.path))
    assert [(r.offset, r.length) for r in got] == [(r.offset, r.length) for r in expected]
    assert [r.block for r in got] == [r.block for r in expected]
    assert [r.headers["warc-record-id"] for r in got] == [r.record_id for r in expected]
    assert [r.headers["warc-type"] for r in got] == [r.rec_type for r in expected]


RECORD = 512 * 1024  # inflated size of each response of the memory tests
MANY = 40  # all records together weigh 20 MB: ten times the bound below


def torn_file_of_large_records(tmp_path: Path) -> Path:
    """``MANY`` responses of ``RECORD`` bytes each (compressible, so the file is small), torn."""
    body = (b"<p>The council met on Tuesday to discuss the bridge.</p>\n" * (RECORD // 56 + 1))[:RECORD]
    original = closed_file(tmp_path / "src", groups=MANY, body=body)
    data = original.read_bytes()
    return as_open(tmp_path / original.name, data[:-3])


def traced_peak(work) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_repair_holds_one_record_at_a_time_not_the_whole_file(tmp_path: Path) -> None:
    """A torn 1 GB file must not cost 1 GB of memory: repair remembers where records end, no more."""
    open_path = torn_file_of_large_records(tmp_path)
    results = []
    peak = traced_peak(lambda: results.append(repair_open_file(open_path)))
    assert results[0].kept == 2 * MANY  # warcinfo + (MANY - 1) pairs + the request of the torn pair
    assert peak < 4 * RECORD, f"peak {peak / RECORD:.1f} records of memory for {MANY} records"


def test_reading_the_repaired_records_holds_one_at_a_time(tmp_path: Path) -> None:
    path = repair_open_file(torn_file_of_large_records(tmp_path)).path
    sizes: list[int] = []

    def consume() -> None:
        for record in iter_records(path):
            sizes.append(len(record.block))

    peak = traced_peak(consume)
    assert sum(size >= RECORD for size in sizes) == MANY - 1
    assert peak < 4 * RECORD, f"peak {peak / RECORD:.1f} records of memory for {MANY} records"
