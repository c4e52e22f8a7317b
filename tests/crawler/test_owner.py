"""Which site owns a URL: the one rule (``shared/conventions.md``), branch by branch.

``owner_of(sites, url, finder)``: the site whose ``article_urls`` match (several: the longest
start URL section); else the site whose domains and longest start URL section contain it; else
the finder (with no finder: the first site whose domains contain it).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from crawler.sources import Owners, Site, owner_of, parse_sources


def _sites(*tables: dict[str, Any]) -> list[Site]:
    return parse_sources({"sites": list(tables)})


def _table(name: str, start: str | list[str], articles: str | list[str], **more: Any) -> dict[str, Any]:
    return {"name": name, "start_urls": start, "article_urls": articles, **more}


# Two sections of one host, as the BBC and many others publish them, plus a site on the whole host.
BBC = _sites(
    _table("bbc-urdu", "https://www.bbc.com/urdu", "/urdu/articles/", allowed_domains=["bbc.com"]),
    _table("bbc-hindi", "https://www.bbc.com/hindi", "/hindi/articles/", allowed_domains=["bbc.com"]),
    _table("bbc-all", "https://www.bbc.com/", ["/articles/", "/news/\\d+"], allowed_domains=["bbc.com"]),
    _table("elsewhere", "https://elsewhere.example/", "/story/"),
)
URDU, HINDI, ALL, ELSEWHERE = BBC


def _name(site: Site | None) -> str | None:
    return site.name if site is not None else None


# --- 1. the site whose article_urls match ----------------------------------------------------------


def test_an_article_belongs_to_the_site_whose_article_urls_match_whoever_found_it() -> None:
    url = "https://www.bbc.com/hindi/articles/c0x1"
    for finder in (URDU, HINDI, ALL, ELSEWHERE, None):
        assert owner_of(BBC, url, finder) is HINDI


def test_when_several_sites_match_the_longest_start_url_section_wins() -> None:
    # bbc-all's '/articles/' matches every section's article too: the section is longer.
    assert owner_of(BBC, "https://www.bbc.com/urdu/articles/c0x2", ALL) is URDU
    # Outside both sections only bbc-all's pattern and section are left.
    assert owner_of(BBC, "https://www.bbc.com/articles/c0x3", URDU) is ALL
    # A pattern may match where no start URL is a section: the matching site still owns it.
    assert owner_of(BBC, "https://www.bbc.com/sport/news/42", URDU) is ALL


def test_an_article_match_beats_a_longer_section() -> None:
    sites = _sites(
        _table("world", "https://example.org/world/", "/story/\\d+"),
        _table("front", "https://example.org/", "/front/"),
    )
    world, front = sites
    # Only world's pattern matches; only front's section contains the URL.
    assert owner_of(sites, "https://example.org/archive/story/1", front) is world


def test_a_tie_among_matching_sites_goes_to_the_finder_else_to_the_site_listed_first() -> None:
    sites = _sites(
        _table("one", "https://example.org/", "/news/"),
        _table("two", "https://example.org/", "/news/"),
        _table("three", "https://example.org/other/", "/elsewhere/"),
    )
    one, two, three = sites
    url = "https://example.org/news/1"
    assert owner_of(sites, url, two) is two
    assert owner_of(sites, url, one) is one
    assert owner_of(sites, url, three) is one  # the finder is not among them
    assert owner_of(sites, url) is one


def test_article_urls_count_only_inside_the_sites_domains() -> None:
    # bbc-all's '/news/\d+' matches this URL, but bbc.com does not contain elsewhere.example.
    assert owner_of(BBC, "https://elsewhere.example/news/7", URDU) is ELSEWHERE  # its section
    lone = _sites(_table("only", "https://example.org/", "/news/\\d+"))
    assert owner_of(lone, "https://other.example/news/7") is None
    (only,) = lone
    assert owner_of(lone, "https://other.example/news/7", only) is only  # the finder: offsite for it


# --- 2. the site whose domains and longest section contain it -------------------------------------


def test_a_page_in_another_sites_section_belongs_to_that_site() -> None:
    assert owner_of(BBC, "https://www.bbc.com/hindi/topics/c1", URDU) is HINDI
    assert owner_of(BBC, "https://www.bbc.com/hindi", URDU) is HINDI
    assert owner_of(BBC, "https://www.bbc.com/urdu/", HINDI) is URDU
    assert owner_of(BBC, "https://www.bbc.com/sport/football", URDU) is ALL  # only the root contains it


def test_a_section_is_a_folder_not_a_string_prefix() -> None:
    assert owner_of(BBC, "https://www.bbc.com/urdu-tv/live", URDU) is ALL
    assert owner_of(BBC, "https://www.bbc.com/hindiscope", HINDI) is ALL


def test_a_start_page_named_like_a_file_stands_for_its_folder() -> None:
    sites = _sites(
        _table("ur", "https://example.org/ur/index.html", "/ur/news/\\d+"),
        _table("en", "https://example.org/en/", "/en/news/\\d+"),
    )
    ur, en = sites
    assert owner_of(sites, "https://example.org/ur/opinion/", en) is ur
    assert owner_of(sites, "https://example.org/ur/index.html", en) is ur


def test_sections_ignore_www_and_the_scheme_but_not_the_port() -> None:
    assert owner_of(BBC, "http://bbc.com/hindi/topics/c1", URDU) is HINDI
    sites = _sites(
        _table("a", "http://127.0.0.1:8001/a/", "/a/news/"),
        _table("b", "http://127.0.0.1:8002/b/", "/b/news/"),
    )
    a, b = sites
    assert owner_of(sites, "http://127.0.0.1:8002/b/page", a) is b
    assert owner_of(sites, "http://127.0.0.1:8001/b/page", a) is a  # b's section is on the other port


def test_the_longest_section_wins_and_ties_go_to_the_finder() -> None:
    sites = _sites(
        _table("news", ["https://example.org/news/"], "/news/\\d+"),
        _table("local", ["https://example.org/news/local/"], "/local/\\d+"),
        _table("also-news", ["https://example.org/news/"], "/nothing/"),
    )
    news, local, also = sites
    assert owner_of(sites, "https://example.org/news/local/weather", news) is local
    assert owner_of(sites, "https://example.org/news/sport", local) is news  # first of the tie
    assert owner_of(sites, "https://example.org/news/sport", also) is also  # the finder is tied


# --- 3. otherwise the finder ------------------------------------------------------------------------


def test_a_page_in_no_section_stays_with_the_site_that_found_it() -> None:
    sites = BBC[:2]  # the two sections only: nobody has the root
    assert owner_of(sites, "https://www.bbc.com/sport/football", URDU) is URDU
    assert owner_of(sites, "https://www.bbc.com/sport/football", HINDI) is HINDI
    assert owner_of(sites, "https://nowhere.example/", HINDI) is HINDI  # offsite: judged (and refused) by it


def test_a_url_nobody_found_goes_to_the_first_site_whose_domains_contain_it() -> None:
    sites = BBC[:2]
    assert owner_of(sites, "https://www.bbc.com/robots.txt") is URDU
    assert owner_of(sites, "https://nowhere.example/robots.txt") is None
    assert owner_of(list(reversed(sites)), "https://www.bbc.com/robots.txt") is HINDI


# --- sites the rule has less to go on for -------------------------------------------------------------


def _bare(name: str, start: tuple[str, ...], domains: tuple[str, ...], **more: Any) -> Site:
    """A site without ``article_urls`` (the discover issue), built directly: the file requires them today."""
    return Site(name=name, start_urls=start, allowed_domains=domains, article_urls=(), **more)


def test_sites_without_article_urls_take_part_through_their_sections() -> None:
    found = _bare("found-ur", ("https://example.org/ur/",), ("example.org",))
    listed = _sites(_table("en", "https://example.org/en/", "/en/news/\\d+"))[0]
    sites = [listed, found]
    assert owner_of(sites, "https://example.org/ur/news/1", listed) is found
    assert owner_of(sites, "https://example.org/en/news/1", found) is listed
    assert owner_of(sites, "https://example.org/about", found) is found  # no section: the finder
    # Another site's pattern reaching into its section wins: an article match comes first.
    wide = Site(
        name="wide",
        start_urls=("https://example.org/en/",),
        allowed_domains=("example.org",),
        article_urls=(re.compile("/news/\\d+"),),
    )
    assert owner_of([found, wide], "https://example.org/ur/news/1", found) is wide


def test_a_site_with_only_feeds_owns_its_articles_but_no_section() -> None:
    sites = _sites(
        {"name": "feeds", "feeds": ["https://example.org/ur/rss.xml"], "article_urls": "/ur/news/"},
        _table("front", "https://example.org/", "/front/"),
    )
    feeds, front = sites
    assert owner_of(sites, "https://example.org/ur/news/3", front) is feeds
    assert owner_of(sites, "https://example.org/ur/opinion/", feeds) is front  # front's section


def test_without_sites_nothing_owns_anything() -> None:
    assert owner_of([], "https://example.org/") is None
    assert Owners([]).owner_of("https://example.org/") is None


# --- precomputed once per run ---------------------------------------------------------------------


URLS = [
    "https://www.bbc.com/hindi/articles/c0x1",
    "https://www.bbc.com/urdu/articles/c0x2",
    "https://www.bbc.com/articles/c0x3",
    "https://www.bbc.com/hindi/topics/c1",
    "https://www.bbc.com/sport/football",
    "https://bbc.com/urdu-tv/live",
    "https://elsewhere.example/story/1",
    "https://nowhere.example/",
    "https://www.bbc.com:8443/urdu/x",
]


@pytest.mark.parametrize("finder", [None, *BBC], ids=lambda s: _name(s) or "none")
def test_the_precomputed_owners_answer_as_the_function_does(finder: Site | None) -> None:
    owners = Owners(BBC)
    for url in URLS:
        assert owners.owner_of(url, finder) is owner_of(BBC, url, finder), url
        assert owner_of(owners, url, finder) is owner_of(BBC, url, finder), url


def test_the_per_host_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Owners, "HOSTS_REMEMBERED", 3)
    owners = Owners(BBC)
    for n in range(10):
        owners.owner_of(f"https://h{n}.example/")
        assert len(owners._by_netloc) <= 3
    assert owners.owner_of("https://www.bbc.com/hindi/x", URDU) is HINDI
