"""The SQLite crawl state: round trip, forward compatibility, and clear errors."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from archive.state import NO_TEXT, TEXT_FAILED, SqliteStateStore, StateError, UrlState, pending_texts


def full_state(url: str = "https://example.com/ur/news/1") -> UrlState:
    """Every field set to something other than its default."""
    return UrlState(
        url=url,
        last_fetch="2024-05-02T00:00:00.000000Z",
        status=200,
        etag='W/"abc"',
        last_modified="Wed, 01 May 2024 00:00:00 GMT",
        payload_digest="sha1:AAAA",
        content_digest="sha1:BBBB",
        record_id="<urn:uuid:1>",
        record_date="2024-05-01T00:00:00.000000Z",
        record_file="cap-20240501000000-00000-host-1.warc.gz",
        record_offset=12345,
        response_head="HTTP/1.1 200 OK\r\nX-Title: \xe9\r\n\r\n",
        is_article=True,
        text_record_id="<urn:uuid:2>",
        published="2024-05-01T09:00:00+05:00",
        first_seen="2024-04-01T00:00:00.000000Z",
        text_attempts=2,
    )


def test_every_field_is_set_by_the_fixture() -> None:
    defaults = UrlState(url="x")
    state = full_state()
    unset = [
        f.name
        for f in fields(UrlState)
        if f.name != "url" and getattr(state, f.name) == getattr(defaults, f.name)
    ]
    assert unset == []


def test_round_trip_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state" / "state.sqlite3"  # the parent directory is created
    store = SqliteStateStore(path)
    state = full_state()
    store.put(state)
    assert store.get(state.url) == state
    store.close()
    reopened = SqliteStateStore(path)
    assert reopened.get(state.url) == state
    assert reopened.get("https://example.com/other") is None
    assert len(reopened) == 1
    reopened.close()


def test_put_replaces_and_iteration_is_sorted(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "s.sqlite3")
    for url in ("https://b.example/", "https://a.example/", "https://c.example/"):
        store.put(UrlState(url=url, status=200))
    store.put(UrlState(url="https://a.example/", status=404))
    assert [s.url for s in store] == ["https://a.example/", "https://b.example/", "https://c.example/"]
    assert store.get("https://a.example/") == UrlState(url="https://a.example/", status=404)
    assert len(store) == 3
    store.close()


def test_non_ascii_values_survive(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "s.sqlite3")
    state = UrlState(url="https://example.com/ur/%D8%AE", etag="خبر", published="۲۰۲۴")
    store.put(state)
    assert store.get(state.url) == state
    store.close()


def test_unknown_json_keys_are_ignored(tmp_path: Path) -> None:
    """A state written by a newer version still opens (fields are only ever added)."""
    path = tmp_path / "s.sqlite3"
    SqliteStateStore(path).close()
    data = {**asdict(full_state()), "added_in_a_later_version": [1, 2], "another": None}
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO url_state (url, data) VALUES (?, ?)", (data["url"], json.dumps(data)))
    store = SqliteStateStore(path)
    assert store.get(data["url"]) == full_state()
    assert list(store) == [full_state()]
    store.close()


def test_missing_json_keys_take_their_defaults(tmp_path: Path) -> None:
    """A state written by an older version (fewer fields) still opens."""
    path = tmp_path / "s.sqlite3"
    SqliteStateStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO url_state (url, data) VALUES (?, ?)",
            ("https://x.example/", json.dumps({"url": "https://x.example/", "status": 304})),
        )
    store = SqliteStateStore(path)
    assert store.get("https://x.example/") == UrlState(url="https://x.example/", status=304)
    store.close()


@pytest.mark.parametrize(
    "content",
    [b"this is not a database" * 50, b"SQLite format 3\x00" + b"\xff" * 4000],
    ids=["text", "bad-header"],
)
def test_corrupt_file_is_a_state_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "s.sqlite3"
    path.write_bytes(content)
    with pytest.raises(StateError, match="cannot open crawl state"):
        SqliteStateStore(path)


def test_truncated_database_is_a_state_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = SqliteStateStore(path)
    for n in range(2000):
        store.put(UrlState(url=f"https://example.com/{n}", etag="x" * 100))
    store.close()
    data = path.read_bytes()
    assert len(data) > 100_000
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StateError):
        store = SqliteStateStore(path)
        for n in range(2000):
            store.get(f"https://example.com/{n}")


def test_unopenable_path_is_a_state_error(tmp_path: Path) -> None:
    directory = tmp_path / "a-directory"
    directory.mkdir()
    with pytest.raises(StateError):
        SqliteStateStore(directory)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StateError):
        SqliteStateStore(blocker / "state.sqlite3")  # parent is a file


def test_error_after_close_is_a_state_error(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "s.sqlite3")
    store.close()
    with pytest.raises(StateError):
        store.put(UrlState(url="https://x.example/"))
    with pytest.raises(StateError):
        store.get("https://x.example/")
    store.close()  # closing twice is harmless


def test_corrupt_row_is_a_state_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    SqliteStateStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO url_state (url, data) VALUES (?, ?)", ("https://x.example/", "{not json"))
    store = SqliteStateStore(path)
    with pytest.raises(StateError):
        store.get("https://x.example/")


# --- which captures still need their text --------------------------------------------------------


def article(url: str, **changes: object) -> UrlState:
    """An article whose response is archived; its text pending unless ``changes`` say otherwise."""
    base = UrlState(
        url=f"https://example.com/news/{url}",
        status=200,
        record_id=f"<urn:uuid:{url}>",
        record_date="2024-05-01T00:00:00.000000Z",
        record_file="cap-1.warc.gz",
        record_offset=100,
        is_article=True,
    )
    return UrlState(**{**asdict(base), **changes})  # type: ignore[arg-type]


KINDS = {
    "pending": article("pending"),
    "failed-once": article("failed-once", text_attempts=1),
    "written": article("written", text_record_id="<urn:uuid:text>"),
    "no-text": article("no-text", text_record_id=NO_TEXT),
    "given-up": article("given-up", text_record_id=TEXT_FAILED, text_attempts=3),
    "not-found": article("not-found", status=404),
    "index-page": article("index-page", is_article=False),
}


def test_the_state_knows_which_captures_still_need_their_text(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "s.sqlite3")
    for state in KINDS.values():
        store.put(state)
    assert list(pending_texts(store)) == [KINDS["failed-once"], KINDS["pending"]]
    store.put(article("pending", text_record_id="<urn:uuid:done>"))  # its text is written
    store.put(article("written", record_id="<urn:uuid:newer>"))  # a new response: its text is pending
    assert [s.url.rsplit("/", 1)[1] for s in pending_texts(store)] == ["failed-once", "written"]
    store.close()
    reopened = SqliteStateStore(tmp_path / "s.sqlite3")
    assert [s.url.rsplit("/", 1)[1] for s in pending_texts(reopened)] == ["failed-once", "written"]
    reopened.close()


def test_pending_texts_come_from_an_index_not_from_every_row(tmp_path: Path) -> None:
    """A big archive's state is not read URL by URL at the start of every run."""
    path = tmp_path / "s.sqlite3"
    store = SqliteStateStore(path)
    store.put(KINDS["pending"])
    with sqlite3.connect(path) as db:  # a row the index does not know of, written around the store
        db.execute(
            "INSERT INTO url_state (url, data) VALUES (?, ?)",
            (KINDS["failed-once"].url, json.dumps(asdict(KINDS["failed-once"]))),
        )
    assert [s.url for s in pending_texts(store)] == [KINDS["pending"].url]
    store.close()


