"""HTML and XML renderers for the demo site: pure functions from view data to text.

The article template is the point of the demo. Around a few paragraphs of real or realistic text
it places the boilerplate that news sites put there and that text extraction has to remove:
cookie banner, menus, breadcrumb, share bar, advertisement labels, comment counters, per-language
widgets copied from the seed pages (the Hindi AI-summary box, "Read Time", "यह भी पढ़ें:", the
Urdu trailing source line), related and trending link lists, a newsletter box and a footer.
:func:`article_boilerplate` lists exactly those strings, so tests can check an extractor.
Several links carry ``utm_*`` parameters or fragments to exercise URL canonicalisation.

No renderer reads files, clocks or randomness; the same views always give the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from collections.abc import Iterable

    from crawler.demo.site import Article

FEED_PATHS = {"ur": "/feeds/ur.xml", "hi": "/feeds/hi.xml", "vi": "/feeds/vi.rdf", "en": "/feeds/en.atom"}
FEED_TYPES = {
    "ur": "application/rss+xml",
    "hi": "application/rss+xml",
    "vi": "application/rdf+xml",
    "en": "application/atom+xml",
}
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


@dataclass(frozen=True)
class Link:
    href: str  # as written in the page: root-relative, percent-encoded, maybe with query/fragment
    text: str


@dataclass(frozen=True)
class PageContext:
    """What every page of one language shares: UI strings, menus, base URL."""

    chrome: dict[str, Any]
    base_url: str
    sections: tuple[Link, ...]
    section: str
    publisher: str

    @property
    def lang(self) -> str:
        return str(self.chrome["html_lang"])


@dataclass(frozen=True)
class ArticleView:
    ctx: PageContext
    article: Article
    related: tuple[Link, ...]
    trending: tuple[Link, ...]

    @property
    def read_also(self) -> Link | None:
        """The in-body "read also" link: the first related article, undecorated."""
        if "read_also" not in self.ctx.chrome or not self.related:
            return None
        first = self.related[0]
        return Link(first.href.split("?")[0].split("#")[0], first.text)


@dataclass(frozen=True)
class IndexView:
    ctx: PageContext
    articles: tuple[Article, ...]
    page: int
    pages: int
    trending: tuple[Link, ...]
    picks: tuple[Link, ...] = ()  # e.g. an old URL that now redirects (so crawls meet the 301)


@dataclass(frozen=True)
class FeedView:
    ctx: PageContext
    articles: tuple[Article, ...]

    @property
    def updated(self) -> datetime:
        return max(a.modified for a in self.articles)


def index_path(section: str, page: int) -> str:
    return f"/{section}/" if page == 1 else f"/{section}/page/{page}/"


def feed_path(section: str) -> str:
    return FEED_PATHS[section]


def format_date(when: datetime, chrome: dict[str, Any]) -> str:
    return str(chrome["date_format"]).format(
        day=when.day,
        month=when.month,
        month_name=chrome["months"][when.month - 1],
        year=when.year,
        hour=when.hour,
        minute=when.minute,
    )


def read_time_minutes(article: Article) -> int:
    words = sum(len(text.split()) for text in article.paragraphs)
    return max(1, round(words / 200))


def read_time(article: Article, chrome: dict[str, Any]) -> str:
    """The "Read Time: N mins" line of the seed's Hindi site (singular for one minute)."""
    minutes = read_time_minutes(article)
    forms = chrome["read_time"]
    return str(forms["one"] if minutes == 1 else forms["other"]).format(minutes=minutes)


# --- boilerplate inventory ------------------------------------------------------------------


def article_boilerplate(view: ArticleView) -> list[str]:
    """Every distinctive non-article string the article template puts on this page."""
    chrome = view.ctx.chrome
    article = view.article
    strings = [
        chrome["cookie"]["text"],
        chrome["tagline"],
        chrome["ad_label"],
        chrome["share"]["label"],
        chrome["comments"],
        chrome["comments_prompt"],
        chrome["related"],
        chrome["trending"],
        chrome["newsletter"]["title"],
        chrome["newsletter"]["text"],
        chrome["footer"]["copyright"],
        article.image_caption,
    ]
    strings += [link.text for link in view.related + view.trending]
    if "source_prefix" in chrome and article.source_url:
        strings.append(f"{chrome['source_prefix']} {article.source_url}")
    if "read_time" in chrome:
        strings.append(read_time(article, chrome))
    if "ai_summary" in chrome and article.summary_bullets:
        box = chrome["ai_summary"]
        strings += [box["title"], box["disclaimer"], box["question"], box["feedback"]]
        strings += list(article.summary_bullets)
    if view.read_also is not None:
        strings += [chrome["read_also"], view.read_also.text]
    if "featured_video" in chrome:
        strings += [chrome["featured_video"]["label"], chrome["featured_video"]["title"]]
    return strings


