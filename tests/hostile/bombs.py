"""Decompression bombs for the hostile server: a few hundred bytes to 1 MB that inflate to 1 GiB.

Each is built once per process (functools.cache) in about a second, by streaming compression,
and is small enough to keep in memory.
"""

from __future__ import annotations

import functools
import gzip
import struct
import zlib
from collections.abc import Callable

import brotli

BOMB_SIZE = 1 << 30  # every bomb inflates to 1 GiB


def _deflate_zeros(total: int) -> bytes:
    """Raw deflate of ``total`` zero bytes in about 1 KB per MiB, in milliseconds.

    Compressing a gigabyte takes seconds; but after a full flush the compressor forgets its
    window, so every further MiB of zeros compresses to the very same bytes. One MiB is
    compressed for real and its block repeated.
    """
    mib = b"\0" * (1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = comp.compress(mib) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(mib) + comp.flush(zlib.Z_FULL_FLUSH)
    return first + block * (total // len(mib) - 1) + comp.flush()


def _zeros_checksum(total: int, checksum: Callable[[bytes, int], int], start: int) -> int:
    mib = b"\0" * (1 << 20)
    value = start
    for _ in range(total // len(mib)):
        value = checksum(mib, value)
    return value


@functools.cache
def gzip_bomb() -> bytes:
    """``Content-Encoding: gzip``: about 1 MB inflating to 1 GiB (deflate's ratio tops out near 1:1000)."""
    crc = _zeros_checksum(BOMB_SIZE, zlib.crc32, 0)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + _deflate_zeros(BOMB_SIZE) + struct.pack("<II", crc, BOMB_SIZE & 0xFFFFFFFF)


@functools.cache
def deflate_bomb() -> bytes:
    """``Content-Encoding: deflate`` (zlib wrapper, RFC 1950): about 1 MB inflating to 1 GiB."""
    adler = _zeros_checksum(BOMB_SIZE, zlib.adler32, 1)
    return b"\x78\xda" + _deflate_zeros(BOMB_SIZE) + struct.pack(">I", adler)


@functools.cache
def gzip_nested_bomb() -> bytes:
    """``Content-Encoding: gzip, gzip``: the gzip bomb gzipped again, about 2 KB for 1 GiB."""
    return gzip.compress(gzip_bomb(), compresslevel=9, mtime=0)


@functools.cache
def deflate_nested_bomb() -> bytes:
    """``Content-Encoding: deflate, deflate``: about 2 KB for 1 GiB."""
    return zlib.compress(deflate_bomb(), 9)


@functools.cache
def brotli_bomb() -> bytes:
    """``Content-Encoding: br``: under 1 KB inflating to 1 GiB (brotli has no 1:1000 ceiling)."""
    comp = brotli.Compressor(quality=4, lgwin=24)
    mib4 = b"\0" * (4 << 20)
    out = [comp.process(mib4) for _ in range(BOMB_SIZE // len(mib4))]
    out.append(comp.finish())
    return b"".join(out)


BOMBS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "gzip": ("gzip", gzip_bomb),
    "gzip-nested": ("gzip, gzip", gzip_nested_bomb),
    "deflate": ("deflate", deflate_bomb),
    "deflate-nested": ("deflate, deflate", deflate_nested_bomb),
    "br": ("br", brotli_bomb),
}
