"""Exit codes of ``newsarchive crawl`` (documented in the README; cron and scripts rely on them).

``scrapy crawl`` exits 0 on almost every failure; a crontab cannot tell a dead site from a
good run. These codes can.
"""

from __future__ import annotations

OK = 0  # the run finished normally
SITE_ERRORS = 3  # finished, but a site's error rate was above --max-error-rate (e.g. all fetches failed)
INTERRUPTED = 4  # stopped by SIGTERM/SIGINT (or a limit): in-flight work finished, files closed, state saved
USAGE = 2  # bad command line (argparse)
UNAVAILABLE = 69  # a service it needs (Redis) cannot be reached
SOFTWARE = 70  # bootstrap failure or internal error
CANT_CREATE = 73  # the archive directory cannot be created or written
IO_ERROR = 74  # writing the archive failed during the run (disk full...)
LOCKED = 75  # another run holds the archive's lock (try again later)
CONFIG = 78  # the sources file or an option is invalid

TABLE = [
    (OK, "finished normally"),
    (USAGE, "bad command line"),
    (SITE_ERRORS, "finished, but at least one site's error rate exceeded --max-error-rate"),
    (INTERRUPTED, "interrupted (SIGTERM/SIGINT): in-flight pages finished, files closed, state saved"),
    (UNAVAILABLE, "Redis (distributed mode) unreachable or refused the credentials"),
    (SOFTWARE, "crawler failed to start or crashed (bug or broken install)"),
    (CANT_CREATE, "archive directory cannot be created or is not writable"),
    (IO_ERROR, "writing the archive failed during the run (e.g. disk full); files written stay valid"),
    (LOCKED, "another run on the same archive directory is still running"),
    (CONFIG, "invalid sources file or option; the message names the site and field"),
]
