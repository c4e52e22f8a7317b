"""Scrapy's downloader side, in the order a request passes: every module runs in the crawler process.

    scope.py      downloader middleware (50): drops a request that left its site (redirects included)
    robots.py     downloader middleware (100): Scrapy's robots.txt rules; a robots.txt answering 5xx/429 disallows all
    crawldelay.py downloader middleware (110): paces each host by its robots.txt Crawl-delay (capped)
    retry.py      downloader middleware (610): Scrapy's retries, counted per URL; Retry-After honoured (capped)
    cookies.py    downloader middleware (700): Scrapy's cookie jar, with tldextract's bundled suffix list (never fetched)
    resolver.py   Twisted DNS resolver: a public name that resolves to a private address is refused
    handlers.py   download handler: keeps the reason phrase and header order Scrapy's drops
    capture.py    downloader middleware (950): archives each exchange as received, hands on a decoded response
    scheduler.py  Scrapy's scheduler with the waiting requests on disk

Wired in by dotted path in :mod:`crawler.settings`.
"""
