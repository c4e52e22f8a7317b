"""The benchmark's news site: thousands of article pages of 40–150 kB, pre-gzipped, as static files.

Real news pages are mostly not article: a 3 kB story sits in 80 kB of menus, inline CSS,
analytics and ad scripts, a ``__NEXT_DATA__`` state blob, "related" grids and a link-heavy
footer. Extraction cost grows with all of it, so a benchmark on small pages flatters the
pipeline. Each page here is the demo site's article template (:mod:`crawler.demo.templates`,
with its cookie banner, share bar, AI-summary box, "read also" line…) around article text
drawn from the demo content of its language (paragraphs shuffled, some repeated), inflated with
the blobs of ``performance-findings.md`` §1 to a size between 40 and 150 kB.

Everything is deterministic for a given ``(pages, seed)``: the same bytes on every machine, so
runs compare. Pages are written once and cached (``site.json`` holds the parameters); the
sitemaps depend on the server's address and are written per run by :func:`write_sitemaps`.

URL space: ``/{lang}/news/{id}-{slug}`` for cycle 0; for runs longer than the page set
(the 100,000-page memory run) cycle ``k >= 1`` is ``/c{k}/{lang}/news/{id}-{slug}``, which the
server maps back to the same file, so every URL is distinct while the files are reused.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import shutil
import statistics
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from crawler.demo import templates
from crawler.demo.site import Article, Block, load_content

GENERATOR_VERSION = 4
#: Share of each language among the pages (as in the research harness: ur, hi, en, vi).
LANGUAGE_WEIGHTS = {"ur": 0.345, "hi": 0.245, "en": 0.215, "vi": 0.195}
MIN_BYTES = 40_000
MAX_BYTES = 150_000
#: Canonical/OpenGraph URLs point at the "production" host, as on a real site; links are root-relative.
CANONICAL_BASE = "https://www.example-news.test"
SITEMAP_CHUNK = 1000  # URLs per child sitemap (news sitemaps hold at most 1000)
CYCLE_PREFIX = "/c"


@dataclass(frozen=True, slots=True)
class PageInfo:
    path: str  # percent-encoded URL path of cycle 0
    lang: str
    file: str  # relative to the site directory (unquoted, UTF-8 file name)
    size: int
    gz_size: int


@dataclass(frozen=True, slots=True)
class SiteInfo:
    root: Path
    pages: list[PageInfo]
    params: dict[str, Any]

    def urls(self, base: str, cycles: int = 1, limit: int | None = None) -> list[str]:
        """Distinct article URLs: every page once per cycle, cycle 0 first."""
        out: list[str] = []
        for cycle in range(cycles):
            prefix = "" if cycle == 0 else f"{CYCLE_PREFIX}{cycle}"
            for page in self.pages:
                out.append(f"{base}{prefix}{page.path}")
                if limit is not None and len(out) >= limit:
                    return out
        return out

    def summary(self) -> dict[str, Any]:
        sizes = [p.size for p in self.pages]
        gz = [p.gz_size for p in self.pages]
        langs: dict[str, int] = {}
        for p in self.pages:
            langs[p.lang] = langs.get(p.lang, 0) + 1
        return {
            "pages": len(self.pages),
            "languages": dict(sorted(langs.items())),
            "bytes_min": min(sizes),
            "bytes_median": statistics.median(sizes),
            "bytes_mean": round(statistics.mean(sizes)),
            "bytes_max": max(sizes),
            "gzip_bytes_mean": round(statistics.mean(gz)),
            "gzip_ratio": round(sum(sizes) / sum(gz), 2),
            "generator_version": GENERATOR_VERSION,
            "seed": self.params["seed"],
        }


def build_site(root: Path, pages: int, seed: int = 7) -> SiteInfo:
    """Write (or reuse) the page files under ``root``; returns what is there."""
    params = {"pages": pages, "seed": seed, "version": GENERATOR_VERSION}
    meta = root / "site.json"
    if meta.is_file():
        data = json.loads(meta.read_text(encoding="utf-8"))
        if data.get("params") == params:
            return SiteInfo(root, [PageInfo(**p) for p in data["pages"]], params)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    generator = _Generator(seed)
    infos = []
    for index in range(pages):
        lang, path, html = generator.page(index, pages)
        file = path.lstrip("/")
        data = html.encode("utf-8")
        packed = gzip.compress(data, compresslevel=6, mtime=0)
        target = root / file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.with_name(target.name + ".gz").write_bytes(packed)
        infos.append(PageInfo(quote(path, safe="/-"), lang, file, len(data), len(packed)))
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /search\n", encoding="utf-8")
    meta.write_text(
        json.dumps({"params": params, "pages": [asdict(p) for p in infos]}, ensure_ascii=False),
        encoding="utf-8",
    )
    return SiteInfo(root, infos, params)


def write_sitemaps(site: SiteInfo, base: str, *, name: str, cycles: int = 1, limit: int | None = None) -> str:
    """A sitemap index ``/{name}.xml`` over child sitemaps of the URL space; returns its URL."""
    urls = site.urls(base, cycles, limit)
    folder = site.root / "sitemaps"
    folder.mkdir(exist_ok=True)
    for old in folder.glob(f"{name}-*.xml*"):
        old.unlink()
    children = []
    lastmod = "2026-11-20T08:00:00+00:00"
    for number, start in enumerate(range(0, len(urls), SITEMAP_CHUNK)):
        entries = "\n".join(
            f"<url><loc>{escape(u)}</loc><lastmod>{lastmod}</lastmod></url>"
            for u in urls[start : start + SITEMAP_CHUNK]
        )
        child = f"sitemaps/{name}-{number:04d}.xml"
        _write_xml(
            site.root / child,
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="{templates.SITEMAP_NS}">\n{entries}\n</urlset>\n',
        )
        children.append(f"<sitemap><loc>{base}/{child}</loc><lastmod>{lastmod}</lastmod></sitemap>")
    _write_xml(
        site.root / f"{name}.xml",
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="{templates.SITEMAP_NS}">\n' + "\n".join(children) + "\n</sitemapindex>\n",
    )
    return f"{base}/{name}.xml"


def _state_blob(article_id: int, entries: list[str]) -> str:
    """The ``__NEXT_DATA__`` JSON state of a React news front end, with its feed of teasers."""
    shell = json.dumps({"props": {"pageProps": {"articleId": article_id, "feed": "__FEED__"}}})
    blob = shell.replace('"__FEED__"', "[" + ",".join(entries) + "]")
    return f'<script id="__NEXT_DATA__" type="application/json">{blob}</script>'


def _write_xml(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    path.write_bytes(data)
    path.with_name(path.name + ".gz").write_bytes(gzip.compress(data, compresslevel=6, mtime=0))


class _Generator:
    """Renders page ``index`` of ``total``; all randomness comes from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.content = load_content()
        self.by_lang: dict[str, list[Article]] = {}
        for article in self.content.articles:
            self.by_lang.setdefault(article.section, []).append(article)
        self.blocks = {
            lang: [b for a in arts for b in a.blocks if b.kind in ("p", "quote", "h2")]
            for lang, arts in self.by_lang.items()
        }
        words = [
            "nav",
            "card",
            "item",
            "meta",
            "head",
            "body",
            "grid",
            "col",
            "row",
            "wrap",
            "link",
            "icon",
            "btn",
            "list",
            "title",
            "img",
            "ad",
            "slot",
            "box",
            "sticky",
            "top",
        ]
        self.menus: dict[str, list[tuple[str, str]]] = {}
        self.tokens = [
            f"{a}-{b}{i % 7 or ''}" for i, (a, b) in enumerate(zip(words * 20, words[3:] * 21, strict=False))
        ][:400]
        self.langs = list(LANGUAGE_WEIGHTS)
        self.weights = list(LANGUAGE_WEIGHTS.values())
        self.planned: list[tuple[str, int, Article]] = []
        self.contexts = {
            lang: templates.PageContext(
                chrome=self.content.chrome[lang],
                base_url=CANONICAL_BASE,
                sections=tuple(
                    templates.Link(f"/{s}/", self.content.chrome[s]["section_name"])
                    for s in self.content.sections
                ),
                section=lang,
                publisher=self.content.site["publisher"],
            )
            for lang in self.content.sections
        }

    def _plan(self, total: int) -> None:
        """Language, id and template article of every page, decided up front so pages can link."""
        plan_rng = random.Random(self.rng.random())
        for index in range(total):
            lang = plan_rng.choices(self.langs, self.weights)[0]
            source = plan_rng.choice(self.by_lang[lang])
            self.planned.append((lang, 500_000 + index, source))

    def _path(self, index: int) -> str:
        lang, article_id, source = self.planned[index]
        return f"/{lang}/news/{article_id}-{source.slug}"

    def page(self, index: int, total: int) -> tuple[str, str, str]:
        if not self.planned:
            self._plan(total)
        rng = self.rng
        lang, article_id, source = self.planned[index]
        pool = self.blocks[lang]
        count = rng.randint(4, 25)
        chosen = rng.sample(pool, min(count, len(pool)))
        chosen += [rng.choice(pool) for _ in range(min(rng.randint(0, 6), max(0, count - len(chosen)) + 3))]
        rng.shuffle(chosen)
        while chosen and chosen[0].kind != "p":  # the lead is always a paragraph
            chosen.append(chosen.pop(0))
        published = datetime(2026, 11, 20, 6, 0, tzinfo=UTC) - timedelta(minutes=7 * index)
        article = Article(
            article_id=article_id,
            section=lang,
            expected_languages=source.expected_languages,
            title=source.title,
            slug=source.slug,
            author=source.author,
            published=published,
            modified=published + timedelta(minutes=rng.choice((0, 0, 25, 90))),
            description=source.description,
            image_caption=source.image_caption,
            blocks=tuple(Block(b.kind, b.text, b.lang) for b in chosen),
            tags=source.tags,
            source_url=source.source_url,
            summary_bullets=source.summary_bullets if rng.random() < 0.5 else (),
        )
        same = [i for i in rng.sample(range(total), min(total, 40)) if self.planned[i][0] == lang]
        related = tuple(
            templates.Link(quote(self._path(i), safe="/-"), self.planned[i][2].title) for i in same[:3]
        )
        trending = tuple(
            templates.Link(quote(self._path(i), safe="/-") + "?utm_source=trending", self.planned[i][2].title)
            for i in rng.sample(range(total), min(total, 4))
        )
        view = templates.ArticleView(
            ctx=self.contexts[lang], article=article, related=related, trending=trending
        )
        html = templates.render_article(view)
        html = self._inflate(html, lang, index, total, article)
        return lang, self._path(index), html

    # --- the boilerplate real sites carry ------------------------------------------------------
    def _inflate(self, html: str, lang: str, index: int, total: int, article: Article) -> str:
        rng = self.rng
        base = len(html.encode("utf-8"))
        target = int(rng.triangular(MIN_BYTES, MAX_BYTES, 75_000))
        counts = {
            "preload": rng.randint(4, 12),
            "css": rng.randint(40, 220),
            "scripts": rng.randint(8, 60),
            "nav": rng.randint(40, 130),
            "grid": rng.randint(12, 48),
            "trending": rng.randint(8, 20),
            "footer": rng.randint(60, 160),
        }
        parts = self._parts(counts, lang, index, total)
        fixed = base + sum(len(v.encode("utf-8")) for v in parts.values())
        budget = target - base - 8_000  # leave room for a small state blob
        if fixed - base > budget > 0:  # a small page: fewer of everything, in proportion
            scale = budget / (fixed - base)
            counts = {k: max(2, int(v * scale)) for k, v in counts.items()}
            parts = self._parts(counts, lang, index, total)
        fixed = base + sum(len(v.encode("utf-8")) for v in parts.values())
        entries: list[str] = []
        size = fixed
        # The state blob grows until the page reaches its target size (at least 10 entries).
        while len(entries) < 3 or (size < target and len(entries) < 200):
            entry = self._feed_entry(lang, index, total)
            entries.append(entry)
            size += len(entry.encode("utf-8")) + 1
        head = parts["preload"] + "\n<style>\n" + parts["css"] + "\n</style>\n" + parts["scripts"]
        html = html.replace("</head>", head + "\n</head>", 1)
        html = html.replace(
            '<div class="ad-slot ad-leaderboard"', parts["nav"] + '\n<div class="ad-slot ad-leaderboard"', 1
        )
        html = html.replace("</main>", parts["grid"] + "\n" + parts["trending"] + "\n</main>", 1)
        html = html.replace("</footer>", parts["footer"] + "\n</footer>", 1)
        while True:
            page = html.replace("</body>", _state_blob(article.article_id, entries) + "\n</body>", 1)
            if len(page.encode("utf-8")) <= MAX_BYTES or len(entries) <= 1:
                break
            entries = entries[: -max(1, len(entries) // 8)]  # trim the blob, never the article
        while len(page.encode("utf-8")) < MIN_BYTES:
            page = page.replace("</style>", self._css(40) + "\n</style>", 1)
        return page

    def _parts(self, counts: dict[str, int], lang: str, index: int, total: int) -> dict[str, str]:
        return {
            "preload": self._preloads(counts["preload"]),
            "css": self._css(counts["css"]),
            "scripts": self._scripts(counts["scripts"], lang),
            "nav": self._mega_menu(lang, counts["nav"]),
            "grid": self._related_grid(lang, index, total, counts["grid"]),
            "trending": self._trending(index, total, counts["trending"]),
            "footer": self._footer_links(lang, counts["footer"]),
        }

    def _hash(self, n: int = 8) -> str:
        """An identifier from a site-wide vocabulary (real bundles reuse their class and slot names)."""
        return self.tokens[self.rng.randrange(len(self.tokens))][:n]

    def _unique(self, n: int = 12) -> str:
        return hashlib.md5(str(self.rng.random()).encode()).hexdigest()[:n]

    def _preloads(self, n: int) -> str:
        out = []
        for _ in range(n):
            kind = self.rng.choice(("script", "style", "font", "image"))
            ext = {"script": "js", "style": "css", "font": "woff2", "image": "webp"}[kind]
            extra = ' type="font/woff2" crossorigin' if kind == "font" else ""
            out.append(
                f'<link rel="preload" href="/static/{ext}/{self._unique(12)}.{ext}" as="{kind}"{extra}>'
            )
        return "\n".join(out)

    def _css(self, n: int) -> str:
        rng = self.rng
        props = (
            "margin:0 auto",
            "padding:{}px {}px",
            "color:#{}",
            "background:#{}",
            "font:{}px/1.{} var(--font-{})",
            "border-bottom:1px solid #{}",
            "display:grid;grid-template-columns:repeat({},minmax(0,1fr))",
            "transition:opacity .{}s ease-in-out",
            "z-index:{}",
        )
        out = []
        for _ in range(n):
            chosen = rng.sample(props, rng.randint(2, 5))
            body = ";".join(
                p.format(*(self._hash(6) if "#" in p else rng.randint(1, 48) for _ in range(p.count("{}"))))
                for p in chosen
            )
            out.append(f".c-{self._hash(6)} .x-{self._hash(4)}>.{self._hash(5)}{{{body}}}")
        return "\n".join(out)

    def _scripts(self, n: int, lang: str) -> str:
        rng = self.rng
        out = []
        for i in range(n):
            kind = rng.randrange(3)
            if kind == 0:
                sizes = ",".join(
                    f"[{w},{h}]"
                    for w, h in rng.sample([(728, 90), (970, 250), (300, 250), (320, 50), (300, 600)], 3)
                )
                out.append(
                    "<script>window.googletag=window.googletag||{cmd:[]};googletag.cmd.push(function(){"
                    f"googletag.defineSlot('/21{rng.randint(100000, 999999)}/news_{lang}/{self._hash(6)}',"
                    f"[{sizes}],'div-gpt-ad-{self._hash(13)}-{i}').setTargeting('pos','{rng.choice(['atf', 'btf', 'mid'])}')"
                    ".setTargeting('section','" + lang + "').addService(googletag.pubads());"
                    "googletag.pubads().enableSingleRequest();googletag.enableServices();});</script>"
                )
            elif kind == 1:
                fields = ",".join(
                    f'"{k}":"{self._hash(rng.randint(6, 24))}"'
                    for k in rng.sample(
                        [
                            "event",
                            "pageType",
                            "author",
                            "cd1",
                            "cd2",
                            "cd3",
                            "uid",
                            "ab",
                            "variant",
                            "segment",
                        ],
                        6,
                    )
                )
                out.append(
                    f"<script>window.dataLayer=window.dataLayer||[];dataLayer.push({{{fields}}});</script>"
                )
            else:
                body = ";".join(
                    f"var _{self._hash(3)}=function(e,t){{return e&&t?e['{self._hash(5)}']({rng.randint(1, 999)}):null}}"
                    for _ in range(rng.randint(3, 10))
                )
                out.append(f"<script>(function(w,d){{{body};w.__q{i}=1}})(window,document);</script>")
        return "\n".join(out)

    def _mega_menu(self, lang: str, n: int) -> str:
        """The site's topic menu: the same entries on every page of a language, as on real sites."""
        chrome = self.content.chrome[lang]
        if lang not in self.menus:
            words = [w for b in self.blocks[lang][:8] for w in b.text.split()[:12] if len(w) > 3]
            menu_rng = random.Random(f"menu-{lang}")
            self.menus[lang] = [
                (f"/{lang}/topic/{i}-{self.tokens[i]}/", " ".join(menu_rng.sample(words, 2)))
                for i in range(130)
            ]
        items = "".join(
            f'<li><a href="{href}">{escape(label)}</a></li>' for href, label in self.menus[lang][:n]
        )
        return (
            f'<nav class="mega-menu" aria-label="{escape(chrome["nav"]["menu"])}">'
            f'<ul class="mega-cols">{items}</ul></nav>'
        )

    def _related_grid(self, lang: str, index: int, total: int, n: int) -> str:
        cards = []
        for i in self.rng.sample(range(total), min(n, total)):
            other_lang, _, source = self.planned[i]
            teaser = self.rng.choice(self.blocks[other_lang]).text[:140]
            cards.append(
                f'<li class="card card-{self._hash(4)}"><a href="{escape(quote(self._path(i), safe="/-"))}">'
                f'<img src="/static/img/thumb-{self._unique(8)}.webp" alt="" loading="lazy" width="320" height="180">'
                f'<h3>{escape(source.title)}</h3></a><p class="teaser">{escape(teaser)}…</p></li>'
            )
        return f'<section class="more-stories"><h2>{escape(self.content.chrome[lang]["latest"])}</h2><ul class="grid">{"".join(cards)}</ul></section>'

    def _trending(self, index: int, total: int, n: int) -> str:
        items = "".join(
            f'<li><a href="{escape(quote(self._path(i), safe="/-"))}?utm_source=most-read">{escape(self.planned[i][2].title)}</a></li>'
            for i in self.rng.sample(range(total), min(n, total))
        )
        return f'<aside class="most-read"><ol>{items}</ol></aside>'

    def _footer_links(self, lang: str, n: int) -> str:
        words = (
            "archive",
            "epaper",
            "podcast",
            "video",
            "live",
            "weather",
            "markets",
            "sport",
            "opinion",
            "jobs",
        )
        items = "".join(
            f'<li><a href="/{lang}/{words[i % len(words)]}/{i}/">{escape(self.content.chrome[lang]["section_name"])} {i}</a></li>'
            for i in range(n)
        )
        return f'<div class="footer-mega"><ul>{items}</ul></div>'

    def _feed_entry(self, lang: str, index: int, total: int) -> str:
        rng = self.rng
        i = rng.randrange(total)
        other_lang, article_id, source = self.planned[i]
        return json.dumps(
            {
                "id": article_id,
                "href": quote(self._path(i), safe="/-"),
                "title": source.title,
                "excerpt": rng.choice(self.blocks[other_lang]).text[:220],
                "image": {"src": f"/static/img/{self._unique(10)}.webp", "w": 640, "h": 360},
                "author": source.author,
                "section": other_lang,
                "ts": 1_763_600_000 + rng.randint(0, 900_000),
                "tracking": {"pos": rng.randint(1, 200), "list": "feed", "exp": self._hash(6)},
            },
            ensure_ascii=False,
        ).replace("</", "<\\/")
