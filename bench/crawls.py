"""The two crawls of a benchmark run, each in its own monitored process, and what they fetched.

* bare: :mod:`bench.bare_spider` (Scrapy defaults, a callback that does nothing);
* full: the real command line, ``python -m crawler.cli crawl SOURCES --archive DIR`` with the
  benchmark site's politeness lifted (``--delay 0 --no-autothrottle``, same concurrency as bare).

Both get the same sitemap index. The crawl window and the page count are read from the static
server's log: first to last article page served (for the full pipeline the window ends when the
last WARC record is written, since text extraction finishes after the last fetch).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.monitor import RunRecord, run_monitored
from bench.server import LogLine, StaticServer

REPO = Path(__file__).resolve().parent.parent
PATCH_DIR = Path(__file__).resolve().parent / "patches"

SOURCES = """\
# Written by the benchmark: the local benchmark site, discovered through its sitemap index.
[[sites]]
name = "bench-news"
sitemaps = ["{sitemap}"]
allowed_domains = ["127.0.0.1"]
article_urls = ['/(ur|hi|vi|en)/news/\\d+']
max_depth = 0          # follow no menu/footer links: both crawls fetch exactly the sitemap's pages
max_pages = {max_pages}
"""


@dataclass(slots=True)
class CrawlResult:
    name: str
    record: RunRecord
    log: list[LogLine]
    window_start: float
    window_end: float
    pages: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def window(self) -> float:
        return max(1e-9, self.window_end - self.window_start)


def _articles(log: list[LogLine]) -> list[LogLine]:
    return [line for line in log if "/news/" in line.path and line.status == 200]


def _env(patches: list[str]) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PATCH_DIR)] * bool(patches) + [str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p]
    )
    if patches:
        env["NEWSARCHIVE_BENCH_PATCHES"] = ",".join(patches)
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    return env


def run_bare(
    server: StaticServer,
    sitemap: str,
    run_dir: Path,
    *,
    concurrency: int,
    per_host: int,
    settings: list[str],
    interval: float,
) -> CrawlResult:
    command = [
        sys.executable,
        "-m",
        "bench.bare_spider",
        "--sitemap",
        sitemap,
        "--concurrency",
        str(concurrency),
        "--per-host",
        str(per_host),
        "--log-file",
        str(run_dir / "bare.log"),
        "--stats",
        str(run_dir / "bare-stats.json"),
    ]
    for item in settings:
        command += ["--set", item]
    start = server.log_size()
    record = run_monitored(
        command,
        env=_env([]),
        cwd=REPO,
        interval=interval,
        server_pids=server.pids,
        stdout=run_dir / "bare.out",
    )
    log = server.read_log(start)
    pages = _articles(log)
    first = pages[0].t if pages else record.started
    last = pages[-1].t if pages else record.ended
    return CrawlResult("bare", record, log, first, last, len(pages))


def run_full(
    server: StaticServer,
    sitemap: str,
    run_dir: Path,
    *,
    pages_expected: int,
    concurrency: int,
    per_host: int,
    text_workers: int | None,
    settings: list[str],
    patches: list[str],
    interval: float,
    name: str = "full",
    env: dict[str, str] | None = None,
) -> CrawlResult:
    archive = run_dir / f"{name}-archive"
    sources = run_dir / f"{name}-sources.toml"
    sources.write_text(
        SOURCES.format(sitemap=sitemap, max_pages=pages_expected + pages_expected // 500 + 50),
        encoding="utf-8",
    )
    command = [
        sys.executable,
        "-m",
        "crawler.cli",
        "crawl",
        str(sources),
        "--archive",
        str(archive),
        "--concurrency",
        str(concurrency),
        "--per-host",
        str(per_host),
        "--delay",
        "0",
        "--no-autothrottle",
        "--no-progress",
        "--quiet",
        "--log-file",
        str(run_dir / f"{name}.log"),
    ]
    if text_workers:
        command += ["--text-workers", str(text_workers)]
    for item in settings:
        command += ["--set", item]
    start = server.log_size()
    text_dir = archive / "text"

    def text_bytes() -> float:
        # Text records are appended one article at a time: their bytes track articles archived.
        try:
            return float(sum(p.stat().st_size for p in text_dir.iterdir()))
        except OSError:
            return 0.0

    record = run_monitored(
        command,
        env=_env(patches) | (env or {}),
        cwd=REPO,
        interval=interval,
        server_pids=server.pids,
        stdout=run_dir / f"{name}.out",
        progress=text_bytes,
    )
    log = server.read_log(start)
    pages = _articles(log)
    warcs = list(archive.glob("**/*.warc.gz"))
    last_write = max((p.stat().st_mtime for p in warcs), default=record.ended)
    first = pages[0].t if pages else record.started
    last = max(pages[-1].t if pages else record.started, min(last_write, record.ended))
    return CrawlResult(
        name, record, log, first, last, len(pages), extra={"archive": archive, "patches": patches}
    )