# --- shared page frame ----------------------------------------------------------------------

_CSS = """
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font:16px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;
color:#1a1a1a;background:#fff}
[dir=rtl] body,[lang=ur]{font-family:"Noto Nastaliq Urdu","Jameel Noori Nastaleeq",serif;
line-height:2.1}
a{color:#0b4f9c;text-decoration:none}a:hover{text-decoration:underline}
.cookie-banner{position:fixed;inset:auto 0 0 0;z-index:50;display:flex;gap:1rem;align-items:center;
padding:1rem 2rem;background:#222;color:#fff}
.cookie-banner button{padding:.4rem 1rem;border:0;border-radius:3px;cursor:pointer}
.site-header{border-bottom:3px solid #b00}
.brand{display:flex;align-items:center;gap:1rem;padding:1rem 2rem}
.tagline{color:#666;font-size:.9rem;margin:0}
.main-nav{display:flex;justify-content:space-between;padding:0 2rem;background:#b00}
.main-nav .menu{display:flex;gap:1.2rem;list-style:none;margin:0;padding:.6rem 0}
.main-nav a{color:#fff;font-weight:600}.menu-toggle{display:none}
.search input{padding:.3rem .5rem;border:0}
.ad-slot{display:flex;align-items:center;justify-content:center;min-height:90px;margin:1rem auto;
background:#f3f3f3;color:#999;font-size:.75rem;text-transform:uppercase}
.ad-leaderboard{max-width:728px}.ad-sidebar{min-height:250px}.ad-inarticle{min-height:250px}
.layout{display:grid;grid-template-columns:minmax(0,1fr) 300px;gap:2rem;max-width:1200px;
margin:0 auto;padding:1rem 2rem}
.breadcrumb ol{display:flex;gap:.5rem;list-style:none;padding:0;font-size:.85rem}
.breadcrumb li+li::before{content:"›";margin-inline-end:.5rem;color:#999}
.headline{font-size:2.2rem;line-height:1.25;margin:.5rem 0}
.byline{color:#555;font-size:.9rem;display:flex;flex-wrap:wrap;gap:.8rem}
.share-bar{display:flex;gap:.5rem;margin:1rem 0}
.share-bar button,.share-bar a{padding:.3rem .7rem;border:1px solid #ccc;border-radius:3px;
background:#fff}
.lead-image img{width:100%;height:auto;background:#ddd}
.lead-image figcaption{font-size:.85rem;color:#666}
.read-time{font-size:.8rem;color:#777}
.ai-summary{border:1px solid #e0c060;background:#fffbea;padding:1rem;margin:1rem 0}
.ai-summary h2{font-size:1.1rem;margin:0}.ai-disclaimer{font-size:.75rem;color:#777}
.article-body p{margin:0 0 1.2rem}.article-body h2{font-size:1.4rem}
.article-body blockquote{margin:1rem 0;padding-inline-start:1rem;border-inline-start:4px solid #b00;
font-style:italic}
.read-also{font-weight:600}.source-line{font-size:.85rem;color:#666}
.featured-video{background:#111;color:#fff;padding:1rem;margin:1.5rem 0}
.tags ul{display:flex;gap:.5rem;list-style:none;padding:0}
.tags li{background:#eee;padding:.1rem .6rem;border-radius:2px}
.comments{border-top:1px solid #ddd;margin-top:2rem;padding-top:1rem}
.related ul{display:grid;grid-template-columns:repeat(3,1fr);gap:1rem;list-style:none;padding:0}
.sidebar .trending ol{padding-inline-start:1.2rem}.sidebar .trending li{margin-bottom:.6rem}
.article-list{list-style:none;padding:0}
.card{border-bottom:1px solid #eee;padding:1rem 0}
.card h2{margin:0;font-size:1.3rem}
.pagination{display:flex;gap:1rem;align-items:center;margin:2rem 0}
.pagination ol{display:flex;gap:.5rem;list-style:none;padding:0}
.newsletter{max-width:1200px;margin:2rem auto;padding:1.5rem 2rem;background:#f7f1e8}
.site-footer{background:#1d1d1d;color:#bbb;padding:2rem}.site-footer a{color:#ddd}
.footer-cols{display:grid;grid-template-columns:repeat(3,1fr);gap:2rem}
.footer-cols ul{list-style:none;padding:0}
.copyright{font-size:.8rem;margin-top:2rem}
@media (max-width:800px){
.layout{grid-template-columns:1fr}.menu-toggle{display:block}.main-nav .menu{display:none}
}
""".strip()

