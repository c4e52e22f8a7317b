"""Figures from a benchmark run: per crawl, the ratio, the CPU split per stage, the targets.

Definitions (the same for both crawls):

* **pages** – article pages served with status 200 during the crawl (static server's log);
* **window** – first to last article page served; for the full pipeline it ends when the last
  WARC record is written (extraction finishes after the last fetch);
* **pages/s** – pages / window;
* **CPU ms/page (window)** – CPU of the crawler and all its descendants (forkserver, text
  workers) spent inside the window, interpolated from the samples, / pages. This is the
  steady-state figure the targets are about;
* **CPU ms/page (whole run)** – exact ``getrusage`` total of the process tree from start to exit
  (imports, warm-up, shutdown included) / pages;
* **other load** – machine busy time (``/proc/stat``) minus ours (crawl tree, server, harness),
  in cores, averaged over the window.
"""

from __future__ import annotations

import itertools
import os
import platform
from collections import Counter
from typing import Any

from bench.crawls import CrawlResult

TARGET_RATIO = 0.30
TARGET_CPU_MS = 30.0
TARGET_CRAWLER_MB = 300.0
TARGET_WORKER_MB = 200.0
ISO3 = {"ur": "urd", "hi": "hin", "en": "eng", "vi": "vie"}


def crawl_figures(result: CrawlResult) -> dict[str, Any]:
    rec = result.record
    start, end = result.window_start, result.window_end
    pages = max(1, result.pages)
    tree = rec.tree_cpu_between(start, end)
    roles = rec.role_cpu_between(start, end)
    server = rec.server_cpu_between(start, end)
    figures: dict[str, Any] = {
        "exit_code": rec.exit_code,
        "pages": result.pages,
        "requests": len(result.log),
        "window_s": round(result.window, 3),
        "pages_per_s": round(result.pages / result.window, 2),
        "cpu_ms_per_page": round(tree * 1000 / pages, 2),
        "cpu_ms_per_page_by_process": {k: round(v * 1000 / pages, 2) for k, v in sorted(roles.items())},
        "cpu_cores_used": round(tree / result.window, 3),
        "crawler_cpu_percent": round(100 * roles.get("crawler", 0.0) / result.window, 1),
        "cpu_ms_per_page_whole_run": round(rec.cpu_total * 1000 / pages, 2),
        "cpu_s_whole_run": round(rec.cpu_total, 2),
        "run_s": round(rec.ended - rec.started, 2),
        "peak_rss": rec.peak_rss(),
        "server_cpu_percent": round(100 * server / result.window, 2),
        "server_cpu_ms_per_page": round(server * 1000 / pages, 3),
        "machine": rec.machine_between(start, end),
        "steady": steady_figures(result),
        "projected_pages_per_s_idle": projected_rate(
            tree * 1000 / pages,
            {k: v * 1000 / pages for k, v in roles.items()},
            sum(1 for r in rec.roles.values() if r == "worker"),
        ),
        "wire_kb_per_page": round(
            sum(line.nbytes for line in result.log if "/news/" in line.path) / pages / 1000, 1
        ),
    }
    return figures


def projected_rate(total_ms: float, by_role_ms: dict[str, float], workers: int) -> dict[str, Any]:
    """Pages/s this CPU cost allows on this machine's cores when nothing else runs.

    The tightest of: all cores / total CPU per page; one core / the crawler process's CPU per
    page (the reactor is one thread); ``workers`` cores / the workers' CPU per page. It is what
    the measured pages/s would be on an idle machine if the crawl is CPU-bound (it is: the
    server answers in < 1 ms), and it does not move when other jobs share the machine.
    """
    cores = os.cpu_count() or 1
    bounds = {"all cores": cores * 1000 / total_ms if total_ms else 0.0}
    crawler = by_role_ms.get("crawler", 0.0)
    if crawler:
        bounds["crawler process (1 core)"] = 1000 / crawler
    worker = by_role_ms.get("worker", 0.0)
    if worker and workers:
        bounds[f"{workers} workers"] = min(workers, cores) * 1000 / worker
    limit = min(bounds, key=bounds.__getitem__)
    return {
        "pages_per_s": round(bounds[limit], 1),
        "bound_by": limit,
        "cores": cores,
        "bounds": {k: round(v, 1) for k, v in bounds.items()},
    }


