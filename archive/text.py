"""Main text and metadata of a news page: one decode, one trafilatura pass, boilerplate removed.

:func:`extract_article` takes the body bytes as received (content coding already undone) and
the charset the HTTP header declared. It decodes them once (:func:`decode_html`), runs
``trafilatura.bare_extraction`` once with metadata, and cleans the text with the rules in
:mod:`archive.boilerplate`. It returns ``None`` when there is no article (index pages, empty or
binary bodies) and never raises: hostile pages are logged at debug level and skipped.

trafilatura options (:data:`TRAFILATURA_OPTIONS`) and why:

* ``include_comments=False``: trafilatura's default keeps reader comments, and on pages
  whose comment list sits inside ``<article>`` they are appended to the main text.
* ``favor_precision=True``: drops link-heavy and short trailing blocks (the "source: URL"
  line of seed 000) and makes trafilatura give up on home/index pages instead of returning
  teasers and the cookie banner; on the golden article pages no article sentence is lost.
* ``fast=False`` (the default): the fallback extractors are what let trafilatura recognise an
  index page as having no article; ``fast=True`` returned its teasers.
* ``include_tables=True``: tables in news articles (results, figures) are content.
* ``include_images/links/formatting=False``: plain text, paragraphs separated by ``"\\n"``.
* ``deduplicate=False``: trafilatura's dedup cache is per process, which would make the
  result depend on what a worker processed before.
* ``with_metadata=True``: title, author, date, site name and description in the same pass.
* the page is parsed once (``trafilatura.load_html``), pruned by the label / widget rules of
  :mod:`archive.boilerplate`, and the tree is what ``bare_extraction`` gets.
"""

from __future__ import annotations

import codecs
import functools
import logging
import re
import unicodedata
from dataclasses import asdict, dataclass
from importlib.metadata import version
from typing import TypedDict

import trafilatura
from charset_normalizer import from_bytes
from lxml.html import HtmlElement
from trafilatura.settings import Document

from archive import boilerplate

logger = logging.getLogger(__name__)

#: Bodies larger than this are not extracted (a news article is well under 2 MB).
MAX_BODY_BYTES = 20_000_000
#: Fewer characters of text than this after cleaning is not an article.
MIN_TEXT_CHARS = 50


class _TrafilaturaOptions(TypedDict):
    """The keyword arguments of ``bare_extraction`` set here, typed so each is checked against it."""

    with_metadata: bool
    include_comments: bool
    favor_precision: bool
    fast: bool
    include_tables: bool
    include_images: bool
    include_links: bool
    include_formatting: bool
    deduplicate: bool


TRAFILATURA_OPTIONS: _TrafilaturaOptions = {
    "with_metadata": True,
    "include_comments": False,
    "favor_precision": True,
    "fast": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "include_formatting": False,
    "deduplicate": False,
}

# How much of the body is searched for <meta charset>.
_HEAD_BYTES = 8192
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# WHATWG Encoding Standard: these labels mean windows-1252 in a browser.
_WHATWG_ALIASES = {"iso8859-1": "cp1252", "ascii": "cp1252"}


@dataclass(frozen=True, slots=True)
class ArticleText:
    """What a page says, as plain text, plus the metadata trafilatura found in the same pass."""

    text: str
    title: str | None
    author: str | None
    date_published: str | None
    sitename: str | None
    description: str | None
    html_lang: str | None

    def as_metadata(self) -> dict[str, object]:
        """Every field except ``text`` (for the metadata record); missing values are None."""
        fields = asdict(self)
        del fields["text"]
        return fields


@functools.cache
def extractor_info() -> dict[str, str]:
    """Name, version and settings of the extractor, recorded with every extraction (computed once:
    a package-metadata lookup costs about a millisecond)."""
    return {
        "name": "trafilatura",
        "version": version("trafilatura"),
        "options": ",".join(f"{k}={v}" for k, v in TRAFILATURA_OPTIONS.items()),
        "boilerplate_rules": boilerplate.RULES_VERSION,
    }


def extract_article(body: bytes, *, url: str, declared_charset: str | None = None) -> ArticleText | None:
    """Main text and metadata of an HTML page, or None when it has no article text.

    ``body`` is the payload after content decoding, ``declared_charset`` the ``charset`` of the
    HTTP ``Content-Type``. Never raises: a page that breaks the parser is logged and skipped.
    """
    try:
        return _extract(body, url, declared_charset)
    except Exception:
        # A crawler sees every kind of broken page; none of them may stop the pipeline.
        logger.debug("text extraction failed for %s", url, exc_info=True)
        return None


@dataclass(slots=True)
class ParsedPage:
    """A page decoded once and parsed once; the tree may be read (links) before extraction."""

    html: str
    tree: HtmlElement


def parse_html(body: bytes, *, url: str, declared_charset: str | None = None) -> ParsedPage | None:
    """Decode and parse a body the way :func:`extract_article` does; None when it is no HTML
    page (empty, oversized, binary, unparsable). Never raises."""
    try:
        return _parse(body, url, declared_charset)
    except Exception:  # hostile bytes (lxml, codecs, charset detection): no page, never a crash
        logger.debug("parsing failed for %s", url, exc_info=True)
        return None


