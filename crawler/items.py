"""Items the spider hands to the pipelines."""

from __future__ import annotations

from dataclasses import dataclass

from crawler.capture import CaptureInfo


@dataclass(slots=True)
class ArticlePage:
    """An article page whose content is new or changed: its text still has to be extracted."""

    url: str
    site: str
    body: bytes  # content-decoded body, in the page's own charset
    declared_charset: str | None
    capture: CaptureInfo
