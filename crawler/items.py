"""Items the spider hands to the pipelines."""

from __future__ import annotations

from dataclasses import dataclass

from archive.textjob import TextResult
from crawler.downloader.capture import CaptureInfo


@dataclass(slots=True)
class ArticlePage:
    """An article page whose content is new or changed, with the text a worker extracted."""

    url: str
    site: str
    capture: CaptureInfo
    result: TextResult | None  # None: no article text found, or the worker failed (see error)
    # why the worker failed (timeout, crash, exception): recorded with the capture, and the text
    # stays pending (retried from the stored response by the next run); None: the extractor ran
    error: str | None = None
