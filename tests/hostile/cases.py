"""The hostile cases of issue 6 as named endpoints of :class:`tests.hostile.server.HostileServer`.

Each case family lives under one path prefix and registers its handler in :data:`ROUTES` with
:func:`route`; a handler gets the :class:`~tests.hostile.server.Reply` (raw writes, resets,
stalls) and the parsed :class:`~tests.hostile.server.Request`. The constants next to each family
are what the tests assert against (which URLs exist, which sentence a page must yield).
"""

from __future__ import annotations

import gzip
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

import brotli

from tests.hostile import pages
from tests.hostile.bombs import BOMBS

if TYPE_CHECKING:
    from tests.hostile.server import Reply, Request

HUGE_SITEMAP_URLS = 60_000
ENDLESS_INDEX_CAP = 100  # the endless sitemap index ends here, so a crawler without a bound still stops
FILLER = (b"<p>" + b"lorem ipsum dolor sit amet " * 40 + b"</p>\n") * 60  # ~65 KB of HTML


# --- routes ------------------------------------------------------------------------------------------------

Route = Callable[["Reply", "Request"], None]
ROUTES: list[tuple[str, Route]] = []


def route(prefix: str) -> Callable[[Route], Route]:
    def register(fn: Route) -> Route:
        ROUTES.append((prefix, fn))
        ROUTES.sort(key=lambda r: -len(r[0]))
        return fn

    return register


def _links_page(reply: Reply, title: str, links: Iterable[str]) -> None:
    reply.html(pages.index(title, links))


@route("/robots.txt")
def _robots(reply: Reply, req: Request) -> None:
    reply.send(200, b"User-agent: *\nAllow: /\n", content_type="text/plain")


# bombs ---------------------------------------------------------------------------------------------------

#: Index pages: the zlib family (gzip and deflate, single and nested) and brotli, each next to a normal page.
BOMB_FAMILIES = {
    "zlib": ("gzip", "gzip-nested", "deflate", "deflate-nested", "ok"),
    "br": ("br", "br-ok"),
}


@route("/bombs/")
def _bombs(reply: Reply, req: Request) -> None:
    family = req.path.removeprefix("/bombs/").rstrip("/")
    name = req.path.removeprefix("/bombs/a/")
    if family in BOMB_FAMILIES:
        _links_page(reply, "Bombs", [f"/bombs/a/{n}" for n in BOMB_FAMILIES[family]])
    elif name == "ok":
        body = gzip.compress(pages.english_article("A normal gzip page").encode(), mtime=0)
        reply.send(200, body, headers=[("Content-Encoding", "gzip")])
    elif name == "br-ok":
        body = brotli.compress(pages.english_article("A normal brotli page").encode())
        reply.send(200, body, headers=[("Content-Encoding", "br")])
    elif name in BOMBS:
        coding, make = BOMBS[name]
        reply.send(200, make(), headers=[("Content-Encoding", coding)])
    else:
        reply.html(pages.index("Not found", []), 404)


# oversized bodies ---------------------------------------------------------------------------------------

HUGE_ANNOUNCED = 2 * 1024**3  # Content-Length of /big/a/huge-cl: beyond Scrapy's 1 GiB DOWNLOAD_MAXSIZE
ENDLESS_CAP = 3 * 1024**3  # /big/a/endless stops here whatever the client does


def _filler(total: int | None) -> Iterator[bytes]:
    """``total`` bytes of HTML-looking filler (None: endless, up to :data:`ENDLESS_CAP`)."""
    yield b"<!DOCTYPE html><html><head><title>Big</title></head><body>"
    sent = 58
    limit = ENDLESS_CAP if total is None else total
    while sent < limit:
        piece = FILLER[: limit - sent]
        sent += len(piece)
        yield piece


