"""The rotating WARC writer: ``.open`` until closed, warcinfo first, rotation never splits a record."""

from __future__ import annotations

import os
import re
import zlib
from pathlib import Path

import pytest

from archive.records import RecordFactory, WarcRecord, serialize
from archive.writer import WarcFileWriter
from tests.helpers import fixed_factory, gzip_members, read_records, validate_warc_file, warcio_check

DATE = "2024-05-06T07:08:09.000000Z"
INFO = [("software", "newsarchive-tests"), ("format", "WARC File Format 1.1")]
NAME = re.compile(r"^cap-\d{14}-\d{5}-[A-Za-z0-9_-]+-\d+\.warc\.gz$")


def capture_group(factory: RecordFactory, n: int, body: bytes | None = None) -> list[WarcRecord]:
    """request + response + metadata of one fetch; ``body`` defaults to incompressible bytes."""
    url = f"https://example.com/news/{n}"
    payload = body if body is not None else os.urandom(300).hex().encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
    response = factory.response(url, DATE, head, payload)
    request = factory.request(url, DATE, b"GET /news/%d HTTP/1.1\r\nHost: example.com\r\n\r\n" % n)
    request.headers.insert(3, ("WARC-Concurrent-To", response.record_id))
    metadata = factory.crawl_metadata(url, DATE, response.record_id, [("n", str(n))])
    return [request, response, metadata]


def new_writer(directory: Path, **kwargs) -> WarcFileWriter:
    kwargs.setdefault("factory", fixed_factory())
    kwargs.setdefault("fsync", False)
    return WarcFileWriter(directory, "cap", info=INFO, **kwargs)


def test_file_is_open_while_writing_and_renamed_on_close(tmp_path: Path) -> None:
    writer = new_writer(tmp_path)
    assert writer.current_name is None and list(tmp_path.iterdir()) == []
    locations = writer.write(capture_group(writer.factory, 1))
    name = writer.current_name
    assert name is not None and NAME.match(name), name
    assert [p.name for p in tmp_path.iterdir()] == [name + ".open"]
    assert {loc.filename for loc in locations} == {name}
    final = writer.close()
    assert final == tmp_path / name
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert writer.closed_files == [final]
    assert writer.current_name is None
    assert writer.close() is None  # closing twice is harmless


def test_written_group_is_on_disk_before_close(tmp_path: Path) -> None:
    """Each group is handed to the OS at once: a kill after write() loses nothing of it."""
    writer = new_writer(tmp_path)
    locations = writer.write(capture_group(writer.factory, 1))
    (open_file,) = tmp_path.iterdir()
    end = locations[-1].offset + locations[-1].length
    assert open_file.stat().st_size == end
    members = gzip_members(open_file)
    assert len(members) == 4 and members[0].startswith(b"WARC/1.1\r\nWARC-Type: warcinfo\r\n")
    writer.close()


def test_closed_file_passes_warcio_and_fastwarc(tmp_path: Path) -> None:
    writer = new_writer(tmp_path, fsync=True)
    for n in range(5):
        writer.write(capture_group(writer.factory, n))
    path = writer.close()
    assert path is not None
    records = validate_warc_file(path)
    assert len(records) == 1 + 5 * 3
    assert "digest pass" in warcio_check(path)
    warcinfo = records[0]
    assert warcinfo.get("WARC-Filename") == path.name
    assert warcinfo.block == b"software: newsarchive-tests\r\nformat: WARC File Format 1.1\r\n"
    assert writer.records_written == 15


def test_record_locations_point_at_their_own_gzip_member(tmp_path: Path) -> None:
    writer = new_writer(tmp_path)
    group = capture_group(writer.factory, 7)
    locations = writer.write(group)
    path = writer.close()
    assert path is not None
    data = path.read_bytes()
    for record, loc in zip(group, locations, strict=True):
        assert loc.record_id == record.record_id
        assert loc.filename == path.name
        member = data[loc.offset : loc.offset + loc.length]
        decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        raw = decomp.decompress(member)
        assert decomp.eof and not decomp.unused_data
        assert f"WARC-Record-ID: {record.record_id}\r\n".encode() in raw
    by_offset = {r.offset: r for r in read_records(path)}
    assert [by_offset[loc.offset].record_id for loc in locations] == [r.record_id for r in group]


