"""Rebuild the HTTP messages of one exchange as WARC record blocks.

A crawler never sees the wire bytes: its HTTP client has already removed the chunk framing,
may have normalised header case, and never hands out the request line. What is stored is a
faithful *reconstruction* (WARC 1.1 §6.3.2 allows a response block to be "the full HTTP
response"; we keep everything a replay tool needs and say what was changed):

* the status line keeps the reason phrase the server sent (never invented when we have it);
* every value of a repeated header is kept, in order (two ``Set-Cookie`` stay two);
* ``Content-Length`` always equals the stored body (the old value is kept as
  ``X-Crawler-Content-Length`` when it differed), so readers never over- or under-read;
* ``Transfer-Encoding`` is renamed ``X-Crawler-Transfer-Encoding``: the body is stored de-chunked;
* a ``Location``/``Content-Location`` holding raw UTF-8 is percent-encoded, because warcio and
  wabac.js (ReplayWeb.page) read header bytes as latin-1 and would replay a broken redirect;
* anything that is not HTTP/1.0 or HTTP/1.1 (h2) is written as HTTP/1.1: WARC readers parse
  only HTTP/1.x status lines.

Everything here works on plain values (bytes pairs, ints), never on a crawler's objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

from w3lib.url import safe_url_string

Header = tuple[bytes, bytes]

_HOP_BY_HOP_RENAMED = {b"transfer-encoding"}
_URL_HEADERS = {b"location", b"content-location"}
_CRLF = b"\r\n"


@dataclass(frozen=True, slots=True)
class ResponseHead:
    """Status line and headers of a response, as received (header order and duplicates kept)."""

    protocol: str
    status: int
    reason: str | None
    headers: tuple[Header, ...]

    def get_all(self, name: bytes) -> list[bytes]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def get(self, name: bytes) -> bytes | None:
        values = self.get_all(name)
        return values[0] if values else None


def status_line(protocol: str, status: int, reason: str | None) -> bytes:
    """``HTTP/1.x CODE REASON``, keeping the server's reason phrase when we have one.

    An empty reason phrase is legal (RFC 9112 §4) and is kept as such; ``None`` means the
    client did not tell us, and only then is the standard phrase used.
    """
    version = protocol.upper() if protocol.upper() in ("HTTP/1.0", "HTTP/1.1") else "HTTP/1.1"
    if reason is None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
    phrase = _one_line(reason.encode("latin-1", "replace"))
    return f"{version} {int(status)} ".encode("ascii") + phrase


def response_header_block(head: ResponseHead, body_length: int) -> bytes:
    """Status line + headers + blank line for a response whose stored body has ``body_length`` bytes."""
    lines = [status_line(head.protocol, head.status, head.reason)]
    lengths = [v for k, v in head.headers if k.lower() == b"content-length"]
    for name, value in head.headers:
        lower = name.lower()
        if lower == b"content-length":
            continue
        if lower in _HOP_BY_HOP_RENAMED:
            name = b"X-Crawler-" + name
        elif lower in _URL_HEADERS:
            value = normalise_url_header(value)
        lines.append(_header_line(name, value))
    if lengths and lengths != [str(body_length).encode()]:
        lines.extend(_header_line(b"X-Crawler-Content-Length", v) for v in lengths)
    lines.append(_header_line(b"Content-Length", str(body_length).encode("ascii")))
    return _CRLF.join(lines) + _CRLF + _CRLF


def request_header_block(method: str, url: str, headers: Iterable[Header]) -> bytes:
    """Request line (path *and* query) + ``Host`` + the headers sent + blank line."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        # warcio reads HTTP headers only under http(s) target URIs: anything else would be
        # a record whose payload digest no reader can check.
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    target_bytes = safe_url_string(target, encoding="utf-8").encode("ascii")
    lines = [method.upper().encode("ascii") + b" " + target_bytes + b" HTTP/1.1"]
    header_list = list(headers)
    if not any(k.lower() == b"host" for k, _ in header_list):
        # Host is host[:port] only: userinfo in a URL is never sent, and must not be archived.
        host = parts.netloc.rpartition("@")[2]
        lines.append(_header_line(b"Host", host.encode("idna")))
    lines.extend(_header_line(k, v) for k, v in header_list)
    return _CRLF.join(lines) + _CRLF + _CRLF


def normalise_url_header(value: bytes) -> bytes:
    """Percent-encode each raw byte >= 0x80 of a URL header, whatever its charset.

    Byte by byte, never decoded: UTF-8 comes out as the usual %XX sequence, and a latin-1
    ``/caf\xe9`` becomes ``/caf%E9``, the very URL the crawler followed (and archived), so replay
    redirects to a capture that exists.
    """
    if value.isascii():
        return value
    return b"".join(b"%%%02X" % byte if byte >= 0x80 else bytes((byte,)) for byte in value)


def header_pairs(items: Iterable[tuple[bytes | str, Sequence[bytes | str] | bytes | str]]) -> list[Header]:
    """Flatten ``name -> [values]`` mappings into ordered ``(name, value)`` byte pairs."""
    pairs: list[Header] = []
    for name, values in items:
        raw_name = name.encode("latin-1") if isinstance(name, str) else name
        seq = [values] if isinstance(values, bytes | str) else values
        for value in seq:
            raw = value.encode("latin-1", "replace") if isinstance(value, str) else value
            pairs.append((raw_name, raw))
    return pairs


def _header_line(name: bytes, value: bytes) -> bytes:
    return _one_line(name).replace(b":", b"") + b": " + _one_line(value)


def _one_line(value: bytes) -> bytes:
    """Header injection guard: a CR or LF inside a value would start a new header line."""
    return value.replace(b"\r", b" ").replace(b"\n", b" ").strip()
