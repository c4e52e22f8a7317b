"""Two sites on one host that link each other's articles: each article is its own site's.

A real crawl through the CLI of two sections of one loopback host (:mod:`tests.e2e.shared_host`):
every article of both sections is archived once, with its text, under its own site (the JSON
metadata record's ``site`` and the run summary's per-site counts), whichever section's page,
redirect or feed led to it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.e2e.conftest import FAST, newsarchive
from tests.e2e.shared_host import ARTICLES, SOURCES, SharedHost, article_path, marker

pytestmark = pytest.mark.slow

SITE = {"ur": "sec-ur", "en": "sec-en"}


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SharedHost, Path, dict[str, Any]]]:
    root = tmp_path_factory.mktemp("shared-host")
    server = SharedHost()
    server.start()
    try:
        sources = root / "sources.toml"
        sources.write_text(SOURCES.format(base=server.base_url), encoding="utf-8")
        archive = root / "archive"
        result = newsarchive("crawl", str(sources), "--archive", str(archive), *FAST)
        assert result.code == 0, result.stderr
        summary = json.loads(next((archive / "runs").glob("*.json")).read_text(encoding="utf-8"))
        yield server, archive, summary
    finally:
        server.stop()


def _texts(archive: Path) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(URL path, site) of every JSON metadata record, and each conversion's text by URL path."""
    sites: list[tuple[str, str]] = []
    texts: dict[str, str] = {}
    for path in sorted((archive / "text").glob("*.warc.gz")):
        with path.open("rb") as fh:
            for rec in ArchiveIterator(fh):
                uri = urlsplit(rec.rec_headers.get_header("WARC-Target-URI") or "").path
                if rec.rec_type == "metadata":
                    sites.append((uri, json.loads(rec.content_stream().read())["site"]))
                elif rec.rec_type == "conversion":
                    texts[uri] = rec.content_stream().read().decode("utf-8")
    return sites, texts


EXPECTED = sorted(
    (article_path(section, n), SITE[section]) for section, numbers in ARTICLES.items() for n in numbers
)


def test_every_article_of_both_sections_has_its_text_under_its_own_site(crawl: tuple) -> None:
    _, archive, _ = crawl
    sites, texts = _texts(archive)
    assert sorted(sites) == EXPECTED  # each once: none twice, none missing, none under the other site
    for section, numbers in ARTICLES.items():
        for n in numbers:
            assert marker(section, n) in texts[article_path(section, n)]


def test_the_summary_counts_each_sites_own_articles(crawl: tuple) -> None:
    _, _, summary = crawl
    for section, numbers in ARTICLES.items():
        site = summary["sites"][SITE[section]]
        assert (site["new"], site["articles_archived"]) == (len(numbers), len(numbers)), site
        assert site["errors"] == {} and site["http_errors_5xx"] == 0


def test_each_page_was_fetched_once_and_counted_under_its_owner(crawl: tuple) -> None:
    server, _, summary = crawl
    paths = Counter(s.path for s in server.served)
    assert max(paths.values()) == 1, paths
    assert all(s.status in (200, 301) for s in server.served), server.served
    # The robots.txt Scrapy fetches goes to the first site on the host; /go/en-4 (no section)
    # to the site that found it, sec-ur; /en/about, linked only from /ur/, to sec-en.
    owned = {
        "sec-ur": {"/robots.txt", "/ur/", "/ur/feed.xml", "/ur/about", "/go/en-4"},
        "sec-en": {"/en/", "/en/about"},
    }
    for section, numbers in ARTICLES.items():
        owned[SITE[section]] |= {article_path(section, n) for n in numbers}
    assert set(paths) == owned["sec-ur"] | owned["sec-en"]
    assert {name: summary["sites"][name]["fetched"] for name in owned} == {
        name: len(paths_) for name, paths_ in owned.items()
    }
