"""Loopback servers of sites that fail (stdlib only): every request recorded with the server's clock.

Routes, by the first path segment:

* ``/down/...``  503 to every request;
* ``/busy/...``  429 with ``Retry-After: 1`` to a URL's first request, then a page;
* ``/gone/...``  404 to every request (an answer, not an error);
* ``/drop/...``  reads the request, then closes the keep-alive connection without a byte of answer;
* ``/robots.txt`` 200 (allow all), or 503 when the server is made with ``robots_status=503``.

HTTP/1.1 with keep-alive, so the crawler reuses a connection (robots.txt first, then a page).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RETRY_AFTER = 1


@dataclass(frozen=True)
class Served:
    at: float  # time.monotonic() when the request arrived
    path: str
    status: int | None  # None: the connection was closed without an answer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        arrived = time.monotonic()
        path = self.path.partition("?")[0]
        section = path.split("/")[1] if path.count("/") >= 2 else path.strip("/")
        extra: dict[str, str] = {}
        status: int | None
        with self.server.lock:
            earlier = sum(1 for s in self.server.served if s.path == path)
        if path == "/robots.txt":
            status = self.server.robots_status
            body = b"User-agent: *\nAllow: /\n" if status == 200 else b"<h1>Service Unavailable</h1>"
        elif section == "down":
            status, body = 503, b"<h1>Service Unavailable</h1>"
        elif section == "busy" and not earlier:
            status, body = 429, b"<h1>Too Many Requests</h1>"
            extra["Retry-After"] = str(RETRY_AFTER)
        elif section == "busy":
            status, body = 200, b"<!doctype html><html><head><title>busy</title></head><body>ok</body></html>"
        elif section == "gone":
            status, body = 404, b"<h1>Not Found</h1>"
        elif section == "drop":
            status, body = None, b""
        else:
            status, body = 404, b"<h1>Not Found</h1>"
        with self.server.lock:
            self.server.served.append(Served(arrived, path, status))
        if status is None:
            self.close_connection = True  # the request was read: hang up without an answer
            return
        self.send_response(status)
        self.send_header(
            "Content-Type", "text/html; charset=utf-8" if path != "/robots.txt" else "text/plain"
        )
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, robots_status: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.robots_status = robots_status
        self.served: list[Served] = []
        self.lock = threading.Lock()


class FailingSite:
    def __init__(self, robots_status: int = 200) -> None:
        self._server = _Server(robots_status)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def served(self) -> list[Served]:
        with self._server.lock:
            return list(self._server.served)

    def requests(self, path: str) -> list[Served]:
        return [s for s in self.served if s.path == path]

    def start(self) -> FailingSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
