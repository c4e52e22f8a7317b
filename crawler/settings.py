"""Project settings: Scrapy's, and every ``NEWSARCHIVE_*`` default with the reason for it.

The CLI overrides these per run (archive directory, limits, log level); the sources file
carries per-site configuration. Nothing else holds configuration.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("newsarchive")
except PackageNotFoundError:  # running from a checkout without install
    VERSION = "0.1.0"
#: The product's version, as the User-Agent (also with --contact) and the warcinfo records name it.
NEWSARCHIVE_VERSION = VERSION

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# --- identity and politeness -------------------------------------------------------------
NEWSARCHIVE_CONTACT = "https://github.com/newsarchive/newsarchive"
USER_AGENT = f"newsarchive/{VERSION} (+{NEWSARCHIVE_CONTACT})"
ROBOTSTXT_OBEY = True
# A robots.txt Crawl-delay is honoured per host (crawler/downloader/crawldelay.py), up to this
# many seconds: a site asking for more is crawled at this pace (logged). 0 ignores Crawl-delay.
NEWSARCHIVE_MAX_CRAWL_DELAY = 30.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
DOWNLOAD_TIMEOUT = 60
RETRY_TIMES = 2  # three requests per URL at most (crawler/downloader/retry.py counts them)
# A Retry-After on a 429 or 503 delays that URL's retry by as much, up to this many seconds
# (longer asks are lowered to it, logged; 0 ignores the header). crawler/downloader/retry.py.
NEWSARCHIVE_MAX_RETRY_AFTER = 60.0
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = True

# --- nothing at run time reaches beyond the crawled sites ----------------------------------
# Scrapy 2.19's remote-control extension is a local server that executes code: never for cron.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Names that resolve to private or loopback addresses are refused unless the sources file names
# them (crawler/downloader/resolver.py); the real lookups are done by NEWSARCHIVE_DNS_RESOLVER.
TWISTED_DNS_RESOLVER = "crawler.downloader.resolver.ScopedResolver"
NEWSARCHIVE_DNS_RESOLVER = "scrapy.resolver.CachingThreadedResolver"
# Only codings every reader of the archive decodes: Scrapy 2.19 advertises zstd, which warcio and
# pywb cannot decode (stored zstd would not replay), and warcio 1.8 breaks on br bodies with
# Google's brotli module (warcio#73). A server that sends br anyway is still archived as sent,
# and decoded by us for text and digests.
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Encoding": "gzip, deflate",
}

# --- the wire-faithful capture path ---------------------------------------------------------
# Our handler keeps the reason phrase and header order that Scrapy's HTTP/1.1 handler drops.
DOWNLOAD_HANDLERS = {
    "http": "crawler.downloader.handlers.WireHTTP11DownloadHandler",
    "https": "crawler.downloader.handlers.WireHTTP11DownloadHandler",
}
DOWNLOADER_MIDDLEWARES = {
    # Sees every response first (before redirects and retries), body still content-encoded;
    # it archives the exchange and hands a decoded response on, so HttpCompressionMiddleware
    # (which would decode a second time and runs charset detection over gzip bytes) is off.
    "crawler.downloader.scope.ScopeMiddleware": 50,
    "crawler.downloader.capture.CaptureMiddleware": 950,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    # Scrapy's robots.txt reader, at its place, but a robots.txt answering 5xx/429 disallows its
    # host for the run (RFC 9309), counted as skipped/robots_unavailable (crawler/downloader/robots.py).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.downloader.robots.RobotsTxtMiddleware": 100,
    # Scrapy's retries, counted per URL (fetched, retries, http_errors), with Retry-After honoured
    # up to NEWSARCHIVE_MAX_RETRY_AFTER (crawler/downloader/retry.py). Above RedirectMiddleware
    # (600), so a redirect's response is seen and counted as its URL's final outcome.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.downloader.retry.RetryMiddleware": 610,
    # Right after Scrapy's RobotsTxtMiddleware (100): paces each host by its robots.txt Crawl-delay.
    "crawler.downloader.crawldelay.CrawlDelayMiddleware": 110,
    # Scrapy's, at its place, but with the Public Suffix List bundled in tldextract: Scrapy's
    # downloads it from publicsuffix.org on a run's first cookie (crawler/downloader/cookies.py).
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "crawler.downloader.cookies.CookiesMiddleware": 700,
}
EXTENSIONS = {
    "crawler.extensions.archiver.Archiver": 100,
    "crawler.extensions.workers.PageWorkers": 110,
}
ITEM_PIPELINES = {
    "crawler.pipelines.TextPipeline": 300,
}
# A response yields at most one item (its article): the default 100 parallel item slots per
# response only cost CPU, ~1.5 ms per page (scrapy#5182). Items of different responses still
# run side by side.
CONCURRENT_ITEMS = 1
DUPEFILTER_CLASS = "scrapy.dupefilters.RFPDupeFilter"
# Scrapy's limit drops an oversized response whole, before reading a byte when Content-Length
# announces it; ours (NEWSARCHIVE_MAX_BODY_SIZE, always on) keeps the first part, marked
# WARC-Truncated. So Scrapy's is off.
DOWNLOAD_MAXSIZE = 0
DOWNLOAD_WARNSIZE = 0

# --- newsarchive -----------------------------------------------------------------------------
NEWSARCHIVE_ARCHIVE_DIR = "archive-data"
NEWSARCHIVE_SOURCES = ""  # path of the sources TOML
NEWSARCHIVE_WARC_PREFIX = "NEWSARCHIVE"
NEWSARCHIVE_WARC_MAX_SIZE = 1_000_000_000  # WARC 1.1 Annex C: 1 GB
NEWSARCHIVE_WARC_OPERATOR = ""
NEWSARCHIVE_MAX_BODY_SIZE = 32 * 1024 * 1024  # 32m as received; the rest is cut (WARC-Truncated: length)
NEWSARCHIVE_MAX_DECODED_SIZE = 32 * 1024 * 1024  # 32m decoded: beyond it a body is a bomb, archived raw
NEWSARCHIVE_MAX_PAGES = 1000  # per site, unless the sources file says otherwise
NEWSARCHIVE_MAX_DEPTH = 3  # per site, unless the sources file says otherwise
NEWSARCHIVE_TEXT_WORKERS = 0  # 0 = one per CPU core; extraction runs in worker processes
NEWSARCHIVE_TEXT_TIMEOUT = 120  # seconds one page's extraction may take in a worker
# Extraction attempts per capture (the crawl's, then one at the start of each later run, from the
# stored response); after that the text is given up ("!" in the state) until the page changes.
NEWSARCHIVE_TEXT_ATTEMPTS = 3
NEWSARCHIVE_RUN_ID = ""  # set by the CLI
# Requests waiting to be fetched go to Scrapy's disk queue (DIR/queue/RUN_ID, removed after the
# run) instead of memory: a sitemap of 100,000 URLs queued at once is ~300 MB of Request
# objects. Never resumed: the next run rediscovers from the sources, and the crawl state knows
# what is archived. Off in distributed mode (the queue is in Redis). See crawler/downloader/scheduler.py.
NEWSARCHIVE_QUEUE_ON_DISK = True
NEWSARCHIVE_QUEUE_DIR = ""  # set by the CLI
SCHEDULER = "crawler.downloader.scheduler.SpillingScheduler"
# Factory (settings, ArchiveLayout) -> StateStore. Distributed mode swaps in a Redis store so
# validators and digests are shared by every worker; the embedded default is one SQLite file.
NEWSARCHIVE_STATE_STORE = "crawler.extensions.archiver.sqlite_state"
NEWSARCHIVE_REDIS_URL = ""  # distributed mode (scrapy-redis) when set

LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

# Old component paths (before the 0.2 regrouping) keep working for one release, with a warning.
from crawler.compat import register_component_paths  # noqa: E402

register_component_paths()
