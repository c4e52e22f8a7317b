"""The benchmark: bare Scrapy against the full newsarchive pipeline, same site, same run.

    python -m bench.run [--quick] [--pages N] [--memory N] [...]     (bench/run.sh wraps this)

1. generates (or reuses) the local news site under ``bench/out/site-N`` (:mod:`bench.site`);
2. serves it pre-gzipped from nginx on 127.0.0.1 and measures the server's capacity with wrk;
3. crawls it with bare Scrapy, then with the full pipeline (``crawler.cli crawl``), each
   monitored (:mod:`bench.monitor`);
4. times each pipeline stage over a sample of the same pages (:mod:`bench.stages`);
5. writes ``bench/out/run-TIMESTAMP/results.json`` and ``benchmark.png``, and prints the table.

``--memory N`` runs the long memory check instead: the full pipeline over N distinct URLs
(the page files reused through ``/cK/`` prefixes), RSS of the crawler and each worker sampled
every second, ``memory.json`` + ``memory.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import analyze
from bench.crawls import REPO, CrawlResult, run_bare, run_full
from bench.server import make_server
from bench.site import build_site, write_sitemaps


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/run.sh", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--quick", action="store_true", help="tiny run for CI: 300 pages, small stage sample (< 2 min)"
    )
    p.add_argument("--pages", type=int, help="article pages in the site (default 2000; --quick 300)")
    p.add_argument(
        "--memory",
        type=int,
        metavar="N",
        help="memory run over N distinct URLs (e.g. 100000), full pipeline only",
    )
    p.add_argument(
        "--concurrency", type=int, default=64, help="CONCURRENT_REQUESTS for both crawls (default 64)"
    )
    p.add_argument(
        "--per-host", type=int, default=64, help="CONCURRENT_REQUESTS_PER_DOMAIN for both crawls (default 64)"
    )
    p.add_argument(
        "--text-workers", type=int, help="full pipeline's text workers (default: the product's, one per core)"
    )
    p.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra setting for the full crawl (repeatable)",
    )
    p.add_argument(
        "--bare-set",
        dest="bare_settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra setting for the bare crawl (repeatable)",
    )
    p.add_argument(
        "--patch",
        dest="patches",
        action="append",
        default=[],
        metavar="NAME",
        help="apply a prototype from bench/proposals.py to the full crawl (repeatable)",
    )
    p.add_argument(
        "--env",
        dest="env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment variable for the full crawl (repeatable), e.g. MALLOC_ARENA_MAX=2",
    )
    p.add_argument("--only", choices=["bare", "full"], help="run only one of the two crawls")
    p.add_argument(
        "--rounds",
        type=int,
        help="bare and full crawls alternated this many times; the table shows the median round "
        "(default 3; --quick 1). A shared machine's speed drifts by 10-20 %% within minutes",
    )
    p.add_argument("--sample", type=int, help="pages in the stage micro-benchmark (default 200; --quick 40)")
    p.add_argument("--repeats", type=int, help="repeats of the stage micro-benchmark (default 3; --quick 1)")
    p.add_argument("--no-stages", action="store_true", help="skip the stage micro-benchmark")
    p.add_argument("--interval", type=float, help="sampling interval, seconds (default 0.25; memory run 1.0)")
    p.add_argument(
        "--out", type=Path, default=REPO / "bench" / "out", help="output folder (default bench/out)"
    )
    p.add_argument("--label", default="", help="name appended to the run folder")
    p.add_argument(
        "--keep-archive", action="store_true", help="keep the full crawl's archive (deleted by default)"
    )
    args = p.parse_args(argv)
    args.pages = args.pages or (300 if args.quick else 2000)
    args.sample = args.sample or (40 if args.quick else 200)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.rounds = max(1, args.rounds or (1 if args.quick else 3))
    args.interval = args.interval or (1.0 if args.memory else 0.25)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kind = "memory" if args.memory else ("quick" if args.quick else "run")
    run_dir = args.out / f"{kind}-{stamp}{'-' + args.label if args.label else ''}"
    run_dir.mkdir(parents=True, exist_ok=True)
    say(f"output: {run_dir}")
    started = time.monotonic()
    site = build_site(args.out / f"site-{args.pages}", args.pages)
    say(f"site: {json.dumps(site.summary())}")
    server = make_server(site.root, run_dir / "server")
    if server.kind != "nginx":
        say(
            "WARNING: nginx not found, using the Python fallback server: it is slow and shares the "
            "crawler's cores, so pages/s are NOT comparable with nginx runs (install nginx-light)."
        )
    server.start()
    try:
        if args.memory:
            results = memory_run(args, site, server, run_dir)
        else:
            results = benchmark_run(args, site, server, run_dir)
    finally:
        server.stop()
    results["harness_s"] = round(time.monotonic() - started, 1)
    (run_dir / "results.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    print(render_table(results))
    say(f"wrote {run_dir / 'results.json'} and the plot next to it")
    return 0 if all_ok(results) else 1


def benchmark_run(args: argparse.Namespace, site: Any, server: Any, run_dir: Path) -> dict[str, Any]:
    sitemap = write_sitemaps(site, server.base_url, name="sitemap")
    results: dict[str, Any] = {
        "title": f"newsarchive benchmark {run_dir.name} (commit {analyze.git_state()['commit']}): "
        f"{site.summary()['pages']} pages, concurrency {args.concurrency}/{args.per_host}, {server.kind}",
        "machine": analyze.machine_info(),
        "site": site.summary(),
        "settings": {
            "concurrency": args.concurrency,
            "per_host": args.per_host,
            "text_workers": args.text_workers or "product default (one per core)",
            "full_extra_settings": args.settings,
            "bare_extra_settings": args.bare_settings,
            "patches": args.patches,
        },
        "runs": {},
    }
    from bench.server import capacity

    cap_urls = site.urls(server.base_url)
    say("server capacity (wrk)...")
    results["server"] = {
        "kind": server.kind,
        "capacity": capacity(server, cap_urls, run_dir, 2 if args.quick else 5),
    }
    rounds = []
    for number in range(1, args.rounds + 1):
        crawls, runs = _crawl_round(args, site, server, sitemap, run_dir / f"round-{number}", number)
        rounds.append((crawls, runs))
    # The median round by measured ratio is the one reported in full (and plotted).
    ranked = sorted(rounds, key=lambda r: _ratio(r[1]) or 0.0)
    crawls, results["runs"] = ranked[len(ranked) // 2]
    results["rounds"] = [
        {
            "round": number,
            "bare_pages_per_s": runs.get("bare", {}).get("pages_per_s"),
            "full_pages_per_s": runs.get("full", {}).get("pages_per_s"),
            "bare_cpu_ms_per_page": runs.get("bare", {}).get("cpu_ms_per_page"),
            "full_cpu_ms_per_page": runs.get("full", {}).get("cpu_ms_per_page"),
            "ratio": _ratio(runs),
            "ratio_projected_idle": _ratio(runs, projected=True),
            "reported": runs is results["runs"],
        }
        for number, (_, runs) in enumerate(rounds, 1)
    ]
    if "bare" in results["runs"] and "full" in results["runs"]:
        results["ratio_full_to_bare"] = _ratio(results["runs"])
        results["ratio_projected_idle"] = _ratio(results["runs"], projected=True)
    if not args.no_stages:
        say(f"stage micro-benchmark ({args.sample} pages x {args.repeats})...")
        out = run_dir / "stages.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.stages",
                "--site",
                str(site.root),
                "--sample",
                str(args.sample),
                "--repeats",
                str(args.repeats),
                "--out",
                str(out),
            ],
            cwd=REPO,
            check=True,
        )
        results["stages"] = json.loads(out.read_text(encoding="utf-8"))
    results["stage_split"] = analyze.stage_split(
        results["runs"].get("bare"), results["runs"].get("full"), results.get("stages")
    )
    results["targets"] = analyze.targets(
        results.get("ratio_full_to_bare"),
        results["runs"].get("full"),
        None,
        results.get("ratio_projected_idle"),
    )
    series = {
        "throughput": {f"{name} (fetched)": analyze.throughput_series(c) for name, c in crawls.items()},
        "rss": {},
    }
    if "full" in crawls:
        series["throughput"]["full (archived)"] = analyze.archive_series(crawls["full"])
    if "full" in crawls:
        t0 = crawls["full"].record.started
        series["rss"] = {
            name: [(t - t0, mb) for t, mb in points]
            for name, points in crawls["full"].record.rss_series().items()
        }
    if "bare" in crawls:
        t0 = crawls["bare"].record.started
        for name, points in crawls["bare"].record.rss_series().items():
            series["rss"][f"bare {name}"] = [(t - t0, mb) for t, mb in points]
    _save_series_and_plot(run_dir, "benchmark.png", "plot_run", results, results, series)
    return results


def _ratio(runs: dict[str, Any], *, projected: bool = False) -> float | None:
    if "bare" not in runs or "full" not in runs:
        return None
    if projected:
        full = runs["full"]["projected_pages_per_s_idle"]["pages_per_s"]
        bare = runs["bare"]["projected_pages_per_s_idle"]["pages_per_s"]
    else:
        full, bare = runs["full"]["pages_per_s"], runs["bare"]["pages_per_s"]
    return round(full / max(1e-9, bare), 3)


def _full_crawl(
    args: argparse.Namespace, server: Any, sitemap: str, run_dir: Path, pages: int, **extra: Any
) -> CrawlResult:
    return run_full(
        server,
        sitemap,
        run_dir,
        pages_expected=pages,
        concurrency=args.concurrency,
        per_host=args.per_host,
        text_workers=args.text_workers,
        settings=args.settings,
        patches=args.patches,
        env=dict(e.split("=", 1) for e in args.env),
        interval=args.interval,
        **extra,
    )


def _crawl_round(
    args: argparse.Namespace, site: Any, server: Any, sitemap: str, run_dir: Path, number: int
) -> tuple[dict[str, CrawlResult], dict[str, Any]]:
    """One bare crawl and one full crawl, back to back."""
    run_dir.mkdir(parents=True, exist_ok=True)
    crawls: dict[str, CrawlResult] = {}
    runs: dict[str, Any] = {}
    tag = f"round {number}/{args.rounds}"
    if args.only != "full":
        say(f"{tag}: bare Scrapy...")
        crawls["bare"] = run_bare(
            server,
            sitemap,
            run_dir,
            concurrency=args.concurrency,
            per_host=args.per_host,
            settings=args.bare_settings,
            interval=args.interval,
        )
        runs["bare"] = analyze.crawl_figures(crawls["bare"])
        say(f"  bare: {short(runs['bare'])}")
    if args.only != "bare":
        say(f"{tag}: full pipeline (newsarchive crawl)...")
        crawls["full"] = _full_crawl(args, server, sitemap, run_dir, len(site.pages))
        full = analyze.crawl_figures(crawls["full"])
        expected = {p.path: p.lang for p in site.pages}
        from urllib.parse import unquote

        expected = {unquote(k): v for k, v in expected.items()} | expected
        full["text"] = analyze.text_check(crawls["full"], expected)
        archived = full["text"].get("text_records") or 0
        if archived:
            full["cpu_ms_per_archived_article"] = round(full["cpu_ms_per_page"] * full["pages"] / archived, 2)
        runs["full"] = full
        say(f"  full: {short(full)}")
        if not args.keep_archive:
            import shutil

            shutil.rmtree(crawls["full"].extra["archive"], ignore_errors=True)
    if "bare" in runs and "full" in runs:
        say(f"  ratio: {_ratio(runs)}")
    return crawls, runs


def memory_run(args: argparse.Namespace, site: Any, server: Any, run_dir: Path) -> dict[str, Any]:
    cycles = math.ceil(args.memory / len(site.pages))
    sitemap = write_sitemaps(
        site, server.base_url, name=f"sitemap-m{args.memory}", cycles=cycles, limit=args.memory
    )
    say(f"memory run: {args.memory} URLs over {len(site.pages)} files ({cycles} cycles)...")
    crawl = _full_crawl(args, server, sitemap, run_dir, args.memory, name="memory")
    figures = analyze.crawl_figures(crawl)
    rec = crawl.record
    # RSS against the number of article pages fetched so far (from the server log).
    times = [line.t for line in crawl.log if "/news/" in line.path and line.status == 200]
    from bisect import bisect_right

    series: dict[str, Any] = {}
    for name, points in rec.rss_series().items():
        series[name] = [(bisect_right(times, t), mb) for t, mb in points]
    series["_throughput"] = analyze.throughput_series(crawl, 10.0)
    checkpoints = {}
    for frac in (0.1, 0.25, 0.5, 0.75, 1.0):
        want = int(len(times) * frac)
        row = {}
        for name, points in series.items():
            if name.startswith("_"):
                continue
            before = [mb for n, mb in points if n <= want]
            if before:
                row[name] = round(before[-1], 1)
        checkpoints[f"{int(frac * 100)}% ({want} pages)"] = row
    growth = {}
    for name, points in series.items():
        if name.startswith("_"):
            continue
        half = [(n, mb) for n, mb in points if n >= len(times) / 2]
        if len(half) > 2:
            growth[name] = round(_slope(half) * 10_000, 2)
    memory = {
        "pages": crawl.pages,
        "urls": args.memory,
        "files": len(site.pages),
        "peak_rss": figures["peak_rss"],
        "rss_at": checkpoints,
        "growth_mb_per_10k_pages_second_half": growth,
        "pages_per_s": figures["pages_per_s"],
        "cpu_ms_per_page": figures["cpu_ms_per_page"],
        "machine": figures["machine"],
    }
    if not args.keep_archive:
        import shutil

        shutil.rmtree(crawl.extra["archive"], ignore_errors=True)
    results = {
        "title": f"newsarchive memory run {run_dir.name}",
        "machine": analyze.machine_info(),
        "site": site.summary(),
        "memory": memory,
        "runs": {"memory": figures},
        "targets": analyze.targets(None, None, memory),
    }
    _save_series_and_plot(run_dir, "memory.png", "plot_memory", results, memory, series)
    return results


def _save_series_and_plot(
    run_dir: Path, name: str, plotter: str, results: dict[str, Any], figures: Any, series: dict[str, Any]
) -> None:
    (run_dir / "series.json").write_text(json.dumps(series), encoding="utf-8")
    try:
        from bench import plot

        getattr(plot, plotter)(run_dir / name, figures, series)
        results["plot"] = str(run_dir / name)
    except ImportError as exc:
        say(f"no plot: {exc} (install matplotlib)")


def _slope(points: list[tuple[float, float]]) -> float:
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    var = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / var if var else 0.0


def short(fig: dict[str, Any]) -> str:
    return (
        f"{fig['pages']} pages in {fig['window_s']:.1f}s = {fig['pages_per_s']:.1f} pages/s, "
        f"{fig['cpu_ms_per_page']:.1f} CPU ms/page, other load {fig['machine']['other_load_cores']:.2f} cores"
    )


def all_ok(results: dict[str, Any]) -> bool:
    return all(run.get("exit_code") == 0 for run in results.get("runs", {}).values())


def render_table(results: dict[str, Any]) -> str:
    runs = results.get("runs", {})
    lines = ["", results.get("title", "")]
    head = f"{'':<34}" + "".join(f"{name:>18}" for name in runs)
    lines.append(head)

    def row(label: str, fn: Any) -> None:
        cells = []
        for fig in runs.values():
            try:
                cells.append(f"{fn(fig):>18}")
            except (KeyError, TypeError, ValueError):
                cells.append(f"{'-':>18}")
        lines.append(f"{label:<34}" + "".join(cells))

    row("pages", lambda f: f["pages"])
    row("window, s", lambda f: f"{f['window_s']:.1f}")
    row("pages/s", lambda f: f"{f['pages_per_s']:.1f}")
    row("CPU ms/page (all processes)", lambda f: f"{f['cpu_ms_per_page']:.2f}")
    for proc in sorted({k for f in runs.values() for k in f.get("cpu_ms_per_page_by_process", {})}):
        row(f"  of which {proc}", lambda f, p=proc: f"{f['cpu_ms_per_page_by_process'][p]:.2f}")
    row("CPU ms/page, whole run", lambda f: f"{f['cpu_ms_per_page_whole_run']:.2f}")
    row("steady 10-90 %: pages/s", lambda f: f"{f['steady']['pages_per_s']:.1f}")
    row("steady 10-90 %: CPU ms/page", lambda f: f"{f['steady']['cpu_ms_per_page']:.2f}")
    row("steady 10-90 %: other load, cores", lambda f: f"{f['steady']['machine']['other_load_cores']:.2f}")
    row("cores used", lambda f: f"{f['cpu_cores_used']:.2f}")
    row("projected pages/s, idle cores", lambda f: f"{f['projected_pages_per_s_idle']['pages_per_s']:.1f}")
    row("  bound by", lambda f: f["projected_pages_per_s_idle"]["bound_by"])
    row("peak RSS crawler, MB", lambda f: f"{f['peak_rss']['crawler_mb']:.0f}")
    row("peak RSS workers, MB", lambda f: " ".join(f"{w:.0f}" for w in f["peak_rss"]["workers_mb"]) or "-")
    row("server CPU %", lambda f: f"{f['server_cpu_percent']:.1f}")
    row("machine busy, cores", lambda f: f"{f['machine']['machine_busy_cores']:.2f}")
    row("other load, cores", lambda f: f"{f['machine']['other_load_cores']:.2f}")
    row("text records", lambda f: f["text"]["text_records"])
    row("main language as generated", lambda f: f["text"]["main_language_as_generated"])
    if "ratio_full_to_bare" in results:
        lines.append(f"{'full / bare pages/s, measured':<34}{results['ratio_full_to_bare']:>18.3f}")
        lines.append(f"{'full / bare, projected idle':<34}{results['ratio_projected_idle']:>18.3f}")
    rounds = results.get("rounds", [])
    if len(rounds) > 1:
        lines.append("")
        lines.append("rounds (bare and full alternated; the columns above are the median round *):")
        for r in rounds:
            lines.append(
                f"  {'*' if r['reported'] else ' '} round {r['round']}: bare {r['bare_pages_per_s']} pages/s "
                f"{r['bare_cpu_ms_per_page']} ms/page, full {r['full_pages_per_s']} pages/s "
                f"{r['full_cpu_ms_per_page']} ms/page, ratio {r['ratio']} (projected idle {r['ratio_projected_idle']})"
            )
    cap = results.get("server", {}).get("capacity", {})
    if cap.get("requests_per_s"):
        lines.append(f"{'server capacity (wrk), req/s':<34}{cap['requests_per_s']:>18.0f}")
    split = results.get("stage_split", {}).get("ms_per_page")
    if split:
        lines.append("")
        lines.append(
            "CPU ms per page by stage (fetch: bare crawl; others: stage micro-benchmark; other: rest of full total)"
        )
        for key, value in split.items():
            lines.append(f"  {key:<40}{value:>8.2f}")
        if "full_total_ms_per_page" in results["stage_split"]:
            lines.append(
                f"  {'= full pipeline, measured':<40}{results['stage_split']['full_total_ms_per_page']:>8.2f}"
            )
    mem = results.get("memory")
    if mem:
        lines.append("")
        lines.append(
            f"memory over {mem['pages']} pages: peak crawler {mem['peak_rss']['crawler_mb']} MB, "
            f"workers {mem['peak_rss']['workers_mb']} MB"
        )
        for point, row_ in mem["rss_at"].items():
            lines.append(f"  at {point}: " + ", ".join(f"{k} {v} MB" for k, v in row_.items()))
        lines.append(
            f"  growth in the second half, MB per 10k pages: {mem['growth_mb_per_10k_pages_second_half']}"
        )
    targets = results.get("targets")
    if targets:
        lines.append("")
        lines.append("targets (2 cores):")
        for name, t in targets.items():
            lines.append(f"  [{'ok' if t['ok'] else 'MISSED'}] {name}: {t['value']}")
    return "\n".join(lines)


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
