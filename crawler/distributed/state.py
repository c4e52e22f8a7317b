"""The per-URL crawl state in Redis, shared by every worker (``NEWSARCHIVE_STATE_STORE``).

Same contract as :class:`archive.state.SqliteStateStore`: validators, digests and where the
last full response is, per canonical URL, so a conditional request or a revisit works whichever
worker fetched the page last time (the revisit's ``WARC-Refers-To`` may name a record in
another worker's file). One hash, ``PREFIX:state``, field = URL, value = the JSON of
:class:`archive.state.UrlState`; about 1 KB per URL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, fields
from typing import Any

import redis

from archive.layout import ArchiveLayout
from archive.state import StateError, StateUnavailable, UrlState
from crawler.distributed.connection import RedisTarget, client_for, parse_redis_url
from crawler.errors import DistributedError

_COLUMNS = {f.name for f in fields(UrlState)}


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

    def put(self, state: UrlState) -> None:
        try:
            self.client.hset(self.key, state.url, json.dumps(asdict(state), ensure_ascii=False))
        except redis.RedisError as exc:
            raise self._error(exc) from None

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


def _decode(data: bytes | str) -> UrlState:
    raw = json.loads(data)
    return UrlState(**{k: v for k, v in raw.items() if k in _COLUMNS})
