"""The one spider: every per-site difference is data in the sources file.

Discovery: start pages (followed link by link within the site's domains, up to ``max_depth``),
feeds and sitemaps (newest entries first, optionally only the last ``max_age_days``).
Every link, feed or sitemap entry goes to the site that owns its URL
(:func:`crawler.sources.owner_of`), whichever site's page or feed offered it, and is judged by
that site's rules.
Every fetched page is archived by the capture middleware; pages matching ``article_urls``
whose content is new or changed also go to the text pipeline.

Re-crawl policy (cron): index pages, feeds and sitemaps are fetched every run; a known
article is re-checked with a conditional request only while it is younger than the site's
``recheck_days``, so a run's work grows with what is new, not with the archive's size.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from w3lib.encoding import http_content_type_encoding

from archive.urls import canonical_url
from crawler import meta
from crawler.downloader.capture import CaptureInfo
from crawler.downloader.retry import is_error_status
from crawler.downloader.robots import UNAVAILABLE as ROBOTS_UNAVAILABLE
from crawler.downloader.robots import RobotsUnavailable
from crawler.downloader.scope import is_private_host, site_is_private
from crawler.errors import ArchiveWriteError, NotDecodable, OutOfScope, Truncated
from crawler.extensions.archiver import Archiver
from crawler.extensions.workers import PageWorkers
from crawler.items import ArticlePage
from crawler.parse.feeds import Entry, parse_xml_document, robots_sitemaps
from crawler.parse.links import PageLinks, canonical, read_links
from crawler.parse.pagejob import PageAnalysis
from crawler.sources import Owners, Site, sites_from_settings

logger = logging.getLogger(__name__)

MAX_SITEMAP_NESTING = 2  # index -> index -> urlset is already one level more than the protocol allows
REFUSED_MEMO_SIZE = 20_000  # links remembered as out of scope (~4 MB at most)


class NewsSpider(Spider):
    name = "news"
    # Errors are counted per site by the errback; a 304 is an answer, not an error.
    handle_httpstatus_list: ClassVar[list[int]] = [304]

    def __init__(self, sources: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sources_path = sources
        self.sites = {}
        self.scheduled: Counter[str] = Counter()
        self.seen: set[str] = set()  # canonical URLs requested this run (counted once against max_pages)
        # (finder site, URL) -> (reason, depth): links turned down (by their owner) for a reason
        # that holds for the whole run at that depth or deeper. Menus and footers offer the same
        # links on every page; each is judged once, not once per page.
        self.refused: dict[tuple[str, str], tuple[str, int]] = {}
        # What became of each link, counted here and added to the crawl's stats when the spider
        # closes: a page offers ~200 links, and one call of Scrapy's stats API costs about as
        # much as judging a remembered link.
        self.link_counts: Counter[str] = Counter()
        # (owner site, scheme://host/path) -> distinct query strings scheduled there this run
        # (``max_query_variants``). Each request counts once (``seen`` guards it), so there are
        # never more entries than requests scheduled: the memo is bounded by the page budgets.
        self.query_variants: Counter[tuple[str, str]] = Counter()
        self.now = datetime.now(UTC)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        sites = sites_from_settings(crawler.settings, spider.sources_path)
        spider.sites = {s.name: s for s in sites}
        return spider

    def closed(self, reason: str) -> None:
        """Add the link decisions counted during the run to the crawl's stats."""
        stats = self.crawler.stats
        for key, count in self.link_counts.items():
            stats.inc_value(key, count)
        self.link_counts.clear()

    @property
    def sites(self) -> dict[str, Site]:
        """The run's sites by name; setting them also works out who owns which URL."""
        return self._sites

    @sites.setter
    def sites(self, sites: dict[str, Site]) -> None:
        self._sites = sites
        #: Which site owns a URL (``crawler.sources.owner_of``), worked out once for the run.
        self.owners = Owners(sites.values())
        # Every seed is requested at depth 0 by its own site: a link to one is left to it.
        self.seeds = frozenset(u for s in sites.values() for u in (*s.start_urls, *s.feeds, *s.sitemaps))

    def site_for_url(self, url: str) -> str:
        """The owner of a URL nobody found (robots.txt fetched by Scrapy): its name, or ""."""
        owner = self.owners.owner_of(url)
        return owner.name if owner is not None else ""

    @functools.cached_property
    def archiver(self) -> Archiver:
        archiver = self.crawler.get_extension(Archiver)
        assert archiver is not None
        return archiver

    @property
    def workers(self) -> PageWorkers:
        workers = self.crawler.get_extension(PageWorkers)
        assert workers is not None, "crawler.extensions.workers.PageWorkers is missing from EXTENSIONS"
        return workers

    async def start(self) -> AsyncIterator[Any]:
        for site in self.sites.values():
            for request in self._seed_requests(site):
                yield request

    def _seed_requests(self, site: Site) -> Iterator[Request]:
        for url in site.feeds:
            yield self._request(site, url, depth=0, kind="feed", callback=self.parse_xml, priority=30)
        for url in site.sitemaps:
            yield self._request(site, url, depth=0, kind="sitemap", callback=self.parse_xml, priority=20)
        if site.robots_sitemaps:
            for start in site.start_urls[:1] or site.feeds[:1] or site.sitemaps[:1]:
                robots = canonical_url(start.split("/", 3)[0] + "//" + start.split("/", 3)[2] + "/robots.txt")
                yield self._request(
                    site, robots, depth=0, kind="robots", callback=self.parse_robots, priority=40
                )
        for url in site.start_urls:
            yield self._request(site, url, depth=0, kind="page", callback=self.parse_page, priority=10)

    # --- requests --------------------------------------------------------------------------
    def _request(
        self, site: Site, url: str, *, depth: int, kind: str, callback: Any, priority: int = 0
    ) -> Request:
        self.scheduled[site.name] += 1
        self.seen.add(url)
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            priority=priority,
            meta={meta.SITE: site.name, meta.DEPTH: depth, meta.KIND: kind, meta.ARTICLE: False},
        )

    def _follow(
        self,
        finder: Site,
        raw_url: str,
        *,
        depth: int,
        published: datetime | None = None,
        is_canonical: bool = False,
    ) -> Request | None:
        """A request for a link ``finder``'s page, feed or sitemap offered, or None when policy
        says no (each reason counted).

        The request belongs to the URL's owner (:meth:`crawler.sources.Owners.owner_of`), often
        the finder: the owner's rules judge it (domains, ``deny_urls``, ``follow_urls``,
        ``max_depth``, ``max_query_variants``, ``max_pages``, ``max_age_days``, ``recheck_days``)
        and its refusals are counted under the owner's name. ``depth`` is the finder's depth + 1.
        ``is_canonical``: the URL comes from :func:`crawler.parse.links.read_links`, already canonical.
        """
        counts = self.link_counts
        try:
            url = raw_url if is_canonical else canonical(raw_url)
        except ValueError:
            counts[f"newsarchive/site/{finder.name}/skipped/invalid_url"] += 1
            return None
        if url in self.seen or url in self.seeds:
            return None
        # Remembered by finder: the owner follows from the URL and the finder, and the memo is
        # read before it is worked out. A feed or sitemap entry is judged afresh: its
        # publication date may update the state.
        memo = (finder.name, url)
        refused = self.refused.get(memo) if published is None else None
        if refused is not None and depth >= refused[1]:
            counts[refused[0]] += 1
            return None
        site = self.owners.owner_of(url, finder)
        reason = self._scope_refusal(site, url, depth)
        if reason is not None:
            self._refuse(memo, site, reason, depth if reason == "cut/max_depth" else 0)
            return None
        is_article = site.is_article(url)
        max_age = site.max_age_days
        if max_age is not None and published is not None and self.now - published > timedelta(days=max_age):
            counts[f"newsarchive/site/{site.name}/skipped/too_old"] += 1
            return None
        headers: dict[str, str] = {}
        if is_article:
            try:
                known = self.archiver.known_article(url, published)
            except ArchiveWriteError:  # the state failed: the archiver is stopping the crawl
                return None
            if known is not None:
                if not self._due_for_recheck(site, known.published or known.first_seen):
                    counts[f"newsarchive/site/{site.name}/skipped/not_due"] += 1
                    return None
                if known.etag:
                    headers["If-None-Match"] = known.etag
                if known.last_modified:
                    headers["If-Modified-Since"] = known.last_modified
        variants: tuple[str, str] | None = None
        if not is_article:
            # A faceted list (?color=…&size=…&page=…): distinct canonical query strings are
            # counted per path; the bare path is not a variant, articles are never capped.
            path, _, query = url.partition("?")
            if query:
                variants = (site.name, path)
                if self.query_variants[variants] >= site.max_query_variants:
                    # Counts only grow: the link is cut for the rest of the run, at any depth.
                    self._refuse(memo, site, "cut/query_variants", 0)
                    return None
        if self.scheduled[site.name] >= site.max_pages:
            # The budget only shrinks: the link is cut for the rest of the run, at any depth.
            self._refuse(memo, site, "cut/max_pages", 0)
            return None
        self.scheduled[site.name] += 1
        self.seen.add(url)
        if variants is not None:
            self.query_variants[variants] += 1
        return Request(
            url,
            callback=self.parse_page,
            errback=self.on_error,
            headers=headers or None,
            priority=5 if is_article else 0,
            meta={meta.SITE: site.name, meta.DEPTH: depth, meta.KIND: "page", meta.ARTICLE: is_article},
        )

    def _refuse(self, memo: tuple[str, str], site: Site, reason: str, from_depth: int) -> None:
        """Count a refusal under the owner ``site`` and remember it, under ``memo`` (finder, URL),
        for ``from_depth`` and deeper."""
        key = f"newsarchive/site/{site.name}/{reason}"
        if len(self.refused) >= REFUSED_MEMO_SIZE:
            self.refused.clear()  # a cache: bounded memory over a long crawl
        self.refused[memo] = (key, from_depth)
        self.link_counts[key] += 1

    def _scope_refusal(self, site: Site, url: str, depth: int) -> str | None:
        """Why a link is out of the site's scope (a stats key's tail), or None. Depends only
        on the URL and the depth, so the answer is remembered for the run."""
        if not site.in_domain(url):
            return "skipped/offsite"
        if is_private_host(urlsplit(url).hostname or "") and not site_is_private(site):
            return "skipped/private_address"
        if not site.may_follow(url):
            return "skipped/denied"
        if depth > site.max_depth and not site.is_article(url):
            return "cut/max_depth"
        return None

    def _due_for_recheck(self, site: Site, reference: str) -> bool:
        """Articles are re-checked while younger than ``recheck_days``: by publication date when a
        feed, sitemap or the page itself told us one, else by when we first archived them."""
        try:
            moment = datetime.fromisoformat(reference.replace("Z", "+00:00"))
        except ValueError:
            return True
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return self.now - moment <= timedelta(days=site.recheck_days)

    # --- callbacks ---------------------------------------------------------------------------
    async def parse_page(self, response: Response) -> AsyncIterator[Any]:
        site = self.sites[response.meta[meta.SITE]]
        depth = response.meta.get(meta.DEPTH, 0)
        capture: CaptureInfo | None = response.meta.get(meta.CAPTURE)
        awaits_text = capture is not None and capture.awaits_text
        html = response.status == 200 and isinstance(response, TextResponse)
        analysis: PageAnalysis | None = None
        if awaits_text or (html and response.meta.get(meta.ARTICLE)):
            # An article page is parsed once, in a worker: links and text in the same pass.
            # Index pages are read here at once: discovery waits on their links.
            analysis = await self.workers.analyse(
                response.body,
                response.url,
                http_content_type_encoding((response.headers.get(b"Content-Type") or b"").decode("latin-1")),
                want_text=awaits_text,
            )
        if awaits_text:
            assert capture is not None and analysis is not None
            yield ArticlePage(
                url=response.url, site=site.name, capture=capture, result=analysis.text, error=analysis.error
            )
        if not (html and isinstance(response, TextResponse)):  # isinstance again: it narrows the type
            return
        links = analysis.links if analysis is not None else None
        if links is None:
            links = self._read_links(response)
        if links.invalid:
            self.link_counts[f"newsarchive/site/{site.name}/skipped/invalid_url"] += links.invalid
        for url in links.urls:
            request = self._follow(site, url, depth=depth + 1, is_canonical=True)
            if request is not None:
                yield request

    @staticmethod
    def _read_links(response: TextResponse) -> PageLinks:
        try:
            root = response.selector.root
        except ValueError:  # not parsable as HTML
            return PageLinks((), 0)
        return read_links(root, response.url)

    def parse_xml(self, response: Response) -> Iterator[Request]:
        site = self.sites[response.meta[meta.SITE]]
        if response.status != 200:
            return
        doc = parse_xml_document(response.body, response.url)
        stats = self.crawler.stats
        if doc.error:
            logger.warning("%s: %s", response.url, doc.error)
            stats.inc_value(f"newsarchive/site/{site.name}/errors/xml")
        if doc.kind == "sitemapindex":
            level = response.meta.get(meta.DEPTH, 0) + 1
            if level > MAX_SITEMAP_NESTING:
                # sitemaps.org allows no index of indexes; a chain of them is a trap.
                stats.inc_value(f"newsarchive/site/{site.name}/cut/sitemap_nesting")
                return
            spent: set[str] = set()  # sites whose budget ran out: counted once, as before
            for entry in sorted(doc.entries, key=_newest_first):
                try:
                    url = canonical_url(entry.url)
                except ValueError:
                    continue
                if url in self.seen or url in self.seeds:
                    continue
                owner = self.owners.owner_of(url, site)
                if owner.name in spent or not owner.in_domain(url):
                    continue
                if self.scheduled[owner.name] >= owner.max_pages:
                    stats.inc_value(f"newsarchive/site/{owner.name}/cut/max_pages")
                    spent.add(owner.name)
                    continue
                yield self._request(
                    owner, url, depth=level, kind="sitemap", callback=self.parse_xml, priority=20
                )
            return
        stats.inc_value(f"newsarchive/site/{site.name}/discovered", len(doc.entries))
        for entry in sorted(doc.entries, key=_newest_first):
            request = self._follow(site, entry.url, depth=1, published=entry.published)
            if request is not None:
                yield request

    def parse_robots(self, response: Response) -> Iterator[Request]:
        site = self.sites[response.meta[meta.SITE]]
        if response.status != 200:
            return
        for url in robots_sitemaps(response.body, response.url):
            try:
                url = canonical_url(url)
            except ValueError:
                continue
            owner = self.owners.owner_of(url, site)
            if url not in self.seen and url not in self.seeds and owner.in_domain(url):
                yield self._request(owner, url, depth=0, kind="sitemap", callback=self.parse_xml, priority=20)

    def on_error(self, failure: Any) -> None:
        """Count a request's final failure under its site.

        A final response of any status (after Scrapy's retries) is counted by the retry
        middleware (``fetched``; 5xx as ``http_errors``, 429 as ``http_429``): 404, 410 and the
        other 4xx are answers, no errors. What is counted here: a URL that got no response
        (``errors/NAME``: connection failures, after the retries), robots.txt refusals, and the
        responses the capture middleware archived and then stopped (``fetched`` too).
        """
        request = failure.request
        site = request.meta.get(meta.SITE, "?")
        stats = self.crawler.stats
        if failure.check(OutOfScope):
            return  # counted as a skip by the scope middleware
        if failure.check(HttpError):
            response = failure.value.response
            if is_error_status(response.status):
                logger.warning("%s: HTTP %d", request.url, response.status)
            return
        if failure.check(RobotsUnavailable):
            stats.inc_value(f"newsarchive/site/{site}/{ROBOTS_UNAVAILABLE}")
            return
        name = failure.type.__name__ if failure.type else "Error"
        message = str(failure.value)
        if name == "IgnoreRequest" and "robots.txt" in message:
            stats.inc_value(f"newsarchive/site/{site}/skipped/robots_txt")
            return
        if failure.check(Truncated, NotDecodable):
            # Archived, then stopped by the capture middleware (which runs before the retries):
            # the URL has its final outcome.
            stats.inc_value(f"newsarchive/site/{site}/fetched")
        if failure.check(Truncated):
            stats.inc_value(f"newsarchive/site/{site}/cut/max_body_size")
            return
        stats.inc_value(f"newsarchive/site/{site}/errors/{name}")
        logger.warning("%s: %s: %s", request.url, name, failure.getErrorMessage())


def _newest_first(entry: Entry) -> float:
    return -(entry.published.timestamp() if entry.published else 0.0)