@route("/big/")
def _big(reply: Reply, req: Request) -> None:
    """``/big/N/`` links to N-byte bodies delivered with Content-Length, close-delimited and chunked."""
    parts = req.path.strip("/").split("/")
    if len(parts) == 2 and parts[1].isdigit():
        size = int(parts[1])
        links = [f"/big/a/{kind}/{size}" for kind in ("cl", "close", "chunked")]
        links += ["/big/a/endless", "/big/a/huge-cl", "/big/a/ok"]
        _links_page(reply, f"Bodies of {size} bytes", links)
        return
    kind = parts[2] if len(parts) > 2 else ""
    size = int(parts[3]) if len(parts) > 3 and parts[3].isdigit() else 0
    if kind == "cl":
        reply.stream(200, _filler(size), length=size)
    elif kind == "close":
        reply.stream(200, _filler(size))  # no length, not chunked: ends when the connection closes
    elif kind == "chunked":
        reply.stream(200, _filler(size), chunked=True)
    elif kind == "endless":
        reply.stream(200, _filler(None), chunked=True)
    elif kind == "huge-cl":
        reply.stream(200, _filler(HUGE_ANNOUNCED), length=HUGE_ANNOUNCED)
    elif kind == "ok":
        reply.html(pages.english_article("A normal page among big ones"))
    else:
        reply.html(pages.index("Not found", []), 404)


# network faults -----------------------------------------------------------------------------------------

NET_CASES = (
    "slow",
    "stall-body",
    "stall-headers",
    "reset-cl",
    "reset-chunked",
    "close-partial",
    "no-response",
    "garbage",
)
PARTIAL_CASES = ("reset-cl", "reset-chunked", "close-partial")  # a status line, then part of the body


