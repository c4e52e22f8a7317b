"""A loopback shop that asks for a Crawl-delay and hides a faceted-navigation trap (stdlib only).

``/robots.txt`` says ``Crawl-delay: 1``. ``/shop/`` and every ``/shop/?…`` page link all
:data:`VARIANTS` permutations of ``?color=…&size=…&page=…`` (written in a scrambled parameter
order, as shops do): a crawler bounded only by its page budget fetches hundreds of them. Every
request is recorded with the server's own monotonic clock at its arrival. ``hold()`` makes
requests wait at the server, unanswered, until ``release()`` (several workers join a cycle first).
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CRAWL_DELAY = 1
COLORS = ("red", "green", "blue", "black", "white", "grey", "navy", "olive")
SIZES = ("xs", "s", "m", "l", "xl", "xxl")
PAGES = (1, 2, 3, 4, 5)
VARIANTS = [
    f"/shop/?size={size}&page={page}&color={color}"
    for color, size, page in itertools.product(COLORS, SIZES, PAGES)
]


@dataclass(frozen=True)
class Served:
    at: float  # time.monotonic() when the request arrived
    path: str
    query: str


def _page(title: str, links: list[str]) -> bytes:
    nav = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title></head><body><h1>{title}</h1><ul>{nav}</ul></body></html>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.gate.wait(60)
        arrived = time.monotonic()
        path, _, query = self.path.partition("?")
        with self.server.lock:
            self.server.log.append(Served(arrived, path, query))
        if path == "/robots.txt":
            status, ctype, body = 200, "text/plain", f"User-agent: *\nCrawl-delay: {CRAWL_DELAY}\n".encode()
        elif path == "/shop/":
            status, ctype, body = 200, "text/html; charset=utf-8", _page("Shirts", ["/shop/", *VARIANTS])
        else:
            status, ctype, body = 404, "text/html; charset=utf-8", _page("Not found", ["/shop/"])
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    lock: threading.Lock
    log: list[Served]
    gate: threading.Event


class PoliteShop:
    """The shop on 127.0.0.1 (port 0: any free one); ``served`` lists the requests in arrival order."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.lock = threading.Lock()
        self._server.log = []
        self._server.gate = threading.Event()
        self._server.gate.set()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def hold(self) -> None:
        self._server.gate.clear()

    def release(self) -> None:
        self._server.gate.set()

    def stop(self) -> None:
        self._server.gate.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def served(self) -> list[Served]:
        with self._server.lock:
            return sorted(self._server.log, key=lambda s: s.at)
