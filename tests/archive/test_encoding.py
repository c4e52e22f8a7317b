"""Bounded content decoding: every coding users meet, corrupt input, and decompression bombs."""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import brotli
import pytest

from archive.encoding import DecodedTooLarge, DecodeError, codings, decode_body

ROOT = Path(__file__).resolve().parents[2]
TEXT = ("<p>خبر اور تبصرہ — news and comment.</p>\n" * 400).encode()
LIMIT = 10_000_000


def zlib_deflate(data: bytes) -> bytes:
    return zlib.compress(data)


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


# --- codings header ----------------------------------------------------------------------------


def test_codings_in_the_order_applied_without_identity() -> None:
    assert codings([b"gzip"]) == ["gzip"]
    assert codings([b"GZip , br"]) == ["gzip", "br"]
    assert codings([b"identity"]) == []
    assert codings([b"deflate", b"identity, br", b""]) == ["deflate", "br"]
    assert codings([]) == []


# --- each coding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "encode"),
    [
        (b"gzip", lambda d: gzip.compress(d, mtime=0)),
        (b"x-gzip", lambda d: gzip.compress(d, mtime=0)),
        (b"deflate", zlib_deflate),  # RFC 1950, what the name means
        (b"deflate", raw_deflate),  # RFC 1951, what many servers send
        (b"br", brotli.compress),
        (b"identity", lambda d: d),
        (b"BR", brotli.compress),
    ],
)
def test_each_coding_round_trips(header: bytes, encode) -> None:
    assert decode_body(encode(TEXT), [header], LIMIT) == TEXT


def test_no_coding_returns_the_body() -> None:
    assert decode_body(TEXT, [], LIMIT) == TEXT


@pytest.mark.parametrize("headers", [[b"gzip, br"], [b"gzip", b"br"]])
def test_chained_codings_are_undone_last_first(headers: list[bytes]) -> None:
    body = brotli.compress(gzip.compress(TEXT))  # gzip applied first, then br
    assert decode_body(body, headers, LIMIT) == TEXT


def test_three_codings() -> None:
    body = gzip.compress(raw_deflate(brotli.compress(TEXT)))
    assert decode_body(body, [b"br, deflate, gzip"], LIMIT) == TEXT


def test_multi_member_gzip_is_decoded_whole() -> None:
    body = gzip.compress(b"first member, ") + gzip.compress(b"second member, ") + gzip.compress(b"third")
    assert decode_body(body, [b"gzip"], LIMIT) == b"first member, second member, third"


def test_empty_decoded_body() -> None:
    assert decode_body(gzip.compress(b""), [b"gzip"], LIMIT) == b""
    assert decode_body(brotli.compress(b""), [b"br"], LIMIT) == b""


