"""Scrapy extensions: components that live as long as the crawl, in the crawler process.

    archiver.py    owns the WARC writers and the crawl state; every record of a run is written here
    workers.py     the text workers: a process pool that parses article pages (links, text, languages)
    workerboot.py  imported once by the workers' forkserver, so each worker starts warm
    progress.py    the one-line progress display on a terminal

Wired in by dotted path (``EXTENSIONS``) in :mod:`crawler.settings`.
"""
