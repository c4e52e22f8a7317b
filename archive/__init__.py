"""Pure archival library: WARC records and files, text and language records, indexes, replay.

Nothing here imports Scrapy, Twisted or the ``crawler`` package: the dependency runs
``crawler -> archive`` only, so archives can be read, indexed and replayed without a crawler.
"""
