"""The records of an article's text, built from plain values: what the text WARC and the capture WARC get.

One article response leads to three records and a state update, decided here in one pure
function (:func:`article_records`) so that the crawl (the archiver extension) and the
start-of-run recovery write them the same way, byte for byte:

* ``conversion`` (text WARC): the main text, ``WARC-Refers-To`` the response, its languages;
* ``metadata`` (text WARC, ``application/json``): title, author, dates, languages with
  probabilities, extractor and detector versions (:func:`text_metadata`);
* ``metadata`` (capture WARC, ``application/warc-fields``): the crawl-time facts of the
  capture plus the languages and the id of the conversion record (or why there is no text);
* the URL's state with ``text_record_id`` set: the page may be revisited from now on.

When the extraction failed (``error``: a worker crash, a timeout, an exception) there are no text
records: the capture metadata says why, and the state keeps the text pending with one more
attempt counted (``text_attempts``), or gives it up (:data:`~archive.state.TEXT_FAILED`) once
``max_attempts`` attempts have failed. A failed extraction is never :data:`~archive.state.NO_TEXT`.

Record ids and dates come from the :class:`~archive.records.RecordFactory` and the state, so
tests compare bytes exactly with an injected id maker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from archive.language import LanguageScore, detector_info, languages_header
from archive.records import RecordFactory, WarcRecord
from archive.state import NO_TEXT, TEXT_FAILED, UrlState
from archive.text import extractor_info
from archive.textjob import TextResult

__all__ = [
    "DEFAULT_TEXT_ATTEMPTS",
    "ArticleRecords",
    "article_records",
    "failure_cause",
    "iso_date",
    "text_metadata",
]

#: The capture metadata field that says an article page had no text to extract.
NO_TEXT_FIELD = ("text-extraction", "no article text found")
#: The capture metadata field naming why an extraction failed (its value is the error).
ERROR_FIELD_NAME = "text-extraction-error"
#: Extraction attempts per capture before its text is given up (``NEWSARCHIVE_TEXT_ATTEMPTS``).
DEFAULT_TEXT_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class ArticleRecords:
    """What to write for one article's text, and the state to remember once it is written."""

    text: tuple[WarcRecord, ...]  # conversion + JSON metadata, for the text WARC; () without text
    capture: WarcRecord  # crawl metadata of the capture, for the capture WARC
    state: UrlState  # text_record_id set (the conversion's id, NO_TEXT, TEXT_FAILED) or still pending
    conversion_id: str | None
    language: str | None  # main language code ("und" when none was identified); None without text

    @property
    def failed(self) -> bool:
        """The extraction failed: no text, and the state says it is pending or given up."""
        return self.state.text_record_id in (None, TEXT_FAILED)

    @property
    def given_up(self) -> bool:
        return self.state.text_record_id == TEXT_FAILED


def text_metadata(result: TextResult, *, response_id: str, site: str) -> dict[str, object]:
    """The JSON metadata record's content (its keys only grow: researchers' scripts read them)."""
    return {
        **result.article.as_metadata(),
        "languages": [_language(score) for score in result.languages],
        "extractor": extractor_info(),
        "language_detector": detector_info(),
        "refers_to_response": response_id,
        "site": site,
    }


def article_records(
    factory: RecordFactory,
    state: UrlState,
    fields: Sequence[tuple[str, str]],
    result: TextResult | None,
    *,
    site: str,
    error: str | None = None,
    max_attempts: int = DEFAULT_TEXT_ATTEMPTS,
) -> ArticleRecords:
    """The records of an article's text (``result`` None: the page had none; ``error``: it failed).

    ``state`` is the URL's state after its response was archived (url, record id and date);
    ``fields`` the crawl-time facts of the capture (:attr:`archive.capture.CapturePlan.metadata_fields`,
    plus any note). ``max_attempts`` failed attempts of one capture give its text up.
    """
    url, date, response_id = state.url, str(state.record_date), str(state.record_id)
    if error is not None:
        attempts = state.text_attempts + 1
        given_up = attempts >= max_attempts
        verdict = (
            f"failed {attempts} time(s): given up"
            if given_up
            else f"failed (attempt {attempts} of {max_attempts}): the next run retries it from the stored response"
        )
        capture = factory.crawl_metadata(
            url, date, response_id, [*fields, (ERROR_FIELD_NAME, error), ("text-extraction", verdict)]
        )
        failed = replace(state, text_record_id=TEXT_FAILED if given_up else None, text_attempts=attempts)
        return ArticleRecords((), capture, failed, None, None)
    if result is None:
        capture = factory.crawl_metadata(url, date, response_id, [*fields, NO_TEXT_FIELD])
        return ArticleRecords((), capture, replace(state, text_record_id=NO_TEXT), None, None)
    languages = languages_header(list(result.languages))
    conversion = factory.conversion(url, date, result.article.text, refers_to=response_id, languages=languages)
    conversion_id = conversion.record_id
    metadata = factory.json_metadata(
        url,
        date,
        text_metadata(result, response_id=response_id, site=site),
        refers_to=conversion_id,
        languages=languages,
    )
    capture = factory.crawl_metadata(
        url, date, response_id, [*fields, ("languages", languages), ("conversion-record-id", conversion_id)]
    )
    published = state.published or iso_date(result.article.date_published)
    done = replace(state, text_record_id=conversion_id, published=published)
    main = result.languages[0].code if result.languages else "und"
    return ArticleRecords((conversion, metadata), capture, done, conversion_id, main)


def failure_cause(error: str) -> str:
    """The kind of a failed extraction, to count pages by: the error up to its first colon
    ("worker process died", "timeout after 120s", "ValueError")."""
    return error.split(":", 1)[0].strip() or "error"


def iso_date(value: str | None) -> str | None:
    """A publication date as the re-check policy reads it (date-only values are taken as UTC midnight)."""
    if not value:
        return None
    return value if "T" in value else f"{value}T00:00:00+00:00"


def _language(score: LanguageScore) -> dict[str, object]:
    return {"code": score.code, "detector_code": score.detector_code, "probability": round(score.probability, 4)}