@route("/net/")
def _net(reply: Reply, req: Request) -> None:
    name = req.path.removeprefix("/net/a/")
    body = pages.english_article(f"Network case {name}").encode()
    if req.path == "/net/":
        _links_page(reply, "Network faults", [f"/net/a/{n}" for n in (*NET_CASES, "ok")])
    elif req.path == "/net/partial/":
        _links_page(reply, "Partial bodies", [f"/net/a/{n}" for n in (*PARTIAL_CASES, "ok")])
    elif name == "ok":
        reply.send(200, body)
    elif name == "slow":
        # The whole page in ten pieces over about a second: slow, but inside any sane timeout.
        reply.head(200, length=len(body))
        step = -(-len(body) // 10)
        for i in range(0, len(body), step):
            reply.write(body[i : i + step])
            reply.handler.wfile.flush()
            time.sleep(0.1)
        reply.end()
    elif name == "stall-body":
        reply.head(200, length=len(body) * 4)
        reply.write(body[: len(body) // 2])
        reply.stall()
    elif name == "stall-headers":
        reply.stall()
    elif name == "reset-cl":
        reply.head(200, length=len(body) * 4)
        reply.write(body[: len(body) // 2])
        reply.reset()
    elif name == "reset-chunked":
        reply.head(200, chunked=True)
        reply.write(body[:1000])
        reply.write(body[1000:2000])
        reply.reset()
    elif name == "close-partial":
        reply.head(200, length=len(body) * 4)
        reply.write(body[: len(body) // 2])
        reply.hang_up()
    elif name == "no-response":
        reply.hang_up()
    elif name == "garbage":
        reply._send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 this is not HTTP at all\r\n\r\n\x00\xff")
        reply.hang_up()
        reply.outcome = "garbage"
    else:
        reply.html(pages.index("Not found", []), 404)


# redirects ----------------------------------------------------------------------------------------------

REDIRECT_CHAIN = 30


def redirect_targets(port: int) -> dict[str, str | bytes | None]:
    """Name -> Location of each single redirect case (the loop and the chain are separate)."""
    return {
        "offsite": "http://elsewhere.example/stolen",
        "offsite-suffix": "http://hostile.test.elsewhere.example/stolen",
        "scheme-relative": "//elsewhere.example/stolen",
        "file": "file:///etc/passwd",
        "ftp": "ftp://127.0.0.1:1/etc/passwd",
        "data": "data:text/html,<p>hi</p>",
        "private-10": "http://10.0.0.1/admin",
        "metadata": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "loopback-v6": f"http://[::1]:{port}/redir/secret",
        "loopback-2": f"http://127.0.0.2:{port}/redir/secret",
        "localhost": f"http://localhost:{port}/redir/secret",
        "utf8": "/redir/a/ok/خبر-تازہ".encode(),  # raw UTF-8 bytes on the wire
        "latin1": b"/redir/a/ok/caf\xe9",  # a lone latin-1 byte: not UTF-8 at all
        "bad-ipv6": "http://[::1/broken",
        "no-host": "http:///nohost",
        "spaces": "ht tp://bad host/x y",
        "control": b"/redir/a/ok/\x01\x02\x7f",
        "empty": "",
        "missing": None,  # a 302 without any Location
        "javascript": "javascript:alert(1)",
        "huge": "/redir/a/ok/" + "x" * 16000,
    }


@route("/redir/")
def _redir(reply: Reply, req: Request) -> None:
    port = req.port or 80
    targets = redirect_targets(port)
    name = req.path.removeprefix("/redir/a/")
    if req.path == "/redir/":
        links = ["/redir/a/loop", "/redir/a/chain/0", *(f"/redir/a/{n}" for n in targets)]
        _links_page(reply, "Redirects", links)
    elif name == "loop":
        reply.redirect("/redir/a/loop-back", 302)
    elif name == "loop-back":
        reply.redirect("/redir/a/loop", 301)
    elif name.startswith("chain/"):
        step = int(name.split("/")[1] or 0)
        if step >= REDIRECT_CHAIN:
            reply.html(pages.english_article("End of a long redirect chain"))
        else:
            reply.redirect(f"/redir/a/chain/{step + 1}", 301)
    elif name.startswith("ok/"):
        reply.html(pages.english_article("Where a redirect landed"))
    elif name in targets:
        reply.redirect(targets[name])
    else:
        reply.html(pages.index("Not found", []), 404)


# crawler traps ------------------------------------------------------------------------------------------

FACETS = {
    "color": ("red", "green", "blue", "black", "white"),
    "size": ("xs", "s", "m", "l", "xl"),
    "brand": ("acme", "globex", "initech", "umbrella"),
    "sort": ("price", "-price", "new", "popular"),
}
SESSION_LINKS = (
    "/trap/session/story;jsessionid=A1B2C3D4E5",
    "/trap/session/story?sid=9f8e7d6c",
    "/trap/session/story?jsessionid=XYZ&utm_source=feed",
    "/trap/session/story?PHPSESSID=0123456789abcdef",
    "/trap/session/story;jsessionid=E5?sid=F6",
    "/trap/session/story?sessionid=77#comments",
    "/trap/session/story",
)


@route("/trap/")
def _trap(reply: Reply, req: Request) -> None:
    counter = reply.handler.server.hostile.next_serial()
    path = req.path
    cal = re.fullmatch(r"/trap/calendar/(-?\d+)/(\d+)/", path)
    if cal:
        year, month = int(cal.group(1)), int(cal.group(2))
        prev_y, prev_m = (year, month - 1) if month > 1 else (year - 1, 12)
        next_y, next_m = (year, month + 1) if month < 12 else (year + 1, 1)
        links = [f"/trap/calendar/{prev_y}/{prev_m:02d}/", f"/trap/calendar/{next_y}/{next_m:02d}/"]
        links += [f"/trap/calendar/{year}/{month:02d}/{day:02d}/" for day in (1, 15)]
        _links_page(reply, f"Events {year}-{month:02d}", links)
    elif re.fullmatch(r"/trap/calendar/-?\d+/\d+/\d+/", path):
        _links_page(reply, "No events this day", ["/trap/calendar/2026/11/"])
    elif path == "/trap/facets/":
        current = dict(parse_qsl(req.query))
        links = []
        for facet, values in FACETS.items():
            for value in values:
                query = {**current, facet: value, "utm_source": f"facet{counter}"}
                # Written in reversed parameter order: canonicalisation must sort it back.
                links.append("/trap/facets/?" + urlencode(list(reversed(list(query.items())))))
        page = int(current.get("page", "1"))
        links.append("/trap/facets/?" + urlencode({**current, "page": page + 1}))
        _links_page(reply, "Products", links)
    elif path.startswith("/trap/session/story"):
        links = [f"/trap/session/story;jsessionid=S{counter}", f"/trap/session/;jsessionid=S{counter}"]
        links += [f"/trap/session/story?sid={counter}"]
        reply.html(pages.english_article("One story behind many session ids", links=links))
    elif path.startswith("/trap/session/"):
        _links_page(reply, "Stories", [*SESSION_LINKS, f"/trap/session/?sid={counter}"])
    else:
        reply.html(pages.index("Not found", []), 404)


# content ------------------------------------------------------------------------------------------------


def _invalid_utf8_urdu() -> bytes:
    """The UTF-8 Urdu page with four broken sequences (a lone continuation byte, 0xFF, a
    truncated 3-byte sequence and an overlong encoding) in the boilerplate around it."""
    html = pages.urdu_article().encode("utf-8")
    return html.replace(b"<footer>", b"<footer>\x80 \xff \xe2\x82 \xc0\xaf ", 1)


CONTENT_CASES: dict[str, tuple[str | None, Callable[[], bytes]]] = {
    # name: (Content-Type, body)
    "control": ("text/html; charset=utf-8", lambda: pages.english_article("Control").encode()),
    "urdu-utf8": ("text/html; charset=utf-8", lambda: pages.urdu_article().encode("utf-8")),
    "utf8-declared-1256": ("text/html; charset=windows-1256", lambda: pages.urdu_article().encode("utf-8")),
    "1256-declared-utf8": (
        "text/html; charset=utf-8",
        lambda: pages.urdu_article(windows_1256=True).encode("cp1256"),
    ),
    "1256-meta-utf8": (
        "text/html",
        lambda: pages.urdu_article(windows_1256=True, meta_charset="utf-8").encode("cp1256"),
    ),
    "1256-declared-1256": (
        "text/html; charset=windows-1256",
        lambda: pages.urdu_article(windows_1256=True).encode("cp1256"),
    ),
    "invalid-utf8": ("text/html; charset=utf-8", _invalid_utf8_urdu),
    "broken-html": ("text/html; charset=utf-8", lambda: pages.broken_html().encode()),
    "deep-nesting": ("text/html; charset=utf-8", lambda: pages.deeply_nested_html(200).encode()),
    "very-deep-nesting": ("text/html; charset=utf-8", lambda: pages.deeply_nested_html(20000).encode()),
    "empty": ("text/html; charset=utf-8", lambda: b""),
    "binary-as-html": ("text/html; charset=utf-8", pages.binary_noise),
    "binary-no-type": (None, pages.binary_noise),
    "pdf": ("application/pdf", lambda: pages.PDF),
    "png": ("image/png", pages.png),
    "png-as-html": ("text/html", pages.png),
}
#: Cases that must give no text at all (nothing in them is HTML).
NO_TEXT = ("empty", "binary-as-html", "binary-no-type", "pdf", "png", "png-as-html")
#: Cases whose text must come out readable, and the sentence that proves it. (very-deep-nesting
#: is in neither list: libxml2 stops building the tree 256 levels down, so its article is lost;
#: it must only not crash anything.)
READABLE = {
    "control": pages.ENGLISH_SENTENCE,
    "urdu-utf8": pages.URDU_SENTENCE,
    "utf8-declared-1256": pages.URDU_SENTENCE,
    "1256-declared-utf8": pages.windows_1256_urdu(pages.URDU_SENTENCE),
    "1256-meta-utf8": pages.windows_1256_urdu(pages.URDU_SENTENCE),
    "1256-declared-1256": pages.windows_1256_urdu(pages.URDU_SENTENCE),
    "invalid-utf8": pages.URDU_SENTENCE,
    "broken-html": pages.ENGLISH_SENTENCE,
    "deep-nesting": pages.ENGLISH_SENTENCE,
}


@route("/content/")
def _content(reply: Reply, req: Request) -> None:
    name = req.path.removeprefix("/content/a/")
    if req.path == "/content/":
        _links_page(reply, "Content", [f"/content/a/{n}" for n in CONTENT_CASES])
    elif name in CONTENT_CASES:
        content_type, make = CONTENT_CASES[name]
        reply.send(200, make(), content_type=content_type)
    else:
        reply.html(pages.index("Not found", []), 404)


# feeds and sitemaps -------------------------------------------------------------------------------------

PASSWD_MARK = "root:x:0:0"  # first line of /etc/passwd on every Linux: must never reach a WARC
COMMENT_PAD = "<!-- " + "padding " * 9000 + "-->\n"  # 72 KB: pushes a DOCTYPE past any 64 KB sniffing
UNPARSABLE_URL = "http://[::1"  # urllib.parse raises ValueError on it (unbalanced bracket)
INVALID_URLS = (
    "ht tp://bad host/x",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "ftp://127.0.0.1:1/etc/passwd",
    "mailto:editor@example.org",
    "data:text/html,<p>x</p>",
    "http://",
    "gopher://127.0.0.1:1/_x",
    "http://10.0.0.1/feeds/story/private",
    "http://169.254.169.254/latest/meta-data/",
    "//elsewhere.example/feeds/story/offsite",
)


def _rss(items: Iterable[str], *, prolog: str = "") -> str:
    body = "\n".join(f"<item><title>Story</title>{item}</item>" for item in items)
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n{prolog}<rss version="2.0"><channel>'
        f"<title>Hostile feed</title><link>/</link>\n{body}\n</channel></rss>\n"
    )


def _link(url: str) -> str:
    return f"<link>{url.replace('&', '&amp;').replace('<', '&lt;')}</link>"


def _xxe_prolog(base: str) -> str:
    return (
        "<!DOCTYPE rss [\n"
        '  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
        f'  <!ENTITY net SYSTEM "{base}/feeds/canary/xxe">\n'
        "]>\n"
    )


_LAUGHS = (
    "<!DOCTYPE rss [\n"
    '  <!ENTITY lol "lol">\n'
    + "".join(f'  <!ENTITY lol{i} "' + f"&lol{i - 1 if i > 1 else ''};" * 10 + '">\n' for i in range(1, 10))
    + "]>\n"
)


def feed_body(name: str, base: str) -> tuple[str, bytes] | None:
    """(Content-Type, body) of each feed case."""
    rss = "application/rss+xml"
    if name == "relative.xml":
        good = [
            _link("/feeds/story/1"),
            _link("story/2"),
            _link("../feeds/story/3"),
            _link("  /feeds/story/4  "),
            _link(f"{base}/feeds/story/5"),
            "<guid>/feeds/story/6</guid>",
        ]
        return rss, _rss([*good, *(_link(u) for u in INVALID_URLS), "<link></link>"]).encode()
    if name == "atom.xml":
        entries = "".join(
            f'<entry><title>S</title><link rel="alternate" href="{h}"/></entry>'
            for h in ("story/7", "/feeds/story/8", "file:///etc/passwd", "javascript:void(0)")
        )
        return "application/atom+xml", (
            f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>{entries}</feed>'
        ).encode()
    if name == "invalid.xml":
        return rss, _rss([_link("/feeds/story/9"), _link(UNPARSABLE_URL), _link("/feeds/story/19")]).encode()
    if name == "broken.xml":
        return rss, (
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken & bad</title>'
            b"<item><link>/feeds/story/10</link></item>"
            b"<item><link>/feeds/story/11</link><title>Unclosed < and & here</item>"
            b"<item><link>/feeds/story/12</link></itm></channel>"
        ) + b"\x00\xff\xfe <<< garbage"
    if name == "xxe.xml":
        items = [_link("/feeds/story/20") + "<description>&xxe;</description>", "<link>&net;</link>"]
        return rss, _rss(items, prolog=_xxe_prolog(base)).encode()
    if name == "xxe-late.xml":
        items = [_link("/feeds/story/21") + "<description>&xxe;</description>", "<link>&net;</link>"]
        return rss, _rss(items, prolog=COMMENT_PAD + _xxe_prolog(base)).encode()
    if name == "dtd.xml":
        prolog = f'<!DOCTYPE rss SYSTEM "{base}/feeds/canary/dtd">\n'
        return rss, _rss([_link("/feeds/story/22")], prolog=prolog).encode()
    if name == "laughs.xml":
        return rss, _rss([_link("/feeds/story/23") + "<title>&lol9;</title>"], prolog=_LAUGHS).encode()
    if name == "laughs-late.xml":
        items = [_link("/feeds/story/24") + "<description>&lol9;</description>"]
        return rss, _rss(items, prolog=COMMENT_PAD + _LAUGHS).encode()
    if name == "html.xml":
        return rss, pages.index("An HTML page where a feed should be", ["/feeds/story/25"]).encode()
    if name == "empty.xml":
        return rss, b""
    return None


FEEDS = (
    "relative.xml",
    "atom.xml",
    "invalid.xml",
    "broken.xml",
    "xxe.xml",
    "xxe-late.xml",
    "dtd.xml",
    "laughs.xml",
    "laughs-late.xml",
    "html.xml",
    "empty.xml",
)


@route("/feeds/")
def _feeds(reply: Reply, req: Request) -> None:
    name = req.path.removeprefix("/feeds/")
    if name.startswith("story/"):
        reply.html(pages.english_article(f"Feed story {name}"))
        return
    found = feed_body(name, req.base)
    if found is None:
        reply.html(pages.index("Not found", []), 404)  # includes /feeds/canary/*: recorded, never served
        return
    content_type, body = found
    reply.send(200, body, content_type=content_type)


SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def _huge_sitemap(base: str) -> Iterator[bytes]:
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">\n'.encode()
    for start in range(0, HUGE_SITEMAP_URLS, 1000):
        yield "".join(
            f"<url><loc>{base}/sitemaps/story/{i}</loc><lastmod>2026-11-01</lastmod></url>\n"
            for i in range(start, min(start + 1000, HUGE_SITEMAP_URLS))
        ).encode()
    yield b"</urlset>\n"


@route("/sitemaps/")
def _sitemaps(reply: Reply, req: Request) -> None:
    name = req.path.removeprefix("/sitemaps/")
    xml = "application/xml"
    if name.startswith("story/"):
        reply.html(pages.english_article(f"Sitemap story {name}"))
    elif name == "huge.xml":
        reply.stream(200, _huge_sitemap(req.base), chunked=True, content_type=xml)
    elif name == "mixed.xml":
        locs = ["/sitemaps/story/rel", "story/rel2", *INVALID_URLS]
        urls = "".join(f"<url><loc>{u.replace('&', '&amp;').replace('<', '&lt;')}</loc></url>" for u in locs)
        body = f'<?xml version="1.0"?><urlset xmlns="{SITEMAP_NS}">{urls}</urlset>'
        reply.send(200, body.encode(), content_type=xml)
    elif name == "invalid.xml":
        locs = ["/sitemaps/story/good1", UNPARSABLE_URL, "/sitemaps/story/good2"]
        urls = "".join(f"<url><loc>{u}</loc></url>" for u in locs)
        body = f'<?xml version="1.0"?><urlset xmlns="{SITEMAP_NS}">{urls}</urlset>'
        reply.send(200, body.encode(), content_type=xml)
    elif m := re.fullmatch(r"index/(\d+)\.xml", name):
        n = int(m.group(1))
        if n >= ENDLESS_INDEX_CAP:
            reply.html(pages.index("The end", []), 404)
            return
        children = [f"/sitemaps/index/{n + 1}.xml", f"/sitemaps/index/{n + 1}.xml?part=b"]
        items = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in children)
        body = f'<?xml version="1.0"?><sitemapindex xmlns="{SITEMAP_NS}">{items}</sitemapindex>'
        reply.send(200, body.encode(), content_type=xml)
    else:
        reply.html(pages.index("Not found", []), 404)


# security -----------------------------------------------------------------------------------------------


def forbidden_links(port: int) -> list[str]:
    """Links a page must never make the crawler fetch: other schemes and non-public addresses."""
    return [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "ftp://127.0.0.1:1/etc/passwd",
        "gopher://127.0.0.1:1/_x",
        "s3://bucket/key",
        "view-source:http://127.0.0.1/",
        "data:text/html,<p>x</p>",
        "javascript:alert(1)",
        "http://10.0.0.1/sec/x",
        "http://192.168.0.1/sec/x",
        "http://169.254.169.254/latest/meta-data/",
        f"http://[::1]:{port}/sec/secret",
        f"http://127.0.0.2:{port}/sec/secret",
        f"http://localhost:{port}/sec/secret",
        "http://[fd00::1]/sec/x",
        f"http://0.0.0.0:{port}/sec/secret",
        f"http://2130706433:{port}/sec/secret",  # 127.0.0.1 written as one decimal number
        f"http://0x7f000001:{port}/sec/secret",  # ... and in hex
        f"http://intranet.hostile.test:{port}/sec/secret",  # a name that resolves to 127.0.0.1
    ]


@route("/sec/")
def _sec(reply: Reply, req: Request) -> None:
    """``/sec/`` links to every forbidden target and to a redirect to each; each HTTP target carries
    ``?from=<host>``, so two sites on this page never share a URL (and a duplicate filter)."""
    port = req.port or 80

    def marked(link: str) -> str:
        return f"{link}?from={req.host}" if link.startswith("http") else link

    forbidden = [marked(link) for link in forbidden_links(port)]
    name = req.path.removeprefix("/sec/")
    if name == "":
        redirects = [f"/sec/redirect/{i}" for i in range(len(forbidden))]
        links = [*forbidden, *redirects, "/sec/ok"]
        reply.html(pages.english_article("Links nobody should follow", links=links))
    elif name.startswith("redirect/"):
        reply.redirect(forbidden[int(name.split("/")[1])])
    elif name == "ok":
        reply.html(
            pages.english_article("An ordinary story", links=["/sec/"]), headers=[("Set-Cookie", "s=1")]
        )
    else:
        reply.html(pages.index("Not found", []), 404)


# filling a disk ---------------------------------------------------------------------------------------

FILL_PAGES = 50


def _noise_text(seed: int, size: int = 12_000) -> str:
    """Text that gzip cannot shrink much (base64 of pseudo-random bytes): pages that fill a disk."""
    import base64
    import random

    return base64.b64encode(random.Random(seed).randbytes(size * 3 // 4)).decode()


@route("/fill/")
def _fill(reply: Reply, req: Request) -> None:
    if req.path == "/fill/":
        _links_page(reply, "Many pages", [f"/fill/a/{i}" for i in range(FILL_PAGES)])
    elif (name := req.path.removeprefix("/fill/a/")).isdigit():
        text = _noise_text(int(name))
        paragraphs = [*pages.ENGLISH_PARAGRAPHS, *(text[i : i + 400] for i in range(0, len(text), 400))]
        reply.html(pages.article(f"Page {name}", paragraphs))
    else:
        reply.html(pages.index("Not found", []), 404)
