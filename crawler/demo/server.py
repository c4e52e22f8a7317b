"""Loopback HTTP/1.1 server for the demo news site (stdlib only, no Scrapy).

It answers like a real news server in the ways that matter to an archiving crawler: strong ETags
and Last-Modified with ``304 Not Modified``, gzip with Content-Length for Urdu and Hindi pages,
chunked transfer for Vietnamese (identity) and English (gzip) pages, two ``Set-Cookie`` headers
on the home page, a ``301`` whose ``Location`` is raw UTF-8, robots.txt, feeds and sitemaps, and
keep-alive. Status line and headers are written by hand (not with ``send_header``) because the
raw UTF-8 ``Location`` cannot pass through ``http.server``'s latin-1 header encoding, and so that
:attr:`DemoServer.sent` records exactly what went on the wire.

Run it alone with ``python -m crawler.demo.server [--host H] [--port P] [--revision N]``; the
first line on stdout is the base URL, and it serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import socket
import socketserver
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote_to_bytes, urlsplit

from crawler.demo.site import DemoSite, Resource, build_site
from crawler.demo.templates import http_date

if TYPE_CHECKING:
    from types import TracebackType

DEFAULT_PORT = 18765
_NON_ASCII = re.compile(rb"[\x80-\xff]")
CHUNKS = 4  # chunked bodies are split into this many pieces, so clients meet several chunks
IDLE_TIMEOUT = 120.0  # seconds an idle keep-alive connection is kept open


@dataclass(frozen=True)
class SentResponse:
    """One response as written to the socket (recorded just before the bytes are written)."""

    method: str
    path: str  # request-target path as received (percent-encoded as the client sent it)
    query: str
    status: int
    headers: tuple[tuple[str, str], ...]  # in wire order, duplicates kept
    body: bytes  # entity body after content-coding, before chunk framing (b"" for HEAD and 304)
    chunked: bool
    request_headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """Last value of a response header (case-insensitive), or None."""
        values = self.header_values(name)
        return values[-1] if values else None

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def request_header(self, name: str) -> str | None:
        values = [v for k, v in self.request_headers if k.lower() == name.lower()]
        return values[-1] if values else None


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding value allows gzip (RFC 9110 §12.5.3, q=0 means "not")."""
    if not accept_encoding:
        return False
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, *params = (p.strip() for p in part.split(";"))
        if not name:
            continue
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[name.lower()] = weight
    for coding in ("gzip", "x-gzip"):
        if coding in weights:
            return weights[coding] > 0
    return weights.get("*", 0.0) > 0