_ANALYTICS = """
window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}
gtag('js',new Date());gtag('config','DEMO-0000000',{anonymize_ip:true,send_page_view:false});
(function(w,d){w.__consent=d.cookie.indexOf('dn_consent=granted')>-1;})(window,document);
""".strip()

_AD_LOADER = """
(function(){var slots=document.querySelectorAll('.ad-slot');for(var i=0;i<slots.length;i++){
slots[i].setAttribute('data-loaded','0');}
document.querySelectorAll('.cookie-banner button').forEach(function(b){b.addEventListener('click',
function(){document.cookie='dn_consent='+(b.dataset.consent==='all'?'granted':'custom')+';path=/';
document.getElementById('cookie-consent').remove();});});})();
""".strip()


def _json_ld(data: dict[str, Any]) -> str:
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return '<script type="application/ld+json">\n' + text.replace("</", "<\\/") + "\n</script>"


def _ad(chrome: dict[str, Any], slot: str) -> str:
    return (
        f'<div class="ad-slot ad-{slot}" data-ad-slot="{slot}" aria-hidden="true">'
        f'<span class="ad-label">{escape(chrome["ad_label"])}</span></div>'
    )


def _links(links: Iterable[Link], tag: str = "ul", cls: str = "") -> str:
    items = "".join(f'<li><a href="{escape(ln.href)}">{escape(ln.text)}</a></li>' for ln in links)
    cls_attr = f' class="{cls}"' if cls else ""
    return f"<{tag}{cls_attr}>{items}</{tag}>"


def _header(ctx: PageContext) -> str:
    c = ctx.chrome
    nav = c["nav"]
    menu = [Link("/", nav["home"]), *ctx.sections]
    menu += [Link("/about/", nav["about"]), Link("/contact/", nav["contact"])]
    menu += [Link("/privacy/", nav["privacy"])]
    cookie = c["cookie"]
    return f"""<div id="cookie-consent" class="cookie-banner" role="dialog" aria-live="polite">
<p class="cookie-text">{escape(cookie["text"])}</p>
<button type="button" class="btn-accept" data-consent="all">{escape(cookie["accept"])}</button>
<button type="button" class="btn-settings" data-consent="settings">{escape(cookie["settings"])}</button>
</div>
<header class="site-header">
<div class="brand"><a class="logo" href="/" title="{escape(c["site_name"])}">\
<img src="/static/img/logo.svg" alt="{escape(c["site_name"])}" width="180" height="40"></a>
<p class="tagline">{escape(c["tagline"])}</p></div>
<nav class="main-nav" aria-label="{escape(nav["menu"])}">
<button type="button" class="menu-toggle" aria-expanded="false">{escape(nav["menu"])}</button>
{_links(menu, "ul", "menu")}
<form class="search" action="/search" method="get" role="search">\
<input type="search" name="q" placeholder="{escape(nav["search"])}" aria-label="{escape(nav["search"])}">\
<button type="submit">{escape(nav["search"])}</button></form>
</nav>
</header>
{_ad(c, "leaderboard")}"""


def _sidebar(ctx: PageContext, trending: tuple[Link, ...]) -> str:
    c = ctx.chrome
    return f"""<aside class="sidebar">
<section class="trending" id="top">
<h2>{escape(c["trending"])}</h2>
{_links(trending, "ol")}
</section>
{_ad(c, "sidebar")}
</aside>"""


