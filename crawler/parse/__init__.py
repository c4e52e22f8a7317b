"""Pure parsing, no Scrapy: runs in the crawler process and in the text workers alike.

    feeds.py     RSS/Atom feeds and sitemaps to entries (URL, publication date), bounded and inert
    links.py     the links of a parsed page, canonical
    pagejob.py   the job one text worker does with one page: parse once, read links, extract text

A test proves that importing these loads neither Scrapy nor Twisted.
"""
