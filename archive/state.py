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

__all__ = [
    "NO_TEXT",
    "TEXT_FAILED",
    "SqliteStateStore",
    "StateError",
    "StateStore",
    "StateUnavailable",
    "UrlState",
    "needs_text",
    "pending_texts",
]


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
    # TEXT_FAILED when extraction failed on every allowed attempt; None while an article's text is
    # still pending (every run completes it from the stored response, see archive.recovery)
    text_record_id: str | None = None
    published: str | None = None  # publication date from a feed or sitemap, ISO 8601
    first_seen: str = ""
    # failed extraction attempts (crash, timeout, error) for that response; 0 again for a new one
    text_attempts: int = 0


#: ``text_record_id`` of an article page whose extractor ran and found no article text (a video page).
NO_TEXT = "-"
#: ``text_record_id`` of an article page whose extraction failed (worker crash, timeout, error) on
#: each of its allowed attempts: no longer retried until the page changes. Stored: never renamed.
TEXT_FAILED = "!"


def needs_text(state: UrlState) -> bool:
    """Whether this capture still awaits its text: a whole article response whose text is neither
    written, nor known to be absent, nor given up (``text_record_id`` None)."""
    return bool(state.is_article and state.status == 200 and state.record_id and state.text_record_id is None)


class StateStore(Protocol):
    def get(self, url: str) -> UrlState | None: ...

    def put(self, state: UrlState) -> None: ...

    def __iter__(self) -> Iterator[UrlState]: ...

    def close(self) -> None: ...


def pending_texts(store: StateStore) -> Iterator[UrlState]:
    """The captures that still need their text (:func:`needs_text`), one at a time.

    The stores of this package keep an index of them (``pending_texts()``), so a big archive is
    not read URL by URL at the start of every run; a store without one (a custom
    ``NEWSARCHIVE_STATE_STORE``) is scanned whole. The store may be written while this runs.
    """
    indexed = getattr(store, "pending_texts", None)
    if indexed is not None:
        yield from indexed()
        return
    urls = [s.url for s in store if needs_text(s)]  # listed first: the caller writes as it goes
    for url in urls:
        state = store.get(url)
        if state is not None and needs_text(state):
            yield state


_COLUMNS = [f.name for f in fields(UrlState)]

#: The SQLite table of the URLs whose capture still needs its text (stored: never renamed).
PENDING_TABLE = "text_pending"
_PENDING_ADD = "INSERT OR IGNORE INTO text_pending (url) VALUES (?)"
_PENDING_REMOVE = "DELETE FROM text_pending WHERE url = ?"


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
            self._index_pending_texts()
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
        data = json.dumps(asdict(state), ensure_ascii=False)
        db = self._db
        try:
            if not state.is_article:  # never pending: one statement, as for any page but an article
                db.execute("INSERT OR REPLACE INTO url_state (url, data) VALUES (?, ?)", (state.url, data))
                return
            # One transaction: the row and its place in the index of pending texts.
            db.execute("BEGIN")
            db.execute("INSERT OR REPLACE INTO url_state (url, data) VALUES (?, ?)", (state.url, data))
            db.execute(_PENDING_ADD if needs_text(state) else _PENDING_REMOVE, (state.url,))
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                if db.in_transaction:
                    db.execute("ROLLBACK")
            raise StateError(f"crawl state {self.path}: {exc}") from exc

    def pending_texts(self) -> Iterator[UrlState]:
        """The captures that still need their text, from the index (see :func:`pending_texts`)."""
        try:
            urls = [u for (u,) in self._db.execute("SELECT url FROM text_pending ORDER BY url")]
        except sqlite3.Error as exc:
            raise StateError(f"crawl state {self.path}: {exc}") from exc
        for url in urls:
            state = self.get(url)
            if state is not None and needs_text(state):
                yield state
            # else: settled since (or no longer an article, whose writes skip the index): skipped

    def _index_pending_texts(self) -> None:
        """Create the index of pending texts; filled once from the rows, for a state written
        before it existed (an older version's pending texts are completed too)."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            exists = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (PENDING_TABLE,)
            ).fetchone()
            if exists:
                return
            self._db.execute("CREATE TABLE text_pending (url TEXT PRIMARY KEY)")
            self._db.execute(
                "INSERT INTO text_pending (url) SELECT url FROM url_state"
                " WHERE json_extract(data, '$.is_article') = 1 AND json_extract(data, '$.status') = 200"
                " AND json_extract(data, '$.record_id') IS NOT NULL"
                " AND json_extract(data, '$.text_record_id') IS NULL"
            )

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