def _chunks(body: bytes, count: int = CHUNKS) -> list[bytes]:
    size = max(1, -(-len(body) // count))
    return [body[i : i + size] for i in range(0, len(body), size)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DemoNews/1.0"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    # Headers and each chunk are separate writes; with Nagle's algorithm on, the client's
    # delayed ACK would stall every response by ~40 ms.
    disable_nagle_algorithm = True
    server: _HTTPServer
    raw_requestline: bytes  # set by BaseHTTPRequestHandler; typeshed does not declare it

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def version_string(self) -> str:
        return self.server_version

    def parse_request(self) -> bool:
        # Some clients send raw UTF-8 in the request-target (e.g. after a raw UTF-8 Location).
        # http.server decodes the line as latin-1 and splits it on Unicode whitespace, which
        # includes bytes like 0x85 and 0xA0; percent-encode non-ASCII bytes first, as nginx would.
        self.raw_requestline = (
            _NON_ASCII.sub(lambda m: b"%%%02X" % m.group()[0], self.raw_requestline.rstrip(b"\r\n")) + b"\r\n"
        )
        return super().parse_request()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.demo.verbose:
            super().log_message(format, *args)

    def _target(self) -> tuple[str, str, str]:
        """(raw path, query, decoded path). http.server decoded the request line as latin-1."""
        target = self.path
        if target.startswith(("http://", "https://")):  # absolute-form request target
            parts = urlsplit(target)
            target = parts.path + ("?" + parts.query if parts.query else "")
        raw_path, _, query = target.partition("?")
        raw_path = raw_path.split("#", 1)[0] or "/"
        query = query.split("#", 1)[0]
        decoded = unquote_to_bytes(raw_path.encode("latin-1")).decode("utf-8", "replace")
        return raw_path, query, decoded

    def _not_modified(self, resource: Resource) -> bool:
        """Conditional GET (RFC 9110 §13.1.2, §13.1.3): If-None-Match wins over If-Modified-Since."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
            # Weak comparison, as the RFC asks for If-None-Match; either content-coding's tag
            # names the same content, so both validate.
            return "*" in tags or bool(tags & {resource.etag(False), resource.etag(True)})
        since_text = self.headers.get("If-Modified-Since")
        if since_text and resource.last_modified is not None:
            try:
                since = parsedate_to_datetime(since_text)
            except (TypeError, ValueError, IndexError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return resource.last_modified.replace(microsecond=0) <= since
        return False

    def _respond(self, *, head: bool) -> None:
        demo = self.server.demo
        raw_path, query, path = self._target()
        resource = demo.site().lookup(path)
        delivery = resource.delivery
        gzipped = delivery.gzip and accepts_gzip(self.headers.get("Accept-Encoding"))
        http11 = self.request_version == "HTTP/1.1"
        chunked = delivery.chunked and http11
        status = resource.status
        body = (resource.gzip_body or b"") if gzipped else resource.body

        headers = [("Date", self.date_time_string()), ("Server", self.version_string())]
        validators: list[tuple[str, str]] = []
        if status == HTTPStatus.OK:
            validators.append(("ETag", resource.etag(gzipped)))
            if resource.last_modified is not None:
                validators.append(("Last-Modified", http_date(resource.last_modified)))
        vary = [("Vary", "Accept-Encoding")] if delivery.gzip else []

        if status == HTTPStatus.OK and self._not_modified(resource):
            status = HTTPStatus.NOT_MODIFIED
            headers += validators + vary
            body, chunked, head = b"", False, True
        else:
            headers.append(("Content-Type", resource.content_type))
            if chunked:
                headers.append(("Transfer-Encoding", "chunked"))
            else:
                headers.append(("Content-Length", str(len(body))))
            if gzipped:
                headers.append(("Content-Encoding", "gzip"))
            headers += vary + validators + list(resource.headers)
        if not http11 or self.close_connection:
            self.close_connection = True
            headers.append(("Connection", "close"))
        if head:
            body = b""

        demo._record(
            SentResponse(
                method=self.command,
                path=raw_path,
                query=query,
                status=int(status),
                headers=tuple(headers),
                body=body,
                chunked=chunked and not head,
                request_headers=tuple(self.headers.items()),
            )
        )
        self._write(int(status), headers, body, chunked=chunked and not head)
        if demo.verbose:
            self.log_request(int(status), len(body))

    def _write(self, status: int, headers: list[tuple[str, str]], body: bytes, *, chunked: bool) -> None:
        phrase = HTTPStatus(status).phrase
        lines = [f"HTTP/1.1 {status} {phrase}"] + [f"{name}: {value}" for name, value in headers]
        # UTF-8, not latin-1: the one non-ASCII header value (Location) must go out as raw UTF-8.
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        if chunked:
            for piece in _chunks(body):
                self.wfile.write(b"%x\r\n%b\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif body:
            self.wfile.write(body)
        self.wfile.flush()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], demo: DemoServer) -> None:
        self.demo = demo
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup: not on loopback.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up (reset, broken pipe, idle timeout) is normal for a web server and
        # must not print a traceback per request; anything else is a bug in the demo and shows.
        if self.demo.verbose or not isinstance(sys.exception(), ConnectionError | TimeoutError):
            super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Drop idle keep-alive connections, so a stopped server really stops answering."""
        with self._connections_lock:
            open_now = list(self._connections)
        for conn in open_now:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class DemoServer:
    """The demo site on a loopback port, served from a daemon thread.

    ``port=0`` picks a free port (read :attr:`port` after :meth:`start`). The default port is
    fixed so that repeated ``newsarchive demo`` crawls see the same URLs. :attr:`revision` may be
    changed while running; the next request sees the next news cycle. :attr:`sent` logs every
    response in order.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        revision: int = 0,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.revision = revision
        self.verbose = verbose
        self.sent: list[SentResponse] = []
        self._sent_lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def revision(self) -> int:
        return self._revision

    @revision.setter
    def revision(self, value: int) -> None:
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"revision must be an int >= 0, got {value!r}")
        self._revision = value

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        """Absolute URL for a site path; a Unicode path is percent-encoded as UTF-8."""
        return self.base_url + quote(path, safe="/?&=#%:;,+-._~")

    def site(self) -> DemoSite:
        return build_site(self.base_url, self._revision)

    def start(self) -> None:
        """Bind, listen and serve in a daemon thread; returns once the socket is listening."""
        if self._httpd is not None:
            raise RuntimeError("DemoServer already started")
        httpd = _HTTPServer((self.host, self.port), self)
        self._httpd = httpd
        self.port = int(httpd.server_address[1])
        self.site()  # build pages now, so the first request is not the slow one
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"demo-server-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if thread is not None:
            thread.join()
        self._httpd = self._thread = None

    def _record(self, sent: SentResponse) -> None:
        with self._sent_lock:
            self.sent.append(sent)

    def __enter__(self) -> DemoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.demo.server",
        description="Serve the bundled demo news site on a loopback port.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--revision", type=int, default=0, help="news cycle to serve (0, 1, ...)")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)
    if args.revision < 0:
        parser.error("--revision must be >= 0")

    server = DemoServer(args.host, args.port, revision=args.revision, verbose=args.verbose)
    try:
        server.start()
    except OSError as exc:
        print(f"demo server: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    stopping: list[int] = []
    # The handler only appends: taking a lock (Event.set) inside a signal handler can deadlock.
    previous = {
        sig: signal.signal(sig, lambda signum, _frame: stopping.append(signum))
        for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        print(server.base_url, flush=True)  # after the handlers: a prompt SIGTERM is handled
        while not stopping:
            time.sleep(0.1)
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
