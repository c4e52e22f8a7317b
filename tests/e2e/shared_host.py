"""Two news sections on one loopback host that link each other's articles (stdlib only).

``/ur/`` and ``/en/`` are two sites of one sources file, as ``bbc.com/urdu`` and
``bbc.com/hindi`` are. Each section's index and articles link the other section's articles;
some articles are reached *only* from the other section (a link, a redirect, a feed entry), so
a crawler that files a URL under the site that found it, rather than the site that owns it,
loses them as articles:

* ``/ur/news/1-2`` and ``/en/news/1-2``: linked from both sections;
* ``/ur/news/3``: linked only from ``/en/`` pages; ``/en/news/3``: only from ``/ur/`` pages;
* ``/en/news/4``: only through ``/go/en-4`` (a 301), linked from ``/ur/``;
* ``/en/news/5``: only in ``/ur/feed.xml``;
* ``/en/about``: a page of the ``/en/`` section linked only from ``/ur/``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ARTICLES = {"ur": (1, 2, 3), "en": (1, 2, 3, 4, 5)}
OTHER = {"ur": "en", "en": "ur"}
ONLY_FROM_OTHER = {"ur": 3, "en": 3}  # linked from the other section's pages only


def article_path(section: str, number: int) -> str:
    return f"/{section}/news/{number}"


def marker(section: str, number: int) -> str:
    """A sentence found in one article's text only."""
    return f"Story {number} of the {section} desk was filed from the harbour office."


def _paragraphs(section: str, number: int) -> list[str]:
    return [
        marker(section, number),
        "The river ferry between the two old towns resumed service on Monday after a week of "
        "repairs to its engine and landing stage, officials said.",
        "Commuters who had taken the long road bridge in the meantime welcomed the return, though "
        "several complained that the timetable still left gaps in the early morning.",
        "The operator said two further boats would join the route next month, and that fares "
        "would stay the same until the end of the year at least.",
        "Shopkeepers near the landing said trade had fallen sharply while the ferry was idle and "
        "hoped the new boats would bring more visitors at weekends.",
    ]


def _page(title: str, links: list[str], body: str = "") -> bytes:
    nav = " ".join(f'<a href="{href}">{href}</a>' for href in links)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title></head><body><header><nav>{nav}</nav></header>"
        f"<main>{body}</main><footer><p>Harbour News</p></footer></body></html>"
    ).encode()


def _article(section: str, number: int) -> bytes:
    other = OTHER[section]
    links = [f"/{section}/", *(article_path(other, n) for n in (1, 2))]
    text = "".join(f"<p>{p}</p>" for p in _paragraphs(section, number))
    return _page(f"{section} {number}", links, f"<article><h1>{section} story {number}</h1>{text}</article>")


def _index(section: str) -> bytes:
    other = OTHER[section]
    own = [article_path(section, n) for n in (1, 2)]
    theirs = [article_path(other, n) for n in (1, 2, ONLY_FROM_OTHER[other])]
    extra = ["/go/en-4", "/en/about", "/ur/about"] if section == "ur" else []
    return _page(f"{section} index", [*own, *theirs, f"/{other}/", *extra])


def _feed(base: str) -> bytes:
    items = [article_path("ur", 1), article_path("ur", 2), article_path("en", 5)]
    entries = "".join(f"<item><title>{p}</title><link>{base}{p}</link></item>" for p in items)
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>ur</title>'
        f"<link>{base}/ur/</link>{entries}</channel></rss>"
    ).encode()


@dataclass(frozen=True)
class Served:
    method: str
    path: str
    status: int


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        status, ctype, body, headers = self.server.site.lookup(path)
        with self.server.lock:
            self.server.log.append(Served("GET", path, status))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: SharedHost
    lock: threading.Lock
    log: list[Served]


class SharedHost:
    """The two sections on 127.0.0.1 (port 0: any free one); ``served`` lists what was answered."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.site = self
        self._server.lock = threading.Lock()
        self._server.log = []
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def served(self) -> list[Served]:
        with self._server.lock:
            return list(self._server.log)

    def lookup(self, path: str) -> tuple[int, str, bytes, list[tuple[str, str]]]:
        html = "text/html; charset=utf-8"
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nAllow: /\n", []
        if path == "/ur/feed.xml":
            return 200, "application/rss+xml", _feed(self.base_url), []
        if path == "/go/en-4":
            return 301, html, b"", [("Location", self.base_url + article_path("en", 4))]
        for section, numbers in ARTICLES.items():
            if path == f"/{section}/":
                return 200, html, _index(section), []
            if path == f"/{section}/about":
                return 200, html, _page(f"about {section}", [f"/{section}/"]), []
            for number in numbers:
                if path == article_path(section, number):
                    return 200, html, _article(section, number), []
        return 404, html, _page("not found", ["/"]), []


SOURCES = """\
[[sites]]
name = "sec-ur"
start_urls = ["{base}/ur/"]
feeds = ["{base}/ur/feed.xml"]
article_urls = ['/ur/news/\\d+']

[[sites]]
name = "sec-en"
start_urls = ["{base}/en/"]
article_urls = ['/en/news/\\d+']
"""
