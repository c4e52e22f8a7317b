"""Idempotent archiving: a redelivered request writes nothing, and completes a missing text."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.capture import Exchange
from archive.http import ResponseHead
from archive.records import warc_date
from crawler.distributed.archiver import DistributedArchiver
from crawler.distributed.connection import client_for, parse_redis_url
from crawler.distributed.state import RedisStateStore
from crawler.distributed.store import CycleStore
from tests.distributed.conftest import RedisServer, unique_prefix

pytestmark = pytest.mark.redis

BODY = b"<html><head><title>t</title></head><body><article><p>News text.</p></article></body></html>"


class _Counts:
    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] += count


def _exchange(url: str, status: int = 200, body: bytes = BODY) -> Exchange:
    head = ResponseHead("HTTP/1.1", status, "OK", ((b"Content-Type", b"text/html; charset=utf-8"),))
    return Exchange(
        url=url, method="GET", request_headers=(), head=head, body=body, decoded=body, date=warc_date()
    )


def _archiver(root: Path, server: RedisServer, prefix: str) -> tuple[DistributedArchiver, _Counts]:
    target = parse_redis_url(server.url)
    client = client_for(target)
    store = CycleStore(client, prefix, "c")
    store.load_scripts()
    wid = f"w-{root.name}"
    cycle_id = store.join(wid, f"h:{root}", lease_ms=30_000).cycle_id
    counts = _Counts()
    archiver = DistributedArchiver(
        root, stats=counts, state=RedisStateStore(client, f"{prefix}:state", target)
    )  # type: ignore[arg-type]
    archiver.open()
    archiver._cycle = SimpleNamespace(  # type: ignore[assignment]
        claim_archive=lambda url: store.claim_archive(cycle_id, url, wid, ttl_ms=30_000),
        mark_archived=lambda url: store.mark_archived(cycle_id, url),
        release_claim=lambda url: store.release_claim(cycle_id, url),
    )
    return archiver, counts


def _records(root: Path) -> list[tuple[str, str]]:
    out = []
    for path in sorted(root.glob("warc/*.warc.gz")):
        with path.open("rb") as fh:
            out += [(r.rec_type, r.rec_headers.get_header("WARC-Record-ID")) for r in ArchiveIterator(fh)]
    return out


def test_redelivered_article_is_not_archived_twice_and_its_missing_text_is_completed(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    prefix = unique_prefix("archiver")
    url = "http://127.0.0.1:9/ur/news/1"
    killed, _ = _archiver(tmp_path / "killed", redis_server, prefix)
    first = killed.archive_exchange(_exchange(url), site="s", is_article=True)
    assert first.kind == "response" and first.awaits_text
    # ... the worker is killed here: response archived, text never written, lease not acknowledged.
    killed.close()

    other, counts = _archiver(tmp_path / "other", redis_server, prefix)
    again = other.archive_exchange(_exchange(url), site="s", is_article=True)
    assert again.state.record_id == first.record_id, "the text will refer to the first capture"
    assert again.awaits_text and not again.changed
    other.archive_text(again.state, [], None, site="s")
    text_done = replace(again.state, text_record_id="<urn:uuid:text>")
    other.state.put(text_done)
    third = other.archive_exchange(_exchange(url), site="s", is_article=True)
    assert not third.awaits_text, "text present: nothing more to do"
    other.archive_exchange(_exchange(url, status=503), site="s", is_article=True)
    other.close()

    kinds = Counter(kind for kind, _id in _records(tmp_path / "other"))
    assert kinds["response"] == 1, "only the 503 is written: errors are always archived"
    assert counts.values["newsarchive/distributed/capture_skipped"] == 2
    assert counts.values["newsarchive/distributed/text_completed"] == 1
    assert sum(1 for kind, _id in _records(tmp_path / "killed") if kind == "response") == 1