def _footer(ctx: PageContext) -> str:
    c = ctx.chrome
    f = c["footer"]
    nav = c["nav"]
    company = [
        Link("/about/", nav["about"]),
        Link("/contact/", nav["contact"]),
        Link("/privacy/", nav["privacy"]),
        Link("/about/#careers", f["careers"]),
        Link("/contact/#advertise", f["advertise"]),
        Link("/privacy/#terms", f["terms"]),
        Link("/privacy/#cookies", f["cookies"]),
        Link("/private/", f["staff"]),
    ]
    feeds = [Link(FEED_PATHS[s.href.strip("/")], f"{f['feeds']}: {s.text}") for s in ctx.sections]
    feeds.append(Link("/sitemap.xml", f["sitemap"]))
    news = c["newsletter"]
    return f"""<section class="newsletter" id="newsletter">
<h2>{escape(news["title"])}</h2>
<p>{escape(news["text"])}</p>
<form action="/newsletter" method="post"><input type="email" name="email" \
placeholder="{escape(news["placeholder"])}" required> \
<button type="submit">{escape(news["button"])}</button></form>
</section>
<footer class="site-footer">
<div class="footer-cols">
<div><h3>{escape(f["sections"])}</h3>{_links(ctx.sections)}</div>
<div><h3>{escape(f["company"])}</h3>{_links(company)}</div>
<div><h3>{escape(f["feeds"])}</h3>{_links(feeds)}</div>
</div>
<p class="copyright">{escape(f["copyright"])}</p>
</footer>
<script>{_AD_LOADER}</script>"""


def _document(
    ctx: PageContext,
    *,
    title: str,
    description: str,
    canonical: str,
    head: str,
    body_class: str,
    main: str,
) -> str:
    c = ctx.chrome
    feed = FEED_PATHS[ctx.section]
    return f"""<!DOCTYPE html>
<html lang="{escape(ctx.lang)}" dir="{escape(c["dir"])}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<meta name="description" content="{escape(description)}">
<link rel="canonical" href="{escape(ctx.base_url + canonical)}">
<link rel="alternate" type="{FEED_TYPES[ctx.section]}" title="{escape(c["site_name"])} — \
{escape(c["section_name"])}" href="{feed}">
<link rel="icon" type="image/svg+xml" href="/static/img/logo.svg">
{head}
<style>
{_CSS}
</style>
<script>{_ANALYTICS}</script>
</head>
<body class="{body_class}">
{_header(ctx)}
{main}
{_footer(ctx)}
</body>
</html>
"""


def _breadcrumb(ctx: PageContext, *tail: Link | str) -> str:
    nav = ctx.chrome["nav"]
    items = [f'<li><a href="/">{escape(nav["home"])}</a></li>']
    for item in tail:
        if isinstance(item, Link):
            items.append(f'<li><a href="{escape(item.href)}">{escape(item.text)}</a></li>')
        else:
            items.append(f'<li aria-current="page">{escape(item)}</li>')
    return f'<nav class="breadcrumb" aria-label="breadcrumb"><ol>{"".join(items)}</ol></nav>'


# --- article page ---------------------------------------------------------------------------


def _body_blocks(view: ArticleView) -> str:
    chrome = view.ctx.chrome
    article = view.article
    blocks = article.blocks
    ad_after = 1
    read_also_after = min(2, len(blocks) - 2)
    out = []
    for i, block in enumerate(blocks):
        if block.kind == "h2":
            out.append(f"<h2>{escape(block.text)}</h2>")
        elif block.kind == "quote":
            lang = f' lang="{escape(block.lang)}"' if block.lang else ""
            out.append(f"<blockquote{lang}><p>{escape(block.text)}</p></blockquote>")
        else:
            out.append(f"<p>{escape(block.text)}</p>")
        if i == ad_after:
            out.append(_ad(chrome, "inarticle"))
        if i == read_also_after and view.read_also is not None:
            link = view.read_also
            out.append(
                f'<p class="read-also"><strong>{escape(chrome["read_also"])}</strong> '
                f'<a href="{escape(link.href)}">{escape(link.text)}</a></p>'
            )
    if "source_prefix" in chrome and article.source_url:
        # Plain text, as on the seed's site: the URL is not a link, so nothing leaves loopback.
        out.append(
            f'<p class="source-line">{escape(chrome["source_prefix"])} {escape(article.source_url)}</p>'
        )
    return "\n".join(out)


def _ai_summary(view: ArticleView) -> str:
    chrome = view.ctx.chrome
    if "ai_summary" not in chrome or not view.article.summary_bullets:
        return ""
    box = chrome["ai_summary"]
    bullets = "".join(f"<li>{escape(b)}</li>" for b in view.article.summary_bullets)
    return f"""<div class="ai-summary" data-widget="ai-summary">
<h2>{escape(box["title"])}</h2>
<p class="ai-disclaimer">{escape(box["disclaimer"])}</p>
<ul>{bullets}</ul>
<div class="ai-feedback"><p>{escape(box["question"])}</p>\
<button type="button" data-vote="up">👍</button><button type="button" data-vote="down">👎</button>
<a href="#feedback" class="ai-feedback-link">{escape(box["feedback"])}</a></div>
</div>"""


