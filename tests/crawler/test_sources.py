"""The sources file: a valid file parses, and every broken one names its site and field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from crawler.sources import SourcesError, load_sources, parse_sources

VALID = """\
[defaults]
max_depth = 2

[[sites]]
name = "dawn-ur"
start_urls = ["https://www.example.org/ur/?utm_source=rss#top"]
allowed_domains = ["example.org"]
article_urls = ['/ur/news/\\d+']
deny_urls = ['/ur/video/']
feeds = ["https://www.example.org/ur/rss.xml"]
sitemaps = ["https://www.example.org/news-sitemap.xml"]
language = "UR"
max_pages = 50
max_age_days = 3.5
max_query_variants = 5

[[sites]]
name = "bbc.hi"
start_urls = ["https://news.example.com/hindi"]
article_urls = ['/hindi/articles/']
follow_urls = ['/hindi/?$', '/hindi/topics/']
max_depth = 5
robots_sitemaps = true
recheck_days = 1
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def site(**overrides: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "name": "dawn-ur",
        "start_urls": ["https://example.org/ur/"],
        "article_urls": ["/ur/news/\\d+"],
    }
    for key, value in overrides.items():
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return table


def test_valid_file_parses(tmp_path: Path) -> None:
    dawn, bbc = load_sources(write(tmp_path, VALID))
    assert dawn.name == "dawn-ur"
    assert dawn.start_urls == ("https://www.example.org/ur/",)  # canonical: tracking and fragment gone
    assert dawn.allowed_domains == ("example.org",)
    assert dawn.feeds == ("https://www.example.org/ur/rss.xml",)
    assert dawn.sitemaps == ("https://www.example.org/news-sitemap.xml",)
    assert dawn.language == "ur"
    assert dawn.max_depth == 2  # from [defaults]
    assert dawn.max_pages == 50
    assert dawn.max_age_days == 3.5
    assert dawn.max_query_variants == 5
    assert dawn.robots_sitemaps is False
    assert bbc.max_depth == 5  # a site's own value wins over [defaults]
    assert bbc.allowed_domains == ("news.example.com",)  # default: the hosts of its URLs
    assert bbc.robots_sitemaps is True
    assert bbc.recheck_days == 1.0
    assert bbc.max_query_variants == 20  # the documented default
    assert bbc.language is None


def test_site_url_rules(tmp_path: Path) -> None:
    dawn, bbc = load_sources(write(tmp_path, VALID))
    assert dawn.is_article("https://www.example.org/ur/news/123")
    assert not dawn.is_article("https://www.example.org/ur/opinion/")
    assert not dawn.may_follow("https://www.example.org/ur/video/1")
    assert dawn.may_follow("https://www.example.org/ur/anything")
    assert dawn.in_domain("https://www.example.org/x") and dawn.in_domain("https://example.org/x")
    assert not dawn.in_domain("https://notexample.org/x")
    assert not dawn.in_domain("https://example.org.evil.com/x")
    assert bbc.may_follow("https://news.example.com/hindi/topics/x")
    assert bbc.may_follow("https://news.example.com/hindi/articles/1")  # articles are always followed
    assert not bbc.may_follow("https://news.example.com/sport/")


def test_defaults_from_the_command_line() -> None:
    (only,) = parse_sources({"sites": [site()]}, default_max_pages=7, default_max_depth=1)
    assert (only.max_pages, only.max_depth) == (7, 1)


def test_a_single_string_is_accepted_for_a_list() -> None:
    (only,) = parse_sources({"sites": [site(start_urls="https://example.org/", article_urls="/a/")]})
    assert only.start_urls == ("https://example.org/",)
    assert [p.pattern for p in only.article_urls] == ["/a/"]


def test_max_query_variants_takes_a_default_and_zero() -> None:
    """0 follows no link with a query string but articles; [defaults] sets it for every site."""
    sites = parse_sources(
        {"defaults": {"max_query_variants": 3}, "sites": [site(), site(name="b", max_query_variants=0)]}
    )
    assert [s.max_query_variants for s in sites] == [3, 0]


@pytest.mark.parametrize("value", [-1, 2.5, "20", True, [3]])
def test_max_query_variants_must_be_a_whole_number_of_at_least_zero(value: object) -> None:
    with pytest.raises(SourcesError) as info:
        parse_sources({"sites": [site(max_query_variants=value)]}, origin="s.toml")
    assert str(info.value) == (
        f"s.toml: site 'dawn-ur' (sites[0]): field 'max_query_variants': must be an integer >= 0, got {value!r}"
    )


def test_feeds_or_sitemaps_alone_are_enough() -> None:
    (only,) = parse_sources({"sites": [site(start_urls=None, feeds=["https://example.org/rss"])]})
    assert only.start_urls == () and only.feeds == ("https://example.org/rss",)


# --- broken files: each message names the site and the field -----------------------------------