def test_rotation_keeps_groups_whole_and_files_under_max_size(tmp_path: Path) -> None:
    max_size = 4000
    writer = new_writer(tmp_path, max_size=max_size)
    groups = [capture_group(writer.factory, n) for n in range(12)]
    where = [writer.write(group) for group in groups]
    writer.close()
    files = sorted(writer.closed_files)
    assert len(files) >= 3, "the test must actually rotate"
    assert sorted(tmp_path.iterdir()) == files  # nothing left .open
    for locations in where:
        assert len({loc.filename for loc in locations}) == 1, "a capture group was split across files"
    total = 0
    for path in files:
        records = validate_warc_file(path, check_warcinfo_id=False)
        assert records[0].get("WARC-Filename") == path.name
        assert path.stat().st_size <= max_size
        assert (len(records) - 1) % 3 == 0  # whole groups only
        total += len(records) - 1
    assert total == 36
    assert writer.records_written == 36


def test_rotation_warcinfo_id_points_at_each_files_own_warcinfo(tmp_path: Path) -> None:
    writer = new_writer(tmp_path, max_size=4000)
    for n in range(12):
        writer.write(capture_group(writer.factory, n))
    writer.close()
    assert len(writer.closed_files) >= 3
    for path in writer.closed_files:
        records = read_records(path)
        for rec in records[1:]:
            assert rec.get("WARC-Warcinfo-ID") == records[0].record_id, f"{path.name}: {rec.record_id}"


def test_group_larger_than_max_size_is_written_whole_in_a_fresh_file(tmp_path: Path) -> None:
    writer = new_writer(tmp_path, max_size=2000)
    writer.write(capture_group(writer.factory, 1, body=b"small"))
    big = capture_group(writer.factory, 2, body=os.urandom(3000))
    locations = writer.write(big)
    writer.write(capture_group(writer.factory, 3, body=b"small"))
    writer.close()
    assert len(writer.closed_files) == 3
    big_file = tmp_path / locations[0].filename
    records = validate_warc_file(big_file, check_warcinfo_id=False)
    assert [r.rec_type for r in records] == ["warcinfo", "request", "response", "metadata"]
    assert big_file.stat().st_size > 2000


def test_first_group_is_never_rotated_away_from_its_warcinfo(tmp_path: Path) -> None:
    writer = new_writer(tmp_path, max_size=100)  # smaller than any record
    writer.write(capture_group(writer.factory, 1))
    writer.close()
    (path,) = writer.closed_files
    assert [r.rec_type for r in validate_warc_file(path)] == ["warcinfo", "request", "response", "metadata"]


def test_two_writers_in_one_directory_never_share_a_file(tmp_path: Path) -> None:
    a = new_writer(tmp_path)
    b = new_writer(tmp_path, factory=RecordFactory())
    a.write(capture_group(a.factory, 1))
    b.write(capture_group(b.factory, 2))
    assert a.current_name != b.current_name
    pa, pb = a.close(), b.close()
    assert pa is not None and pb is not None and pa != pb
    assert len(validate_warc_file(pa)) == len(validate_warc_file(pb)) == 4


def test_every_record_carries_the_warcinfo_id_of_its_file(tmp_path: Path) -> None:
    writer = new_writer(tmp_path)
    writer.write(capture_group(writer.factory, 1))
    path = writer.close()
    assert path is not None
    records = read_records(path)
    assert records[0].get("WARC-Warcinfo-ID") is None
    assert {r.get("WARC-Warcinfo-ID") for r in records[1:]} == {records[0].record_id}


def test_serialised_bytes_are_exactly_what_is_written(tmp_path: Path) -> None:
    writer = new_writer(tmp_path)
    group = capture_group(writer.factory, 1)
    locations = writer.write(group)
    path = writer.close()
    assert path is not None
    warcinfo_id = read_records(path)[0].record_id
    data = path.read_bytes()
    for record, loc in zip(group, locations, strict=True):
        assert data[loc.offset : loc.offset + loc.length] == serialize(record, warcinfo_id=warcinfo_id)


@pytest.mark.parametrize("max_size", [0, -1])
def test_max_size_must_be_positive(tmp_path: Path, max_size: int) -> None:
    with pytest.raises(ValueError, match="max_size"):
        new_writer(tmp_path, max_size=max_size)
