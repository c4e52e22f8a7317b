"""One cron cycle, in the ``newsarchive crawl`` process: what ``scrapy crawl`` does not do.

    crawl.py     the cycle: lock, recovery, settings, the Scrapy crawl, the summary written
    lock.py      one run per archive directory (flock)
    recovery.py  the start-of-run repair of what a killed run left
    outcome.py   pure: (pre-flight result, crawl stats, flags) -> exit code, outcome, summary
    summary.py   per-site counts from the crawl's stats; the summary's JSON and human forms
"""

from __future__ import annotations

from typing import Any

__all__ = ["CrawlOptions", "build_settings", "run_crawl"]


def __getattr__(name: str) -> Any:
    """``crawler.run.run_crawl`` as before 0.2 (it was a module), loaded on first use so that the
    pure :mod:`crawler.run.outcome` can be imported without Scrapy."""
    if name in __all__:
        from crawler.run import crawl

        return getattr(crawl, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