def test_a_state_of_an_older_version_has_its_pending_texts_found(tmp_path: Path) -> None:
    """Rows written before the index existed (and before text_attempts): indexed once, on open."""
    path = tmp_path / "s.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE url_state (url TEXT PRIMARY KEY, data TEXT NOT NULL)")
        for state in KINDS.values():
            old = {k: v for k, v in asdict(state).items() if k != "text_attempts"}
            db.execute("INSERT INTO url_state (url, data) VALUES (?, ?)", (state.url, json.dumps(old)))
    store = SqliteStateStore(path)
    assert [s.url.rsplit("/", 1)[1] for s in pending_texts(store)] == ["failed-once", "pending"]
    assert {s.text_attempts for s in store} == {0}, "an older row has no failed attempt"
    store.close()


class DictStore:
    """A custom NEWSARCHIVE_STATE_STORE: the protocol only, no index of pending texts."""

    def __init__(self) -> None:
        self.rows: dict[str, UrlState] = {}

    def get(self, url: str) -> UrlState | None:
        return self.rows.get(url)

    def put(self, state: UrlState) -> None:
        self.rows[state.url] = state

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self.rows.values()))

    def close(self) -> None:
        pass


def test_a_store_without_an_index_is_scanned() -> None:
    store = DictStore()
    for state in KINDS.values():
        store.put(state)
    found = pending_texts(store)
    first = next(found)
    store.put(article("failed-once", text_record_id="<urn:uuid:done>"))  # written while iterating
    assert [first.url, *(s.url for s in found)] == [KINDS["pending"].url]
