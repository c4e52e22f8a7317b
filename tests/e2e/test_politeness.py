"""Politeness a real site asks for, through the CLI against a loopback shop (:mod:`tests.e2e.polite_site`).

Its robots.txt asks for ``Crawl-delay: 1``: the requests the server received start at least that
far apart (measured with the server's own clock), with AutoThrottle on, as in production, and no
``--delay`` of ours. Its product list links 240 ``?color=&size=&page=`` permutations: the crawl
fetches ``max_query_variants`` of them and the run summary counts the rest, and the delay, as cuts.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import newsarchive
from tests.e2e.polite_site import CRAWL_DELAY, VARIANTS, PoliteShop, Served

pytestmark = pytest.mark.slow

LIMIT = 3
SOURCES = """\
[[sites]]
name = "shop"
start_urls = ["{base}/shop/"]
article_urls = ['/story/\\d+']
max_query_variants = {limit}
"""
# AutoThrottle stays on (it lowers a fast host's delay: the Crawl-delay must hold anyway).
ARGS = ["--delay", "0", "--per-host", "8", "--text-workers", "1", "--no-progress"]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Served], dict[str, Any]]]:
    root = tmp_path_factory.mktemp("politeness")
    server = PoliteShop()
    server.start()
    try:
        sources = root / "sources.toml"
        sources.write_text(SOURCES.format(base=server.base_url, limit=LIMIT), encoding="utf-8")
        archive = root / "archive"
        result = newsarchive("crawl", str(sources), "--archive", str(archive), *ARGS, timeout=120)
        assert result.code == 0, result.stderr
        summary = json.loads(next((archive / "runs").glob("*.json")).read_text(encoding="utf-8"))
        yield server.served, summary["sites"]["shop"]
    finally:
        server.stop()


def test_requests_to_the_host_are_spaced_by_its_crawl_delay(
    crawl: tuple[list[Served], dict[str, Any]],
) -> None:
    served, _ = crawl
    assert served[0].path == "/robots.txt"  # robots.txt is read first; it is a request like any other
    gaps = [round(b.at - a.at, 3) for a, b in itertools.pairwise(served)]
    assert min(gaps) >= CRAWL_DELAY - 0.1, gaps
    assert len(gaps) == LIMIT + 1, served  # robots.txt, the list, its variants: every gap measured


def test_a_faceted_list_costs_max_query_variants_requests(crawl: tuple[list[Served], dict[str, Any]]) -> None:
    served, site = crawl
    shop = [s for s in served if s.path == "/shop/"]
    queries = [s.query for s in shop if s.query]
    assert len(queries) == LIMIT and len(set(queries)) == LIMIT, queries
    assert len(shop) == LIMIT + 1  # and the list itself, once
    assert site["fetched"] == len(served)  # robots.txt, the list, its variants: nothing else


def test_the_summary_says_what_was_cut_and_what_the_delay_paced(
    crawl: tuple[list[Served], dict[str, Any]],
) -> None:
    _, site = crawl
    cut = site["cut"]
    # Each fetched page offers every variant: those not fetched are cut, each occurrence counted.
    assert cut["query_variants"] == (LIMIT + 1) * (len(VARIANTS) - LIMIT), cut
    assert "max_pages" not in cut and "max_depth" not in cut  # the variant limit stopped it, nothing else
    assert cut["crawl_delay"] == LIMIT + 1  # the site's requests after robots.txt, at its pace
