"""Fixtures for distributed mode: a real redis-server, a demo site that can hold responses, workers.

The Redis server is started once per session on a free loopback port, with a password (so
every test also exercises authentication), no persistence, and torn down at the end. Tests
that need it are skipped with a clear reason only when ``redis-server`` is not installed.
Workers are the real console script in subprocesses; the Redis URL reaches them through
``NEWSARCHIVE_REDIS_URL``, never the command line.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis

from crawler.demo.server import DemoServer
from crawler.demo.site import DemoSite
from crawler.demo.sources import demo_sources_toml
from crawler.distributed.settings import crawl_name
from crawler.distributed.store import CycleStore
from crawler.sources import load_sources

REDIS_PASSWORD = "pw-Zq8-never-in-logs"  # grep-able: the tests look for it everywhere
REPO = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("newsarchive")
NEWSARCHIVE = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "crawler.cli"]
# Short leases so a killed worker's requests come back within seconds (long enough that a loaded
# machine's pauses do not make a live worker look dead).
FAST = [
    "--no-autothrottle",
    "--delay",
    "0",
    "--text-workers",
    "1",
    "--no-progress",
    "--set",
    "NEWSARCHIVE_DIST_LEASE=3",
    "--set",
    "NEWSARCHIVE_DIST_HEARTBEAT=0.2",
]


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll an observable condition (Redis state, a server counter) with a bound."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class RedisServer:
    port: int
    password: str
    process: subprocess.Popen[str]

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(*, tls: tuple[Path, Path] | None = None, password: str = REDIS_PASSWORD) -> RedisServer:
    """Start redis-server in the foreground; return once it logs that it accepts connections.

    ``tls=(cert, key)``: TLS only (plain TCP off), clients not asked for certificates.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    for _attempt in range(5):
        port = _free_port()
        args = [binary, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--logfile", ""]
        args += ["--requirepass", password, "--daemonize", "no"]
        if tls is None:
            args += ["--port", str(port)]
        else:
            cert, key = tls
            args += ["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(cert)]
            args += ["--tls-key-file", str(key), "--tls-auth-clients", "no"]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: queue.Queue[str | None] = queue.Queue()

        def pump(stream: Any = proc.stdout, out: queue.Queue[str | None] = lines) -> None:
            for line in stream:
                out.put(line)
            out.put(None)

        threading.Thread(target=pump, daemon=True).start()
        seen: list[str] = []
        deadline = time.monotonic() + 20
        while True:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                break
            seen.append(line)
            if "Ready to accept connections" in line:
                return RedisServer(port, password, proc)
        proc.kill()
        proc.wait()
        if not any("Address already in use" in s for s in seen):
            raise RuntimeError("redis-server did not start:\n" + "".join(seen[-20:]))
    raise RuntimeError("no free port for redis-server")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    try:
        yield server
    finally:
        server.process.terminate()
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


_prefixes = iter(range(1, 1_000_000))


def unique_prefix(label: str) -> str:
    """Key prefix of one test: tests share the server, never keys (not even politeness)."""
    return f"t{next(_prefixes)}-{label}"


class GatedDemoServer(DemoServer):
    """The demo site, plus what the tests need to observe and steer workers.

    ``hold(after=n)`` lets n more requests through and makes the following ones wait at the
    server until ``release()``: a worker then provably has requests in flight. ``latency``
    stands for the time a real server takes. ``max_active`` is the most requests the server
    was processing at once (politeness across workers).
    """

    def __init__(self, *args: Any, latency: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.latency = latency
        self._cond = threading.Condition()
        self._gate = threading.Event()
        self._gate.set()
        self._hold_from: int | None = None
        self._serving = False
        self.requests = 0
        self.held = 0
        self.active = 0
        self.max_active = 0

    def start(self) -> None:
        super().start()
        self._serving = True

    def site(self) -> DemoSite:
        if not self._serving:
            return super().site()
        with self._cond:
            self.requests += 1
            hold = self._hold_from is not None and self.requests > self._hold_from
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            if hold:
                self.held += 1
                self._cond.notify_all()
        try:
            if hold:
                self._gate.wait(120)
            if self.latency:
                time.sleep(self.latency)  # the server's work time, not synchronisation
            return super().site()
        finally:
            with self._cond:
                self.active -= 1
                if hold:
                    self.held -= 1

    def hold(self, after: int = 0) -> None:
        with self._cond:
            self._gate.clear()
            self._hold_from = self.requests + after

    def release(self) -> None:
        with self._cond:
            self._hold_from = None
            self._gate.set()

    def wait_held(self, count: int = 1, timeout: float = 60) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self.held >= count, timeout), "no request reached the gate"


@pytest.fixture
def demo() -> Iterator[GatedDemoServer]:
    server = GatedDemoServer("127.0.0.1", 0)
    server.start()
    try:
        yield server
    finally:
        server.release()
        server.stop()


def write_sources(server: DemoServer, path: Path) -> Path:
    path.write_text(demo_sources_toml(server.base_url), encoding="utf-8")
    return path


@dataclass
class Worker:
    """One ``newsarchive crawl --redis`` process (its own process group, like a machine)."""

    name: str
    archive: Path
    process: subprocess.Popen[bytes]
    out: Path
    err: Path
    code: int | None = None
    killed: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self, timeout: float = 90) -> int:
        try:
            self.code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"worker {self.name} did not finish in {timeout}s:\n{self.log()[-3000:]}"
            ) from None
        return self.code

    def kill(self) -> None:
        """kill -9 of the worker and its text processes, as when a machine dies."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.killed = True

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def summary(self) -> dict[str, Any]:
        paths = sorted((self.archive / "runs").glob("*.json"))
        assert paths, f"worker {self.name} wrote no run summary:\n{self.stderr()}"
        return json.loads(paths[-1].read_text(encoding="utf-8"))

    def log(self) -> str:
        return "\n".join(
            p.read_text(encoding="utf-8", errors="replace")
            for p in sorted((self.archive / "runs").glob("*.log"))
        )


@dataclass
class Cluster:
    """Starts workers against one Redis URL; kills whatever is left at the end of a test."""

    redis_url: str
    tmp: Path
    prefix: str
    extra_env: dict[str, str] = field(default_factory=dict)
    workers: list[Worker] = field(default_factory=list)

    def start(self, name: str, sources: Path, *args: str, archive: Path | None = None) -> Worker:
        archive = archive or self.tmp / f"archive-{name}"
        out = self.tmp / f"{name}-{len(self.workers)}.out"
        err = self.tmp / f"{name}-{len(self.workers)}.err"
        env = {**os.environ, "NEWSARCHIVE_REDIS_URL": self.redis_url, **self.extra_env}
        with out.open("wb") as o, err.open("wb") as e:
            process = subprocess.Popen(
                [
                    *NEWSARCHIVE,
                    "crawl",
                    str(sources),
                    "--archive",
                    str(archive),
                    *FAST,
                    "--set",
                    f"NEWSARCHIVE_DIST_PREFIX={self.prefix}",
                    *args,
                ],
                stdout=o,
                stderr=e,
                env=env,
                cwd=REPO,
                start_new_session=True,
            )
        worker = Worker(name, archive, process, out, err)
        self.workers.append(worker)
        return worker

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.kill()


@pytest.fixture
def cluster(redis_server: RedisServer, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    c = Cluster(redis_server.url, tmp_path, unique_prefix(request.node.name[:20]))
    try:
        yield c
    finally:
        c.stop_all()


def cycle_store(server: RedisServer, sources: Path, prefix: str = "newsarchive") -> CycleStore:
    """The cycle store the workers of ``sources`` use (same crawl name as theirs)."""
    return CycleStore(server.client(), prefix, crawl_name(load_sources(sources)))


def worker_id(store: CycleStore, cycle_id: str, pid: int) -> str | None:
    return next((w for w in store.workers(cycle_id) if f"-{pid}-" in w), None)
