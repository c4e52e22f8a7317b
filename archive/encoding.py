"""Bounded content decoding (gzip, deflate, br) of bodies stored as received.

The body goes into the WARC exactly as the server sent it; this decoded copy is only for
deciding "unchanged" and for text extraction. A few kilobytes can inflate to gigabytes
(a "zip bomb"), so every decoder stops at ``max_size`` and says so instead of allocating.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import brotli

from archive.errors import DecodedTooLarge, DecodeError

__all__ = ["DecodeError", "DecodedTooLarge", "codings", "decode_body"]

CHUNK = 64 * 1024


def codings(header_values: Sequence[bytes]) -> list[str]:
    """Content codings in the order they were applied (``Content-Encoding: gzip, br``)."""
    out: list[str] = []
    for value in header_values:
        for part in value.decode("latin-1").split(","):
            coding = part.strip().lower()
            if coding and coding != "identity":
                out.append(coding)
    return out


def decode_body(body: bytes, header_values: Sequence[bytes], max_size: int) -> bytes:
    """Undo every content coding, last applied first, never producing more than ``max_size`` bytes."""
    if not body:
        return body  # 204/304 and HEAD answers often keep the Content-Encoding of the resource
    data = body
    for coding in reversed(codings(header_values)):
        if coding in ("gzip", "x-gzip"):
            data = _zlib(data, 16 + zlib.MAX_WBITS, max_size)
        elif coding == "deflate":
            try:
                data = _zlib(data, zlib.MAX_WBITS, max_size)
            except DecodedTooLarge:
                raise
            except DecodeError:
                # Many servers send raw deflate (RFC 1951) under the zlib (RFC 1950) name.
                data = _zlib(data, -zlib.MAX_WBITS, max_size)
        elif coding == "br":
            data = _brotli(data, max_size)
        else:
            raise DecodeError(f"unsupported content coding {coding!r}")
    if len(data) > max_size:
        raise DecodedTooLarge(f"body of {len(data)} bytes exceeds {max_size}")
    return data


def _zlib(data: bytes, wbits: int, max_size: int) -> bytes:
    out = bytearray()
    view = memoryview(data)
    pos = 0
    try:
        while True:
            decomp = zlib.decompressobj(wbits)
            while pos < len(view):
                chunk = view[pos : pos + CHUNK]
                pos += len(chunk)
                piece = decomp.decompress(chunk, max_size + 1 - len(out))
                out += piece
                while decomp.unconsumed_tail and len(out) <= max_size:
                    out += decomp.decompress(decomp.unconsumed_tail, max_size + 1 - len(out))
                if len(out) > max_size:
                    raise DecodedTooLarge(f"decoded body exceeds {max_size} bytes")
                if decomp.eof:
                    break
            out += decomp.flush()
            rest = decomp.unused_data
            if not decomp.eof:
                if not out:
                    raise DecodeError("truncated compressed body")
                break  # a truncated stream: keep what decoded
            if not rest or wbits != 16 + zlib.MAX_WBITS:
                break
            # gzip allows several members one after another.
            view = memoryview(rest)
            pos = 0
    except zlib.error as exc:
        raise DecodeError(f"corrupt compressed body: {exc}") from exc
    if len(out) > max_size:
        raise DecodedTooLarge(f"decoded body exceeds {max_size} bytes")
    return bytes(out)


def _brotli(data: bytes, max_size: int) -> bytes:
    decomp = brotli.Decompressor()
    out = bytearray()
    try:
        for start in range(0, len(data), CHUNK):
            chunk = data[start : start + CHUNK]
            while True:
                # The limit is a hint to brotli (it may return somewhat more): check before
                # every call, and never pass a limit <= 0, which brotli reads as "unlimited".
                remaining = max_size + 1 - len(out)
                if remaining <= 0:
                    raise DecodedTooLarge(f"decoded body exceeds {max_size} bytes")
                # Small steps keep the output buffer growing gently (no 2x overshoot).
                out += decomp.process(chunk, output_buffer_limit=min(remaining, 16 * CHUNK))
                chunk = b""
                if len(out) > max_size:
                    raise DecodedTooLarge(f"decoded body exceeds {max_size} bytes")
                if decomp.is_finished() or decomp.can_accept_more_data():
                    break
    except brotli.error as exc:
        raise DecodeError(f"corrupt brotli body: {exc}") from exc
    if not decomp.is_finished() and not out:
        raise DecodeError("truncated brotli body")
    return bytes(out)