def _featured_video(chrome: dict[str, Any]) -> str:
    if "featured_video" not in chrome:
        return ""
    video = chrome["featured_video"]
    return f"""<section class="featured-video" data-widget="video">
<h3>{escape(video["label"])}</h3>
<div class="video-card"><button type="button" class="play" aria-label="play">▶</button>
<p class="video-title">{escape(video["title"])}</p></div>
</section>"""


def _share_bar(ctx: PageContext, article: Article) -> str:
    share = ctx.chrome["share"]
    url = ctx.base_url + article.quoted_path
    text = quote(f"{article.title} {url}")
    mail = f"mailto:?subject={quote(article.title)}&body={quote(url)}"
    return f"""<div class="share-bar">
<span class="share-label">{escape(share["label"])}</span>
<button type="button" data-share="facebook">Facebook</button>
<button type="button" data-share="x">X</button>
<a class="share-whatsapp" href="whatsapp://send?text={escape(text)}">WhatsApp</a>
<a class="share-email" href="{escape(mail)}">{escape(share["email"])}</a>
<button type="button" data-share="copy">{escape(share["copy"])}</button>
</div>"""


def _article_json_ld(view: ArticleView) -> str:
    ctx = view.ctx
    a = view.article
    url = ctx.base_url + a.quoted_path
    article = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "headline": a.title,
        "description": a.description,
        "inLanguage": ctx.lang,
        "datePublished": a.published.isoformat(),
        "dateModified": a.modified.isoformat(),
        "author": [{"@type": "Person", "name": a.author}],
        "publisher": {
            "@type": "NewsMediaOrganization",
            "name": ctx.publisher,
            "logo": {"@type": "ImageObject", "url": ctx.base_url + "/static/img/logo.svg"},
        },
        "image": [f"{ctx.base_url}/static/img/{a.article_id}.svg"],
        "articleSection": ctx.chrome["section_name"],
        "keywords": list(a.tags),
    }
    crumbs = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": 1,
                "name": ctx.chrome["nav"]["home"],
                "item": ctx.base_url + "/",
            },
            {
                "@type": "ListItem",
                "position": 2,
                "name": ctx.chrome["section_name"],
                "item": f"{ctx.base_url}/{a.section}/",
            },
        ],
    }
    return _json_ld(article) + "\n" + _json_ld(crumbs)


def render_article(view: ArticleView) -> str:
    ctx = view.ctx
    c = ctx.chrome
    a = view.article
    url = ctx.base_url + a.quoted_path
    image = f"{ctx.base_url}/static/img/{a.article_id}.svg"
    state = json.dumps(
        {
            "page": "article",
            "articleId": a.article_id,
            "section": a.section,
            "trending": [{"href": t.href, "title": t.text} for t in view.trending],
        },
        ensure_ascii=False,
    ).replace("</", "<\\/")
    head = f"""<meta name="robots" content="index, follow, max-image-preview:large">
<meta property="og:type" content="article">
<meta property="og:site_name" content="{escape(c["site_name"])}">
<meta property="og:locale" content="{escape(c["locale"])}">
<meta property="og:title" content="{escape(a.title)}">
<meta property="og:description" content="{escape(a.description)}">
<meta property="og:url" content="{escape(url)}">
<meta property="og:image" content="{escape(image)}">
<meta property="article:published_time" content="{a.published.isoformat()}">
<meta property="article:modified_time" content="{a.modified.isoformat()}">
<meta property="article:section" content="{escape(c["section_name"])}">
<meta property="article:author" content="{escape(a.author)}">
{"".join(f'<meta property="article:tag" content="{escape(t)}">' for t in a.tags)}
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:title" content="{escape(a.title)}">
{_article_json_ld(view)}
<script id="__DEMO_STATE__" type="application/json">{state}</script>"""
    updated = ""
    if a.modified != a.published:
        updated = (
            f'<span class="updated">{escape(c["updated_label"])} '
            f'<time datetime="{a.modified.isoformat()}">{escape(format_date(a.modified, c))}</time></span>'
        )
    hindi_top = ""
    if "read_time" in c:
        line = escape(read_time(a, c))
        hindi_top = f'{_ad(c, "top")}\n<div class="read-time">{line}</div>'
    tags = "".join(f"<li>{escape(t)}</li>" for t in a.tags)
    main = f"""<main id="main" class="layout">
<div class="content">
{_breadcrumb(ctx, Link(f"/{a.section}/", c["section_name"]), a.title)}
<article class="article" id="article-{a.article_id}" data-article-id="{a.article_id}">
<header class="article-header">
<h1 class="headline">{escape(a.title)}</h1>
<div class="byline"><span class="author">{escape(c["byline_prefix"])} {escape(a.author)}</span>
<time class="published" datetime="{a.published.isoformat()}">{escape(format_date(a.published, c))}</time>
{updated}<a class="comment-count" href="#comments">{escape(c["comments"])}</a></div>
{_share_bar(ctx, a)}
</header>
{hindi_top}
<figure class="lead-image"><img src="/static/img/{a.article_id}.svg" alt="{escape(a.image_caption)}" \
width="800" height="450"><figcaption>{escape(a.image_caption)}</figcaption></figure>
{_ai_summary(view)}
<div class="article-body">
{_body_blocks(view)}
</div>
{_featured_video(c)}
<div class="tags"><span class="tags-label">{escape(c["tags_label"])}</span><ul>{tags}</ul></div>
<section id="comments" class="comments">
<h2>{escape(c["comments"])}</h2>
<p>{escape(c["comments_prompt"])}</p>
</section>
</article>
<aside class="related">
<h2>{escape(c["related"])}</h2>
{_links(view.related)}
</aside>
</div>
{_sidebar(ctx, view.trending)}
</main>"""
    return _document(
        ctx,
        title=f"{a.title} | {c['site_name']}",
        description=a.description,
        canonical=a.quoted_path,
        head=head,
        body_class=f"article-page section-{a.section}",
        main=main,
    )


