"""Bare Scrapy: the baseline the full pipeline is measured against.

Scrapy's own defaults (``CONCURRENT_ITEMS=100``, ``HttpCompressionMiddleware``, cookies,
retries, redirects, the dupefilter…) with only the concurrency and politeness settings the
newsarchive crawl uses, and a callback that does nothing. URLs come from the same sitemap
index through Scrapy's :class:`~scrapy.spiders.SitemapSpider`, so both crawls fetch the same
pages the same way.

    python -m bench.bare_spider --sitemap URL --concurrency 64 --per-host 64 --stats OUT.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, ClassVar

from scrapy.crawler import CrawlerProcess
from scrapy.spiders import SitemapSpider


class BareSpider(SitemapSpider):
    name = "bare"
    sitemap_rules: ClassVar[list[tuple[str, str]]] = [("/news/", "parse")]

    def parse(self, response: Any) -> None:
        """Does nothing: what is measured is Scrapy fetching and handing over the page."""


def bare_settings(concurrency: int, per_host: int, log_file: str | None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_host,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "ROBOTSTXT_OBEY": True,  # as newsarchive does: one robots.txt request per site
        "REMOTE_CONTROL_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
    }
    if log_file:
        settings["LOG_FILE"] = log_file
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sitemap", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--per-host", type=int, default=64)
    parser.add_argument("--log-file")
    parser.add_argument("--stats", help="write Scrapy's stats here as JSON")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    settings = bare_settings(args.concurrency, args.per_host, args.log_file)
    for item in args.set:
        name, _, value = item.partition("=")
        try:
            settings[name] = json.loads(value)
        except ValueError:
            settings[name] = value
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler, sitemap_urls=[args.sitemap])
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    if args.stats:
        Path(args.stats).write_text(json.dumps(stats, default=str, indent=1), encoding="utf-8")
    return 0 if stats.get("finish_reason") == "finished" else 1


if __name__ == "__main__":
    raise SystemExit(main())
