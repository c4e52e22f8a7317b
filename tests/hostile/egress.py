"""Servers and wrappers of the egress tests (issue 13): a site whose every page sets cookies, a
proxy canary that records whatever reaches it, and a replay "virtualenv" that runs the real
pywb and py-wacz tools with the socket audit of :mod:`tests.hostile.egress_audit`.

Everything binds 127.0.0.1 on a port the OS picks and answers from daemon threads.
"""

from __future__ import annotations

import contextlib
import http.client
import shlex
import socketserver
import threading
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ARTICLES = {
    1: (
        "Harbour ferries return after the storm",
        [
            "The first ferries left the old harbour on Tuesday morning, three days after the storm "
            "closed the crossing and stranded hundreds of commuters on both banks of the river.",
            "Engineers inspected the landing stages overnight and found only minor damage to the "
            "railings, the port authority said, adding that the timetable would be back to normal "
            "by the end of the week.",
            "Passengers queued patiently in the rain, many of them carrying bags of shopping they "
            "had not been able to take home since Saturday.",
        ],
    ),
    2: (
        "Library opens its reading room at night",
        [
            "The city library will keep its main reading room open until midnight from next month, "
            "after a pilot scheme drew more students than the staff had expected.",
            "The council said the longer hours would cost less than feared because the building's "
            "heating already runs through the evening for the archive stores below it.",
            "Librarians will offer help with research questions until ten o'clock, and a quiet "
            "study area on the upper floor will stay open for the last two hours.",
        ],
    ),
    3: (
        "Volunteers count the river's birds",
        [
            "More than two hundred volunteers walked the river banks at dawn on Sunday to count "
            "the birds that spend the winter in the reed beds south of the town.",
            "Herons, cormorants and several kinds of duck were seen in larger numbers than last "
            "year, while the count of kingfishers fell for the third winter in a row.",
            "The organisers will publish the full figures in the spring, together with a map of "
            "the places where the rarest visitors were found.",
        ],
    ),
}
# Links and resources on other hosts: the crawler must neither fetch nor look up any of them.
FOREIGN = ("elsewhere.example", "cdn.elsewhere.example", "tracker.elsewhere.example")


def site_cookies(host: str, path: str) -> list[str]:
    """The ``Set-Cookie`` values of one response: host-only, own domain, public suffixes, foreign."""
    cookies = [
        f"sid={zlib.crc32(f'{host}{path}'.encode()):08x}; Path=/; HttpOnly",
        "consent=yes; Path=/; Max-Age=31536000; SameSite=Lax",
        f"pref=compact; Domain={host}; Path=/",
        "wide=1; Domain=.com; Path=/",  # a public suffix: Scrapy's jar must refuse it
        "private=1; Domain=github.io; Path=/",  # a private-registry public suffix
        "foreign=1; Domain=elsewhere.example; Path=/",
    ]
    if path.startswith("/news/"):
        cookies.append(f"seen={path.rsplit('/', 1)[-1]}; Path=/news; Max-Age=3600")
    return cookies


def _page(title: str, body: str) -> bytes:
    foreign = "".join(f'<link rel="preconnect" href="https://{h}/">' for h in FOREIGN)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{title}</title>{foreign}"
        f'<script src="https://{FOREIGN[1]}/analytics.js"></script></head>'
        f"<body><header><a href=/>River Town News</a></header>{body}"
        f'<footer><a href="https://{FOREIGN[0]}/partner">partner</a> '
        f'<img src="https://{FOREIGN[2]}/pixel.gif" alt=""></footer></body></html>'
    ).encode()