# --- index, home and static pages -----------------------------------------------------------


def render_index(view: IndexView) -> str:
    ctx = view.ctx
    c = ctx.chrome
    section = ctx.section
    pg = c["pagination"]
    cards = []
    for a in view.articles:
        cards.append(
            f"""<li class="card"><article>
<h2><a href="{escape(a.quoted_path)}">{escape(a.title)}</a></h2>
<time datetime="{a.published.isoformat()}">{escape(format_date(a.published, c))}</time>
<p class="excerpt">{escape(a.description)}</p>
</article></li>"""
        )
    nav = []
    head = []
    if view.page > 1:
        prev = index_path(section, view.page - 1)
        nav.append(f'<a class="newer" rel="prev" href="{prev}">{escape(pg["newer"])}</a>')
        head.append(f'<link rel="prev" href="{escape(ctx.base_url + prev)}">')
    numbers = "".join(
        f'<li><a href="{index_path(section, n)}"'
        + (' aria-current="page"' if n == view.page else "")
        + f">{n}</a></li>"
        for n in range(1, view.pages + 1)
    )
    nav.append(f"<ol>{numbers}</ol>")
    if view.page < view.pages:
        nxt = index_path(section, view.page + 1)
        nav.append(f'<a class="older" rel="next" href="{nxt}">{escape(pg["older"])}</a>')
        head.append(f'<link rel="next" href="{escape(ctx.base_url + nxt)}">')
    picks = ""
    if view.picks:
        label = escape(c.get("picks", c["latest"]))
        picks = f'<aside class="editors-picks"><h2>{label}</h2>{_links(view.picks)}</aside>'
    title = c["section_name"]
    if view.page > 1:
        title += f" — {pg['page']} {view.page}"
    main = f"""<main id="main" class="layout">
<div class="content">
{_breadcrumb(ctx, c["section_name"])}
<h1 class="section-title">{escape(title)}</h1>
<h2 class="section-latest">{escape(c["latest"])}</h2>
<ul class="article-list">
{chr(10).join(cards)}
</ul>
<nav class="pagination" aria-label="{escape(pg["page"])}">{"".join(nav)}</nav>
{picks}
</div>
{_sidebar(ctx, view.trending)}
</main>"""
    return _document(
        ctx,
        title=f"{title} | {c['site_name']}",
        description=c["tagline"],
        canonical=index_path(section, view.page),
        head="\n".join(head),
        body_class=f"index-page section-{section}",
        main=main,
    )


