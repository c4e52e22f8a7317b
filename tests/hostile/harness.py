"""Harness of the hostile-input suite: real crawls of the misbehaving server, and their archives.

Every crawl is the real ``newsarchive crawl`` command in a subprocess with the hostile server
as its HTTP proxy for every host but 127.0.0.1 (see :mod:`tests.hostile.server`), so even a
request the crawler should never make stays on this machine and shows up in the server's log.
While a crawl runs, the peak resident memory of the crawler and of every process it started
is sampled; the bomb and oversize tests assert a bound and the figures are printed in the
terminal summary.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import psutil
from warcio.archiveiterator import ArchiveIterator

from tests.hostile.server import HostileServer

REPO = Path(__file__).resolve().parents[2]
FAST = [
    "--no-autothrottle",
    "--delay",
    "0",
    "--per-host",
    "8",
    "--concurrency",
    "16",
    "--text-workers",
    "1",
    "--no-progress",
    "--quiet",
]
MIB = 1024 * 1024
#: A crawl's peak memory, the crawler and its worker processes together, must stay below this.
MEMORY_BOUND = 400 * MIB
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
MEMORY_REPORT: list[str] = []


# --- sources files -----------------------------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"


def site_toml(name: str, **fields: Any) -> str:
    """One ``[[sites]]`` table; ``article_urls`` defaults to "every page is an article"."""
    fields.setdefault("article_urls", ["/"])
    lines = ["[[sites]]", f"name = {_toml_value(name)}"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in fields.items() if value is not None]
    return "\n".join(lines) + "\n\n"


def write_sources(path: Path, *sites: str) -> Path:
    path.write_text("".join(sites), encoding="utf-8")
    return path


# --- running a crawl ---------------------------------------------------------------------------------------


def crawl_env(server: HostileServer | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a test crawl: the hostile server as proxy for everything but 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    if server is not None:
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            env[name] = server.proxy_url
        env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1"
    env.update(extra or {})
    return env


@dataclass
class CrawlRun:
    """One finished ``newsarchive crawl``: exit code, output, archive and peak memory."""

    code: int
    stdout: str
    stderr: str
    archive: Path
    peak_rss_main: int  # bytes: the crawler process (getrusage of the reaped child, exact)
    peak_rss_tree: int  # bytes: sum of every process's own peak (crawler + forkserver + text workers)
    processes: int  # how many processes were seen
    seconds: float
    extras: dict[str, Any] = field(default_factory=dict)  # whatever a test fixture attaches

    @cached_property
    def summary(self) -> dict[str, Any]:
        runs = sorted((self.archive / "runs").glob("*.json"))
        assert runs, f"no run summary in {self.archive}/runs; stderr:\n{self.stderr}"
        return json.loads(runs[-1].read_text(encoding="utf-8"))

    def site(self, name: str) -> dict[str, Any]:
        return self.summary["sites"][name]

    @cached_property
    def log(self) -> str:
        return "".join(p.read_text("utf-8", "replace") for p in sorted((self.archive / "runs").glob("*.log")))

    @cached_property
    def records(self) -> list[Rec]:
        return read_records(self.archive)

    def responses(self, path: str) -> list[Rec]:
        """Response records whose target URI's path (with query) ends with ``path``."""
        return [r for r in self.records if r.type == "response" and r.target_path == path]

    def response(self, path: str) -> Rec:
        found = self.responses(path)
        assert len(found) == 1, f"{len(found)} response records for {path}: {[r.uri for r in found]}"
        return found[0]

    def metadata_for(self, rec: Rec) -> dict[str, list[str]]:
        """The crawl metadata record(s) of a capture, merged: name -> values."""
        out: dict[str, list[str]] = {}
        for r in self.records:
            if r.type == "metadata" and r.headers.get("WARC-Concurrent-To") == rec.record_id:
                for k, v in r.fields:
                    out.setdefault(k, []).append(v)
        return out

    def conversion_for(self, rec: Rec) -> Rec | None:
        found = [
            r
            for r in self.records
            if r.type == "conversion" and r.headers.get("WARC-Refers-To") == rec.record_id
        ]
        assert len(found) <= 1
        return found[0] if found else None

    def target_uris(self) -> set[str]:
        return {r.uri for r in self.records if r.uri}

    def memory_line(self, label: str) -> str:
        return (
            f"{label}: crawler peak RSS {self.peak_rss_main / MIB:.0f} MiB; all {self.processes} processes "
            f"{self.peak_rss_tree / MIB:.0f} MiB (sum of each one's peak); {self.seconds:.1f} s"
        )