# --- truncated and corrupt input ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "encode"), [(b"gzip", gzip.compress), (b"deflate", zlib_deflate), (b"br", brotli.compress)]
)
def test_truncated_stream_keeps_what_decoded(header: bytes, encode) -> None:
    whole = os.urandom(20_000) + TEXT
    body = encode(whole)
    out = decode_body(body[: len(body) * 3 // 4], [header], LIMIT)
    assert 0 < len(out) < len(whole)
    assert whole.startswith(out)


@pytest.mark.parametrize(
    ("header", "encode"),
    [
        (b"gzip", gzip.compress),
        (b"deflate", zlib_deflate),
        (b"deflate", raw_deflate),
        (b"br", brotli.compress),
    ],
)
@pytest.mark.parametrize("keep", [3, 10])
def test_stream_cut_before_any_output_is_an_error(header: bytes, encode, keep: int) -> None:
    """Not an empty body: a cut page must not hash like every other cut page."""
    with pytest.raises(DecodeError) as info:
        decode_body(encode(TEXT)[:keep], [header], LIMIT)
    assert not isinstance(info.value, DecodedTooLarge)


@pytest.mark.parametrize("header", [b"gzip", b"deflate", b"br"])
def test_random_bytes_are_a_decode_error(header: bytes) -> None:
    junk = b"\x00\x01 this is not compressed at all \xff\xfe" * 20
    with pytest.raises(DecodeError) as info:
        decode_body(junk, [header], LIMIT)
    assert not isinstance(info.value, DecodedTooLarge)


def test_gzip_with_a_bad_checksum_is_a_decode_error() -> None:
    body = bytearray(gzip.compress(TEXT))
    body[-8] ^= 0xFF  # CRC32 of the trailer
    with pytest.raises(DecodeError):
        decode_body(bytes(body), [b"gzip"], LIMIT)


def test_brotli_with_trailing_junk_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        decode_body(brotli.compress(TEXT) + b"junk", [b"br"], LIMIT)


@pytest.mark.parametrize("header", [b"zstd", b"compress", b"x-unknown", b"gzip, zstd"])
def test_unsupported_coding_is_a_decode_error(header: bytes) -> None:
    with pytest.raises(DecodeError, match="unsupported content coding"):
        decode_body(b"whatever", [header], LIMIT)


# --- size limit --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "encode"),
    [
        (b"gzip", gzip.compress),
        (b"deflate", raw_deflate),
        (b"br", brotli.compress),
        (b"identity", lambda d: d),
    ],
)
def test_limit_is_inclusive(header: bytes, encode) -> None:
    body = encode(TEXT)
    assert decode_body(body, [header], len(TEXT)) == TEXT
    with pytest.raises(DecodedTooLarge):
        decode_body(body, [header], len(TEXT) - 1)


def test_plain_body_over_the_limit_is_too_large() -> None:
    with pytest.raises(DecodedTooLarge):
        decode_body(TEXT, [], len(TEXT) - 1)


def test_multi_member_gzip_counts_all_members_against_the_limit() -> None:
    body = gzip.compress(bytes(600_000)) * 4
    with pytest.raises(DecodedTooLarge):
        decode_body(body, [b"gzip"], 2_000_000)


def test_zlib_deflate_over_the_limit_is_too_large() -> None:
    with pytest.raises(DecodedTooLarge):
        decode_body(zlib_deflate(bytes(5_000_000)), [b"deflate"], 1_000_000)


# --- decompression bombs: bounded memory -------------------------------------------------------

GIB = 1 << 30
CHUNK = 1 << 20


def write_gzip_bomb(path: Path, inflated: int = GIB) -> None:
    """A single-member gzip stream of ``inflated`` zero bytes (~1 MB), built a block at a time.

    After a full flush the deflate state is reset, so compressing the same 1 MiB again gives
    the same bytes: the stream is written without ever compressing (or holding) 1 GiB.
    """
    zeros = bytes(CHUNK)
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    unit = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    assert c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH) == unit
    end = c.flush()
    crc = 0
    with path.open("wb") as fh:
        fh.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        for _ in range(inflated // CHUNK):
            fh.write(unit)
            crc = zlib.crc32(zeros, crc)
        fh.write(end + struct.pack("<II", crc, inflated & 0xFFFFFFFF))


def write_raw_deflate_bomb(path: Path, inflated: int = GIB) -> None:
    zeros = bytes(CHUNK)
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    unit = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    with path.open("wb") as fh:
        for _ in range(inflated // CHUNK):
            fh.write(unit)
        fh.write(c.flush())


def write_brotli_bomb(path: Path, inflated: int = GIB) -> None:
    zeros = bytes(CHUNK)
    c = brotli.Compressor(quality=1)
    with path.open("wb") as fh:
        for _ in range(inflated // CHUNK):
            fh.write(c.process(zeros))
        fh.write(c.finish())


# Peak RSS of the decoding process alone. ru_maxrss is no good here: Linux carries the parent's
# high-water mark across fork+exec, so a child of a big pytest process starts "at its peak".
# /proc/self/status VmHWM belongs to the new address space; writing 5 to clear_refs resets it.
_MEASURE = """
import json, sys
from pathlib import Path
from archive.encoding import DecodedTooLarge, decode_body

def status(key):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key + ":"))

body = Path(sys.argv[1]).read_bytes()
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before = status("VmRSS")
except OSError:
    before = status("VmHWM")
try:
    decode_body(body, [sys.argv[2].encode()], int(sys.argv[3]))
    outcome = "decoded"
except DecodedTooLarge:
    outcome = "too-large"
print(json.dumps({"outcome": outcome, "growth_kib": status("VmHWM") - before}))
"""


@pytest.mark.parametrize(
    ("header", "build"),
    [
        (b"gzip", write_gzip_bomb),
        (b"deflate", write_raw_deflate_bomb),
        (b"br", write_brotli_bomb),
    ],
)
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak RSS is read from /proc")
def test_bomb_stops_at_the_limit_with_bounded_memory(tmp_path: Path, header: bytes, build) -> None:
    bomb = tmp_path / "bomb"
    build(bomb)
    assert bomb.stat().st_size < 2_000_000  # ~1 MB on the wire ...
    limit = 16 * CHUNK  # ... 1 GiB once inflated, against a 16 MiB limit
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(bomb), header.decode(), str(limit)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    print(
        header.decode(), "bomb of", bomb.stat().st_size, "bytes, peak RSS growth", result["growth_kib"], "KiB"
    )
    assert result["outcome"] == "too-large"
    growth = result["growth_kib"] * 1024
    assert growth < 3 * limit, f"peak RSS grew by {growth / CHUNK:.0f} MiB for a {limit // CHUNK} MiB limit"


def test_gzip_bomb_builder_makes_a_valid_stream(tmp_path: Path) -> None:
    """The bomb really inflates to what it claims (checked on a small one, by plain zlib)."""
    bomb = tmp_path / "small.gz"
    write_gzip_bomb(bomb, inflated=8 * CHUNK)
    assert gzip.decompress(bomb.read_bytes()) == bytes(8 * CHUNK)
    assert decode_body(bomb.read_bytes(), [b"gzip"], 8 * CHUNK) == bytes(8 * CHUNK)
    brotli_bomb = tmp_path / "small.br"
    write_brotli_bomb(brotli_bomb, inflated=8 * CHUNK)
    assert brotli.decompress(brotli_bomb.read_bytes()) == bytes(8 * CHUNK)
