"""Crawl state carried from one run to the next: what each URL looked like last time.

The interface is deliberately narrow (get / put / iterate / close) so that a shared store
(Redis, in distributed mode) can replace the embedded SQLite file without touching callers.
The WARC files stay the source of truth: the state is a cache of facts about them and can
be rebuilt from them (see :mod:`archive.repair`).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Protocol

from archive.errors import StateError, StateUnavailable

__all__ = ["NO_TEXT", "SqliteStateStore", "StateError", "StateStore", "StateUnavailable", "UrlState"]


@dataclass(slots=True)
class UrlState:
    """Last known facts about one canonical URL."""

    url: str
    last_fetch: str = ""  # WARC-Date of the last capture (response or revisit)
    status: int = 0
    etag: str | None = None
    last_modified: str | None = None
    payload_digest: str | None = None  # WARC-Payload-Digest of the last full response (bytes stored)
    content_digest: str | None = None  # sha1 of the content-decoded body: "unchanged" is decided on it
    record_id: str | None = None  # last full response record
    record_date: str | None = None
    record_file: str | None = None
    record_offset: int | None = None
    response_head: str | None = None  # header block of that response (latin-1), replayable in revisits
    is_article: bool = False
    # conversion record of that response once written; NO_TEXT when there was no text to extract;
    # None while an article's text is still pending (then the page is never revisited, see capture)
    text_record_id: str | None = None
    published: str | None = None  # publication date from a feed or sitemap, ISO 8601
    first_seen: str = ""


NO_TEXT = "-"


class StateStore(Protocol):
    def get(self, url: str) -> UrlState | None: ...

    def put(self, state: UrlState) -> None: ...

    def __iter__(self) -> Iterator[UrlState]: ...

    def close(self) -> None: ...


_COLUMNS = [f.name for f in fields(UrlState)]


class SqliteStateStore:
    """One SQLite file inside the archive directory (WAL, so a reader never blocks the crawl)."""

    def __init__(self, path: Path, *, timeout: float = 5.0) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS url_state (url TEXT PRIMARY KEY, data TEXT NOT NULL)"
            )
            self._db.execute("SELECT count(*) FROM url_state").fetchone()
            # A writer elsewhere (WAL lets readers through) would block every put() later,
            # in the middle of a crawl: find out now, while failing is still clean.
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("ROLLBACK")
        except (sqlite3.Error, OSError) as exc:
            raise StateError(f"cannot open crawl state {path}: {exc}") from exc

    def get(self, url: str) -> UrlState | None:
        try:
            row = self._db.execute("SELECT data FROM url_state WHERE url = ?", (url,)).fetchone()
        except sqlite3.Error as exc:
            raise StateError(f"crawl state {self.path}: {exc}") from exc
        return _decode(row[0]) if row else None

    def put(self, state: UrlState) -> None:
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO url_state (url, data) VALUES (?, ?)",
                (state.url, json.dumps(asdict(state), ensure_ascii=False)),
            )
        except sqlite3.Error as exc:
            raise StateError(f"crawl state {self.path}: {exc}") from exc

    def __iter__(self) -> Iterator[UrlState]:
        try:
            rows = self._db.execute("SELECT data FROM url_state ORDER BY url").fetchall()
        except sqlite3.Error as exc:
            raise StateError(f"crawl state {self.path}: {exc}") from exc
        for (data,) in rows:
            yield _decode(data)

    def __len__(self) -> int:
        try:
            return int(self._db.execute("SELECT count(*) FROM url_state").fetchone()[0])
        except sqlite3.Error as exc:
            raise StateError(f"crawl state {self.path}: {exc}") from exc

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()


def _decode(data: str) -> UrlState:
    try:
        raw = json.loads(data)
        return UrlState(**{k: v for k, v in raw.items() if k in _COLUMNS})
    except (ValueError, TypeError, AttributeError) as exc:
        raise StateError(f"corrupt crawl state row: {exc}") from exc
