"""Links read from a parsed page resolve exactly as a browser (and Scrapy's urljoin) would."""

from __future__ import annotations

from urllib.parse import urljoin

import lxml.html
import pytest
from hypothesis import given
from hypothesis import strategies as st
from parsel import Selector

from archive.urls import canonical_url
from crawler.parse.links import NOT_PAGES, read_links


def _expected(page_url: str, hrefs: list[str]) -> tuple[list[str], int]:
    urls: dict[str, None] = {}
    invalid = 0
    for href in dict.fromkeys(h.strip() for h in hrefs):
        if not href or href.startswith(NOT_PAGES):
            continue
        try:
            urls[canonical_url(urljoin(page_url, href))] = None
        except ValueError:
            invalid += 1
    return list(urls), invalid


def _page(hrefs: list[str], base: str | None = None) -> str:
    head = f'<base href="{base}">' if base else ""
    links = "".join(f'<a href="{h}">x</a>' for h in hrefs)
    return f"<html><head>{head}</head><body><nav>{links}</nav><p>{links}</p></body></html>"


HREFS = [
    "/ur/news/1",
    "/ur/news/1",  # repeated: once
    " /ur/news/2?utm_source=x ",  # whitespace and tracking parameter
    "../hi/news/3",
    "4",
    "?page=2",
    "//cdn.example.org/a",
    "https://other.example/b#frag",
    "HTTPS://Example.ORG:443/c",
    "#top",
    "javascript:void(0)",
    "mailto:x@example.org",
    "tel:123",
    "data:text/html,x",
    "ftp://example.org/file",  # not http(s): invalid
    "http://[::1",  # unparsable: invalid
    "",
    "/a/./b/../c",
]


@pytest.mark.parametrize(
    "page_url", ["https://example.org/ur/section/index.html", "http://127.0.0.1:8080/x/"]
)
def test_links_resolve_like_urljoin_then_canonical(page_url: str) -> None:
    links = read_links(lxml.html.fromstring(_page(HREFS)), page_url)
    urls, invalid = _expected(page_url, HREFS)
    assert list(links.urls) == urls and links.invalid == invalid == 2


def test_base_href_is_honoured_like_scrapy() -> None:
    from scrapy.http import HtmlResponse

    html = _page(["news/1", "/news/2", "https://x.example/3"], base="https://cdn.example.org/mirror/")
    response = HtmlResponse("https://example.org/a/b", body=html.encode(), encoding="utf-8")
    links = read_links(lxml.html.fromstring(html), response.url)
    assert list(links.urls) == [
        canonical_url(response.urljoin(h)) for h in ["news/1", "/news/2", "https://x.example/3"]
    ]


def test_same_links_from_scrapys_tree_and_a_workers_tree() -> None:
    html = _page(HREFS)
    page_url = "https://example.org/ur/section/"
    from_worker = read_links(lxml.html.fromstring(html), page_url)
    from_crawler = read_links(Selector(text=html).root, page_url)
    assert from_worker == from_crawler


@given(
    st.lists(
        st.lists(
            st.sampled_from([*list("/.?#=&a b%:ü"), "..", "http://h", "HTTPS://H", "//", "x"]), max_size=8
        ).map("".join),
        max_size=15,
    ),
    st.sampled_from(["https://example.org/a/b/c", "http://127.0.0.1:9/x?y=1", "https://example.org/"]),
)
def test_any_hrefs_resolve_like_urljoin_then_canonical(hrefs: list[str], page_url: str) -> None:
    root = lxml.html.fromstring("<html><body><div></div></body></html>")
    body = root.find("body")
    for href in hrefs:
        anchor = lxml.html.Element("a")
        anchor.set("href", href)
        body.append(anchor)
    links = read_links(root, page_url)
    assert (list(links.urls), links.invalid) == _expected(page_url, hrefs)
