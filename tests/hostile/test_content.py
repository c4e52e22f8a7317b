"""Lying charsets, broken bytes, broken markup, empty and binary bodies, PDFs and images.

Each case is linked from ``/content/`` as an article, so the crawler would extract text from
every one of them. What it must do: archive every body exactly as received; extract readable
text where the body really is HTML (whatever its charset declaration says), containing a known
sentence; extract nothing from empty or binary bodies; never crash.
"""

from __future__ import annotations

import pytest

from crawler import exitcodes
from tests.hostile.cases import CONTENT_CASES, NO_TEXT, READABLE
from tests.hostile.harness import CrawlRun, run_crawl, sha1_b32, site_toml, warcio_check, write_sources
from tests.hostile.server import HostileServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def content(module_server: HostileServer, tmp_path_factory: pytest.TempPathFactory) -> CrawlRun:
    tmp = tmp_path_factory.mktemp("content")
    sources = write_sources(
        tmp / "sources.toml",
        site_toml("content", start_urls=[module_server.url("/content/")], article_urls=["/content/a/"]),
    )
    return run_crawl(sources, tmp / "archive", server=module_server)


def test_run_finishes_and_files_are_valid(content: CrawlRun) -> None:
    assert content.code == exitcodes.OK, content.stderr
    warcio_check(content.archive)
    assert "Traceback" not in content.log


@pytest.mark.parametrize("name", sorted(CONTENT_CASES))
def test_body_is_archived_exactly_as_received(content: CrawlRun, name: str) -> None:
    content_type, make = CONTENT_CASES[name]
    body = make()
    rec = content.response(f"/content/a/{name}")
    assert rec.http_status == 200
    assert rec.payload_length == len(body)
    assert rec.payload_sha1 == sha1_b32(body)
    assert rec.http_header("Content-Type") == content_type
    assert "WARC-Truncated" not in rec.headers


@pytest.mark.parametrize("name", sorted(READABLE))
def test_html_gives_readable_text(content: CrawlRun, name: str) -> None:
    rec = content.response(f"/content/a/{name}")
    conversion = content.conversion_for(rec)
    assert conversion is not None, f"no text for {name}: {content.metadata_for(rec)}"
    assert READABLE[name] in conversion.text
    assert "\ufffd" not in conversion.text, "replacement characters in the text"


@pytest.mark.parametrize("name", NO_TEXT)
def test_empty_and_binary_bodies_give_no_text(content: CrawlRun, name: str) -> None:
    rec = content.response(f"/content/a/{name}")
    assert content.conversion_for(rec) is None


@pytest.mark.parametrize(
    "name",
    sorted(CONTENT_CASES),
)
def test_every_capture_has_its_metadata_record(content: CrawlRun, name: str) -> None:
    rec = content.response(f"/content/a/{name}")
    meta = content.metadata_for(rec)
    assert meta.get("content-digest"), f"no crawl metadata record for {name}"


def test_urdu_pages_are_tagged_urdu(content: CrawlRun) -> None:
    for name in ("urdu-utf8", "utf8-declared-1256", "1256-declared-utf8"):
        conversion = content.conversion_for(content.response(f"/content/a/{name}"))
        assert conversion is not None
        assert conversion.headers.get("WARC-Identified-Content-Language", "").startswith("urd"), (
            name,
            conversion.headers,
        )
