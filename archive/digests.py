"""WARC digests: ``sha1:`` + RFC 4648 Base32, the form warcio, Heritrix and Common Crawl write."""

from __future__ import annotations

import base64
import hashlib


def sha1_digest(data: bytes | memoryview) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


class StreamingDigest:
    """Digest built from chunks, for bodies read piecewise."""

    def __init__(self) -> None:
        self._hash = hashlib.sha1()

    def update(self, data: bytes | memoryview) -> None:
        self._hash.update(data)

    def value(self) -> str:
        return "sha1:" + base64.b32encode(self._hash.digest()).decode("ascii")
