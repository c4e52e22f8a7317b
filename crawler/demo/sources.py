"""The demo site as the crawler sees it: its sources file and the gold list of its articles.

``demo_sources_toml`` is what ``newsarchive demo`` writes before crawling the bundled site.
``demo_articles`` is the ground truth tests compare a crawl against: every article's URL path,
expected languages, paragraphs, and the boilerplate strings its page carries (which extracted
text must not contain).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from crawler.demo.site import build_site, load_content

# Boilerplate strings do not depend on the port, so the gold list is built against a fixed base.
_GOLD_BASE = "http://127.0.0.1:18765"

_SOURCES_TEMPLATE = """\
# Sources file for the bundled demo news site (served on loopback by crawler.demo.server).
[[sites]]
name = "demo-news"
start_urls = ["{base}/"]
allowed_domains = ["{host}"]
article_urls = ['/(ur|hi|vi|en)/news/\\d+']
max_depth = 4
max_pages = 500
feeds = ["{base}/feeds/ur.xml", "{base}/feeds/hi.xml", "{base}/feeds/vi.rdf", "{base}/feeds/en.atom"]
sitemaps = ["{base}/sitemap.xml"]
# The demo's articles are dated months back; re-check them all on every run (real sites keep
# the default, 7 days), so a second demo run shows conditional requests and revisits.
recheck_days = 36500
"""


@dataclass(frozen=True)
class DemoArticle:
    """One article of the demo site, as a crawl of it should find it."""

    path: str  # unquoted URL path, e.g. "/ur/news/240619-پوتین-کا-دورہ-شمالی-کوریا"
    url_path_quoted: str  # the same, percent-encoded UTF-8 as on the wire
    section: str  # "ur", "hi", "vi" or "en"
    expected_languages: tuple[str, ...]  # ISO 639-3, main language first
    title: str
    paragraphs: tuple[str, ...]  # the article text, block by block (subheadings and quotes included)
    must_not_contain: tuple[str, ...]  # boilerplate strings placed on the page around the text
    article_id: int
    author: str
    published: str  # ISO 8601 with offset
    modified: str

    def url(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.url_path_quoted

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def demo_articles(revision: int = 0) -> list[DemoArticle]:
    """Gold list of the articles published by ``revision``, newest first within each section."""
    site = build_site(_GOLD_BASE, revision)
    content = load_content()
    return [
        DemoArticle(
            path=a.path,
            url_path_quoted=a.quoted_path,
            section=a.section,
            expected_languages=a.expected_languages,
            title=a.title,
            paragraphs=a.paragraphs,
            must_not_contain=site.boilerplate[a.article_id],
            article_id=a.article_id,
            author=a.author,
            published=a.published.isoformat(),
            modified=a.modified.isoformat(),
        )
        for section in content.sections
        for a in content.articles_at(revision, section)
    ]


def demo_sources_toml(base_url: str) -> str:
    """The sources file (the crawler's TOML format) for the demo site at ``base_url``."""
    base = base_url.rstrip("/")
    host = urlsplit(base).hostname or "127.0.0.1"
    return _SOURCES_TEMPLATE.format(base=base, host=host)
