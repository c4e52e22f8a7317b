"""Where the CPU goes: the full pipeline's crawl under py-spy, crawler process and workers apart.

    python -m bench.profile [--pages 2000] [--limit 600] [--rate 200] [--patch NAME ...]

Runs ``crawler.cli crawl`` over the benchmark site (first ``--limit`` pages) under
``py-spy record --subprocesses`` (sampling profiler: no instrumentation, so the costs it shows
are the real ones), then sums the samples per process role and prints, for each role, the
functions with the most *inclusive* samples (time inside them, callees included) among a list of
known hot spots, and the top *own-time* frames. Output: ``bench/out/profile-*/pyspy.txt`` (raw
collapsed stacks, for flamegraph tools) and ``profile.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.crawls import REPO, SOURCES, _env
from bench.server import make_server
from bench.site import build_site, write_sitemaps

# Frames whose inclusive share answers "what does this stage cost"; matched on "function (file".
HOT_SPOTS = {
    "crawler": [
        ("reactor loop total (everything on the main thread)", r"^run_forever \("),
        ("spider parse_page (links of article pages come from the workers)", r"^parse_page \(.*spiders/news"),
        ("  NewsSpider._follow", r"^_follow \("),
        ("  read_links (index pages, fallback)", r"^read_links \("),
        ("capture middleware (process_response)", r"^process_response \(.*crawler/capture"),
        ("  decode_body", r"^decode_body \("),
        ("  Archiver.archive_exchange", r"^archive_exchange \("),
        ("Archiver.archive_text", r"^archive_text \("),
        ("  WARC serialize (gzip)", r"^serialize \(.*archive/records"),
        ("  state store put/get (SQLite)", r"^(put|get) \(.*archive/state"),
        ("TextPipeline.process_item", r"^process_item \(.*crawler/pipelines"),
        ("PageWorkers.run (submit, await)", r"^run \(.*crawler/workers"),
        ("HtmlResponse/TextResponse creation", r"^__init__ \(.*scrapy/http/response"),
        ("ProcessPool: queue feeder thread (pickle + pipe write)", r"^_feed \("),
        ("ProcessPool: executor manager thread (results)", r"^run \(.*concurrent/futures/process"),
        ("logging", r"\(.*logging/__init__"),
        ("scheduler + dupefilter", r"^(enqueue_request|next_request) \(.*scheduler|request_seen"),
        ("scraper: item processing", r"^_process_spidermw_output|^start_itemproc|^_itemproc_finished"),
    ],
    "worker": [
        ("analyse_page", r"^analyse_page \("),
        ("  parse_html", r"^parse_html \("),
        ("  read_links", r"^read_links \("),
        ("  extract_from_page", r"^extract_from_page \("),
        ("  trafilatura.bare_extraction", r"^bare_extraction \("),
        ("    metadata (extract_metadata)", r"^extract_metadata \("),
        ("      htmldate find_date", r"^find_date \("),
        ("    tree cleaning (tree_cleaning/prune)", r"^tree_cleaning \(|^prune_unwanted_nodes \("),
        ("    main extraction (extract_content)", r"^extract_content \("),
        ("    comparison / fallback (compare_extraction)", r"^compare_extraction \("),
        ("      readability fallback", r"^try_readability \("),
        ("      justext fallback", r"^try_justext \(|^justext_rescue \("),
        ("    HTML parsing (load_html)", r"^load_html \("),
        ("    baseline()", r"^baseline \("),
        ("  boilerplate.clean_text", r"^clean_text \(.*boilerplate"),
        ("  decode_html", r"^decode_html \("),
        ("detect_languages", r"^detect_languages \("),
        ("  langdetect detector (get_probabilities)", r"^get_probabilities \("),
        ("  langdetect append (n-gram prep)", r"^append \(.*langdetect"),
        (
            "job in / result out (queue get/put, pickling)",
            r"^(get|put) \(.*multiprocessing/queues|^_sendback_result",
        ),
    ],
}


_LINE = re.compile(r":\d+\)$")


def parse_raw(path: Path) -> dict[str, Counter[str]]:
    """Collapsed stacks -> per role: inclusive samples of every frame, and 'self:' own samples."""
    roles: dict[str, Counter[str]] = defaultdict(Counter)
    pid_role: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        procs = [f for f in frames if f.startswith("process ")]
        frames = [f for f in frames if not f.startswith("process ")]
        if not procs:
            continue
        last = procs[-1]
        pid = last.split(":", 1)[0]
        if pid not in pid_role:
            depth = len(procs)
            cmd = last
            if "forkserver" in cmd and depth >= 3:
                role = "worker"
            elif "forkserver" in cmd:
                role = "forkserver"
            elif "resource_tracker" in cmd:
                role = "resource_tracker"
            elif "crawler.cli" in cmd or depth == 1:  # py-spy sometimes reads no command line
                role = "crawler"
            else:
                role = "other"
            pid_role[pid] = role
        role = pid_role[pid]
        counter = roles[role]
        counter["__total__"] += n
        frames = [_LINE.sub(")", f) for f in frames]  # one entry per function, not per line
        for frame in set(frames):
            counter[frame] += n
        if frames:
            counter["self:" + frames[-1]] += n
    return roles


def _unqualified(frame: str) -> str:
    """``NewsSpider._links (…)`` -> ``_links (…)``: patterns name functions, not classes."""
    return _QUALIFIER.sub("", frame)


_QUALIFIER = re.compile(r"^[\w<>.]+\.(?=[\w<>]+ \()")


def summarise(roles: dict[str, Counter[str]], top: int = 25) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for role, counter in roles.items():
        total = counter["__total__"]
        if not total:
            continue
        entry: dict[str, Any] = {"samples": total, "hot_spots": {}, "top_self": []}
        for label, pattern in HOT_SPOTS.get(role, []):
            rx = re.compile(pattern)
            # inclusive: samples in which any matching frame is on the stack (counted once per stack
            # by parse_raw's set(); summing several matching frames may double-count nested ones)
            hit = max(
                (n for f, n in counter.items() if not f.startswith("self:") and rx.search(_unqualified(f))),
                default=0,
            )
            # (the largest single matching function: frames are counted once per stack)
            entry["hot_spots"][label] = round(100 * hit / total, 1)
        selfs = [(f[5:], n) for f, n in counter.items() if f.startswith("self:")]
        selfs.sort(key=lambda x: -x[1])
        entry["top_self"] = [(f, round(100 * n / total, 1)) for f, n in selfs[:top]]
        out[role] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pages", type=int, default=2000, help="site size (reuses bench/out/site-N)")
    p.add_argument("--limit", type=int, default=600, help="pages to crawl")
    p.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--patch", dest="patches", action="append", default=[])
    p.add_argument("--set", dest="settings", action="append", default=[])
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    p.add_argument("--raw", type=Path, help="only summarise an existing py-spy raw file")
    args = p.parse_args(argv)
    if args.raw:
        report(summarise(parse_raw(args.raw)))
        return 0
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(pyspy).exists():
        print("py-spy not installed: .venv/bin/pip install py-spy", file=sys.stderr)
        return 2
    run_dir = args.out / f"profile-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    run_dir.mkdir(parents=True)
    site = build_site(args.out / f"site-{args.pages}", args.pages)
    server = make_server(site.root, run_dir / "server")
    server.start()
    try:
        sitemap = write_sitemaps(site, server.base_url, name=f"sitemap-p{args.limit}", limit=args.limit)
        sources = run_dir / "sources.toml"
        sources.write_text(SOURCES.format(sitemap=sitemap, max_pages=args.limit + 50), encoding="utf-8")
        raw = run_dir / "pyspy.txt"
        command = [
            pyspy,
            "record",
            "--subprocesses",
            "--format",
            "raw",
            "--rate",
            str(args.rate),
            "--nonblocking",
            "-o",
            str(raw),
            "--",
            sys.executable,
            "-m",
            "crawler.cli",
            "crawl",
            str(sources),
            "--archive",
            str(run_dir / "archive"),
            "--concurrency",
            str(args.concurrency),
            "--per-host",
            str(args.concurrency),
            "--delay",
            "0",
            "--no-autothrottle",
            "--no-progress",
            "--quiet",
            "--log-file",
            str(run_dir / "crawl.log"),
        ]
        for item in args.settings:
            command += ["--set", item]
        subprocess.run(
            command,
            cwd=REPO,
            env=_env(args.patches),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    finally:
        server.stop()
    summary = summarise(parse_raw(raw))
    (run_dir / "profile.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    report(summary)
    shutil.rmtree(run_dir / "archive", ignore_errors=True)
    print(f"\nraw stacks: {raw}", file=sys.stderr)
    return 0


def report(summary: dict[str, Any]) -> None:
    for role in ("crawler", "worker"):
        entry = summary.get(role)
        if not entry:
            continue
        print(f"\n== {role}: {entry['samples']} samples; % of the role's samples with the frame on the stack")
        for label, pct in entry["hot_spots"].items():
            print(f"  {pct:5.1f}%  {label}")
        print(f"  -- top own-time frames ({role}):")
        for frame, pct in entry["top_self"][:20]:
            print(f"  {pct:5.1f}%  {frame}")


if __name__ == "__main__":
    raise SystemExit(main())
