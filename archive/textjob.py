"""The CPU-heavy per-article work, as one picklable function for worker processes.

Extraction (trafilatura) and language detection (langdetect) cost ~40 ms of CPU per news
page; run in the crawler's reactor thread they would cap the crawl at one core. The crawler
sends ``run_text_job`` to a process pool; ``warm_up`` is the pool initializer, so profiles and
lazy imports load once per worker, not per page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from archive.language import LanguageScore, detect_languages
from archive.language import warm_up as _warm_languages
from archive.text import ArticleText, extract_article


@dataclass(frozen=True, slots=True)
class TextResult:
    article: ArticleText
    languages: tuple[LanguageScore, ...]


# trafilatura and its helpers log "discarding data" at WARNING for every index page and parse
# trouble at ERROR. In a worker process nothing configures logging, so Python's last-resort
# handler would print them to stderr, and cron would mail them. A missing text is counted
# by the crawler instead (newsarchive/text/empty).
NOISY_LOGGERS = ("trafilatura", "htmldate", "courlan", "justext", "readability")


def quiet_extractor_logs() -> None:
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def warm_up() -> None:
    quiet_extractor_logs()
    _warm_languages()
    extract_article(b"<html><body><article><p>warm up</p></article></body></html>", url="http://localhost/")


def run_text_job(body: bytes, url: str, declared_charset: str | None) -> TextResult | None:
    return text_result(extract_article(body, url=url, declared_charset=declared_charset))


def text_result(article: ArticleText | None) -> TextResult | None:
    """The article with its languages; None when there is no text to tag."""
    if article is None or not article.text.strip():
        return None
    return TextResult(article=article, languages=tuple(detect_languages(article.text)))
