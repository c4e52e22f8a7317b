"""Feeds (RSS 2.0, RSS 1.0/RDF, Atom) and sitemaps (incl. Google News) to article entries.

Hostile XML is routine on the open web, so parsing is bounded and inert: entities are never
resolved (no XXE, no "billion laughs"), no DTD or network access, a size cap before parsing,
and anything malformed yields what could be read plus an error, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from lxml import etree

MAX_XML_BYTES = 50 * 1024 * 1024  # sitemaps may hold 50,000 URLs / 50 MB (sitemaps.org)
MAX_ENTRIES = 50_000

_NEWS = "http://www.google.com/schemas/sitemap-news/0.9"


@dataclass(frozen=True, slots=True)
class Entry:
    url: str
    published: datetime | None = None
    title: str | None = None
    language: str | None = None


@dataclass(slots=True)
class Discovered:
    kind: str  # "feed", "urlset", "sitemapindex" or "unknown"
    entries: list[Entry]
    error: str | None = None


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=True,
        remove_comments=True,
    )


def parse_xml_document(body: bytes, base_url: str) -> Discovered:
    """Parse a feed or a sitemap; the kind is decided by the root element."""
    if len(body) > MAX_XML_BYTES:
        return Discovered("unknown", [], f"document of {len(body)} bytes exceeds {MAX_XML_BYTES}")
    if b"<!ENTITY" in body[:65536]:
        # Entity declarations have no business in feeds or sitemaps; refuse rather than risk expansion.
        return Discovered("unknown", [], "document declares XML entities (refused)")
    try:
        root = etree.fromstring(body.lstrip(), parser=_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        return Discovered("unknown", [], f"malformed XML: {exc}")
    if root is None:
        return Discovered("unknown", [], "empty or unparsable XML")
    tag = etree.QName(root).localname.lower()
    if tag == "urlset":
        return Discovered("urlset", _urlset(root, base_url))
    if tag == "sitemapindex":
        return Discovered("sitemapindex", _locs(root, "sitemap", base_url))
    if tag in ("rss", "rdf", "feed"):
        return Discovered("feed", _feed(root, base_url))
    return Discovered("unknown", [], f"unexpected root element <{tag}>")


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str) and etree.QName(c).localname == name]


def _text(el: etree._Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    return el.text.strip() or None


def _first(el: etree._Element, name: str, ns: str | None = None) -> etree._Element | None:
    for c in el.iter():
        if (
            isinstance(c.tag, str)
            and etree.QName(c).localname == name
            and (ns is None or etree.QName(c).namespace == ns)
        ):
            return c
    return None


def _join(base_url: str, link: str) -> str | None:
    """One malformed link (``http://[::1``) must not cost the rest of the document."""
    try:
        return urljoin(base_url, link.strip())
    except ValueError:
        return None


def _urlset(root: etree._Element, base_url: str) -> list[Entry]:
    out = []
    for url_el in _children(root, "url")[:MAX_ENTRIES]:
        loc = _text(_first(url_el, "loc"))
        url = _join(base_url, loc) if loc else None
        if not url:
            continue
        news_date = _text(_first(url_el, "publication_date", _NEWS))
        lastmod = _text(_first(url_el, "lastmod"))
        out.append(
            Entry(
                url=url,
                published=parse_date(news_date) or parse_date(lastmod),
                title=_text(_first(url_el, "title", _NEWS)),
                language=_text(_first(url_el, "language", _NEWS)),
            )
        )
    return out


def _locs(root: etree._Element, child: str, base_url: str) -> list[Entry]:
    out = []
    for el in _children(root, child)[:MAX_ENTRIES]:
        loc = _text(_first(el, "loc"))
        url = _join(base_url, loc) if loc else None
        if url:
            out.append(Entry(url=url, published=parse_date(_text(_first(el, "lastmod")))))
    return out


def _feed(root: etree._Element, base_url: str) -> list[Entry]:
    out = []
    items = [
        el for el in root.iter() if isinstance(el.tag, str) and etree.QName(el).localname in ("item", "entry")
    ]
    for item in items[:MAX_ENTRIES]:
        url = None
        for link in _children(item, "link"):
            href = link.get("href")
            rel = link.get("rel", "alternate")
            if href and rel == "alternate":
                url = href
                break
            if not href and _text(link):
                url = _text(link)
                break
        if not url:
            about = item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
            url = about or _text(_first(item, "guid"))
        if not url:
            continue
        date = None
        for name in ("pubDate", "published", "updated", "date", "issued"):
            date = parse_date(_text(_first(item, name)))
            if date:
                break
        joined = _join(base_url, url)
        if joined:
            out.append(Entry(url=joined, published=date, title=_text(_first(item, "title"))))
    return out


def parse_date(value: str | None) -> datetime | None:
    """RFC 822 (RSS), W3C-DTF / ISO 8601 (Atom, sitemaps, Dublin Core); UTC-aware or None."""
    if not value:
        return None
    value = value.strip()
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def robots_sitemaps(robots_body: bytes, base_url: str) -> list[str]:
    """``Sitemap:`` lines of a robots.txt (case-insensitive field name, any position)."""
    out = []
    for line in robots_body.decode("utf-8", "replace").splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "sitemap" and value.strip():
            joined = _join(base_url, value)
            if joined:
                out.append(joined)
    return out
