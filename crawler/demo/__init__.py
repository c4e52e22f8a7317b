"""The bundled offline demo news site and its loopback server (stdlib only; no Scrapy here).

``newsarchive demo`` and most tests crawl it: four language sections (Urdu, Hindi, Vietnamese,
English) of realistic article pages full of boilerplate, index pages, feeds, news sitemaps and
robots.txt, served with ETags, gzip and chunked transfer. See ``server.py`` for the HTTP side,
``site.py`` for the page table, ``templates.py`` for the markup and ``content/`` for the text.

Names are imported lazily (PEP 562) so that ``python -m crawler.demo.server`` does not find its
own module already imported by the package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.demo.server import DEFAULT_PORT, DemoServer, SentResponse, main
    from crawler.demo.sources import DemoArticle, demo_articles, demo_sources_toml

_EXPORTS = {
    "DEFAULT_PORT": "crawler.demo.server",
    "DemoServer": "crawler.demo.server",
    "SentResponse": "crawler.demo.server",
    "main": "crawler.demo.server",
    "DemoArticle": "crawler.demo.sources",
    "demo_articles": "crawler.demo.sources",
    "demo_sources_toml": "crawler.demo.sources",
}

__all__ = [
    "DEFAULT_PORT",
    "DemoArticle",
    "DemoServer",
    "SentResponse",
    "demo_articles",
    "demo_sources_toml",
    "main",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
