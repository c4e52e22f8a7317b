"""``newsarchive``: the command users and their crontabs run.

    newsarchive crawl SOURCES.toml --archive DIR    one crawl cycle (cron calls this)
    newsarchive demo [--archive DIR]                serve the bundled demo site and crawl it
    newsarchive ls DIR [--json]                      one row per capture
    newsarchive text DIR URL [--date D]              the archived text of a capture
    newsarchive index DIR                            CDXJ indexes of the capture WARCs
    newsarchive wacz DIR -o FILE.wacz                package the captures for ReplayWeb.page
    newsarchive replay DIR [--port N]                browse the archive in pywb

Every command returns its exit code (see :mod:`crawler.exitcodes`) instead of exiting deep
inside, so tests call :func:`main` directly.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from archive.errors import ArchiveError
from crawler import commands, exitcodes
from crawler.errors import CrawlerError, ServiceUnavailable, UsageError

if TYPE_CHECKING:
    from crawler.run.crawl import CrawlOptions


def _crawl_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("crawl limits and politeness")
    g.add_argument(
        "--max-pages", type=int, help="pages per site unless the sources file sets max_pages (default 1000)"
    )
    g.add_argument(
        "--max-depth", type=int, help="link depth per site unless the sources file sets max_depth (default 3)"
    )
    g.add_argument("--concurrency", type=int, help="concurrent requests in total (default 16)")
    g.add_argument("--per-host", type=int, help="concurrent requests per host (default 4)")
    g.add_argument(
        "--delay", type=float, help="minimum delay between requests to one host, seconds (default 0.25)"
    )
    g.add_argument(
        "--no-autothrottle",
        dest="autothrottle",
        action="store_false",
        default=None,
        help="disable AutoThrottle",
    )
    g.add_argument("--user-agent", help="User-Agent header (default names newsarchive and its contact URL)")
    g.add_argument("--contact", help="contact URL or mailto: put in the default User-Agent")
    g.add_argument("--text-workers", type=int, help="text extraction processes (default: one per core)")
    g.add_argument("--warc-max-size", type=int, help="rotate WARC files at this many bytes (default 10^9)")
    g.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override any Scrapy or NEWSARCHIVE_* setting (repeatable), e.g. --set NEWSARCHIVE_MAX_BODY_SIZE=1000000",
    )
    d = parser.add_argument_group("distributed mode (scrapy-redis)")
    d.add_argument(
        "--redis",
        metavar="URL",
        help="redis://[:PASSWORD@]HOST:6379/0 or rediss:// (TLS); prefer --redis-url-file or the "
        "NEWSARCHIVE_REDIS_URL environment variable so a password never shows in the process list",
    )
    d.add_argument("--redis-url-file", metavar="FILE", help="read the Redis URL from this file")
    o = parser.add_argument_group("output")
    o.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="default INFO"
    )
    o.add_argument("--log-file", help="log file (default DIR/runs/RUN_ID.log)")
    o.add_argument(
        "--max-error-rate",
        type=float,
        default=0.5,
        help="exit 3 when a site's share of failed fetches exceeds this (default 0.5)",
    )
    o.add_argument("--progress", dest="progress", action="store_true", default=None, help="show progress")
    o.add_argument("--no-progress", dest="progress", action="store_false", help="never show progress")
    o.add_argument(
        "--summary", dest="summary", action="store_true", default=None, help="always print the summary"
    )
    o.add_argument("--quiet", dest="summary", action="store_false", help="print the summary only on failure")


def _redis_url(args: argparse.Namespace) -> str | None:
    if getattr(args, "redis", None):
        return str(args.redis)
    path = getattr(args, "redis_url_file", None)
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise UsageError(f"cannot read --redis-url-file {path}: {exc.strerror}") from exc
    return os.environ.get("NEWSARCHIVE_REDIS_URL") or None


def _options(args: argparse.Namespace) -> CrawlOptions:
    from crawler.run.crawl import CrawlOptions

    extra: dict[str, str] = {}
    for item in args.settings:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set expects NAME=VALUE, got {item!r}")
        extra[name.strip()] = value
    return CrawlOptions(
        extra_settings=extra,
        redis_url=_redis_url(args),
        max_pages=args.max_pages,
        max_depth=args.max_depth,
        concurrency=args.concurrency,
        per_host=args.per_host,
        delay=args.delay,
        autothrottle=args.autothrottle,
        log_level=args.log_level,
        log_file=args.log_file,
        user_agent=args.user_agent,
        contact=args.contact,
        max_error_rate=args.max_error_rate,
        text_workers=args.text_workers,
        warc_max_size=args.warc_max_size,
        show_progress=args.progress,
        print_summary=args.summary,
    )


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler.run.crawl import run_crawl

    return run_crawl(Path(args.sources), Path(args.archive), _options(args))


def cmd_demo(args: argparse.Namespace) -> int:
    from crawler.demo.server import DemoServer
    from crawler.demo.sources import demo_sources_toml
    from crawler.run.crawl import run_crawl

    archive = Path(args.archive)
    options = _options(args)
    # The demo site is ours and on loopback: politeness delays would only slow the demo down.
    options.extra_settings.update(
        {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS_PER_DOMAIN": 8}
    )
    if options.print_summary is None:
        options.print_summary = True
    try:
        server = DemoServer(args.host, args.port)
        server.start()
    except OSError as exc:
        raise ServiceUnavailable(f"cannot start the demo site on {args.host}:{args.port}: {exc}") from exc
    try:
        archive.mkdir(parents=True, exist_ok=True)
        sources = archive / "demo-sources.toml"
        sources.write_text(demo_sources_toml(server.base_url), encoding="utf-8")
        print(f"demo site: {server.base_url}/  (sources: {sources})")
        code = run_crawl(sources, archive, options)
    finally:
        server.stop()
    print(f"archive: {archive.resolve()}  (try: newsarchive ls {archive})")
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsarchive",
        description="Crawl news sites, extract clean text, tag languages, archive as WARC 1.1.",
        epilog="Exit codes: " + "; ".join(f"{code} {text}" for code, text in exitcodes.TABLE),
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("crawl", help="run one crawl cycle and exit (what cron calls)")
    p.add_argument("sources", help="sources TOML file")
    p.add_argument("--archive", required=True, help="archive directory (created if missing)")
    _crawl_options(p)
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("demo", help="serve the bundled demo news site on 127.0.0.1 and crawl it")
    p.add_argument("--archive", default="archive-demo", help="archive directory (default ./archive-demo)")
    p.add_argument("--host", default="127.0.0.1", help="demo site address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="demo site port (default 18765)")
    _crawl_options(p)
    p.set_defaults(func=cmd_demo)

    commands.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from archive import childenv

    # Our own code only: a PYTHONPATH entry (or, for python -m, the working directory) holding a
    # folder named archive or crawler shadows our packages. Started as a command, restart once
    # without it (archive/childenv.py); called from Python, say so.
    foreign = childenv.foreign_modules()
    if foreign:
        if argv is None and childenv.RESTARTED_ENV not in os.environ:
            childenv.restart_cleanly("crawler.cli", sys.argv[1:])
        where = "; ".join(foreign[:5])
        print(f"newsarchive: its own packages were imported from elsewhere: {where}", file=sys.stderr)
        return exitcodes.SOFTWARE
    # The project settings, wherever the command is run from (cron's working directory is $HOME)
    # and whatever settings module the environment names.
    os.environ["SCRAPY_SETTINGS_MODULE"] = "crawler.settings"
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "port", 0) is None and args.command == "demo":
        from crawler.demo.server import DEFAULT_PORT

        args.port = DEFAULT_PORT
    try:
        return int(args.func(args))
    except (CrawlerError, ArchiveError) as exc:  # the code comes from the one table
        print(f"newsarchive: {exc}", file=sys.stderr)
        return exitcodes.for_error(exc)
    except KeyboardInterrupt:
        return exitcodes.INTERRUPTED
    except BrokenPipeError:  # `newsarchive ls DIR | head`: the reader has gone, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exitcodes.OK


if __name__ == "__main__":
    sys.exit(main())