def extract_from_page(page: ParsedPage, *, url: str) -> ArticleText | None:
    """:func:`extract_article` on a page already parsed; it prunes ``page.tree`` in place."""
    try:
        return _extract_tree(page, url)
    except Exception:  # a tree that breaks trafilatura or a boilerplate rule: no text, never a crash
        logger.debug("text extraction failed for %s", url, exc_info=True)
        return None


def _parse(body: bytes, url: str, declared_charset: str | None) -> ParsedPage | None:
    if not body or len(body) > MAX_BODY_BYTES:
        logger.debug("no extraction for %s: body of %d bytes", url, len(body))
        return None
    if _looks_binary(body):
        logger.debug("no extraction for %s: binary body", url)
        return None
    html = decode_html(body, declared_charset)
    tree = trafilatura.load_html(html)
    if tree is None:
        logger.debug("no extraction for %s: not HTML", url)
        return None
    return ParsedPage(html, tree)


def _extract(body: bytes, url: str, declared_charset: str | None) -> ArticleText | None:
    page = _parse(body, url, declared_charset)
    return None if page is None else _extract_tree(page, url)


def _extract_tree(page: ParsedPage, url: str) -> ArticleText | None:
    html, tree = page.html, page.tree
    boilerplate.prune_tree(tree)
    # Given a tree, trafilatura parses nothing again (it works on a copy).
    document = trafilatura.bare_extraction(tree, url=url, **TRAFILATURA_OPTIONS)
    if document is None:
        logger.debug("no article text in %s", url)
        return None
    # as_dict is left False, so the result is a Document, never the dict form.
    assert isinstance(document, Document)
    text = boilerplate.clean_text(document.text or "")
    if len(text) < MIN_TEXT_CHARS or not any(ch.isalpha() for ch in text):
        logger.debug("no article text in %s: %d characters left", url, len(text))
        return None
    return ArticleText(
        text=text,
        title=document.title or None,
        author=_restore_marks(document.author, html),
        date_published=document.date or None,
        sitename=document.sitename or None,
        description=document.description or None,
        html_lang=tree.getroottree().getroot().get("lang") or None,
    )


def _looks_binary(body: bytes) -> bool:
    """NUL bytes in the first kilobytes mean an image or archive served as text/html."""
    head = body[:_HEAD_BYTES]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in head


def decode_html(body: bytes, declared_charset: str | None = None) -> str:
    """Decode an HTML body once, trusting the bytes over the declarations.

    Order: a byte-order mark; strict UTF-8 (valid UTF-8 with non-ASCII bytes is practically
    never an accident, so it wins over a header or ``<meta>`` that says otherwise); the HTTP
    charset, then the ``<meta>`` charset, each only if the bytes decode strictly with it;
    charset detection (charset_normalizer, as trafilatura uses) when UTF-8 failed and no
    declaration fits; UTF-8 with replacement characters as the last resort.

    windows-1258 writes Vietnamese tone marks as combining characters; its result is NFC
    normalised so the text equals what the same page in UTF-8 gives.
    """
    for bom, bom_encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(bom_encoding, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates = [declared_charset, *_meta_charsets(body)]
    for name in candidates:
        encoding = _codec_name(name)
        if encoding is None or encoding.startswith("utf"):
            continue
        try:
            return _finish(body.decode(encoding), encoding)
        except UnicodeDecodeError:
            continue
    encoding = _detect(body)
    if encoding is not None:
        try:
            return _finish(body.decode(encoding), encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    return body.decode("utf-8", errors="replace")


def _meta_charsets(body: bytes) -> list[str]:
    return [m.decode("ascii") for m in _META_CHARSET.findall(body[:_HEAD_BYTES])]


def _codec_name(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return _WHATWG_ALIASES.get(name, name)


def _detect(body: bytes) -> str | None:
    best = from_bytes(body).best()
    return None if best is None else best.encoding


def _finish(text: str, encoding: str) -> str:
    return unicodedata.normalize("NFC", text) if encoding == "cp1258" else text


def _restore_marks(author: str | None, html: str) -> str | None:
    """Give back the trailing combining marks trafilatura's author clean-up cuts off.

    trafilatura strips ``[^\\w]+$`` from names, and Indic vowel signs are not ``\\w``:
    "प्रिया वर्मा" comes back as "प्रिया वर्म". Each name is looked up in the page and extended
    by the combining marks that follow it there.
    """
    if not author:
        return None
    names = []
    for name in author.split("; "):
        start = html.find(name)
        while start >= 0:
            end = start + len(name)
            stop = end
            while stop < len(html) and unicodedata.category(html[stop]).startswith("M"):
                stop += 1
            if stop > end:
                name = html[start:stop]
                break
            start = html.find(name, start + 1)
        names.append(name)
    return "; ".join(names)
