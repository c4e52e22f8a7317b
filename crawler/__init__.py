"""The Scrapy project: the crawler side of newsarchive (``archive/`` is the library it writes with).

Where each kind of code lives, and which process runs it:

    cli.py, commands.py   the ``newsarchive`` command line; read commands are thin wrappers over archive/
    run/                  one cron cycle in the command's process: lock, recovery, the crawl, outcome, summary
    settings.py           Scrapy settings; every component below is wired in here by dotted path
    sources.py            the sources file (per-site configuration), loaded once per run
    spiders/              discovery: what to fetch next (the spider never writes the archive)
    downloader/           Scrapy's downloader side, in request order: scope, DNS, handler, capture, scheduler
    extensions/           crawl-long components: the archiver (WARC files + state), text workers, progress
    items.py, pipelines.py  an article page's text on its way from the spider to the archiver
    parse/                pure parsing (no Scrapy): feeds and sitemaps, links, the page job of text workers
    meta.py               every ``request.meta`` key, declared once with who writes and who reads it
    errors.py, exitcodes.py  the crawler's error tree and the exit-code table cron relies on
    distributed/          scale-out on scrapy-redis; demo/  the offline demo site

Modules moved in 0.2 keep their old names for one release (:mod:`crawler.compat`).
"""

from crawler.compat import install_module_aliases

install_module_aliases()
