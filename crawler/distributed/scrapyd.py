"""Scrapyd runner: a Scrapyd job runs a whole ``newsarchive crawl`` cycle, not a bare ``scrapy crawl``.

Scrapyd starts every job as ``python -m RUNNER crawl SPIDER -a k=v ... -s K=V ...`` and lists a
project's spiders with ``python -m RUNNER list``. With ``runner = crawler.distributed.scrapyd``
in ``scrapyd.conf`` a job gets what ``scrapy crawl`` lacks and cron users rely on: the archive
lock, the repair of files left by a killed run, the run summary ``DIR/runs/RUN_ID.json`` and our
exit codes (Scrapyd's job list shows no exit status; its log says ``Process died:
exitstatus=N`` and the summary says why).

Job arguments (``schedule.json``): ``sources=PATH`` and ``archive=DIR`` (required), and any
``setting=NAME=VALUE`` (passed as ``--set``). ``LOG_FILE`` from Scrapyd becomes ``--log-file``
so Scrapyd's log view works; ``FEEDS`` is ignored (the archive is the output). The Redis URL
comes from the daemon's environment (``NEWSARCHIVE_REDIS_URL``) or ``redis_url_file=PATH``,
never from job arguments, which Scrapyd shows to anyone who can list jobs.
"""

from __future__ import annotations

import os
import sys

from crawler import exitcodes

SPIDERS = ("news",)
_IGNORED_SETTINGS = {"FEEDS", "FEED_URI"}


def _usage(message: str) -> int:
    print(f"newsarchive (scrapyd runner): {message}", file=sys.stderr)
    return exitcodes.USAGE


def crawl_argv(args: list[str], environ: dict[str, str]) -> list[str] | str:
    """The ``newsarchive`` command line for Scrapyd's crawl arguments, or an error message."""
    if not args or args[0] not in SPIDERS:
        return f"unknown spider {args[0] if args else ''!r}; this project has {', '.join(SPIDERS)}"
    spider_args: dict[str, str] = {}
    settings: list[str] = []
    log_file = environ.get("SCRAPY_LOG_FILE", "")
    rest = args[1:]
    while rest:
        flag, *rest = rest
        if flag not in ("-a", "-s") or not rest:
            return f"unexpected argument {flag!r}"
        value, *rest = rest
        name, sep, text = value.partition("=")
        if not sep:
            return f"{flag} expects NAME=VALUE, got {value!r}"
        if flag == "-a":
            spider_args[name] = text
        elif name == "LOG_FILE":
            log_file = text
        elif name == "NEWSARCHIVE_REDIS_URL":
            return "the Redis URL must not be a job argument (Scrapyd shows them): set it in the environment"
        elif name not in _IGNORED_SETTINGS:
            settings += ["--set", f"{name}={text}"]
    missing = [k for k in ("sources", "archive") if not spider_args.get(k)]
    if missing:
        return "missing job argument(s): " + ", ".join(f"{k}=..." for k in missing)
    argv = ["crawl", spider_args["sources"], "--archive", spider_args["archive"], "--no-progress"]
    if spider_args.get("redis_url_file"):
        argv += ["--redis-url-file", spider_args["redis_url_file"]]
    if log_file:
        argv += ["--log-file", log_file]
    return argv + settings


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["list"]:
        print("\n".join(SPIDERS))
        return exitcodes.OK
    if args[:1] != ["crawl"]:
        return _usage("expected 'list' or 'crawl SPIDER ...' (as Scrapyd runs it)")
    command = crawl_argv(args[1:], dict(os.environ))
    if isinstance(command, str):
        return _usage(command)
    from archive import childenv

    # Scrapyd starts a job as python -m in its own directory, which comes first on sys.path: a
    # folder named archive or crawler there would shadow ours. Restart once without it.
    if argv is None and childenv.foreign_modules() and childenv.RESTARTED_ENV not in os.environ:
        childenv.restart_cleanly("crawler.distributed.scrapyd", args)
    # No scrapy.cfg in Scrapyd's directory points at our settings: the command sets them, and
    # replaces any SCRAPY_SETTINGS_MODULE the daemon's environment names.
    from crawler.cli import main as cli_main

    return cli_main(command)


if __name__ == "__main__":
    sys.exit(main())