def run_crawl(
    sources: Path,
    archive: Path,
    *args: str,
    server: HostileServer | None,
    env: dict[str, str] | None = None,
    timeout: float = 150,
    fast: bool = True,
) -> CrawlRun:
    """Run ``newsarchive crawl`` to the end, sampling the memory of its process tree meanwhile."""
    command = [sys.executable, "-m", "crawler.cli", "crawl", str(sources), "--archive", str(archive)]
    command += [*(FAST if fast else []), *args]
    started = time.monotonic()
    # Output goes to files outside the archive's file system (a test may fill that one up).
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            command, cwd=REPO, env=crawl_env(server, env), stdout=out, stderr=err, start_new_session=True
        )
        peaks: dict[int, int] = {}
        timed_out = threading.Event()
        killer = threading.Timer(timeout, _kill_group, args=(proc.pid, timed_out))
        done = threading.Event()
        sampler = threading.Thread(target=_sample, args=(proc.pid, peaks, done), daemon=True)
        killer.start()
        sampler.start()
        try:
            _, status, _rusage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
            done.set()
            sampler.join()
        if timed_out.is_set():
            err.seek(0)
            raise AssertionError(
                f"crawl did not finish in {timeout:.0f} s; stderr:\n{err.read().decode('utf-8', 'replace')}"
            )
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    # Not wait4's ru_maxrss: Linux carries the pre-exec high-water mark over exec, so a child of
    # this test process would report at least pytest's own peak RSS. VmHWM is the crawler's own.
    main_peak = peaks.get(proc.pid, 0)
    assert main_peak, "the crawler exited before its memory could be sampled"
    return CrawlRun(
        code=proc.returncode,
        stdout=stdout,
        stderr=stderr,
        archive=archive,
        peak_rss_main=main_peak,
        peak_rss_tree=sum(peaks.values()),
        processes=len(peaks),
        seconds=time.monotonic() - started,
    )


def _kill_group(pid: int, timed_out: threading.Event) -> None:
    """The crawl overran its time limit: kill its process group (it runs in its own session)."""
    timed_out.set()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _sample(pid: int, peaks: dict[int, int], done: threading.Event) -> None:
    """Record the VmHWM (peak RSS) of the crawler and every descendant until the crawler is reaped.

    VmHWM is a high-water mark kept by the kernel (for the process's own memory since exec), so
    sampling every 50 ms misses no peak of a process alive at the next sample.
    """
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return
    while not done.wait(0.05):
        try:
            family = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for p in family:
            peak = _vm_hwm(p.pid)
            if peak:
                peaks[p.pid] = max(peaks.get(p.pid, 0), peak)


