"""One cron cycle, in the ``newsarchive crawl`` process: what ``scrapy crawl`` does not do.

    crawl.py     the cycle: lock, recovery, settings, the Scrapy crawl, the summary written
    lock.py      one run per archive directory (flock)
    recovery.py  the start-of-run repair of what a killed run left
    outcome.py   pure: (pre-flight result, crawl stats, flags) -> exit code, outcome, summary
    summary.py   per-site counts from the crawl's stats; the summary's JSON and human forms
"""

from crawler.run.crawl import CrawlOptions, build_settings, run_crawl

__all__ = ["CrawlOptions", "build_settings", "run_crawl"]
