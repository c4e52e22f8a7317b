"""Minimal loopback HTTP GET for the replay tests: exact request headers, tolerant of short bodies."""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(slots=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    complete: bool  # False when the server sent fewer bytes than its Content-Length

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def get(url: str, *, accept_encoding: str | None = None, timeout: float = 30) -> Reply:
    """GET ``url`` (no redirects followed). ``accept_encoding=None`` sends no Accept-Encoding."""
    parts = urlsplit(url)
    assert parts.hostname in ("127.0.0.1", "localhost"), "tests only talk to loopback"
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    # Connection: close, so a body shorter than its Content-Length ends at EOF instead of
    # leaving the client waiting on a kept-alive connection.
    headers = {"Connection": "close"}
    if accept_encoding:
        headers["Accept-Encoding"] = accept_encoding
    try:
        connection.request("GET", target, headers=headers)
        response = connection.getresponse()
        merged: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        try:
            body, complete = response.read(), True
        except http.client.IncompleteRead as short:
            body, complete = short.partial, False
        return Reply(response.status, merged, body, complete)
    finally:
        connection.close()