def steady_window(result: CrawlResult) -> tuple[float, float] | None:
    """10 % to 90 % of the work: of the text archived (full pipeline), else of the pages served."""
    rec = result.record
    if any(s.progress for s in rec.samples):
        t10, t90 = rec.progress_times((0.1, 0.9))
        return (t10, t90) if t10 is not None and t90 is not None and t90 > t10 else None
    times = [line.t for line in result.log if "/news/" in line.path and line.status == 200]
    if len(times) < 20:
        return None
    a, b = times[len(times) // 10], times[(len(times) * 9) // 10]
    return (a, b) if b > a else None


def steady_figures(result: CrawlResult) -> dict[str, Any]:
    """The same figures without start-up and shutdown: the middle 80 % of the work."""
    window = steady_window(result)
    if window is None:
        return {}
    start, end = window
    pages = 0.8 * result.pages
    rec = result.record
    tree = rec.tree_cpu_between(start, end)
    roles = rec.role_cpu_between(start, end)
    return {
        "window_s": round(end - start, 3),
        "pages_per_s": round(pages / (end - start), 2),
        "cpu_ms_per_page": round(tree * 1000 / pages, 2),
        "cpu_ms_per_page_by_process": {k: round(v * 1000 / pages, 2) for k, v in sorted(roles.items())},
        "cpu_cores_used": round(tree / (end - start), 3),
        "machine": rec.machine_between(start, end),
    }


def archive_series(result: CrawlResult, bin_s: float = 1.0) -> list[tuple[float, float]]:
    """Articles archived per second (from the growth of the text WARCs), in bins from the window start."""
    samples = result.record.samples
    final = max((s.progress for s in samples), default=0.0)
    if final <= 0:
        return []
    bins: dict[int, float] = {}
    for a, b in itertools.pairwise(samples):
        done = (b.progress - a.progress) / final * result.pages
        if done > 0:
            key = int((b.t - result.window_start) // bin_s)
            bins[key] = bins.get(key, 0.0) + done
    if not bins:
        return []
    return [(k * bin_s, bins.get(k, 0.0) / bin_s) for k in range(min(0, min(bins)), max(bins) + 1)]


def throughput_series(result: CrawlResult, bin_s: float = 1.0) -> list[tuple[float, float]]:
    """Article pages served per second, in bins from the window start."""
    counts: Counter[int] = Counter()
    for line in result.log:
        if "/news/" in line.path and line.status == 200:
            counts[int((line.t - result.window_start) // bin_s)] += 1
    if not counts:
        return []
    return [(k * bin_s, counts.get(k, 0) / bin_s) for k in range(max(counts) + 1)]


def text_check(result: CrawlResult, expected: dict[str, str]) -> dict[str, Any]:
    """Text records written and how many carry the generated language as main language."""
    from urllib.parse import urlsplit

    from archive.layout import ArchiveLayout
    from archive.reader import iter_text_entries
    from bench.site import CYCLE_PREFIX

    archive = result.extra.get("archive")
    if archive is None:
        return {}
    total = agree = 0
    wrong: Counter[str] = Counter()
    detected: Counter[str] = Counter()
    for entry in iter_text_entries(ArchiveLayout(archive)):
        total += 1
        path = urlsplit(entry.url).path
        if path.startswith(CYCLE_PREFIX) and path[2:3].isdigit():
            path = "/" + path.split("/", 2)[2]
        want = ISO3.get(expected.get(path, ""), "?")
        main = entry.languages.split(",")[0] if entry.languages else "und"
        detected[main] += 1
        if main == want:
            agree += 1
        else:
            wrong[f"{want}->{main}"] += 1
    return {
        "text_records": total,
        "main_language_as_generated": agree,
        "languages_detected": dict(detected.most_common()),
        "mismatches": dict(wrong.most_common(10)),
    }


def stage_split(
    bare: dict[str, Any] | None, full: dict[str, Any] | None, stages: dict[str, Any] | None
) -> dict[str, Any]:
    """CPU ms per archived page by stage: Scrapy's share from the bare crawl, the others from
    the stage micro-benchmark, and the rest of the full crawl's measured total as 'other'."""
    if not stages:
        return {}
    ms = {k: v["median"] for k, v in stages["stages_ms"].items()}
    split: dict[str, float] = {}
    if bare:
        split["fetch (bare Scrapy)"] = bare["cpu_ms_per_page"]
    split["decode + follow links (crawler)"] = round(ms["decode"] + ms["follow"], 2)
    split["parse + read links (worker)"] = round(ms["parse"] + ms["links"], 2)
    split["extraction"] = ms["extraction"]
    split["language detection"] = ms["language"]
    split["WARC writing + state"] = round(ms["warc_capture"] + ms["warc_text"], 2)
    split["IPC (pickling)"] = ms["ipc"]
    out: dict[str, Any] = {"method": stages["method"], "ms_per_page": split}
    if full:
        total = full["cpu_ms_per_page"]
        rest = round(total - sum(split.values()), 2)
        out["ms_per_page"]["other (measured total − stages)"] = rest
        out["full_total_ms_per_page"] = total
        by_proc = full["cpu_ms_per_page_by_process"]
        out["cross_check"] = {
            "workers_measured_in_crawl": round(by_proc.get("worker", 0.0), 2),
            "workers_from_stages (parse+links+extraction+language)": round(
                ms["parse"] + ms["links"] + ms["extraction"] + ms["language"], 2
            ),
            "crawler_measured_in_crawl": round(by_proc.get("crawler", 0.0), 2),
        }
    return out


def targets(
    ratio: float | None,
    full: dict[str, Any] | None,
    memory: dict[str, Any] | None,
    projected: float | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ratio is not None:
        out["full/bare pages/s >= 0.30 (measured, this machine's load)"] = {
            "value": ratio,
            "ok": ratio >= TARGET_RATIO,
        }
    if projected is not None:
        out["full/bare pages/s >= 0.30 (projected, idle cores)"] = {
            "value": projected,
            "ok": projected >= TARGET_RATIO,
        }
    if full:
        cpu = full["cpu_ms_per_page"]
        out["CPU ms per archived article <= 30"] = {"value": cpu, "ok": cpu <= TARGET_CPU_MS}
    if memory:
        crawler = memory["peak_rss"]["crawler_mb"]
        worker = max(memory["peak_rss"]["workers_mb"] or [0.0])
        out[f"crawler RSS <= 300 MB over {memory['pages']} pages"] = {
            "value": crawler,
            "ok": crawler <= TARGET_CRAWLER_MB,
        }
        out[f"each worker RSS <= 200 MB over {memory['pages']} pages"] = {
            "value": worker,
            "ok": worker <= TARGET_WORKER_MB,
        }
    return out


def git_state() -> dict[str, Any]:
    """The product code measured: commit and whether product files differ from it."""
    import subprocess

    from bench.crawls import REPO

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=REPO, capture_output=True, text=True, check=False, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    dirty = git("status", "--porcelain", "--", "archive", "crawler", "pyproject.toml")
    return {"commit": git("rev-parse", "--short", "HEAD"), "product_files_modified": bool(dirty)}


def machine_info() -> dict[str, Any]:
    from importlib.metadata import version

    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    mem = 0
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            mem = int(f.readline().split()[1]) // 1024
    except OSError:
        pass
    versions = {}
    for name in ("scrapy", "twisted", "trafilatura", "lxml", "langdetect", "warcio", "psutil"):
        try:
            versions[name] = version(name)
        except Exception:
            versions[name] = "?"
    return {
        "git": git_state(),
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_mb": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
        "versions": versions,
    }
