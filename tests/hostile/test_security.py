"""Security: no non-HTTP URLs, no private or loopback addresses from a public site, no secrets in WARCs.

Scope crawl, two sites whose page ``/sec/`` links (and redirects) to ``file:``, ``ftp:``,
``gopher:``, ``s3:``, ``data:``... and to 10.0.0.1, 192.168.0.1, 169.254.169.254 (cloud metadata),
[::1], 127.0.0.2, localhost, 0.0.0.0, [fd00::1], 127.0.0.1 written as ``2130706433`` and
``0x7f000001``, and ``intranet.hostile.test`` (a name that resolves to 127.0.0.1):

* ``local``: configured on 127.0.0.1 (a private address, so it may crawl itself); every one of
  those targets is outside its domain and must be dropped;
* ``public``: configured by a domain name (``news.hostile.test``, resolved to loopback by
  :mod:`tests.hostile.resolver`) whose ``allowed_domains`` also list the addresses above, as a
  careless configuration might: what still protects the network is the private-address rule
  of :mod:`crawler.downloader.scope`, which must drop all of them.

Every host except 127.0.0.1 and ``*.hostile.test`` goes to the hostile server as proxy, so a
request that slips through is recorded, never sent anywhere.

Credentials crawl: secrets in the environment (AWS, GitHub tokens), proxy credentials in
``http_proxy`` (the proxy is the hostile server, which records the ``Proxy-Authorization`` it
gets): none of them may appear in any WARC byte.
"""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler import exitcodes
from tests.hostile.cases import PASSWD_MARK, forbidden_links
from tests.hostile.harness import CrawlRun, all_warc_bytes, run_crawl, site_toml, warcio_check, write_sources
from tests.hostile.server import HostileServer

pytestmark = pytest.mark.slow

PUBLIC = "news.hostile.test"
# The test resolver does the lookups; the product's ScopedResolver still wraps it.
RESOLVER = ("--set", "NEWSARCHIVE_DNS_RESOLVER=tests.hostile.resolver.LoopbackResolver")
PRIVATE_ALLOWED = ["10.0.0.1", "192.168.0.1", "169.254.169.254", "127.0.0.2", "localhost", "0.0.0.0"]
NUMERIC_FORMS = ["2130706433", "0x7f000001"]
SECRETS = {
    "AWS_SECRET_ACCESS_KEY": "aws-s3cr3t-wJalrXUtnFEMI-K7MDENG",
    "AWS_ACCESS_KEY_ID": "AKIAHOSTILETESTKEY01",
    "GITHUB_TOKEN": "ghp_hostileTestToken0123456789abcdefXYZ",
    "NEWSARCHIVE_TEST_PASSWORD": "env-pa55word-hostile",
}
PROXY_USER, PROXY_SECRET = "proxyuser", "pr0xy-s3cr3t-hostile"


@pytest.fixture(scope="module")
def scope_run(module_server: HostileServer, tmp_path_factory: pytest.TempPathFactory) -> CrawlRun:
    tmp = tmp_path_factory.mktemp("scope")
    port = module_server.port
    sources = write_sources(
        tmp / "sources.toml",
        site_toml("local", start_urls=[module_server.url("/sec/")], article_urls=["/sec/ok"]),
        site_toml(
            "public",
            start_urls=[f"http://{PUBLIC}:{port}/sec/"],
            allowed_domains=["hostile.test", *PRIVATE_ALLOWED, *NUMERIC_FORMS],
            article_urls=["/sec/ok"],
        ),
    )
    env = {"no_proxy": "127.0.0.1,.hostile.test", "NO_PROXY": "127.0.0.1,.hostile.test"}
    return run_crawl(sources, tmp / "archive", *RESOLVER, server=module_server, env=env)


