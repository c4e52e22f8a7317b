"""The archiver's side of a failed text: counted per site and cause, one log line per site.

The real :class:`~crawler.extensions.archiver.Archiver` on a temporary archive (real WARC files,
real SQLite state); only the stats collector is a plain counter.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from archive.capture import Exchange
from archive.http import ResponseHead
from archive.records import warc_date
from crawler.extensions.archiver import Archiver, text_attempts_from

BODY = b"<html><body><article><p>The council met on Tuesday.</p></article></body></html>"


class Counts:
    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] += count


def exchange(url: str) -> Exchange:
    head = ResponseHead("HTTP/1.1", 200, "OK", ((b"Content-Type", b"text/html"), (b"ETag", b'"e"')))
    return Exchange(url, "GET", (), head, BODY, BODY, warc_date())


def test_failures_are_counted_by_site_and_cause_and_logged_once_per_site(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    counts = Counts()
    archiver = Archiver(tmp_path, stats=counts)  # type: ignore[arg-type]
    archiver.open()
    outcomes = {"a": "worker process died", "b": "worker process died", "c": "timeout after 120s", "d": None}
    for name, error in outcomes.items():
        plan = archiver.archive_exchange(exchange(f"https://x.example/news/{name}"), site="x", is_article=True)
        archiver.archive_text(plan.state, plan.metadata_fields, None, site="x", error=error)
    with caplog.at_level(logging.DEBUG):
        archiver.close()
    values = counts.values
    assert (values["newsarchive/site/x/text_failed"], values["newsarchive/site/x/text_empty"]) == (3, 1)
    assert values["newsarchive/site/x/text_failed/worker process died"] == 2
    assert values["newsarchive/site/x/text_failed/timeout after 120s"] == 1
    assert (values["newsarchive/text/failed"], values["newsarchive/text/empty"]) == (3, 1)
    lines = [r for r in caplog.records if "text extraction" in r.getMessage()]
    assert [(r.levelno, r.getMessage()) for r in lines] == [
        (
            logging.ERROR,
            "text extraction failed for 3 pages of site x during the crawl: worker process died (2), "
            "timeout after 120s (1); 3 retried from the stored responses by the next run",
        )
    ]


def test_a_pending_text_whose_response_cannot_be_read_back_is_fetched_in_full(tmp_path: Path) -> None:
    """An older version's entry (no record_file): no validators, so no 304 can freeze it."""
    archiver = Archiver(tmp_path, stats=Counts())  # type: ignore[arg-type]
    archiver.open()
    try:
        plan = archiver.archive_exchange(exchange("https://x.example/news/a"), site="x", is_article=True)
        known = archiver.known_article(plan.state.url)
        assert known is not None and known.etag == '"e"', "completed from its stored response: a 304 is fine"
        archiver.state.put(replace(plan.state, record_file=None, record_offset=None))
        older = archiver.known_article(plan.state.url)
        assert older is not None and older.etag is None and older.last_modified is None
        stored = archiver.state.get(plan.state.url)
        assert stored is not None and stored.etag == '"e"', "the state itself is unchanged"
    finally:
        archiver.close()


@pytest.mark.parametrize(("value", "attempts"), [(None, 3), ("1", 1), (" 5 ", 5), (2, 2)])
def test_the_attempts_setting(value: object, attempts: int) -> None:
    settings = {} if value is None else {"NEWSARCHIVE_TEXT_ATTEMPTS": value}
    assert text_attempts_from(settings) == attempts


@pytest.mark.parametrize("value", ["0", "-1", "many", "2.5"])
def test_the_attempts_setting_must_be_a_positive_whole_number(value: str) -> None:
    with pytest.raises(ValueError, match="NEWSARCHIVE_TEXT_ATTEMPTS must be a whole number of at least 1"):
        text_attempts_from({"NEWSARCHIVE_TEXT_ATTEMPTS": value})
