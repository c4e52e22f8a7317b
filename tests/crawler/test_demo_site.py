"""The bundled demo news site, checked over real loopback HTTP with the standard library only.

Most other tests crawl this site, so here it is held to what they rely on: every article is
reachable, the wire behaviour (gzip, chunked, identity, 304, raw UTF-8 Location, cookies) is as
documented, ``DemoServer.sent`` records the bytes really sent, revision 1 changes exactly one
article and adds one, and robots.txt, feeds and sitemaps parse.
"""

from __future__ import annotations

import gzip
import html
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tomllib
import urllib.robotparser
import xml.etree.ElementTree as ET
from collections import Counter
from email.utils import format_datetime, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from crawler.demo import DEFAULT_PORT, DemoServer, demo_articles, demo_sources_toml

REPO = Path(__file__).resolve().parents[2]
ARTICLE_RE = re.compile(r"/(ur|hi|vi|en)/news/\d+")
INDEX_RE = re.compile(r"^/(ur|hi|vi|en)/(page/\d+/)?$")
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rss1": "http://purl.org/rss/1.0/",
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}
GOLD = demo_articles()
BY_SECTION = {s: [a for a in GOLD if a.section == s] for s in ("ur", "hi", "vi", "en")}
URDU_SLUG = next(a for a in GOLD if a.path != a.url_path_quoted)


@pytest.fixture(scope="module")
def server():
    with DemoServer(port=0) as srv:
        yield srv


# --- helpers -------------------------------------------------------------------------------