BROKEN_SITES: list[tuple[str, dict[str, Any], str]] = [
    ("unknown key", site(colour="blue"), "colour"),
    ("bad regex", site(article_urls=["(unclosed"]), "article_urls"),
    ("empty regex", site(follow_urls=[""]), "follow_urls"),
    ("missing article_urls", site(article_urls=None), "article_urls"),
    ("empty article_urls", site(article_urls=[]), "article_urls"),
    ("no URLs at all", site(start_urls=None), "start_urls"),
    ("bad name", site(name="has space"), "name"),
    ("name too long", site(name="x" * 65), "name"),
    ("max_depth string", site(max_depth="3"), "max_depth"),
    ("max_depth bool", site(max_depth=True), "max_depth"),
    ("max_depth negative", site(max_depth=-1), "max_depth"),
    ("max_pages zero", site(max_pages=0), "max_pages"),
    ("max_pages float", site(max_pages=1.5), "max_pages"),
    ("robots_sitemaps string", site(robots_sitemaps="yes"), "robots_sitemaps"),
    ("max_age_days negative", site(max_age_days=-1), "max_age_days"),
    ("recheck_days string", site(recheck_days="2"), "recheck_days"),
    ("language", site(language="urdu"), "language"),
    ("start_urls not a list", site(start_urls=5), "start_urls"),
    ("start_urls item not a string", site(start_urls=[5]), "start_urls"),
    ("feeds item not a string", site(feeds=[{"url": "x"}]), "feeds"),
    ("article_urls not a list", site(article_urls={"a": 1}), "article_urls"),
    ("allowed_domains not a list", site(allowed_domains="example.org"), "allowed_domains"),
    ("allowed_domains with a scheme", site(allowed_domains=["https://example.org"]), "allowed_domains"),
    ("allowed_domains with a port", site(allowed_domains=["example.org:8080"]), "allowed_domains"),
    ("start URL outside allowed_domains", site(allowed_domains=["other.org"]), "start_urls"),
    (
        "feed outside allowed_domains",
        site(allowed_domains=["example.org"], feeds=["https://evil.com/rss"]),
        "feeds",
    ),
    ("ftp start URL", site(start_urls=["ftp://example.org/"]), "start_urls"),
    ("file start URL", site(start_urls=["file:///etc/passwd"]), "start_urls"),
    ("javascript sitemap", site(sitemaps=["javascript:alert(1)"]), "sitemaps"),
    ("relative feed", site(feeds=["/rss.xml"]), "feeds"),
]


@pytest.mark.parametrize(
    ("table", "field"), [(t, f) for _, t, f in BROKEN_SITES], ids=[c for c, _, _ in BROKEN_SITES]
)
def test_broken_site_names_site_and_field(table: dict[str, Any], field: str) -> None:
    good = site(name="good-one")
    with pytest.raises(SourcesError) as info:
        parse_sources({"sites": [good, table]}, origin="my-sources.toml")
    message = str(info.value)
    assert message.startswith("my-sources.toml: ")
    assert "sites[1]" in message  # the second table, even when its name is unusable
    name = table.get("name")
    if isinstance(name, str):
        assert repr(name) in message
    assert re.search(rf"\b{field}\b", message), message


def test_missing_name_points_at_the_table_by_index() -> None:
    with pytest.raises(SourcesError, match=r"sites\[0\]: field 'name': required"):
        parse_sources({"sites": [site(name=None)]})


def test_duplicate_name_names_the_site_and_field() -> None:
    with pytest.raises(SourcesError) as info:
        parse_sources({"sites": [site(), site(start_urls=["https://example.org/other/"])]})
    message = str(info.value)
    assert "site 'dawn-ur' (sites[1])" in message and "field 'name'" in message and "duplicate" in message


def test_bad_regex_message_quotes_the_pattern() -> None:
    with pytest.raises(
        SourcesError, match=r"site 'dawn-ur' .*field 'article_urls': invalid regex '\(unclosed'"
    ):
        parse_sources({"sites": [site(article_urls=["ok", "(unclosed"])]})


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({}, "no [[sites]] table"),
        ({"sites": []}, "no [[sites]] table"),
        ({"site": [site()]}, "unknown top-level key(s) ['site']"),
        ({"sites": [site()], "defaults": {"name": "x"}}, "[defaults]: key(s) ['name'] cannot have a default"),
        ({"sites": [site()], "defaults": {"start_urls": []}}, "cannot have a default"),
        ({"sites": [site()], "defaults": 3}, "[defaults] must be a table"),
        ({"sites": ["not a table"]}, "sites[0]: must be a table"),
    ],
)
def test_file_level_errors(data: dict[str, Any], needle: str) -> None:
    with pytest.raises(SourcesError) as info:
        parse_sources(data)
    assert needle in str(info.value)


def test_bad_default_is_reported_on_the_site_that_inherits_it() -> None:
    with pytest.raises(SourcesError, match=r"site 'dawn-ur' \(sites\[0\]\): field 'max_depth'"):
        parse_sources({"defaults": {"max_depth": "deep"}, "sites": [site()]})


def test_bad_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[[sites]]\nname = dawn-ur\nstart_urls = ["https://example.org/"]\n')
    with pytest.raises(SourcesError) as info:
        load_sources(path)
    message = str(info.value)
    assert message.startswith(f"{path}: invalid TOML")
    assert "line 2" in message


def test_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_bytes(b'[[sites]]\nname = "caf\xe9"\n')
    with pytest.raises(SourcesError, match="not UTF-8"):
        load_sources(path)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(SourcesError, match="cannot read sources file") as info:
        load_sources(path)
    assert str(path) in str(info.value)


def test_errors_from_a_file_carry_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("max_pages = 50", "max_pages = 0"))
    with pytest.raises(SourcesError) as info:
        load_sources(path)
    assert str(info.value).startswith(f"{path}: site 'dawn-ur' (sites[0]): field 'max_pages'")