def render_home(
    ctx: PageContext,
    home: dict[str, str],
    top: tuple[tuple[Link, tuple[Link, ...]], ...],
    trending: tuple[Link, ...],
) -> str:
    blocks = []
    for section, stories in top:
        blocks.append(
            f"""<section class="home-section">
<h2><a href="{escape(section.href)}">{escape(section.text)}</a></h2>
{_links(stories)}
</section>"""
        )
    main = f"""<main id="main" class="layout">
<div class="content">
<h1>{escape(ctx.chrome["site_name"])}</h1>
<p class="intro">{escape(home["intro"])}</p>
{chr(10).join(blocks)}
</div>
{_sidebar(ctx, trending)}
</main>"""
    return _document(
        ctx,
        title=home["title"],
        description=home["intro"],
        canonical="/",
        head='<meta property="og:type" content="website">',
        body_class="home-page",
        main=main,
    )


def render_static(ctx: PageContext, path: str, page: dict[str, Any]) -> str:
    paragraphs = "\n".join(f"<p>{escape(p)}</p>" for p in page["paragraphs"])
    if "email" in page:
        email = page["email"]
        paragraphs += f'\n<p><a href="mailto:{escape(email)}">{escape(email)}</a></p>'
    robots = '<meta name="robots" content="noindex, nofollow">' if path == "/private/" else ""
    main = f"""<main id="main" class="layout">
<div class="content">
{_breadcrumb(ctx, page["title"])}
<h1>{escape(page["title"])}</h1>
{paragraphs}
<p id="careers"></p><p id="advertise"></p><p id="terms"></p><p id="cookies"></p>
</div>
</main>"""
    return _document(
        ctx,
        title=f"{page['title']} | {ctx.chrome['site_name']}",
        description=page["paragraphs"][0],
        canonical=path,
        head=robots,
        body_class="static-page",
        main=main,
    )


def render_not_found(ctx: PageContext, site: dict[str, Any]) -> str:
    nf = site["not_found"]
    main = f"""<main id="main" class="layout">
<div class="content">
<h1>{escape(nf["title"])}</h1>
<p>{escape(nf["text"])}</p>
<p><a href="/">{escape(ctx.chrome["nav"]["home"])}</a></p>
</div>
</main>"""
    return _document(
        ctx,
        title=f"{nf['title']} | {ctx.chrome['site_name']}",
        description=nf["text"],
        canonical="/404",
        head='<meta name="robots" content="noindex">',
        body_class="error-page",
        main=main,
    )


def render_moved(ctx: PageContext, target: str) -> str:
    href = escape(quote(target, safe="/-"))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>301 Moved Permanently'
        f"</title></head><body><h1>Moved Permanently</h1><p>The document has moved "
        f'<a href="{href}">here</a>.</p></body></html>\n'
    )


def render_svg(title: str, label: str) -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="450" viewBox="0 0 800 450">'
        f'<rect width="800" height="450" fill="#d9d9d9"/><text x="400" y="225" font-size="28" '
        f'text-anchor="middle" fill="#555">{escape(label)}</text><title>{escape(title)}</title></svg>\n'
    )


# --- robots, feeds and sitemaps --------------------------------------------------------------


def render_robots(base_url: str, sections: tuple[str, ...]) -> str:
    lines = [
        "# Demo News: robots.txt",
        "User-agent: *",
        "Disallow: /private/",
        "Disallow: /search",
        "Allow: /",
        "",
        f"Sitemap: {base_url}/sitemap.xml",
    ]
    lines += [f"Sitemap: {base_url}/sitemaps/news-{s}.xml" for s in sections]
    return "\n".join(lines) + "\n"


def _w3c(when: datetime) -> str:
    return when.isoformat()


def _feed_link(view: FeedView, article: Article) -> str:
    url = view.ctx.base_url + article.quoted_path
    if view.ctx.section == "hi":
        # This publisher tags feed links; the crawler must canonicalise them to the page URL.
        url += "?utm_source=rss&utm_medium=feed"
    return url


def _channel_title(ctx: PageContext) -> str:
    return f"{ctx.chrome['site_name']} — {ctx.chrome['section_name']}"