def render(path: str) -> tuple[int, bytes, str]:
    if path == "/robots.txt":
        return 200, b"User-agent: *\nAllow: /\n", "text/plain"
    if path == "/":
        items = "".join(f'<li><a href="/news/{n}">{title}</a></li>' for n, (title, _) in ARTICLES.items())
        return 200, _page("River Town News", f"<main><h1>Latest</h1><ul>{items}</ul></main>"), "text/html"
    if path.startswith("/news/") and path[6:].isdigit() and int(path[6:]) in ARTICLES:
        title, paragraphs = ARTICLES[int(path[6:])]
        text = "".join(f"<p>{p}</p>" for p in paragraphs)
        body = f'<main><article><h1>{title}</h1><time datetime="2026-11-02">2 Nov 2026</time>{text}</article></main>'
        return 200, _page(title, body), "text/html"
    return 404, _page("Not found", "<p>No such page.</p>"), "text/html"


@dataclass(frozen=True)
class SiteRequest:
    host: str  # Host header without the port
    path: str
    cookie: str  # the Cookie header as received ("" if none)


class _SiteHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _SiteHTTPServer

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        path = self.path.split("?", 1)[0]
        self.server.site.record(SiteRequest(host, path, self.headers.get("Cookie") or ""))
        status, body, mime = render(path)
        self.send_response(status)
        self.send_header("Content-Type", f"{mime}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for value in site_cookies(host, path):
            self.send_header("Set-Cookie", value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _SiteHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: CookieSite) -> None:
        self.site = site
        super().__init__(("127.0.0.1", 0), _SiteHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup: not here.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])


class CookieSite:
    """Three articles and a front page; every response sets six or seven cookies."""

    def __init__(self) -> None:
        self.requests: list[SiteRequest] = []
        self._lock = threading.Lock()
        self._httpd = _SiteHTTPServer(self)
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def record(self, request: SiteRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> CookieSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class _CanaryHandler(socketserver.StreamRequestHandler):
    timeout = 10
    server: _CanaryServer

    def handle(self) -> None:
        with contextlib.suppress(OSError):
            first = self.rfile.readline(8192)
            self.server.canary.record(first.decode("latin-1").strip() or "(nothing sent)")
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


class _CanaryServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, canary: ProxyCanary) -> None:
        self.canary = canary
        super().__init__(("127.0.0.1", 0), _CanaryHandler)


class ProxyCanary:
    """An "HTTP proxy" that forwards nothing: it records each request line and answers 403.

    Pointed at by ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``: whatever honours the proxy
    variables and is not for a ``NO_PROXY`` host (``CONNECT publicsuffix.org:443``, say) lands here.
    """

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._lock = threading.Lock()
        self._server = _CanaryServer(self)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def record(self, line: str) -> None:
        with self._lock:
            self.seen.append(line)

    def env(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in ("http_proxy", "https_proxy", "all_proxy"):
            out[name] = out[name.upper()] = self.url
        out["no_proxy"] = out["NO_PROXY"] = "127.0.0.1,localhost"
        return out

    def __enter__(self) -> ProxyCanary:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def write_replay_shim(directory: Path, real_venv: Path, hook_dir: Path) -> Path:
    """A "replay virtualenv" (``NEWSARCHIVE_REPLAY_VENV``) whose ``wayback`` and ``wacz`` are the
    real tools of ``real_venv`` started with ``hook_dir`` first on their ``PYTHONPATH``.

    The wrappers add the audit themselves, so it reaches the tools whatever environment
    ``newsarchive`` gives its subprocesses (it may drop an inherited ``PYTHONPATH``).
    """
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for tool in ("wayback", "wacz"):
        script = bin_dir / tool
        script.write_text(
            "#!/bin/sh\n"
            f"PYTHONPATH={shlex.quote(str(hook_dir))}${{PYTHONPATH:+:$PYTHONPATH}}\n"
            "export PYTHONPATH\n"
            f'exec {shlex.quote(str(real_venv / "bin" / tool))} "$@"\n',
            encoding="utf-8",
        )
        script.chmod(0o755)
    return directory


def get_status(url: str, timeout: float = 30) -> int:
    """GET a loopback URL, read the whole answer, return its status (no redirects followed)."""
    parts = urlsplit(url)
    assert parts.hostname in ("127.0.0.1", "localhost"), "tests only talk to loopback"
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(
            "GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers={"Connection": "close"}
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()
