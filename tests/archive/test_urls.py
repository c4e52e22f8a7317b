"""URL canonicalisation: one article, one URL (tracking, fragments and session ids removed)."""

from __future__ import annotations

import pytest

from archive.urls import canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # tracking parameters, any case
        ("https://example.com/a?utm_source=x&utm_medium=y&utm_campaign=z&id=3", "https://example.com/a?id=3"),
        ("https://example.com/a?fbclid=abc", "https://example.com/a"),
        (
            "https://example.com/a?gclid=1&msclkid=2&mc_cid=3&mc_eid=4&igshid=5&yclid=6",
            "https://example.com/a",
        ),
        ("https://example.com/a?UTM_Source=x&p=1", "https://example.com/a?p=1"),
        ("https://example.com/a?utm_source", "https://example.com/a"),
        # fragments
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a?p=1#x?y=2", "https://example.com/a?p=1"),
        # session ids, in the query and in the path
        ("https://example.com/a?PHPSESSID=abc&p=1", "https://example.com/a?p=1"),
        ("https://example.com/a?jsessionid=1&sid=2&sessionid=3", "https://example.com/a"),
        ("https://example.com/a;jsessionid=ABC123?p=1", "https://example.com/a?p=1"),
        # query sorted (values of a repeated key too), blank values kept
        ("https://example.com/a?b=2&a=1&c=", "https://example.com/a?a=1&b=2&c="),
        ("https://example.com/a?x=2&x=1", "https://example.com/a?x=1&x=2"),
        # host and scheme lowercased, default ports dropped, other ports kept
        ("HTTPS://Example.COM/Path", "https://example.com/Path"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("http://127.0.0.1:8080/a", "http://127.0.0.1:8080/a"),
        # empty path becomes /, surrounding spaces removed
        ("https://example.com", "https://example.com/"),
        ("  https://example.com/a \n", "https://example.com/a"),
        # non-ASCII: percent-encoded UTF-8 path, IDNA host
        ("https://example.com/ur/خبر", "https://example.com/ur/%D8%AE%D8%A8%D8%B1"),
        ("https://bücher.de/", "https://xn--bcher-kva.de/"),
        # an encoded reserved character is not decoded
        ("https://example.com/a%2Fb", "https://example.com/a%2Fb"),
        ("https://example.com/?q=a%2Bb", "https://example.com/?q=a%2Bb"),
    ],
)
def test_canonical_form(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_tracking_and_session_lookalikes_are_kept() -> None:
    # Only exact parameter names are dropped: "utm" alone or "sidebar" can change the page.
    assert canonical_url("https://example.com/a?utm=1&sidebar=0&source=x") == (
        "https://example.com/a?sidebar=0&source=x&utm=1"
    )


def test_path_case_is_significant() -> None:
    assert canonical_url("https://example.com/News") != canonical_url("https://example.com/news")


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "mailto:editor@example.com",
        "ftp://example.com/file",
        "data:text/html,hi",
        "//example.com/a",
        "/relative/path",
        "",
        "http://",
        "http:///path",
        "https://:443/",
        "http://example.com:notaport/",
        "http://[::1/",
    ],
)
def test_non_http_or_hostless_urls_are_rejected(url: str) -> None:
    with pytest.raises(ValueError):
        canonical_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "HTTP://Example.COM:80/a/../b/./c?utm_source=x&b=2&a=1#f",
        "https://example.com/ur/خبر?q=ی&fbclid=1",
        "https://example.com/a;jsessionid=1?x=%20y",
        "https://example.com/a b?c d=e f",
        "http://[::1]:80/x",
    ],
)
def test_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once