def render_rss2(view: FeedView) -> str:
    ctx = view.ctx
    c = ctx.chrome
    items = []
    for a in view.articles:
        categories = "".join(f"<category>{escape(t)}</category>" for t in a.tags)
        items.append(
            f"""<item>
<title>{escape(a.title)}</title>
<link>{escape(_feed_link(view, a))}</link>
<guid isPermaLink="true">{escape(ctx.base_url + a.quoted_path)}</guid>
<pubDate>{format_datetime(a.published)}</pubDate>
<dc:creator>{escape(a.author)}</dc:creator>
{categories}
<description>{escape(a.description)}</description>
</item>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>{escape(_channel_title(ctx))}</title>
<link>{escape(f"{ctx.base_url}/{ctx.section}/")}</link>
<description>{escape(c["tagline"])}</description>
<language>{escape(c["news_language"])}</language>
<lastBuildDate>{format_datetime(view.updated)}</lastBuildDate>
<atom:link href="{escape(ctx.base_url + FEED_PATHS[ctx.section])}" rel="self" type="application/rss+xml"/>
{chr(10).join(items)}
</channel>
</rss>
"""


def render_rdf(view: FeedView) -> str:
    ctx = view.ctx
    c = ctx.chrome
    urls = [_feed_link(view, a) for a in view.articles]
    seq = "\n".join(f'<rdf:li rdf:resource="{escape(u)}"/>' for u in urls)
    items = []
    for a, url in zip(view.articles, urls, strict=True):
        subjects = "".join(f"<dc:subject>{escape(t)}</dc:subject>" for t in a.tags)
        items.append(
            f"""<item rdf:about="{escape(url)}">
<title>{escape(a.title)}</title>
<link>{escape(url)}</link>
<description>{escape(a.description)}</description>
<dc:creator>{escape(a.author)}</dc:creator>
<dc:date>{_w3c(a.published)}</dc:date>
{subjects}
</item>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" \
xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="{escape(ctx.base_url + FEED_PATHS[ctx.section])}">
<title>{escape(_channel_title(ctx))}</title>
<link>{escape(f"{ctx.base_url}/{ctx.section}/")}</link>
<description>{escape(c["tagline"])}</description>
<dc:language>{escape(c["news_language"])}</dc:language>
<dc:date>{_w3c(view.updated)}</dc:date>
<items>
<rdf:Seq>
{seq}
</rdf:Seq>
</items>
</channel>
{chr(10).join(items)}
</rdf:RDF>
"""


def render_atom(view: FeedView) -> str:
    ctx = view.ctx
    c = ctx.chrome
    entries = []
    for a in view.articles:
        categories = "".join(f'<category term="{escape(t)}"/>' for t in a.tags)
        entries.append(
            f"""<entry>
<id>tag:demo-news.invalid,2026:article-{a.article_id}</id>
<title type="text">{escape(a.title)}</title>
<link rel="alternate" type="text/html" href="{escape(_feed_link(view, a))}"/>
<published>{_w3c(a.published)}</published>
<updated>{_w3c(a.modified)}</updated>
<author><name>{escape(a.author)}</name></author>
{categories}
<summary type="text">{escape(a.description)}</summary>
</entry>"""
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{escape(c["news_language"])}">
<id>tag:demo-news.invalid,2026:feed-{ctx.section}</id>
<title type="text">{escape(_channel_title(ctx))}</title>
<subtitle type="text">{escape(c["tagline"])}</subtitle>
<updated>{_w3c(view.updated)}</updated>
<link rel="self" type="application/atom+xml" href="{escape(ctx.base_url + FEED_PATHS[ctx.section])}"/>
<link rel="alternate" type="text/html" href="{escape(f"{ctx.base_url}/{ctx.section}/")}"/>
<author><name>{escape(ctx.publisher)}</name></author>
{chr(10).join(entries)}
</feed>
"""


def render_sitemap_index(base_url: str, sitemaps: list[tuple[str, datetime]]) -> str:
    entries = "\n".join(
        f"<sitemap><loc>{escape(base_url + path)}</loc><lastmod>{_w3c(when)}</lastmod></sitemap>"
        for path, when in sitemaps
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="{SITEMAP_NS}">
{entries}
</sitemapindex>
"""


def render_news_sitemap(view: FeedView) -> str:
    ctx = view.ctx
    urls = []
    for a in view.articles:
        urls.append(
            f"""<url>
<loc>{escape(ctx.base_url + a.quoted_path)}</loc>
<lastmod>{_w3c(a.modified)}</lastmod>
<news:news>
<news:publication><news:name>{escape(ctx.publisher)}</news:name>\
<news:language>{escape(ctx.chrome["news_language"])}</news:language></news:publication>
<news:publication_date>{_w3c(a.published)}</news:publication_date>
<news:title>{escape(a.title)}</news:title>
</news:news>
</url>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}">
{chr(10).join(urls)}
</urlset>
"""


def http_date(when: datetime) -> str:
    """IMF-fixdate (RFC 9110 §5.6.7) for Last-Modified."""
    return format_datetime(when.astimezone(UTC), usegmt=True)
