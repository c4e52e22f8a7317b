"""The records of an article's text and the warcinfo fields, built by pure functions (byte-tested)."""

from __future__ import annotations

import json

from archive.language import LanguageScore, detector_info
from archive.records import CONFORMS_TO, crawl_warcinfo, serialize
from archive.state import NO_TEXT, UrlState
from archive.text import ArticleText, extractor_info
from archive.textjob import TextResult
from archive.textrecords import article_records, iso_date, text_metadata
from tests.helpers import fixed_factory

URL = "https://example.com/ur/news/1"
DATE = "2024-05-06T07:08:09.123456Z"
RESPONSE_ID = "<urn:uuid:11111111-1111-1111-1111-111111111111>"
STATE = UrlState(url=URL, record_id=RESPONSE_ID, record_date=DATE, first_seen=DATE, is_article=True)
FIELDS = (("fetchTimeMs", "12"), ("content-digest", "sha1:ABC"))
ARTICLE = ArticleText(
    text="پہلا پیراگراف\nsecond paragraph",
    title="خبر",
    author="رپورٹر",
    date_published="2024-05-06",
    sitename="Example",
    description=None,
    html_lang="ur",
)
RESULT = TextResult(
    article=ARTICLE,
    languages=(LanguageScore("urd", "ur", 0.71234), LanguageScore("eng", "en", 0.28766)),
)


def test_an_article_gives_conversion_metadata_and_capture_metadata_in_that_order() -> None:
    built = article_records(fixed_factory(), STATE, FIELDS, RESULT, site="dawn")
    conversion, metadata = built.text
    assert [r.rec_type for r in built.text] == ["conversion", "metadata"]
    assert conversion.record_id == "<urn:uuid:00000000-0000-0000-0000-000000000000>" == built.conversion_id
    assert conversion.get("WARC-Refers-To") == RESPONSE_ID
    assert conversion.get("WARC-Identified-Content-Language") == "urd,eng"
    assert conversion.block == ARTICLE.text.encode("utf-8")
    assert metadata.get("WARC-Refers-To") == conversion.record_id
    assert json.loads(metadata.block) == text_metadata(RESULT, response_id=RESPONSE_ID, site="dawn")
    assert built.capture.rec_type == "metadata"
    assert built.capture.get("WARC-Concurrent-To") == RESPONSE_ID
    assert built.capture.block == (
        b"fetchTimeMs: 12\r\ncontent-digest: sha1:ABC\r\nlanguages: urd,eng\r\n"
        b"conversion-record-id: <urn:uuid:00000000-0000-0000-0000-000000000000>\r\n"
    )
    assert built.language == "urd"
    assert built.state.text_record_id == conversion.record_id
    assert built.state.published == "2024-05-06T00:00:00+00:00"  # the page's own date, none known before


def test_the_same_inputs_give_the_same_bytes() -> None:
    """What the crawl and the start-of-run recovery write is one function of plain values."""
    first = article_records(fixed_factory(), STATE, FIELDS, RESULT, site="dawn")
    again = article_records(fixed_factory(), STATE, FIELDS, RESULT, site="dawn")
    records = [*first.text, first.capture]
    assert [serialize(r) for r in records] == [serialize(r) for r in [*again.text, again.capture]]


def test_the_json_metadata_keys() -> None:
    meta = text_metadata(RESULT, response_id=RESPONSE_ID, site="dawn")
    assert meta == {
        "title": "خبر",
        "author": "رپورٹر",
        "date_published": "2024-05-06",
        "sitename": "Example",
        "description": None,
        "html_lang": "ur",
        "languages": [
            {"code": "urd", "detector_code": "ur", "probability": 0.7123},
            {"code": "eng", "detector_code": "en", "probability": 0.2877},
        ],
        "extractor": extractor_info(),
        "language_detector": detector_info(),
        "refers_to_response": RESPONSE_ID,
        "site": "dawn",
    }


def test_no_text_gives_only_the_capture_metadata_and_marks_the_state_done() -> None:
    known = UrlState(url=URL, record_id=RESPONSE_ID, record_date=DATE, published="2024-01-01T00:00:00+00:00")
    built = article_records(fixed_factory(), known, FIELDS, None, site="dawn")
    assert built.text == () and built.conversion_id is None and built.language is None
    assert built.capture.block.endswith(b"text-extraction: no article text found\r\n")
    assert built.state.text_record_id == NO_TEXT
    assert built.state.published == known.published


def test_a_publication_date_already_known_wins_over_the_pages_own() -> None:
    known = UrlState(url=URL, record_id=RESPONSE_ID, record_date=DATE, published="2024-05-01T10:00:00+00:00")
    assert article_records(fixed_factory(), known, (), RESULT, site="s").state.published == known.published


def test_undetermined_language_is_counted_as_und() -> None:
    silent = TextResult(article=ARTICLE, languages=())
    built = article_records(fixed_factory(), STATE, (), silent, site="s")
    assert built.language == "und"
    assert built.text[0].get("WARC-Identified-Content-Language") is None


def test_iso_date() -> None:
    assert iso_date(None) is None and iso_date("") is None
    assert iso_date("2024-05-06") == "2024-05-06T00:00:00+00:00"
    assert iso_date("2024-05-06T01:02:03+05:00") == "2024-05-06T01:02:03+05:00"


def _warcinfo(*, robots_obeyed: bool = True, operator: str | None = None) -> list[tuple[str, str]]:
    return crawl_warcinfo(
        software="newsarchive/0.2 (Scrapy/2.19.0)",
        run_id="20240506T070809Z-host-1",
        hostname="host",
        robots_obeyed=robots_obeyed,
        user_agent="newsarchive/0.2 (+https://example.org/contact)",
        python="3.11.2",
        operator=operator,
    )


def test_crawl_warcinfo_fields_in_order() -> None:
    fields = _warcinfo()
    assert [name for name, _ in fields] == [
        "software",
        "format",
        "conformsTo",
        "isPartOf",
        "hostname",
        "robots",
        "http-header-user-agent",
        "description",
        "python",
    ]
    assert dict(fields)["conformsTo"] == CONFORMS_TO
    assert dict(fields)["isPartOf"] == "20240506T070809Z-host-1"
    assert dict(fields)["robots"] == "classic"
    with_operator = _warcinfo(robots_obeyed=False, operator="Archive team")
    assert with_operator[4] == ("operator", "Archive team")
    assert dict(with_operator)["robots"] == "ignore"
