"""The per-URL crawl state in Redis, shared by every worker (``NEWSARCHIVE_STATE_STORE``).

Same contract as :class:`archive.state.SqliteStateStore`: validators, digests and where the
last full response is, per canonical URL, so a conditional request or a revisit works whichever
worker fetched the page last time (the revisit's ``WARC-Refers-To`` may name a record in
another worker's file). One hash, ``PREFIX:state``, field = URL, value = the JSON of
:class:`archive.state.UrlState`; about 1 KB per URL.

Beside it, the set ``PREFIX:state:text_pending`` holds the URLs whose capture still needs its
text (:func:`archive.state.needs_text`), kept with each write (one MULTI/EXEC), so the start of
a run finds them without reading the whole hash. A hash written before the set existed is read
once to fill it (then ``PREFIX:state:text_pending:indexed`` is set). Each worker completes the
pending texts whose response is in its own archive directory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, fields
from typing import Any

import redis

from archive.layout import ArchiveLayout
from archive.state import StateError, StateUnavailable, UrlState, needs_text
from crawler.distributed.connection import RedisTarget, client_for, parse_redis_url
from crawler.errors import DistributedError

_COLUMNS = {f.name for f in fields(UrlState)}
#: Suffixes of the state hash's key: the set of URLs whose text is pending, and the mark that
#: it was filled from an older hash (stored: never renamed).
PENDING_SUFFIX = ":text_pending"
INDEXED_SUFFIX = ":text_pending:indexed"


class RedisStateStore:
    def __init__(self, client: redis.Redis, key: str, target: RedisTarget) -> None:
        self.client = client
        self.key = key
        self.target = target

    def _error(self, exc: Exception) -> StateError:
        unreachable = isinstance(exc, redis.ConnectionError | redis.TimeoutError)
        kind = StateUnavailable if unreachable else StateError
        return kind(f"crawl state in Redis at {self.target.masked}: {self.target.scrub(str(exc))}")

    def get(self, url: str) -> UrlState | None:
        try:
            data = self.client.hget(self.key, url)
        except redis.RedisError as exc:
            raise self._error(exc) from None
        return _decode(data) if data else None

    @property
    def pending_key(self) -> str:
        return self.key + PENDING_SUFFIX

    def put(self, state: UrlState) -> None:
        data = json.dumps(asdict(state), ensure_ascii=False)
        try:
            if not state.is_article:  # never pending (as in the SQLite store): one command
                self.client.hset(self.key, state.url, data)
                return
            with self.client.pipeline(transaction=True) as pipe:
                pipe.hset(self.key, state.url, data)
                if needs_text(state):
                    pipe.sadd(self.pending_key, state.url)
                else:
                    pipe.srem(self.pending_key, state.url)
                pipe.execute()
        except redis.RedisError as exc:
            raise self._error(exc) from None

    def pending_texts(self) -> Iterator[UrlState]:
        """The captures whose text is pending, from the set (see :func:`archive.state.pending_texts`)."""
        try:
            if not self.client.exists(self.key + INDEXED_SUFFIX):
                self._index_pending()
            urls = sorted(_text(u) for u in self.client.sscan_iter(self.pending_key, count=500))
        except redis.RedisError as exc:
            raise self._error(exc) from None
        for url in urls:
            state = self.get(url)
            if state is not None and needs_text(state):
                yield state
            else:  # settled by a write the set missed (no longer an article, an older worker): drop it
                try:
                    self.client.srem(self.pending_key, url)
                except redis.RedisError as exc:
                    raise self._error(exc) from None

    def _index_pending(self) -> None:
        """Fill the set from the hash once (a hash of an older version, or of a worker that
        wrote without the set); concurrent workers doing it at once add the same URLs."""
        batch: list[str] = []
        for url, data in self.client.hscan_iter(self.key, count=500):
            if needs_text(_decode(data)):
                batch.append(_text(url))
            if len(batch) >= 500:
                self.client.sadd(self.pending_key, *batch)
                batch.clear()
        if batch:
            self.client.sadd(self.pending_key, *batch)
        self.client.set(self.key + INDEXED_SUFFIX, "1")

    def __iter__(self) -> Iterator[UrlState]:
        try:
            for _url, data in self.client.hscan_iter(self.key, count=500):
                yield _decode(data)
        except redis.RedisError as exc:
            raise self._error(exc) from None

    def __len__(self) -> int:
        try:
            return int(self.client.hlen(self.key))
        except redis.RedisError as exc:
            raise self._error(exc) from None

    def close(self) -> None:
        """The connection pool is shared by the process: nothing to close per store."""


def redis_state(settings: Any, layout: ArchiveLayout) -> RedisStateStore:
    """``NEWSARCHIVE_STATE_STORE`` factory of distributed mode."""
    url = settings.get("NEWSARCHIVE_REDIS_URL")
    if not url:
        raise StateError("NEWSARCHIVE_STATE_STORE is the Redis store but NEWSARCHIVE_REDIS_URL is empty")
    try:
        target = parse_redis_url(url)
        client = client_for(target)
    except DistributedError as exc:
        raise StateError(str(exc)) from None
    prefix = settings.get("NEWSARCHIVE_DIST_PREFIX") or "newsarchive"
    return RedisStateStore(client, f"{prefix}:state", target)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _decode(data: bytes | str) -> UrlState:
    raw = json.loads(data)
    return UrlState(**{k: v for k, v in raw.items() if k in _COLUMNS})
