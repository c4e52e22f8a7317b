"""The static server for the benchmark site: nginx with ``gzip_static`` on 127.0.0.1, or a Python fallback.

News sites send compressed HTML, so the pages are pre-gzipped on disk and nginx serves the
``.gz`` file as is (no compression CPU during the crawl). One nginx worker is enough: it
serves >10,000 such pages per second on one core (:func:`capacity` measures it with ``wrk``),
far above what a crawler asks for; its CPU during each crawl is reported too, to show it is
not the bottleneck. ``/c{k}/...`` paths are rewritten to the same files, so a 100,000-page
run has distinct URLs over a few thousand files.

Every request is logged (unbuffered, one ``write`` each) with its completion time
(``$msec``): the crawl windows and the throughput-over-time curves are read from that log, the
same way for bare Scrapy and the full pipeline.

The fallback (:class:`PythonServer`, a threaded ``http.server``) only exists so the benchmark
still runs where nginx cannot be installed; it is slow and shares the GIL-free cores with the
crawler, so its figures carry a warning.
"""

from __future__ import annotations

import contextlib
import getpass
import http.server
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

_NGINX_CONF = """\
{user}
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    types {{ text/html html; application/xml xml; text/plain txt; image/webp webp; }}
    default_type text/html;
    charset utf-8;
    charset_types text/html application/xml text/plain;
    log_format bench '$msec $status $body_bytes_sent "$uri"';
    access_log {run}/access.log bench;
    client_body_temp_path {run}/tmp;
    proxy_temp_path {run}/tmp;
    fastcgi_temp_path {run}/tmp;
    uwsgi_temp_path {run}/tmp;
    scgi_temp_path {run}/tmp;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 60;
    keepalive_requests 1000000;
    open_file_cache max=20000 inactive=120s;
    open_file_cache_valid 120s;
    gzip off;
    gzip_static on;
    gzip_vary on;
    server {{
        listen 127.0.0.1:{port} reuseport;
        server_name localhost;
        root {root};
        location ~ ^/c[0-9]+/ {{
            rewrite ^/c[0-9]+(/.*)$ $1 break;
        }}
        location = /nginx_status {{
            stub_status;
            access_log off;
        }}
    }}
}}
"""


@dataclass(slots=True)
class LogLine:
    t: float  # completion time, seconds since the epoch
    status: int
    nbytes: int
    path: str


class StaticServer:
    """Common interface of the two servers."""

    kind = "?"
    base_url = ""
    log_path: Path

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def pids(self) -> list[int]:
        raise NotImplementedError

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def read_log(self, start: int, end: int | None = None) -> list[LogLine]:
        with self.log_path.open("rb") as f:
            f.seek(start)
            data = f.read() if end is None else f.read(end - start)
        out = []
        for raw in data.decode("utf-8", "replace").splitlines():
            parts = raw.split(" ", 3)
            if len(parts) == 4:
                with contextlib.suppress(ValueError):
                    out.append(LogLine(float(parts[0]), int(parts[1]), int(parts[2]), parts[3].strip('"')))
        return out


class NginxServer(StaticServer):
    kind = "nginx"

    def __init__(self, root: Path, run_dir: Path, port: int) -> None:
        self.root = root.resolve()
        self.run_dir = run_dir.resolve()
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = self.run_dir / "access.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        (self.run_dir / "tmp").mkdir(parents=True, exist_ok=True)
        self.log_path.unlink(missing_ok=True)
        user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
        conf = self.run_dir / "nginx.conf"
        conf.write_text(
            _NGINX_CONF.format(user=user, run=self.run_dir, port=self.port, root=self.root), encoding="utf-8"
        )
        self.process = subprocess.Popen(
            ["nginx", "-p", str(self.run_dir), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _wait_ready(self.base_url + "/robots.txt", self.process)

    def pids(self) -> list[int]:
        import psutil

        if self.process is None:
            return []
        try:
            master = psutil.Process(self.process.pid)
            return [master.pid, *(c.pid for c in master.children(recursive=True))]
        except psutil.Error:
            return []

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish writing the log
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class PythonServer(StaticServer):
    """Threaded http.server with the same behaviour (gzip_static, /c{k}/ rewrite, access log)."""

    kind = "python (fallback)"

    def __init__(self, root: Path, run_dir: Path, port: int) -> None:
        self.root = root.resolve()
        self.run_dir = run_dir
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = run_dir / "access.log"
        self.httpd: http.server.ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.unlink(missing_ok=True)
        log = self.log_path.open("a", encoding="utf-8", buffering=1)
        root = self.root
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = unquote(urlsplit(self.path).path)
                if path.startswith("/c") and path[2:3].isdigit():
                    path = "/" + path.split("/", 2)[2]
                file = (root / path.lstrip("/")).resolve()
                if not str(file).startswith(str(root)) or not file.is_file():
                    body, status, ctype, enc = b"not found", 404, "text/plain; charset=utf-8", None
                else:
                    ctype = (
                        "application/xml; charset=utf-8"
                        if file.suffix == ".xml"
                        else "text/plain; charset=utf-8"
                        if file.suffix == ".txt"
                        else "text/html; charset=utf-8"
                    )
                    gz = file.with_name(file.name + ".gz")
                    if "gzip" in self.headers.get("Accept-Encoding", "") and gz.is_file():
                        body, status, enc = gz.read_bytes(), 200, "gzip"
                    else:
                        body, status, enc = file.read_bytes(), 200, None
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if enc:
                    self.send_header("Content-Encoding", enc)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with lock:
                    log.write(f'{time.time():.3f} {status} {len(body)} "{path}"\n')

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        _wait_ready(self.base_url + "/robots.txt", None)

    def pids(self) -> list[int]:
        return [os.getpid()]  # it runs in the benchmark's own process

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


def make_server(root: Path, run_dir: Path, port: int | None = None) -> StaticServer:
    port = port or free_port()
    if shutil.which("nginx"):
        return NginxServer(root, run_dir, port)
    return PythonServer(root, run_dir, port)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes] | None, timeout: float = 15.0) -> None:
    """Poll until the server answers (its readiness signal is a served request)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"server exited: {err.strip()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                resp.read()
                return
        except OSError as exc:
            last = exc
            time.sleep(0.05)
    raise RuntimeError(f"server not ready at {url}: {last}")


def capacity(server: StaticServer, urls: list[str], out_dir: Path, seconds: float) -> dict[str, object]:
    """Requests/s the server sustains for these pages with gzip, measured with wrk (lower bound:
    wrk and the server share the machine's cores)."""
    if not shutil.which("wrk"):
        return {"tool": None, "note": "wrk not installed: capacity not measured"}
    paths = [urlsplit(u).path for u in urls]
    script = out_dir / "wrk_urls.lua"
    body = ",\n".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    script.write_text(
        "local paths = {\n" + body + "\n}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i], {["Accept-Encoding"] = "gzip"})\nend\n',
        encoding="utf-8",
    )
    cmd = ["wrk", "-t1", "-c64", f"-d{max(1, round(seconds))}s", "-s", str(script), server.base_url + "/"]
    start = server.log_size()
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    result: dict[str, object] = {"tool": "wrk -t1 -c64 (Accept-Encoding: gzip)", "raw": res.stdout.strip()}
    for line in res.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            result["requests_per_s"] = float(line.split()[1])
        if line.startswith("Transfer/sec:"):
            result["transfer_per_s"] = line.split()[1]
    result["log_bytes"] = server.log_size() - start
    return result