def _requested(server: HostileServer, url: str) -> list[str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return [f"{s.host}{s.target}" for s in server.log() if s.host == host and s.path == parts.path]


def test_scope_run_finishes_and_fetches_both_sites(scope_run: CrawlRun, module_server: HostileServer) -> None:
    assert scope_run.code == exitcodes.OK, scope_run.stderr
    warcio_check(scope_run.archive)
    assert module_server.requests("/sec/ok"), "the ordinary links were followed"
    assert {s.host for s in module_server.hits("/sec/ok")} == {"127.0.0.1", PUBLIC}


@pytest.mark.parametrize(
    "index",
    range(len(forbidden_links(0))),
)
def test_forbidden_link_is_never_fetched(
    scope_run: CrawlRun, module_server: HostileServer, index: int
) -> None:
    link = forbidden_links(module_server.port)[index]
    scheme = link.split(":", 1)[0].lower()
    if scheme in ("http", "https"):
        assert _requested(module_server, link) == [], f"{link} was requested"
        host = urlsplit(link).hostname
        assert not [r.uri for r in scope_run.records if urlsplit(r.uri).hostname == host], f"{link} archived"
    else:
        assert not [r.uri for r in scope_run.records if r.uri.lower().startswith(scheme + ":")]


def test_non_http_schemes_never_reach_the_archive(scope_run: CrawlRun) -> None:
    assert {r.uri.split(":", 1)[0] for r in scope_run.records if r.uri} <= {"http"}
    assert PASSWD_MARK.encode() not in all_warc_bytes(scope_run.archive)


def test_private_addresses_are_dropped_for_the_public_site_and_counted(scope_run: CrawlRun) -> None:
    skipped = scope_run.site("public")["skipped"]
    # Six hosts plus the two numeric spellings of 127.0.0.1, each once as a link and once as a
    # redirect target (redirects: crawler.downloader.scope).
    assert skipped.get("private_address", 0) == 2 * (len(PRIVATE_ALLOWED) + len(NUMERIC_FORMS)), skipped
    assert "is a private or loopback address" in scope_run.log


def test_the_local_site_drops_everything_off_its_domain(scope_run: CrawlRun) -> None:
    skipped = scope_run.site("local")["skipped"]
    http_targets = [link for link in forbidden_links(0) if link.startswith("http")]
    assert skipped.get("offsite", 0) == 2 * len(http_targets), skipped  # each as a link and a redirect
    # file:, FILE:, ftp:, gopher:, s3:, view-source: links are not http(s) URLs at all.
    assert skipped.get("invalid_url", 0) == 6, skipped


# --- credentials -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def creds_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[CrawlRun, HostileServer]:
    with HostileServer() as server:
        tmp = tmp_path_factory.mktemp("creds")
        port = server.port
        sources = write_sources(
            tmp / "sources.toml",
            site_toml("direct", start_urls=[server.url("/sec/ok")], article_urls=["/sec/ok"]),
            site_toml("proxied", start_urls=[f"http://{PUBLIC}:{port}/sec/ok"], article_urls=["/sec/ok"]),
        )
        proxy = f"http://{PROXY_USER}:{PROXY_SECRET}@127.0.0.1:{port}"
        env = {
            **SECRETS,
            "http_proxy": proxy,
            "HTTP_PROXY": proxy,
            "https_proxy": proxy,
            "HTTPS_PROXY": proxy,
        }
        run = run_crawl(sources, tmp / "archive", server=server, env=env)
        return run, server


def _forms(secret: str) -> list[bytes]:
    return [secret.encode(), base64.b64encode(secret.encode())]


def test_credentials_run_finishes(creds_run: tuple[CrawlRun, HostileServer]) -> None:
    run, server = creds_run
    assert run.code == exitcodes.OK, run.stderr
    warcio_check(run.archive)
    proxied = [s for s in server.log() if s.proxied]
    assert proxied, "the proxied site went through the (credentialed) proxy"
    assert all(s.request_header("Proxy-Authorization") for s in proxied), "the proxy got its credentials"


def test_environment_secrets_never_reach_a_warc(creds_run: tuple[CrawlRun, HostileServer]) -> None:
    data = all_warc_bytes(creds_run[0].archive)
    for name, secret in SECRETS.items():
        assert not [f for f in _forms(secret) if f in data], f"{name} found in a WARC"


def test_proxy_credentials_never_reach_a_warc(creds_run: tuple[CrawlRun, HostileServer]) -> None:
    data = all_warc_bytes(creds_run[0].archive)
    assert PROXY_SECRET.encode() not in data
    assert base64.b64encode(f"{PROXY_USER}:{PROXY_SECRET}".encode()) not in data
    assert b"Proxy-Authorization" not in data


def test_password_in_a_configured_url_is_refused_and_never_logged(
    server: HostileServer, tmp_path: Path
) -> None:
    secret = "url-s3cr3t-hostile"
    sources = write_sources(
        tmp_path / "sources.toml",
        site_toml(
            "userinfo",
            start_urls=[f"http://editor:{secret}@127.0.0.1:{server.port}/sec/ok"],
            allowed_domains=["127.0.0.1"],
            article_urls=["/sec/ok"],
        ),
    )
    run = run_crawl(sources, tmp_path / "archive", server=server, timeout=60)
    refused = run.code == exitcodes.CONFIG and "start_urls" in run.stderr
    crawled_without_it = run.code == exitcodes.OK and bool(server.requests("/sec/ok"))
    assert refused or crawled_without_it, run.stderr
    logs = "".join(
        p.read_text("utf-8", "replace")
        for p in (tmp_path / "archive").rglob("*")
        if p.is_file() and p.suffix in (".log", ".json")
    )
    assert secret not in run.stderr + run.stdout + logs
