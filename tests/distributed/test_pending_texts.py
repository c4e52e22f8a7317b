"""The Redis state store knows which captures still need their text, as the SQLite one does.

Against a real redis-server (skipped only when it is not installed).
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import pytest
from scrapy.settings import Settings

from archive.state import NO_TEXT, TEXT_FAILED, UrlState, pending_texts
from crawler.distributed.state import RedisStateStore, redis_state
from tests.distributed.conftest import RedisServer, unique_prefix

pytestmark = pytest.mark.redis


def article(name: str, **changes: object) -> UrlState:
    state = UrlState(
        url=f"https://news.example/news/{name}",
        status=200,
        record_id=f"<urn:uuid:{name}>",
        record_file="NEWSARCHIVE-1.warc.gz",
        record_offset=10,
        is_article=True,
    )
    return replace(state, **changes)  # type: ignore[arg-type]


def store_for(server: RedisServer, label: str) -> RedisStateStore:
    settings = Settings({"NEWSARCHIVE_REDIS_URL": server.url, "NEWSARCHIVE_DIST_PREFIX": unique_prefix(label)})
    return redis_state(settings, None)  # type: ignore[arg-type]


def names(states: object) -> list[str]:
    return [s.url.rsplit("/", 1)[1] for s in states]  # type: ignore[attr-defined]


def test_pending_texts_are_a_set_kept_with_every_write(redis_server: RedisServer) -> None:
    store = store_for(redis_server, "pending")
    for state in (
        article("pending"),
        article("failed-once", text_attempts=1),
        article("written", text_record_id="<urn:uuid:text>"),
        article("no-text", text_record_id=NO_TEXT),
        article("given-up", text_record_id=TEXT_FAILED, text_attempts=3),
        article("gone", status=404),
        article("index", is_article=False),
    ):
        store.put(state)
    assert names(pending_texts(store)) == ["failed-once", "pending"]
    store.put(article("pending", text_record_id="<urn:uuid:done>"))
    assert names(pending_texts(store)) == ["failed-once"]
    assert store.client.smembers(store.pending_key) == {b"https://news.example/news/failed-once"}


def test_a_hash_written_before_the_set_is_indexed_once(redis_server: RedisServer) -> None:
    store = store_for(redis_server, "older")
    old = {k: v for k, v in asdict(article("pending")).items() if k != "text_attempts"}
    store.client.hset(store.key, old["url"], json.dumps(old))  # as an older version wrote it
    store.client.hset(store.key, "https://news.example/", json.dumps(asdict(UrlState(url="https://news.example/"))))
    assert names(pending_texts(store)) == ["pending"]
    assert store.client.exists(store.key + ":text_pending:indexed")
    # From now on the set alone answers: a row written around the store is not seen.
    store.client.hset(store.key, article("later").url, json.dumps(asdict(article("later"))))
    assert names(pending_texts(store)) == ["pending"]