def _vm_hwm(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def report_memory(line: str) -> None:
    MEMORY_REPORT.append(line)
    print(line)


# --- reading the archive -----------------------------------------------------------------------------------


@dataclass
class Rec:
    """One WARC record as warcio reads it (payloads kept whole only when small)."""

    file: str
    type: str
    headers: dict[str, str]
    uri: str
    http_status: int | None
    http_headers: list[tuple[str, str]]
    payload_length: int  # bytes after the HTTP head, as stored (not content-decoded)
    payload_sha1: str  # WARC digest form of those bytes
    payload: bytes  # the first 256 KiB of them
    fields: list[tuple[str, str]] = field(default_factory=list)  # metadata records: warc-fields

    @property
    def record_id(self) -> str:
        return self.headers.get("WARC-Record-ID", "")

    @property
    def target_path(self) -> str:
        rest = self.uri.split("://", 1)[-1]
        return "/" + rest.split("/", 1)[1] if "/" in rest else "/"

    def http_header(self, name: str) -> str | None:
        values = [v for k, v in self.http_headers if k.lower() == name.lower()]
        return values[-1] if values else None

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8")


def read_records(archive: Path, files: Iterable[Path] | None = None) -> list[Rec]:
    import base64
    import hashlib

    out: list[Rec] = []
    for path in warc_files(archive) if files is None else files:
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                headers = dict(record.rec_headers.headers)
                status = None
                http_headers: list[tuple[str, str]] = []
                if record.http_headers is not None:
                    http_headers = list(record.http_headers.headers)
                    code = record.http_headers.get_statuscode()
                    status = int(code) if code and code.isdigit() else None
                digest = hashlib.sha1()
                head = bytearray()
                length = 0
                stream = record.raw_stream
                while chunk := stream.read(1 << 20):
                    digest.update(chunk)
                    length += len(chunk)
                    if len(head) < 256 * 1024:
                        head += chunk[: 256 * 1024 - len(head)]
                fields: list[tuple[str, str]] = []
                if record.rec_type in ("metadata", "warcinfo"):
                    for line in bytes(head).decode("utf-8", "replace").splitlines():
                        name, sep, value = line.partition(":")
                        if sep:
                            fields.append((name.strip(), value.strip()))
                out.append(
                    Rec(
                        file=path.name,
                        type=record.rec_type,
                        headers=headers,
                        uri=headers.get("WARC-Target-URI", ""),
                        http_status=status,
                        http_headers=http_headers,
                        payload_length=length,
                        payload_sha1="sha1:" + base64.b32encode(digest.digest()).decode(),
                        payload=bytes(head),
                        fields=fields,
                    )
                )
    return out


def warc_files(archive: Path, *, include_open: bool = False) -> list[Path]:
    pattern = "*.warc.gz*" if include_open else "*.warc.gz"
    return sorted(archive.glob(f"warc/{pattern}")) + sorted(archive.glob(f"text/{pattern}"))


def warcio_check(archive: Path, files: Iterable[Path] | None = None) -> list[Path]:
    """``warcio check`` every closed WARC file of the archive (at least one must exist), and more.

    ``warcio check`` alone passes a file whose *last* gzip member is torn after its WARC header
    (it reports "digest present but not checked" and exits 0), so two stricter checks are added:
    every gzip member must be complete, and every digest present must have been checked.
    """
    return start_warcio_check(archive, files)()


def start_warcio_check(archive: Path, files: Iterable[Path] | None = None) -> Callable[[], list[Path]]:
    """:func:`warcio_check` in the background: returns the function that waits for it and asserts.

    ``warcio check`` decodes every payload (a 1 GiB bomb takes seconds); started early, it runs
    while the next crawl does.
    """
    checked = list(files) if files is not None else warc_files(archive)
    assert checked, f"no WARC files in {archive}"
    warcio = Path(sys.executable).with_name("warcio")
    proc = subprocess.Popen(
        [str(warcio), "check", "-v", *map(str, checked)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def wait() -> list[Path]:
        out, err = proc.communicate(timeout=300)
        names = ", ".join(p.name for p in checked)
        assert proc.returncode == 0, f"warcio check {names}:\n{out[-3000:]}{err[-3000:]}"
        unchecked = [line for line in out.splitlines() if line.strip() == "digest present but not checked"]
        assert not unchecked, f"warcio check: a record it could not read to its end in {names}"
        for path in checked:
            torn = torn_member(path)
            assert torn is None, f"{path.name}: gzip member at offset {torn} is incomplete (torn write)"
        return checked

    return wait


def torn_member(path: Path) -> int | None:
    """Offset of the first gzip member that does not decompress to its end, or None."""
    data = memoryview(path.read_bytes())
    pos = 0
    while pos < len(data):
        member = zlib.decompressobj(31)
        try:
            member.decompress(data[pos:])
        except zlib.error:
            return pos
        if not member.eof:
            return pos
        pos = len(data) - len(member.unused_data)
    return None


def all_warc_bytes(archive: Path) -> bytes:
    """Every WARC file (``.open`` ones too), decompressed and concatenated, up to any torn member."""
    out = bytearray()
    for path in warc_files(archive, include_open=True):
        data = path.read_bytes()
        while data:
            member = zlib.decompressobj(31)
            try:
                out += member.decompress(data)
            except zlib.error:
                break
            data = member.unused_data if member.eof else b""
    return bytes(out)


def sha1_b32(data: bytes) -> str:
    import base64
    import hashlib

    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()
