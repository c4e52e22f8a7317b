"""Redirects: loops, a 30-hop chain, other domains, other schemes, private addresses, broken Locations.

Every redirect response is archived as what it is (a 3xx response record with its Location as
sent); the crawler follows at most ``REDIRECT_MAX_TIMES`` (10) hops, never leaves the site, never
follows ``file:``/``ftp:``/``data:``/``javascript:``, never reaches a private or loopback address
other than the site's own, and survives Locations that are raw UTF-8, latin-1, control
characters, 16 KB long, empty, missing or unparsable.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from w3lib.url import safe_url_string

from crawler import exitcodes
from tests.hostile.cases import PASSWD_MARK, REDIRECT_CHAIN, redirect_targets
from tests.hostile.harness import CrawlRun, all_warc_bytes, run_crawl, site_toml, warcio_check, write_sources
from tests.hostile.server import HostileServer

pytestmark = pytest.mark.slow

REDIRECT_MAX_TIMES = 10  # crawler/settings.py
NOT_FOLLOWED = (
    "offsite",
    "offsite-suffix",
    "scheme-relative",
    "file",
    "ftp",
    "data",
    "private-10",
    "metadata",
)
NOT_FOLLOWED += ("loopback-v6", "loopback-2", "localhost", "javascript", "bad-ipv6", "missing")
FOLLOWED_IN_SITE = {
    "utf8": "/redir/a/ok/%D8%AE%D8%A8%D8%B1-%D8%AA%D8%A7%D8%B2%DB%81",
    "latin1": "/redir/a/ok/caf%E9",
    "control": "/redir/a/ok/%01%02%7F",
}


@pytest.fixture(scope="module")
def redirects(module_server: HostileServer, tmp_path_factory: pytest.TempPathFactory) -> CrawlRun:
    tmp = tmp_path_factory.mktemp("redirects")
    sources = write_sources(
        tmp / "sources.toml",
        site_toml("redir", start_urls=[module_server.url("/redir/")], article_urls=["/redir/a/"]),
    )
    return run_crawl(sources, tmp / "archive", server=module_server)


def test_run_finishes_and_files_are_valid(redirects: CrawlRun) -> None:
    assert redirects.code == exitcodes.OK, redirects.stderr
    warcio_check(redirects.archive)


@pytest.mark.parametrize("name", sorted(redirect_targets(0)))
def test_every_redirect_is_archived_as_a_3xx_record(redirects: CrawlRun, name: str) -> None:
    rec = redirects.response(f"/redir/a/{name}")
    assert rec.http_status == 302
    location = rec.http_header("Location")
    if name == "missing":
        assert location is None
    else:
        assert location is not None
    assert redirects.metadata_for(rec), "every capture has its metadata record"


def test_nothing_outside_the_site_was_requested(redirects: CrawlRun, module_server: HostileServer) -> None:
    assert module_server.foreign() == [], "requests reached other hosts through the proxy"
    assert not module_server.hits("/redir/secret"), "a loopback address other than the site's was fetched"
    data = all_warc_bytes(redirects.archive)
    assert PASSWD_MARK.encode() not in data, "/etc/passwd ended up in a WARC"
    schemes = {r.uri.split(":", 1)[0] for r in redirects.records if r.uri}
    assert schemes <= {"http"}, schemes


def test_redirects_off_site_are_skipped_and_counted(redirects: CrawlRun) -> None:
    skipped = redirects.site("redir")["skipped"]
    # elsewhere.example (twice: absolute and scheme-relative), a suffix trick, 10.0.0.1,
    # 169.254.169.254, [::1], 127.0.0.2, localhost: each is off this site's domain.
    assert skipped.get("offsite", 0) >= 7, skipped
    assert "skipped http://169.254.169.254/latest/meta-data/iam/security-credentials/" in redirects.log


@pytest.mark.parametrize("name", NOT_FOLLOWED)
def test_redirect_that_leaves_the_site_is_not_followed(
    redirects: CrawlRun, module_server: HostileServer, name: str
) -> None:
    source = module_server.url(f"/redir/a/{name}")
    target = redirect_targets(module_server.port)[name]
    followed = [
        r.uri for r in redirects.records if r.headers.get("WARC-Type") == "request" and r.uri != source
    ]
    try:
        absolute = urljoin(source, target.decode("latin-1") if isinstance(target, bytes) else target or "")
        parts = urlsplit(absolute)
        host = parts.hostname
    except ValueError:  # the unparsable IPv6 Location
        assert not any("broken" in u for u in followed)
        return
    assert absolute not in followed
    if parts.scheme in ("http", "https") and absolute != source:
        assert not [s for s in module_server.log() if (s.host, s.path) == (host, parts.path)], absolute


@pytest.mark.parametrize("name", sorted(FOLLOWED_IN_SITE))
def test_non_ascii_and_control_locations_are_followed_percent_encoded(
    redirects: CrawlRun, module_server: HostileServer, name: str
) -> None:
    path = FOLLOWED_IN_SITE[name]
    assert len(module_server.requests(path)) == 1
    rec = redirects.response(path)
    assert rec.http_status == 200
    conversion = redirects.conversion_for(rec)
    assert conversion is not None and "Ferries will run" in conversion.text


@pytest.mark.parametrize(
    "name",
    [
        "utf8",
        "control",
        "latin1",
    ],
)
def test_stored_location_leads_where_the_crawler_went(redirects: CrawlRun, name: str) -> None:
    """Replay follows the archived Location: it must name the page the crawler fetched and archived."""
    rec = redirects.response(f"/redir/a/{name}")
    location = rec.http_header("Location") or ""
    stored = safe_url_string(urljoin(rec.uri, location), encoding="utf-8")
    assert stored == rec.uri.split("/redir/")[0] + FOLLOWED_IN_SITE[name]


def test_long_chain_stops_after_redirect_max_times(redirects: CrawlRun, module_server: HostileServer) -> None:
    hops = module_server.hits("/redir/a/chain/")
    assert len(hops) == REDIRECT_MAX_TIMES + 1, [h.path for h in hops]
    assert not module_server.hits(f"/redir/a/chain/{REDIRECT_CHAIN}")
    assert len([r for r in redirects.records if r.type == "response" and "/chain/" in r.uri]) == len(hops)
    assert "max redirections reached" in redirects.log
    assert redirects.site("redir")["errors"].get("IgnoreRequest") == 1


def test_redirect_loop_is_fetched_once_per_url(redirects: CrawlRun, module_server: HostileServer) -> None:
    assert len(module_server.requests("/redir/a/loop")) == 1  # then /loop-back, then the dupe filter
    assert len(module_server.requests("/redir/a/loop-back")) == 1
    assert len(redirects.responses("/redir/a/loop")) == 1
    assert len(redirects.responses("/redir/a/loop-back")) == 1


def test_broken_locations_do_not_crash_the_crawl(redirects: CrawlRun) -> None:
    assert "Traceback" not in redirects.log
    assert "Traceback" not in redirects.stderr
