"""The cookies middleware: Scrapy's cookie jar, with the Public Suffix List bundled in tldextract.

The real-crawl proof that nothing is fetched is :mod:`tests.hostile.test_egress`; these check
the wiring and that the jar's public-suffix rules still hold, with the network refused.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from scrapy import Request, Spider
from scrapy.downloadermiddlewares import cookies as scrapy_cookies
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.settings.default_settings import DOWNLOADER_MIDDLEWARES_BASE
from scrapy.utils.conf import build_component_list
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.downloader.cookies import BUNDLED_SUFFIXES, CookiesMiddleware
from crawler.errors import ConfigError

SCRAPYS = "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"
OURS = "crawler.downloader.cookies.CookiesMiddleware"


class _Spider(Spider):
    name = "cookies-test"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Any name lookup or connection in this process fails the test."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise AssertionError(f"network access: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield attempts
    assert attempts == []


def _middleware() -> CookiesMiddleware:
    return CookiesMiddleware.from_crawler(get_crawler(_Spider, {"COOKIES_ENABLED": True}))


def _cookie_header(mw: CookiesMiddleware, url: str) -> str:
    request = Request(url)
    mw.process_request(request)
    return (request.headers.get("Cookie") or b"").decode()


def test_ours_replaces_scrapys_at_its_place() -> None:
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    components = build_component_list(settings.getwithbase("DOWNLOADER_MIDDLEWARES"))
    assert SCRAPYS not in components
    assert OURS in components
    assert project_settings.DOWNLOADER_MIDDLEWARES[OURS] == DOWNLOADER_MIDDLEWARES_BASE[SCRAPYS]


def test_the_extractor_never_fetches_nor_caches() -> None:
    _middleware()
    assert scrapy_cookies._split_domain is BUNDLED_SUFFIXES
    assert BUNDLED_SUFFIXES.suffix_list_urls == ()
    assert BUNDLED_SUFFIXES.fallback_to_snapshot
    assert BUNDLED_SUFFIXES.include_psl_private_domains  # as Scrapy's own: github.io is a suffix


def test_public_suffix_cookies_are_refused_offline(no_network: list[object]) -> None:
    mw = _middleware()
    request = Request("https://www.example.co.uk/")
    response = HtmlResponse(
        request.url,
        request=request,
        headers=[
            ("Set-Cookie", "wide=1; Domain=co.uk; Path=/"),
            ("Set-Cookie", "site=1; Domain=example.co.uk; Path=/"),
        ],
    )
    mw.process_response(request, response)
    blog = Request("https://someone.github.io/")
    mw.process_response(
        blog,
        HtmlResponse(blog.url, request=blog, headers=[("Set-Cookie", "pages=1; Domain=github.io; Path=/")]),
    )
    assert _cookie_header(mw, "https://news.example.co.uk/") == "site=1"
    assert _cookie_header(mw, "https://other.co.uk/") == ""
    assert _cookie_header(mw, "https://other.github.io/") == ""
    # A cookie whose Domain is a public suffix is dropped, even for the host that set it (Scrapy's rule).
    assert _cookie_header(mw, "https://someone.github.io/") == ""


def test_a_scrapy_without_the_extractor_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(scrapy_cookies, "_split_domain")
    with pytest.raises(ConfigError, match="Public Suffix List"):
        _middleware()
