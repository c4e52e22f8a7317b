"""The real command line, with a text extraction that kills its worker (as a segfaulting parser would).

``python -m tests.e2e.failing_text crawl ...``: every page whose text is wanted kills the worker
process that extracts it, in the crawl and in the start-of-run completion alike; a page whose
links only are wanted is read as usual. Everything else is the product's own code, run as the
``newsarchive`` command runs it.
"""

from __future__ import annotations

import os
import signal
import sys

from crawler.parse.pagejob import PageAnalysis, analyse_page


def crash_on_text(body: bytes, url: str, declared_charset: str | None, want_text: bool) -> PageAnalysis:
    """:func:`crawler.parse.pagejob.analyse_page`, but the worker dies when it is asked for text."""
    if want_text:
        os.kill(os.getpid(), signal.SIGKILL)
    return analyse_page(body, url, declared_charset, want_text)


def main() -> int:
    from crawler.cli import main as newsarchive
    from crawler.extensions import workers
    from tests.e2e import failing_text  # by its name, so that the workers can import the job

    workers.analyse_page = failing_text.crash_on_text  # type: ignore[assignment]  # what PageWorkers.analyse sends
    return newsarchive(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
