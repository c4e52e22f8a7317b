"""Crawler traps: an endless calendar, endless facets, session ids in URLs.

One crawl, four sites (each on its own ``*.hostile.test`` name, reached through the loopback
proxy, so their URL spaces never meet in the duplicate filter):

* ``cal-depth``: ``/trap/calendar/2026/11/`` links the previous and next month forever;
  ``max_depth = 3`` must stop it, and the summary must say so (``cut.max_depth``);
* ``cal-pages``: the same calendar with no useful depth limit; ``max_pages = 25`` stops it
  (``cut.max_pages``);
* ``facets``: every product list links every facet value (written with the query parameters
  in reversed order and a fresh ``utm_source``) plus the next page; canonicalisation must fold
  the orderings and tracking parameters, and the limits must stop the rest;
* ``session``: one story linked as ``;jsessionid=``, ``?sid=``, ``?PHPSESSID=``... and the story
  links itself with a fresh session id on every visit: it must be fetched exactly once.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from crawler import exitcodes
from tests.hostile.harness import CrawlRun, run_crawl, site_toml, warcio_check, write_sources
from tests.hostile.server import HostileServer

pytestmark = pytest.mark.slow

NEVER = ["/no-article-on-this-site/"]
DEPTH, PAGES = "depth.hostile.test", "pages.hostile.test"
SHOP, SESSION = "shop.hostile.test", "session.hostile.test"
CAL_PAGES_LIMIT = 25
FACETS_LIMIT = 60


@pytest.fixture(scope="module")
def traps(module_server: HostileServer, tmp_path_factory: pytest.TempPathFactory) -> CrawlRun:
    tmp = tmp_path_factory.mktemp("traps")
    cal = "/trap/calendar/2026/11/"
    sources = write_sources(
        tmp / "sources.toml",
        site_toml("cal-depth", start_urls=[f"http://{DEPTH}{cal}"], article_urls=NEVER, max_depth=3),
        site_toml(
            "cal-pages",
            start_urls=[f"http://{PAGES}{cal}"],
            article_urls=NEVER,
            max_depth=100_000,
            max_pages=CAL_PAGES_LIMIT,
        ),
        site_toml(
            "facets",
            start_urls=[f"http://{SHOP}/trap/facets/"],
            article_urls=NEVER,
            max_depth=3,
            max_pages=FACETS_LIMIT,
        ),
        site_toml(
            "session", start_urls=[f"http://{SESSION}/trap/session/"], article_urls=["/trap/session/story"]
        ),
    )
    return run_crawl(sources, tmp / "archive", server=module_server)


def _pages(server: HostileServer, host: str) -> list[str]:
    return [s.target for s in server.log() if s.host == host and s.path != "/robots.txt"]


def test_run_finishes_and_files_are_valid(traps: CrawlRun, module_server: HostileServer) -> None:
    assert traps.code == exitcodes.OK, traps.stderr
    warcio_check(traps.archive)
    assert module_server.foreign() == []


def test_calendar_is_bounded_by_depth_and_the_summary_says_so(
    traps: CrawlRun, module_server: HostileServer
) -> None:
    months = [p for p in _pages(module_server, DEPTH) if p.count("/") == 5]  # /trap/calendar/Y/M/
    # Depth 0 is 2026-11; three steps either way reach 2026-08 .. 2027-02: seven months.
    assert sorted(months) == sorted(
        f"/trap/calendar/{y}/{m:02d}/"
        for y, m in [(2026, 8), (2026, 9), (2026, 10), (2026, 11), (2026, 12), (2027, 1), (2027, 2)]
    )
    site = traps.site("cal-depth")
    assert site["cut"].get("max_depth", 0) > 0, site
    assert site["fetched"] == len(_pages(module_server, DEPTH)) + 1  # + robots.txt


def test_calendar_is_bounded_by_max_pages_and_the_summary_says_so(
    traps: CrawlRun, module_server: HostileServer
) -> None:
    fetched = _pages(module_server, PAGES)
    assert len(fetched) <= CAL_PAGES_LIMIT
    assert len(fetched) >= CAL_PAGES_LIMIT - 2, "the limit, not something else, stopped it"
    site = traps.site("cal-pages")
    assert site["cut"].get("max_pages", 0) > 0, site


def test_facets_are_canonicalised_and_bounded(traps: CrawlRun, module_server: HostileServer) -> None:
    fetched = [s for s in module_server.log() if s.host == SHOP and s.path == "/trap/facets/"]
    assert len(fetched) <= FACETS_LIMIT
    queries = [tuple(sorted(parse_qsl(s.query))) for s in fetched]
    assert len(set(queries)) == len(queries), "the same facet combination fetched twice"
    assert not [q for q in queries if any(k.startswith("utm_") for k, _ in q)], "tracking parameters sent"
    assert all(s.query == "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(s.query))) for s in fetched), (
        "query parameters requested in canonical (sorted) order"
    )
    # The per-path bound on query strings (max_query_variants, default 20) stops the trap before
    # the site's page budget or depth would.
    assert len([q for q in queries if q]) <= 20, len(queries)
    cut = traps.site("facets")["cut"]
    assert cut.get("query_variants", 0) > 0, cut


def test_session_id_variants_are_fetched_once(traps: CrawlRun, module_server: HostileServer) -> None:
    stories = [
        s for s in module_server.log() if s.host == SESSION and s.path.startswith("/trap/session/story")
    ]
    assert len(stories) == 1, [s.target for s in stories]
    assert stories[0].target == "/trap/session/story"
    sent = _pages(module_server, SESSION)
    assert not [t for t in sent if "sessionid" in t.lower() or "sid=" in t.lower()], sent
    rec = traps.response("/trap/session/story")
    conversion = traps.conversion_for(rec)
    assert conversion is not None and "Ferries will run" in conversion.text
    assert len([r for r in traps.records if r.type == "conversion"]) == 1
