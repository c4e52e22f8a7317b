"""A loopback HTTP server that serves every hostile case of issue 6, and records what it did.

It binds 127.0.0.1 on a free port, answers each request in its own thread (at most
:data:`MAX_THREADS` at once; every socket has a timeout and every stall ends when the server
stops), and writes status lines, headers and bodies by hand so it can lie: bombs, bodies longer
than announced, resets mid-body, raw UTF-8 ``Location`` headers, garbage instead of HTTP.

It is also an HTTP *proxy*: the tests point the crawler's ``http_proxy`` at it (with
``no_proxy=127.0.0.1``), so a request for any other host -- ``10.0.0.1``,
``169.254.169.254``, another domain -- lands here too, is recorded in :attr:`HostileServer.served`
and answered with a canary page. Nothing the crawler does can leave the machine, and a request
it should never have made is visible instead of silently going nowhere. Hosts named
``*.hostile.test`` get the same routes as ``127.0.0.1``: that is how a test models a *public*
site (a domain name) while staying on loopback.

The cases themselves are the endpoints in :mod:`tests.hostile.cases` (bombs in
:mod:`tests.hostile.bombs`). Run it alone with ``python -m tests.hostile.server`` to poke at
them with curl.
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.hostile import pages
from tests.hostile.cases import ROUTES

MAX_THREADS = 64  # concurrent connections served; more wait, then are closed
SOCKET_TIMEOUT = 20.0  # a client that neither sends nor reads for this long is dropped
STALL_LIMIT = 30.0  # a stalled response gives up after this long even if the server keeps running
SITE_SUFFIX = ".hostile.test"
FOREIGN_CANARY = b"FOREIGN-HOST-CANARY: this request should never have been made"
_NON_ASCII = re.compile(rb"[\x80-\xff]")


# --- what was served ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """One request and what the server did with it (recorded when the handler finished)."""

    method: str
    host: str  # lower-case host name the request was for (absolute-form target, else Host header)
    port: int | None
    path: str  # raw path as received: percent-encoded, ``;params`` kept
    query: str
    proxied: bool  # absolute-form request target: the crawler used us as its HTTP proxy
    status: int | None  # None: no status line was ever sent
    outcome: str  # complete, client-gone, reset, hung-up, stalled, no-response, garbage
    body_sent: int  # body bytes written (before chunk framing)
    request_headers: tuple[tuple[str, str], ...]

    @property
    def target(self) -> str:
        return self.path + ("?" + self.query if self.query else "")

    def request_header(self, name: str) -> str | None:
        values = [v for k, v in self.request_headers if k.lower() == name.lower()]
        return values[-1] if values else None


@dataclass
class Request:
    method: str
    host: str
    port: int | None
    path: str
    query: str
    proxied: bool
    headers: tuple[tuple[str, str], ...]
    base: str  # scheme://host[:port] the client asked for, for absolute links in feeds


def is_site_host(host: str) -> bool:
    """Hosts that get the hostile routes; every other host is "foreign" and gets the canary."""
    return host in ("127.0.0.1", "hostile.test") or host.endswith(SITE_SUFFIX)


# --- the reply: raw writes, each fault one call ------------------------------------------------------------


class Reply:
    """Writes one response by hand and remembers what was done, for :class:`Served`."""

    def __init__(self, handler: _Handler, request: Request) -> None:
        self.handler = handler
        self.request = request
        self.status: int | None = None
        self.outcome = "no-response"
        self.body_sent = 0
        self._chunked = False

    # building blocks
    def head(
        self,
        status: int,
        headers: Iterable[tuple[str | bytes, str | bytes]] = (),
        *,
        reason: str | bytes | None = None,
        length: int | None = None,
        chunked: bool = False,
        close: bool = False,
        content_type: str | None = "text/html; charset=utf-8",
    ) -> None:
        """Status line and headers. ``length=None`` and not chunked: the body ends at close."""
        reason_b = _b(reason if reason is not None else _REASONS.get(status, "Whatever"))
        lines = [b"HTTP/1.1 %d %s" % (status, reason_b)]
        fixed: list[tuple[str | bytes, str | bytes]] = [
            ("Date", formatdate(usegmt=True)),
            ("Server", "Hostile/1.0"),
        ]
        if content_type:
            fixed.append(("Content-Type", content_type))
        if chunked:
            fixed.append(("Transfer-Encoding", "chunked"))
        elif length is not None:
            fixed.append(("Content-Length", str(length)))
        if close or (length is None and not chunked):
            fixed.append(("Connection", "close"))
            self.handler.close_connection = True
        lines += [_b(k) + b": " + _b(v) for k, v in [*fixed, *headers]]
        self.status = status
        self._chunked = chunked
        self.outcome = "headers-sent"
        self._send(b"\r\n".join(lines) + b"\r\n\r\n")

    def write(self, data: bytes) -> None:
        if not data:
            return
        self._send(b"%x\r\n%s\r\n" % (len(data), data) if self._chunked else data)
        self.body_sent += len(data)

    def end(self) -> None:
        if self._chunked:
            self._send(b"0\r\n\r\n")
        self.outcome = "complete"

    # whole responses
    def send(
        self,
        status: int,
        body: bytes = b"",
        *,
        content_type: str | None = "text/html; charset=utf-8",
        headers: Iterable[tuple[str | bytes, str | bytes]] = (),
        reason: str | bytes | None = None,
    ) -> None:
        self.head(status, headers, reason=reason, length=len(body), content_type=content_type)
        if self.request.method != "HEAD":
            self.write(body)
        self.end()

    def html(self, text: str, status: int = 200, **kwargs: Any) -> None:
        self.send(status, text.encode("utf-8"), **kwargs)

    def redirect(self, location: str | bytes | None, status: int = 302) -> None:
        headers = [] if location is None else [("Location", location)]
        self.send(status, b"", headers=headers, content_type=None)

    def stream(
        self,
        status: int,
        pieces: Iterable[bytes],
        *,
        length: int | None = None,
        chunked: bool = False,
        content_type: str = "text/html; charset=utf-8",
        headers: Iterable[tuple[str | bytes, str | bytes]] = (),
    ) -> None:
        """A body written piece by piece; stops quietly when the client goes away."""
        self.head(status, headers, length=length, chunked=chunked, content_type=content_type)
        for piece in pieces:
            self.write(piece)
        self.end()

    # faults
    def reset(self) -> None:
        """Abortive close: SO_LINGER 0 makes close() send a TCP RST."""
        sock = self.handler.connection
        with contextlib.suppress(OSError):
            self.handler.wfile.flush()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        self.handler.close_connection = True
        self.outcome = "reset"

    def hang_up(self) -> None:
        """Orderly close (FIN) whatever was or was not sent."""
        sock = self.handler.connection
        with contextlib.suppress(OSError):
            self.handler.wfile.flush()
            sock.shutdown(socket.SHUT_RDWR)
        self.handler.close_connection = True
        self.outcome = "hung-up" if self.status is not None else "no-response"

    def stall(self) -> None:
        """Send nothing more until the client gives up, the server stops or :data:`STALL_LIMIT`."""
        with contextlib.suppress(OSError):
            self.handler.wfile.flush()
        sock = self.handler.connection
        deadline = time.monotonic() + STALL_LIMIT
        stop = self.handler.server.hostile.stopping
        sock.settimeout(0.2)
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                if sock.recv(4096) == b"":
                    break  # the client closed: it gave up
            except TimeoutError:
                continue
            except OSError:
                break
        self.handler.close_connection = True
        self.outcome = "stalled"

    def _send(self, data: bytes) -> None:
        self.handler.wfile.write(data)


def _b(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    404: "Not Found",
    405: "Method Not Allowed",
}


# --- the server --------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Hostile/1.0"
    sys_version = ""
    timeout = SOCKET_TIMEOUT
    disable_nagle_algorithm = True
    server: _HTTPServer

    def parse_request(self) -> bool:
        # Percent-encode raw non-ASCII in the request line, as nginx would (see crawler.demo.server).
        self.raw_requestline = (
            _NON_ASCII.sub(lambda m: b"%%%02X" % m.group()[0], self.raw_requestline.rstrip(b"\r\n")) + b"\r\n"
        )
        return super().parse_request()

    def do_GET(self) -> None:
        self.server.hostile.dispatch(self)

    do_HEAD = do_POST = do_CONNECT = do_PUT = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    hostile: HostileServer

    def process_request(self, request: Any, client_address: Any) -> None:
        """At most :data:`MAX_THREADS` handler threads; past that a connection waits, then is closed."""
        if not self.hostile.slots.acquire(timeout=SOCKET_TIMEOUT):
            self.shutdown_request(request)
            return
        thread = threading.Thread(target=self._serve_one, args=(request, client_address), daemon=True)
        thread.start()

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            self.hostile.slots.release()


@dataclass
class HostileServer:
    """The hostile site on ``127.0.0.1:port`` (0: any free port); also answers as an HTTP proxy."""

    host: str = "127.0.0.1"
    port: int = 0
    served: list[Served] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.stopping = threading.Event()
        self.slots = threading.BoundedSemaphore(MAX_THREADS)
        self._lock = threading.Lock()
        self._serial = 0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> HostileServer:
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.hostile = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str, host: str | None = None) -> str:
        """Absolute URL of ``path`` on this server, or on ``host`` (a name routed through the proxy)."""
        return f"http://{host}{path}" if host else f"{self.base_url}{path}"

    @property
    def proxy_url(self) -> str:
        return self.base_url

    # records
    def next_serial(self) -> int:
        with self._lock:
            self._serial += 1
            return self._serial

    def log(self) -> list[Served]:
        with self._lock:
            return list(self.served)

    def hits(self, path_prefix: str = "/", *, host: str | None = None) -> list[Served]:
        """Requests whose path starts with ``path_prefix`` (on ``host``; default: any site host)."""
        return [
            s
            for s in self.log()
            if s.path.startswith(path_prefix) and (s.host == host if host else is_site_host(s.host))
        ]

    def requests(self, path: str) -> list[Served]:
        """Requests for exactly ``path`` (raw, as received, without the query) on any site host."""
        return [s for s in self.log() if s.path == path and is_site_host(s.host)]

    def foreign(self) -> list[Served]:
        """Requests for hosts outside the hostile site: each one is a request the crawler should not make."""
        return [s for s in self.log() if not is_site_host(s.host)]

    # serving
    def dispatch(self, handler: _Handler) -> None:
        request = self._parse(handler)
        reply = Reply(handler, request)
        try:
            if not is_site_host(request.host):
                reply.send(200, FOREIGN_CANARY, content_type="text/plain")
            elif request.method == "CONNECT":
                reply.send(405, b"", content_type=None)
            else:
                for prefix, fn in ROUTES:
                    if request.path.startswith(prefix):
                        fn(reply, request)
                        break
                else:
                    reply.html(pages.index("Not found", []), 404)
        except OSError:  # broken pipe, reset, timeout: the client went away
            handler.close_connection = True
            reply.outcome = "client-gone"
        with contextlib.suppress(OSError):
            handler.wfile.flush()
        with self._lock:
            self.served.append(
                Served(
                    method=request.method,
                    host=request.host,
                    port=request.port,
                    path=request.path,
                    query=request.query,
                    proxied=request.proxied,
                    status=reply.status,
                    outcome=reply.outcome,
                    body_sent=reply.body_sent,
                    request_headers=request.headers,
                )
            )

    def _parse(self, handler: _Handler) -> Request:
        target = handler.path
        headers = tuple((k, v) for k, v in handler.headers.items())
        proxied = target.startswith(("http://", "https://"))
        if proxied:
            parts = urlsplit(target)
            netloc = parts.netloc
            path, query = parts.path or "/", parts.query
        else:
            netloc = handler.headers.get("Host", f"{self.host}:{self.port}")
            path, _, query = target.partition("?")
        if handler.command == "CONNECT":
            netloc, path, query = target, "", ""
        host, port = _split_host(netloc)
        return Request(
            method=handler.command,
            host=host,
            port=port,
            path=path.split("#", 1)[0],
            query=query.split("#", 1)[0],
            proxied=proxied,
            headers=headers,
            base=f"http://{netloc}",
        )


def _split_host(netloc: str) -> tuple[str, int | None]:
    netloc = netloc.rsplit("@", 1)[-1]
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        host, _, port = netloc.partition(":")
    return host.lower(), int(port) if port.isdigit() else None


def main() -> None:  # pragma: no cover - manual poking
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = HostileServer(port=args.port).start()
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
