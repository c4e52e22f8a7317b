"""Text pipeline: writes the text records of an article page (conversion + metadata).

The text itself was extracted by a worker process (:mod:`crawler.extensions.workers`) before the spider
yielded the item; writing it is cheap and must happen in the one process that owns the WARC
files and the crawl state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.extensions.archiver import Archiver
from crawler.items import ArticlePage

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class TextPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._archiver: Archiver | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TextPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self._archiver = self.crawler.get_extension(Archiver)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePage):
            return item
        assert self._archiver is not None
        # A failed extraction (item.error) is recorded as such, never as "no text": the capture
        # metadata names the error and the text stays pending for the next runs.
        self._archiver.archive_text(
            item.capture.state, item.capture.fields, item.result, site=item.site, error=item.error
        )
        return item
