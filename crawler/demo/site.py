"""The demo news site as data: which bytes are served at which path, for one revision.

Everything here is deterministic: the same ``(base_url, revision)`` always yields byte-identical
pages, so repeated demo crawls (and the tests that compare them) see the same site. Content lives
in JSON files under ``content/``; rendering is in :mod:`crawler.demo.templates`; the HTTP layer in
:mod:`crawler.demo.server` only looks resources up here and decides how to put them on the wire.

Revisions model news cycles. Revision 0 is the base site; an article file may carry
``"since_revision": N`` (published in cycle N) and ``"edits"`` (a paragraph replaced in cycle N).
Related, trending and read-also links are always computed from revision 0, so that publishing or
editing one article changes only that article, its section's index pages, feed and sitemap, and
the sitemap index, and leaves every other page byte-identical.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import quote

from crawler.demo import templates

CONTENT = resources.files("crawler.demo") / "content"

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
RDF = "application/rdf+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
SVG = "image/svg+xml"


@dataclass(frozen=True)
class Delivery:
    """How a resource goes on the wire; fixed per path so crawls meet every transfer style."""

    gzip: bool = False  # Content-Encoding: gzip when the request's Accept-Encoding allows it
    chunked: bool = False  # Transfer-Encoding: chunked (HTTP/1.1 clients) instead of Content-Length


IDENTITY = Delivery()
# Urdu and Hindi: gzip with Content-Length; Vietnamese: identity, chunked; English: gzip, chunked.
SECTION_DELIVERY = {
    "ur": Delivery(gzip=True),
    "hi": Delivery(gzip=True),
    "vi": Delivery(chunked=True),
    "en": Delivery(gzip=True, chunked=True),
}


@dataclass(frozen=True)
class Block:
    """One block of article text: a paragraph, an in-article subheading or a quoted paragraph."""

    kind: str  # "p", "h2" or "quote"
    text: str
    lang: str | None = None  # html lang of a quote in another language


@dataclass(frozen=True)
class Article:
    article_id: int
    section: str
    expected_languages: tuple[str, ...]
    title: str
    slug: str
    author: str
    published: datetime
    modified: datetime
    description: str
    image_caption: str
    blocks: tuple[Block, ...]
    tags: tuple[str, ...] = ()
    source_url: str | None = None
    summary_bullets: tuple[str, ...] = ()
    since_revision: int = 0
    edits: tuple[dict[str, Any], ...] = ()

    @property
    def path(self) -> str:
        """Unquoted URL path (the Urdu-script slug stays Unicode here)."""
        return f"/{self.section}/news/{self.article_id}-{self.slug}"

    @property
    def quoted_path(self) -> str:
        """The path as it appears in links and on the wire: percent-encoded UTF-8."""
        return quote(self.path, safe="/-")

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(block.text for block in self.blocks)

    def at(self, revision: int) -> Article:
        """This article as published in ``revision`` (edits up to it applied)."""
        blocks = list(self.blocks)
        modified = self.modified
        for edit in self.edits:
            if edit["revision"] <= revision:
                old = blocks[edit["index"]]
                blocks[edit["index"]] = Block(old.kind, edit["text"], old.lang)
                modified = datetime.fromisoformat(edit["modified"])
        return replace(self, blocks=tuple(blocks), modified=modified, edits=())


@dataclass(frozen=True)
class Content:
    site: dict[str, Any]
    chrome: dict[str, dict[str, Any]]
    articles: tuple[Article, ...]  # every article of every revision, unedited

    @property
    def sections(self) -> tuple[str, ...]:
        return tuple(self.site["sections"])

    def articles_at(self, revision: int, section: str | None = None) -> tuple[Article, ...]:
        """Articles published by ``revision``, newest first (the order of index pages and feeds)."""
        chosen = [
            a.at(revision)
            for a in self.articles
            if a.since_revision <= revision and section in (None, a.section)
        ]
        return tuple(sorted(chosen, key=lambda a: (a.published, a.article_id), reverse=True))


def _block(raw: str | dict[str, str]) -> Block:
    if isinstance(raw, str):
        return Block("p", raw)
    if "h2" in raw:
        return Block("h2", raw["h2"])
    return Block("quote", raw["quote"], raw.get("lang"))


def _article(raw: dict[str, Any]) -> Article:
    blocks = tuple(_block(b) for b in raw["body"])
    published = datetime.fromisoformat(raw["date"])
    if published.tzinfo is None:  # naive times would break Last-Modified and 304 comparisons
        raise ValueError(f"article {raw['id']}: date needs a UTC offset: {raw['date']!r}")
    first = next(b.text for b in blocks if b.kind == "p")
    return Article(
        article_id=int(raw["id"]),
        section=raw["section"],
        expected_languages=tuple(raw["expected_languages"]),
        title=raw["title"],
        slug=raw["slug"],
        author=raw["author"],
        published=published,
        modified=datetime.fromisoformat(raw.get("modified", raw["date"])),
        description=raw.get("summary") or _shorten(first, 200),
        image_caption=raw["image_caption"],
        blocks=blocks,
        tags=tuple(raw.get("tags", ())),
        source_url=raw.get("source_url"),
        summary_bullets=tuple(raw.get("summary_bullets", ())),
        since_revision=int(raw.get("since_revision", 0)),
        edits=tuple(raw.get("edits", ())),
    )


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def _load_json(name: str) -> Any:
    return json.loads((CONTENT / name).read_text(encoding="utf-8"))


@functools.cache
def load_content() -> Content:
    """Read ``content/`` once per process (it ships as package data)."""
    site = _load_json("site.json")
    chrome = {code: _load_json(f"chrome/{code}.json") for code in site["sections"]}
    files = sorted(p.name for p in (CONTENT / "articles").iterdir() if p.name.endswith(".json"))
    articles = tuple(_article(_load_json(f"articles/{name}")) for name in files)
    ids = [a.article_id for a in articles]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate article id in demo content")
    return Content(site=site, chrome=chrome, articles=articles)


@dataclass(frozen=True)
class Resource:
    """One servable response: identity body plus what the server needs to send it."""

    status: int
    body: bytes
    content_type: str
    delivery: Delivery = IDENTITY
    last_modified: datetime | None = None
    headers: tuple[tuple[str, str], ...] = ()  # extra headers, e.g. Set-Cookie, Location
    gzip_body: bytes | None = field(default=None, repr=False)
    digest: str = field(default="", repr=False)

    def etag(self, gzipped: bool) -> str:
        """Strong validator: content hash, distinct per content-coding (RFC 9110 §8.8.3)."""
        return f'"{self.digest}-gz"' if gzipped else f'"{self.digest}"'


def make_resource(
    body: str | bytes,
    content_type: str,
    *,
    status: int = 200,
    delivery: Delivery = IDENTITY,
    last_modified: datetime | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Resource:
    data = body.encode("utf-8") if isinstance(body, str) else body
    # mtime=0 keeps the gzip bytes (and so the wire body) identical from run to run.
    packed = gzip.compress(data, compresslevel=6, mtime=0) if delivery.gzip else None
    return Resource(
        status=status,
        body=data,
        content_type=content_type,
        delivery=delivery,
        last_modified=last_modified,
        headers=headers,
        gzip_body=packed,
        digest=hashlib.sha256(data).hexdigest()[:24],
    )


class DemoSite:
    """The page table for one ``(base_url, revision)``; build once, look up per request."""

    def __init__(self, base_url: str, revision: int = 0) -> None:
        if revision < 0:
            raise ValueError(f"revision must be >= 0, got {revision!r}")
        self.base_url = base_url.rstrip("/")
        self.revision = revision
        self.content = load_content()
        self.resources: dict[str, Resource] = {}
        self.boilerplate: dict[int, tuple[str, ...]] = {}
        self._build()
        self.not_found = self._not_found()

    def lookup(self, path: str) -> Resource:
        """Resource at an unquoted path (query and fragment already removed), or the 404 page."""
        return self.resources.get(path, self.not_found)

    # --- building -------------------------------------------------------------------------

    def _build(self) -> None:
        content = self.content
        ctx = {code: self._ctx(code) for code in content.sections}
        base_articles = content.articles_at(0)
        for section in content.sections:
            articles = content.articles_at(self.revision, section)
            for article in articles:
                self._article_page(article, base_articles, ctx[section])
            self._index_pages(section, articles, base_articles, ctx[section])
            self._feed(section, articles)
            self._news_sitemap(section, articles)
        self._site_pages(base_articles)

    def _ctx(self, code: str) -> templates.PageContext:
        content = self.content
        return templates.PageContext(
            chrome=content.chrome[code],
            base_url=self.base_url,
            sections=tuple(
                templates.Link(f"/{s}/", content.chrome[s]["section_name"]) for s in content.sections
            ),
            section=code,
            publisher=content.site["publisher"],
        )

    def _site_modified(self) -> datetime:
        return datetime.fromisoformat(self.content.site["site_modified"])

    def _article_page(self, article: Article, base: tuple[Article, ...], ctx: templates.PageContext) -> None:
        view = templates.ArticleView(
            ctx=ctx,
            article=article,
            related=self._related(article, base),
            trending=self._trending(article.section, base, exclude=article.article_id),
        )
        html = templates.render_article(view)
        self.resources[article.path] = make_resource(
            html,
            HTML,
            delivery=SECTION_DELIVERY[article.section],
            last_modified=article.modified,
        )
        text = "\n".join(article.paragraphs)
        # A string that also occurs in the article text cannot be required to be absent
        # (the seed's third AI-summary bullet repeats a body sentence word for word).
        self.boilerplate[article.article_id] = tuple(
            s for s in dict.fromkeys(templates.article_boilerplate(view)) if s not in text
        )
        svg = templates.render_svg(article.title, article.section)
        self.resources[f"/static/img/{article.article_id}.svg"] = make_resource(
            svg, SVG, last_modified=article.published
        )

    def _related(self, article: Article, base: tuple[Article, ...]) -> tuple[templates.Link, ...]:
        """Up to three other revision-0 articles of the same section, tracking params on some."""
        others = [a for a in base if a.section == article.section and a.article_id != article.article_id]
        decorations = ("", "?utm_source=related&utm_medium=web", "#comments")
        return tuple(
            templates.Link(a.quoted_path + deco, a.title)
            for a, deco in zip(others[:3], decorations, strict=False)
        )

    def _trending(
        self, section: str, base: tuple[Article, ...], exclude: int | None = None
    ) -> tuple[templates.Link, ...]:
        """Newest revision-0 article of every section (cross-language 'most read' box)."""
        links = []
        for i, code in enumerate(self.content.sections):
            candidates = [a for a in base if a.section == code and a.article_id != exclude]
            if not candidates:
                continue
            pick = candidates[0]
            query = f"?utm_source=trending&utm_medium=sidebar&utm_campaign={section}"
            if i % 2:
                query += "#top"
            links.append(templates.Link(pick.quoted_path + query, pick.title))
        return tuple(links)

    def _index_pages(
        self,
        section: str,
        articles: tuple[Article, ...],
        base: tuple[Article, ...],
        ctx: templates.PageContext,
    ) -> None:
        per_page = int(self.content.site["articles_per_page"])
        pages = [articles[i : i + per_page] for i in range(0, len(articles), per_page)] or [()]
        newest = max(a.modified for a in articles) if articles else self._site_modified()
        for number, page_articles in enumerate(pages, start=1):
            view = templates.IndexView(
                ctx=ctx,
                articles=page_articles,
                page=number,
                pages=len(pages),
                trending=self._trending(section, base),
                picks=self._old_link_picks(section, base) if number == 1 else (),
            )
            self.resources[templates.index_path(section, number)] = make_resource(
                templates.render_index(view),
                HTML,
                delivery=SECTION_DELIVERY[section],
                last_modified=newest,
            )

    def _old_link_picks(self, section: str, base: tuple[Article, ...]) -> tuple[templates.Link, ...]:
        """Links to the section's old (redirecting) URLs, titled after their targets."""
        by_id = {a.article_id: a for a in base}
        return tuple(
            templates.Link(old, by_id[article_id].title)
            for old, article_id in self.content.site["old_links"].items()
            if by_id[article_id].section == section
        )

    def _feed(self, section: str, articles: tuple[Article, ...]) -> None:
        view = templates.FeedView(ctx=self._ctx(section), articles=articles)
        renderer, ctype = {
            "ur": (templates.render_rss2, RSS),
            "hi": (templates.render_rss2, RSS),
            "vi": (templates.render_rdf, RDF),
            "en": (templates.render_atom, ATOM),
        }[section]
        self.resources[templates.feed_path(section)] = make_resource(
            renderer(view),
            ctype,
            delivery=SECTION_DELIVERY[section],
            last_modified=view.updated,
        )

    def _news_sitemap(self, section: str, articles: tuple[Article, ...]) -> None:
        view = templates.FeedView(ctx=self._ctx(section), articles=articles)
        self.resources[f"/sitemaps/news-{section}.xml"] = make_resource(
            templates.render_news_sitemap(view), XML, last_modified=view.updated
        )

    def _site_pages(self, base: tuple[Article, ...]) -> None:
        content = self.content
        site = content.site
        en = self._ctx("en")
        modified = self._site_modified()
        top = []
        for code in content.sections:
            newest = [a for a in base if a.section == code][:2]
            stories = tuple(
                templates.Link(a.quoted_path + ("?utm_source=home&utm_medium=top" * (i == 0)), a.title)
                for i, a in enumerate(newest)
            )
            top.append((templates.Link(f"/{code}/", content.chrome[code]["section_name"]), stories))
        cookies = tuple(("Set-Cookie", c) for c in site["cookies"])
        home = templates.render_home(en, site["home"], tuple(top), self._trending("en", base))
        self.resources["/"] = make_resource(home, HTML, last_modified=modified, headers=cookies)
        for path, page in site["pages"].items():
            html = templates.render_static(en, path, page)
            self.resources[path] = make_resource(html, HTML, last_modified=modified)
        self.resources["/robots.txt"] = make_resource(
            templates.render_robots(self.base_url, content.sections), TEXT, last_modified=modified
        )
        self.resources["/static/img/logo.svg"] = make_resource(
            templates.render_svg(site["publisher"], "logo"), SVG, last_modified=modified
        )
        sitemaps = []
        for code in content.sections:
            res = self.resources[f"/sitemaps/news-{code}.xml"]
            sitemaps.append((f"/sitemaps/news-{code}.xml", res.last_modified or modified))
        self.resources["/sitemap.xml"] = make_resource(
            templates.render_sitemap_index(self.base_url, sitemaps),
            XML,
            last_modified=max(m for _, m in sitemaps),
        )
        by_id = {a.article_id: a for a in content.articles_at(self.revision)}
        for old, article_id in site["old_links"].items():
            target = by_id[article_id].path
            # The Location value is the raw UTF-8 path, not percent-encoded: some CMSs do this,
            # and crawlers and replay tools must cope (the server writes it as UTF-8 bytes).
            self.resources[old] = make_resource(
                templates.render_moved(en, target),
                HTML,
                status=301,
                headers=(("Location", target),),
            )

    def _not_found(self) -> Resource:
        en = self._ctx("en")
        return make_resource(templates.render_not_found(en, self.content.site), HTML, status=404)


@functools.lru_cache(maxsize=8)
def build_site(base_url: str, revision: int = 0) -> DemoSite:
    """Cached :class:`DemoSite`; the server calls this per request, so it must be cheap after once."""
    return DemoSite(base_url, revision)
