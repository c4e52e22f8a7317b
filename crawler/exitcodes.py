"""Exit codes of ``newsarchive`` (documented in the README; cron and scripts rely on them).

``scrapy crawl`` exits 0 on almost every failure; a crontab cannot tell a dead site from a
good run. These codes can. Every code is chosen here: :data:`TABLE` is what the README and
``--help`` print, :func:`for_error` maps the error trees (:mod:`crawler.errors`,
:mod:`archive.errors`) to codes, and :func:`crawler.run.outcome.decide` picks the code of a
finished crawl.
"""

from __future__ import annotations

OK = 0  # the run finished normally
READ_FAILED = 1  # a read command (text, index, wacz, ...) failed or found nothing
USAGE = 2  # bad command line (argparse)
SITE_ERRORS = 3  # finished, but a site's error rate was above --max-error-rate (e.g. all fetches failed)
INTERRUPTED = 4  # stopped by SIGTERM/SIGINT (or a limit): in-flight work finished, files closed, state saved
UNAVAILABLE = 69  # a service it needs (Redis) cannot be reached
SOFTWARE = 70  # bootstrap failure or internal error
CANT_CREATE = 73  # the archive directory cannot be created or written
IO_ERROR = 74  # writing the archive failed during the run (disk full...)
LOCKED = 75  # another run holds the archive's lock (try again later)
CONFIG = 78  # the sources file or an option is invalid

TABLE = [
    (OK, "finished normally"),
    (READ_FAILED, "a read command (ls, text, index, wacz, replay) failed or found nothing; the message says which"),
    (USAGE, "bad command line"),
    (SITE_ERRORS, "finished, but at least one site's error rate (fetches, or failed texts) exceeded --max-error-rate"),
    (INTERRUPTED, "interrupted (SIGTERM/SIGINT): in-flight pages finished, files closed, state saved"),
    (UNAVAILABLE, "a service it needs is unreachable (Redis in distributed mode, the state service, the demo port)"),
    (SOFTWARE, "crawler failed to start or crashed (bug or broken install)"),
    (CANT_CREATE, "archive directory cannot be created or is not writable"),
    (IO_ERROR, "writing the archive failed during the run (e.g. disk full); files written stay valid"),
    (LOCKED, "another run on the same archive directory is still running"),
    (CONFIG, "invalid sources file or option; the message names the site and field"),
]


def for_error(exc: BaseException) -> int:
    """The exit code of an error of either tree; :data:`SOFTWARE` for anything unforeseen.

    Order matters where the trees nest: ``RedisUnavailable`` is a ``DistributedError`` (a
    configuration error) and ``StateUnavailable`` a ``StateError`` (an I/O error), and both mean
    a service is down.
    """
    from archive import errors as archive_errors
    from crawler import errors

    table: list[tuple[type[BaseException], int]] = [
        (errors.UsageError, USAGE),
        (errors.ServiceUnavailable, UNAVAILABLE),
        (archive_errors.StateUnavailable, UNAVAILABLE),
        (errors.ConfigError, CONFIG),
        (errors.ArchiveDirError, CANT_CREATE),
        (errors.LockHeld, LOCKED),
        (errors.ArchiveWriteError, IO_ERROR),
        (errors.RecoveryError, IO_ERROR),
        (archive_errors.StateError, IO_ERROR),
        (errors.ReadFailed, READ_FAILED),
        (archive_errors.WaczError, READ_FAILED),
        (archive_errors.ReplayEnvMissing, SOFTWARE),
        (KeyboardInterrupt, INTERRUPTED),
    ]
    return next((code for cls, code in table if isinstance(exc, cls)), SOFTWARE)