def fetch(srv, path, headers=None, method="GET"):
    """(status, headers, body) with transfer coding removed but content coding kept."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.msg, resp.read()
    finally:
        conn.close()


def decoded(headers, body):
    return gzip.decompress(body) if headers.get("Content-Encoding") == "gzip" else body


def raw_exchange(port, target: bytes, headers=b""):
    """One request on a fresh socket; returns (status line + header bytes, body bytes as sent)."""
    request = b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request + headers + b"\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def header_lines(head: bytes) -> list[tuple[str, bytes]]:
    lines = head.split(b"\r\n")[1:]
    return [(k.decode("ascii").lower(), v.strip()) for k, _, v in (ln.partition(b":") for ln in lines)]


def dechunk(raw: bytes) -> list[bytes]:
    """Strict chunked-body parser (RFC 9112 §7.1): returns the chunks, checks the framing."""
    chunks, pos = [], 0
    while True:
        end = raw.index(b"\r\n", pos)
        size = int(raw[pos:end], 16)
        pos = end + 2
        if size == 0:
            assert raw[pos:] == b"\r\n", "last-chunk must be followed by an empty trailer"
            return chunks
        chunks.append(raw[pos : pos + size])
        assert raw[pos + size : pos + size + 2] == b"\r\n"
        pos += size + 2


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("a", "link"):
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def html_links(body: bytes) -> list[str]:
    parser = _Links()
    parser.feed(body.decode("utf-8"))
    return parser.hrefs


def xml_links(body: bytes) -> list[str]:
    found = []
    for el in ET.fromstring(body).iter():
        local = el.tag.rsplit("}", 1)[-1]
        if local in ("loc", "link") and el.text and el.text.strip():
            found.append(el.text.strip())
        found += [v for k, v in el.attrib.items() if k.rsplit("}", 1)[-1] in ("href", "resource", "about")]
    return found


def crawl(srv) -> dict[str, tuple[int, bytes]]:
    """Breadth-first over every same-site link (HTML and XML) on one keep-alive connection.

    Keys are paths without query or fragment, as they appear in links (percent-encoded).
    Disallowed paths are skipped the way a polite crawler would; redirects are not followed.
    """
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(fetch(srv, "/robots.txt")[2].decode().splitlines())
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    origin = f"127.0.0.1:{srv.port}"
    pages: dict[str, tuple[int, bytes]] = {}
    queue = ["/"]
    try:
        while queue:
            path = queue.pop(0)
            if path in pages:
                continue
            conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
            resp = conn.getresponse()
            body = decoded(resp.msg, resp.read())
            pages[path] = (resp.status, body)
            ctype = resp.msg.get_content_type()
            if resp.status != 200 or not ctype.endswith(("html", "xml")):
                continue
            links = html_links(body) if ctype == "text/html" else xml_links(body)
            for href in links:
                url = urljoin(srv.base_url + path, href)
                parts = urlsplit(url)
                if parts.scheme != "http" or parts.netloc != origin:
                    continue
                if not robots.can_fetch("*", url) or parts.path.startswith("/static/"):
                    continue
                if parts.path not in pages:
                    queue.append(parts.path)
    finally:
        conn.close()
    return pages


# --- content -------------------------------------------------------------------------------


def test_gold_list_covers_the_languages_and_the_seeds():
    counts = Counter(a.section for a in GOLD)
    assert counts["ur"] >= 4 and counts["hi"] >= 4 and counts["vi"] >= 3 and counts["en"] >= 3
    assert {a.expected_languages[0] for a in GOLD} == {"urd", "hin", "vie", "eng"}
    assert [a.expected_languages for a in GOLD if len(a.expected_languages) > 1] == [("hin", "eng")]
    mixed = next(a for a in GOLD if a.expected_languages == ("hin", "eng"))
    assert sum(p.isascii() for p in mixed.paragraphs) == 2  # two full English paragraphs
    for a in GOLD:
        assert len(a.paragraphs) >= 4, a.path
        assert ARTICLE_RE.search(a.url_path_quoted)
        assert not set(a.must_not_contain) & set(a.paragraphs)
        assert not any(s in a.text for s in a.must_not_contain), a.path
        assert a.published.startswith("2026-")
    viet = "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
    assert all(any(ch in viet for ch in a.text) for a in BY_SECTION["vi"])
    # the seeds' article text, verbatim (000 Urdu, 001 Hindi, 002 Urdu)
    text = "\n".join(a.text for a in GOLD)
    assert "14 ستمبر کو، کورین سنٹرل نیوز ایجنسی (KCNA) نے ملاقات کی اطلاع دیتے ہوئے" in text
    assert "आधिकारिक कोरियन सेंट्रल न्यूज एजेंसी (केसीएनए) ने कहा" in text
    assert "پیونگ یانگ (ہ س)۔روسی صدر ولادیمیر پوتین" in text
    # ... and not the seeds' boilerplate lines
    assert "(ماخذ: KCNA) |" not in text and "Featured Video Of The Day" not in text
    assert URDU_SLUG.section == "ur" and "%D9" in URDU_SLUG.url_path_quoted


def test_sources_toml_points_at_the_server():
    base = "http://127.0.0.1:40123"
    site = tomllib.loads(demo_sources_toml(base))["sites"][0]
    assert site["name"] == "demo-news"
    assert site["start_urls"] == [base + "/"]
    assert site["allowed_domains"] == ["127.0.0.1"]
    assert site["feeds"] == [
        f"{base}/feeds/ur.xml",
        f"{base}/feeds/hi.xml",
        f"{base}/feeds/vi.rdf",
        f"{base}/feeds/en.atom",
    ]
    assert site["sitemaps"] == [f"{base}/sitemap.xml"]
    assert (site["max_depth"], site["max_pages"]) == (4, 500)
    pattern = re.compile(site["article_urls"][0])
    assert all(pattern.search(a.url_path_quoted) for a in GOLD)
    assert not pattern.search("/ur/page/2/") and not pattern.search("/en/")
    assert DEFAULT_PORT == 18765


# --- pages ---------------------------------------------------------------------------------


def test_every_article_is_reachable_from_index_pages(server):
    pages = crawl(server)
    index_pages = sorted(p for p in pages if INDEX_RE.match(p))
    listed = set()
    for path in index_pages:
        status, body = pages[path]
        assert status == 200
        article_list = re.search(r'<ul class="article-list">(.*?)</ul>', body.decode(), re.S)
        listed |= {h for h in html_links(article_list.group(0).encode()) if ARTICLE_RE.match(h)}
    assert listed == {a.url_path_quoted for a in GOLD}
    for section in BY_SECTION:
        assert f"/{section}/page/2/" in index_pages  # pagination exists in every section
    assert all(pages[a.url_path_quoted][0] == 200 for a in GOLD)
    assert "/private/" not in pages
    assert not any(s.path.startswith("/private") for s in server.sent)
    assert pages["/ur/old-link"][0] == 301  # linked, so crawls meet the redirect


@pytest.mark.parametrize("article", GOLD, ids=lambda a: f"{a.section}-{a.article_id}")
def test_article_page_carries_text_metadata_and_boilerplate(server, article):
    status, headers, body = fetch(server, article.url_path_quoted)
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    page = body.decode("utf-8")
    lang = {"ur": "ur", "hi": "hi", "vi": "vi", "en": "en"}[article.section]
    assert f'<html lang="{lang}"' in page and '<meta charset="utf-8">' in page
    assert f"<title>{html.escape(article.title)} | " in page
    assert f'<meta property="article:published_time" content="{article.published}">' in page
    assert '<meta property="og:title"' in page
    ld = [
        json.loads(m) for m in re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    ]
    news = next(d for d in ld if d["@type"] == "NewsArticle")
    assert news["headline"] == article.title and news["datePublished"] == article.published
    text = html.unescape(page)
    for paragraph in article.paragraphs:
        assert paragraph in text
    for boilerplate in article.must_not_contain:
        assert boilerplate in text, boilerplate
    expected = {
        "ur": ["تبصرہ (0)", "ماخذ: https://"],
        "hi": [
            "विज्ञापन",
            "Read Time: 2 mins",
            "फटाफट पढ़ें",
            "Summary is AI-generated, newsroom-reviewed",
            "क्या हमारी AI समरी आपके लिए उपयोगी रही?",
            "हमें बताएं।",
            "यह भी पढ़ें:",
            "Featured Video Of The Day",
        ],
        "vi": ["Quảng cáo", "Xem thêm:", "Bình luận (0)"],
        "en": ["Advertisement", "Read more:", "Featured Video", "Comments (0)"],
    }[article.section]
    for marker in expected:
        assert any(marker in s for s in article.must_not_contain), marker
    assert "?utm_source=" in page and "#comments" in page  # links to canonicalise
    assert 'href="/private/"' in page


# --- wire behaviour ------------------------------------------------------------------------

GZIP = b"Accept-Encoding: gzip, deflate\r\n"


@pytest.mark.parametrize(
    ("section", "accept", "gzipped", "chunked"),
    [
        ("ur", GZIP, True, False),
        ("hi", GZIP, True, False),
        ("vi", GZIP, False, True),
        ("en", GZIP, True, True),
        ("ur", b"", False, False),
        ("en", b"", False, True),
        ("hi", b"Accept-Encoding: gzip;q=0, identity\r\n", False, False),
    ],
)
def test_transfer_style_per_section(server, section, accept, gzipped, chunked):
    article = BY_SECTION[section][0]
    head, wire = raw_exchange(server.port, article.url_path_quoted.encode(), accept)
    sent = server.sent[-1]
    fields = dict(header_lines(head))
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert (fields.get("content-encoding") == b"gzip") is gzipped
    if chunked:
        assert fields["transfer-encoding"] == b"chunked" and "content-length" not in fields
        chunks = dechunk(wire)
        assert len(chunks) >= 2
        body = b"".join(chunks)
    else:
        assert "transfer-encoding" not in fields
        assert int(fields["content-length"]) == len(wire)
        body = wire
    assert sent.body == body and sent.chunked is chunked and sent.status == 200
    assert sent.path == article.url_path_quoted
    assert [(k.lower(), v.encode()) for k, v in sent.headers if k != "Connection"] == [
        (k, v) for k, v in header_lines(head) if k != "connection"
    ]
    page = gzip.decompress(body) if gzipped else body
    assert article.paragraphs[0] in html.unescape(page.decode("utf-8"))


@pytest.mark.parametrize("path", ["/about/", "/contact/", "/privacy/", "/", "/robots.txt"])
def test_static_pages_are_identity_with_content_length(server, path):
    head, wire = raw_exchange(server.port, path.encode(), GZIP)
    fields = dict(header_lines(head))
    assert "content-encoding" not in fields and "transfer-encoding" not in fields
    assert int(fields["content-length"]) == len(wire) == len(server.sent[-1].body)


def test_keep_alive_across_every_framing(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    plan = [
        ("/ur/", 200),
        ("/vi/", 200),
        ("/en/", 200),
        ("/about/", 200),
        ("/no/such/page", 404),
        ("/ur/old-link", 301),
        ("/feeds/en.atom", 200),
    ]
    try:
        conn.request("GET", "/", headers={"Accept-Encoding": "gzip"})
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        etag = fetch(server, "/hi/", {"Accept-Encoding": "gzip"})[1]["ETag"]
        for path, status in plan:
            conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
            resp = conn.getresponse()
            resp.read()
            assert resp.status == status, path
            assert conn.sock is sock, f"connection was not kept alive after {path}"
        conn.request("GET", "/hi/", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (304, b"")
        conn.request("GET", "/contact/")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read() and conn.sock is sock
    finally:
        conn.close()


def test_validators_and_conditional_requests(server):
    for path in ["/", "/hi/", "/about/", "/feeds/vi.rdf", "/sitemap.xml", "/robots.txt"]:
        _, headers, _ = fetch(server, path)
        assert re.fullmatch(r'"[0-9a-f]+(-gz)?"', headers["ETag"]), path  # strong, quoted
        parsedate_to_datetime(headers["Last-Modified"])
    path = BY_SECTION["hi"][0].url_path_quoted
    gz = {"Accept-Encoding": "gzip"}
    status, headers, body = fetch(server, path, gz)
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert status == 200 and body

    status, headers, body = fetch(server, path, {**gz, "If-None-Match": etag})
    assert (status, body, headers["ETag"]) == (304, b"", etag)
    assert server.sent[-1].status == 304 and server.sent[-1].body == b""
    assert "Content-Length" not in headers and "Transfer-Encoding" not in headers
    assert fetch(server, path, {**gz, "If-None-Match": '"stale", W/' + etag})[0] == 304
    assert fetch(server, path, {**gz, "If-None-Match": '"stale"'})[0] == 200
    assert fetch(server, path, {**gz, "If-Modified-Since": modified})[0] == 304
    earlier = parsedate_to_datetime(modified).timestamp() - 86400
    from datetime import UTC, datetime

    older = format_datetime(datetime.fromtimestamp(earlier, UTC), usegmt=True)
    assert fetch(server, path, {**gz, "If-Modified-Since": older})[0] == 200
    # If-None-Match takes precedence over If-Modified-Since (RFC 9110 §13.2.2)
    assert fetch(server, path, {**gz, "If-None-Match": '"stale"', "If-Modified-Since": modified})[0] == 200


def test_head_sends_headers_only(server):
    status, headers, body = fetch(server, "/ur/", {"Accept-Encoding": "gzip"}, method="HEAD")
    assert (status, body) == (200, b"")
    assert headers["Content-Encoding"] == "gzip" and int(headers["Content-Length"]) > 0


def test_home_sets_two_cookies_and_unknown_paths_are_404(server):
    _, headers, _ = fetch(server, "/")
    cookies = headers.get_all("Set-Cookie")
    assert len(cookies) == 2 and all("Path=/" in c for c in cookies)
    status, headers, body = fetch(server, "/ur/news/999999-missing")
    assert status == 404 and b"Page not found" in body
    assert headers["Content-Type"] == "text/html; charset=utf-8"


def test_redirect_location_is_raw_utf8(server):
    head, _ = raw_exchange(server.port, b"/ur/old-link")
    assert head.startswith(b"HTTP/1.1 301 Moved Permanently")
    location = dict(header_lines(head))["location"]
    assert location == URDU_SLUG.path.encode("utf-8")  # raw bytes, not percent-encoded
    assert b"%" not in location and max(location) >= 0x80
    assert server.sent[-1].header("Location") == URDU_SLUG.path
    # a client that follows it verbatim, or percent-encodes it, lands on the article
    for target in (location, URDU_SLUG.url_path_quoted.encode()):
        head, _ = raw_exchange(server.port, target)
        assert head.startswith(b"HTTP/1.1 200 OK")


def test_robots_txt(server):
    status, headers, body = fetch(server, "/robots.txt")
    assert status == 200 and headers.get_content_type() == "text/plain"
    text = body.decode()
    assert "Disallow: /private/" in text
    sitemaps = [ln.split(" ", 1)[1] for ln in text.splitlines() if ln.startswith("Sitemap: ")]
    assert server.base_url + "/sitemap.xml" in sitemaps
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(text.splitlines())
    assert not robots.can_fetch("*", server.base_url + "/private/")
    assert robots.can_fetch("*", server.url(URDU_SLUG.path))
    assert fetch(server, "/private/")[0] == 200  # it exists; only robots.txt keeps crawlers out


def test_feeds_parse_and_list_their_section(server):
    def paths(urls):
        return {urlsplit(u).path for u in urls}

    expected_type = {
        "/feeds/ur.xml": "application/rss+xml",
        "/feeds/hi.xml": "application/rss+xml",
        "/feeds/vi.rdf": "application/rdf+xml",
        "/feeds/en.atom": "application/atom+xml",
    }
    for path, ctype in expected_type.items():
        status, headers, body = fetch(server, path, {"Accept-Encoding": "gzip"})
        assert status == 200 and headers.get_content_type() == ctype
        root = ET.fromstring(decoded(headers, body))
        section = path.split("/")[2].split(".")[0]
        gold = {a.url_path_quoted for a in BY_SECTION[section]}
        if ctype == "application/rss+xml":
            assert root.tag == "rss" and root.get("version") == "2.0"
            items = root.findall("./channel/item")
            assert all(i.findtext("pubDate") and i.findtext("title") for i in items)
            assert paths(i.findtext("link") for i in items) == gold
        elif ctype == "application/rdf+xml":
            assert root.tag == f"{{{NS['rdf']}}}RDF"
            items = root.findall("rss1:item", NS)
            assert paths(i.findtext("rss1:link", namespaces=NS) for i in items) == gold
            seq = root.findall("rss1:channel/rss1:items/rdf:Seq/rdf:li", NS)
            assert len(seq) == len(items)
        else:
            assert root.tag == f"{{{NS['atom']}}}feed"
            entries = root.findall("atom:entry", NS)
            assert all(e.findtext("atom:updated", namespaces=NS) for e in entries)
            assert paths(e.find("atom:link", NS).get("href") for e in entries) == gold


def test_sitemap_index_and_news_sitemaps(server):
    status, headers, body = fetch(server, "/sitemap.xml")
    assert status == 200 and headers.get_content_type() == "application/xml"
    index = ET.fromstring(body)
    assert index.tag == f"{{{NS['sm']}}}sitemapindex"
    locs = [s.findtext("sm:loc", namespaces=NS) for s in index.findall("sm:sitemap", NS)]
    assert all(s.findtext("sm:lastmod", namespaces=NS) for s in index.findall("sm:sitemap", NS))
    found = {}
    for loc in locs:
        assert loc.startswith(server.base_url + "/sitemaps/news-")
        root = ET.fromstring(fetch(server, urlsplit(loc).path)[2])
        assert root.tag == f"{{{NS['sm']}}}urlset"
        for url in root.findall("sm:url", NS):
            news = url.find("news:news", NS)
            assert url.findtext("sm:lastmod", namespaces=NS)
            assert news.findtext("news:publication_date", namespaces=NS).startswith("2026-")
            lang = news.findtext("news:publication/news:language", namespaces=NS)
            found[urlsplit(url.findtext("sm:loc", namespaces=NS)).path] = (
                lang,
                news.findtext("news:title", namespaces=NS),
            )
    assert found == {a.url_path_quoted: (a.section, a.title) for a in GOLD}


# --- revisions and process -----------------------------------------------------------------


def test_revision_1_edits_one_article_and_publishes_one():
    before, after = demo_articles(0), demo_articles(1)
    old = {a.path: a for a in before}
    new = {a.path: a for a in after}
    added = set(new) - set(old)
    assert len(added) == 1 and not set(old) - set(new)
    edited = [p for p in old if old[p].paragraphs != new[p].paragraphs]
    assert len(edited) == 1
    a0, a1 = old[edited[0]], new[edited[0]]
    assert sum(x != y for x, y in zip(a0.paragraphs, a1.paragraphs, strict=True)) == 1
    fresh = new[added.pop()]

    with DemoServer(port=0) as srv:
        pages0 = crawl(srv)
        etag0 = fetch(srv, a0.url_path_quoted)[1]["ETag"]
        srv.revision = 1  # the next news cycle, while running
        pages1 = crawl(srv)
        assert fetch(srv, a0.url_path_quoted, {"If-None-Match": etag0})[0] == 200
        untouched = next(a for a in before if a.path != a0.path).url_path_quoted
        etag = fetch(srv, untouched)[1]["ETag"]
        assert fetch(srv, untouched, {"If-None-Match": etag})[0] == 304

    assert set(pages1) - set(pages0) == {fresh.url_path_quoted}
    changed = {p for p in pages0 if pages0[p] != pages1[p]}
    section = fresh.section
    allowed = {a0.url_path_quoted, "/sitemap.xml", f"/sitemaps/news-{section}.xml"}
    allowed |= {p for p in pages0 if INDEX_RE.match(p) and p.startswith(f"/{section}/")}
    allowed.add(
        {"ur": "/feeds/ur.xml", "hi": "/feeds/hi.xml", "vi": "/feeds/vi.rdf", "en": "/feeds/en.atom"}[section]
    )
    assert a0.url_path_quoted in changed and f"/{section}/" in changed
    assert changed <= allowed, changed - allowed
    for path in (f"/{section}/", f"/sitemaps/news-{section}.xml"):
        assert fresh.url_path_quoted.encode() in pages1[path][1]
    assert fresh.paragraphs[0].encode() in pages1[fresh.url_path_quoted][1]


def test_stopped_server_refuses_connections():
    srv = DemoServer(port=0)
    srv.start()
    port = srv.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/about/")
    assert conn.getresponse().read()
    srv.stop()
    with pytest.raises(OSError):
        conn.request("GET", "/about/")
        conn.getresponse()
    conn.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


def test_module_main_prints_base_url_and_stops_on_sigterm():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler.demo.server", "--port", "0", "--revision", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO,
    )
    try:
        base = proc.stdout.readline().decode().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
        port = int(base.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/en/")
        resp = conn.getresponse()
        assert resp.status == 200 and b"Flood barriers" in resp.read()  # revision 1's new article
        conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr.read() == b""  # nothing logged per request, no warnings
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
