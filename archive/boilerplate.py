"""Boilerplate that trafilatura keeps on news pages, removed by narrow, data-driven rules.

trafilatura (with ``favor_precision`` and without comments) already drops navigation,
footers, cookie banners, share bars, related lists and comment threads. What it keeps are
short site furniture items that sit *inside* the article container and look like text:
ad labels between paragraphs, "read also" links, AI-summary boxes, a featured-video teaser,
a comment counter, a "source: URL" line. The seed articles show each of them
(``tests/data/seeds/*.json`` lists them under ``must_not_contain``).

Two layers, both keyed by language so that the data can be reviewed and extended per site
family without touching code:

* **before extraction** (:func:`prune_tree`, on the parsed page handed to trafilatura):
  - a *label* is a leaf element whose whole text is e.g. "विज्ञापन" or "Advertisement"; the
    element itself is removed, unless it sits inside a paragraph (a bold word in a sentence);
  - a *widget heading* is a leaf element whose text is e.g. "फटाफट पढ़ें" (the AI-summary
    box) or "यह भी पढ़ें:" (a read-also paragraph); its parent (the widget) is removed, but
    only when that parent holds at most :data:`MAX_WIDGET_CHARS` characters and at most one
    ``<p>`` (a paragraph itself: :data:`MAX_INLINE_WIDGET_CHARS`), so a heading placed
    directly in the article container can never take a (short) article with it.
* **after extraction** (:func:`clean_text`): full-line patterns (the line must match from
  start to end), a few of which also drop the line that follows (the video title after
  "Featured Video Of The Day"), and start/end block rules (the AI-summary box when it was
  flattened into the text).

All languages' rules are applied to every page: extraction happens before language
detection, and the rules are whole-element / whole-line matches of phrases that do not occur
as a complete paragraph of real article text. Matching is done on the NFC form, so
precomposed and decomposed Devanagari nukta letters (ढ़ / ढ़) are the same; labels and
headings are also compared without case and without the punctuation around them.

The tree is pruned in Python rather than through trafilatura's ``prune_xpath``: the same
rules as XPath 1.0 (``translate``/``normalize-space`` per leaf and phrase) cost ≈ 18 ms on a
28 kB page, as much as the extraction itself; one pass over the leaves costs ≈ 0.4 ms.

Bump :data:`RULES_VERSION` when a rule changes: it is recorded with every extraction.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from lxml import etree

if TYPE_CHECKING:
    from lxml.html import HtmlElement

RULES_VERSION = "1"

#: A widget (parent of a widget heading) larger than this is left alone.
MAX_WIDGET_CHARS = 1500
#: ... and a paragraph that starts with a heading ("<p><b>Also read:</b> <a>…</a></p>") is
#: only removed when it is no longer than a headline.
MAX_INLINE_WIDGET_CHARS = 300

# Punctuation ignored when comparing a label or heading with an element's text
# ("- اشتہار -", "यह भी पढ़ें:", "Also read |").
_LABEL_PUNCTUATION = "-–—:|•·»›"


@dataclass(frozen=True, slots=True)
class LineRule:
    """A whole line that is boilerplate; ``drop_following`` more lines go with it."""

    pattern: str
    drop_following: int = 0


@dataclass(frozen=True, slots=True)
class BlockRule:
    """Lines from a ``start`` line to an end line at most ``max_lines`` further on.

    ``ends`` are tried in order (the first pattern found in the window closes the block), so
    a widget's last line is preferred over an earlier one it may lack. Without any end in
    the window only the start line is dropped.
    """

    start: str
    ends: tuple[str, ...]
    max_lines: int = 12


@dataclass(frozen=True, slots=True)
class LanguageRules:
    labels: tuple[str, ...] = ()
    widget_headings: tuple[str, ...] = ()
    lines: tuple[LineRule, ...] = ()
    blocks: tuple[BlockRule, ...] = field(default=())


_URL = r"https?://\S+"

#: Keyed by ISO 639-3 code of the language the phrase belongs to.
RULES: dict[str, LanguageRules] = {
    "eng": LanguageRules(
        labels=("Advertisement", "Story continues below advertisement"),
        widget_headings=(
            "Featured Video Of The Day",
            "Summary is AI-generated, newsroom-reviewed",
            "Also read",
            "Read also",
            "Read more",
        ),
        lines=(
            LineRule(r"advertisement|story continues below advertisement"),
            LineRule(r"read time\s*:\s*\d+\s*mins?"),
            LineRule(r"comments?\s*\(\d+\)"),
            LineRule(r"source\s*:\s*" + _URL),
            LineRule(r"(also read|read also|read more)\s*[:|\-–—].*"),
            # NDTV: the heading is followed by the title of an unrelated video.
            LineRule(r"featured video of the day", drop_following=1),
            LineRule(r"summary is ai-generated, newsroom-reviewed"),
        ),
    ),
    "hin": LanguageRules(
        labels=("विज्ञापन",),
        widget_headings=(
            "फटाफट पढ़ें",
            "क्या हमारी AI समरी आपके लिए उपयोगी रही?",
            "यह भी पढ़ें",
            "ये भी पढ़ें",
        ),
        lines=(
            LineRule(r"विज्ञापन"),
            LineRule(r"टिप्पणियां\s*\(\d+\)"),
            LineRule(r"(यह|ये)\s+भी\s+पढ़ें\s*[:|\-–—].*"),
            LineRule(r"क्या हमारी ai समरी आपके लिए उपयोगी रही\?"),
        ),
        blocks=(
            # NDTV's AI summary: heading, disclaimer, bullets, feedback question, link.
            BlockRule(
                start=r"फटाफट पढ़ें|summary is ai-generated, newsroom-reviewed",
                ends=(r"हमें बताएं।?", r"क्या हमारी ai समरी आपके लिए उपयोगी रही\?"),
            ),
        ),
    ),
    "urd": LanguageRules(
        labels=("اشتہار",),
        widget_headings=("یہ بھی پڑھیں",),
        lines=(
            LineRule(r"[-–—\s]*اشتہار[-–—\s]*"),
            LineRule(r"تبصرہ\s*\(\d+\)|\d+\s*تبصرے"),
            # vietnam.vn's translated editions end with "Source: <original URL>".
            LineRule(r"ماخذ\s*:\s*" + _URL),
            LineRule(r"یہ\s+بھی\s+پڑھیں\s*[:|\-–—].*"),
        ),
    ),
    "vie": LanguageRules(
        labels=("Quảng cáo",),
        widget_headings=("Xem thêm", "Đọc thêm"),
        lines=(
            LineRule(r"quảng cáo"),
            LineRule(r"bình luận\s*\(\d+\)"),
            LineRule(r"nguồn\s*:\s*" + _URL),
            LineRule(r"(xem thêm|đọc thêm)\s*[:|\-–—].*"),
        ),
    ),
}


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


_PUNCTUATION_TABLE = str.maketrans("", "", _LABEL_PUNCTUATION)
# Longer element texts are not compared at all (no label or heading is this long).
_MAX_MARKER_CHARS = 120
# Leaf elements with a short text; selecting them in libxml2 spares creating a Python
# object for every element of the page.
_SHORT_LEAVES = etree.XPath(f"//*[not(*)][text()][string-length(text()) <= {_MAX_MARKER_CHARS}]")


def _marker_key(text: str) -> str:
    """Label/heading comparison form: NFC, no punctuation, single spaces, case folded."""
    return " ".join(_nfc(text).translate(_PUNCTUATION_TABLE).split()).casefold()


@cache
def _marker_keys() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    labels = [p for rules in RULES.values() for p in rules.labels]
    headings = [p for rules in RULES.values() for p in rules.widget_headings]
    initials = {_initial(p) for p in labels + headings} | set(_LABEL_PUNCTUATION)
    return (
        frozenset(map(_marker_key, labels)),
        frozenset(map(_marker_key, headings)),
        frozenset(initials),
    )


def _initial(text: str) -> str:
    """First character, unaccented and case folded: a cheap filter before the full key."""
    return unicodedata.normalize("NFD", text[0])[0].casefold()


# Elements trafilatura throws away anyway, but only after copying the tree twice with them: on a
# news page scripts, styles, inline SVG and the nav/footer/aside chrome are most of the markup.
# (<form> is kept: ASP.NET sites wrap the whole page, article included, in one.)
_CHROME_TAGS = ("style", "noscript", "template", "svg", "iframe", "link", "nav", "footer", "aside")


def strip_chrome(tree: HtmlElement) -> None:
    """Drop non-content markup before extraction; JSON-LD scripts stay (metadata is read from them)."""
    for element in [e for e in tree.iter("script") if "ld+json" not in (e.get("type") or "")]:
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)
    etree.strip_elements(tree, *_CHROME_TAGS, with_tail=False)


def prune_tree(tree: HtmlElement) -> int:
    """Remove labels and small widgets from a parsed page in place; return how many."""
    strip_chrome(tree)
    labels, headings, initials = _marker_keys()
    doomed = []
    for element in _SHORT_LEAVES(tree):
        # .text is None when a comment precedes the text ("<span><!-- ad -->…</span>").
        text = (element.text or "").strip()
        if not text or _initial(text) not in initials:
            continue
        key = _marker_key(text)
        if key in labels:
            if element.tag == "p" or next(element.iterancestors("p"), None) is None:
                doomed.append(element)
        elif key in headings:
            parent = element.getparent()
            if parent is not None and _is_small_widget(parent):
                doomed.append(parent)
    for element in doomed:
        _drop_keeping_tail(element)
    return len(doomed)


def _is_small_widget(element: HtmlElement) -> bool:
    if element.tag == "p":
        return _text_length(element) <= MAX_INLINE_WIDGET_CHARS
    for count, _ in enumerate(element.iter("p"), start=1):
        if count > 1:
            return False
    return _text_length(element) <= MAX_WIDGET_CHARS


def _text_length(element: HtmlElement) -> int:
    return len(" ".join(element.text_content().split()))


def _drop_keeping_tail(element: HtmlElement) -> None:
    """Remove an element and its content; the text after it stays where it was."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + element.tail
        else:
            previous.tail = (previous.tail or "") + element.tail
    parent.remove(element)


@cache
def _compiled() -> tuple[
    list[tuple[re.Pattern[str], int]],
    list[tuple[re.Pattern[str], list[re.Pattern[str]], int]],
]:
    lines = [
        (re.compile(_nfc(rule.pattern), re.IGNORECASE), rule.drop_following)
        for rules in RULES.values()
        for rule in rules.lines
    ]
    blocks = [
        (
            re.compile(_nfc(rule.start), re.IGNORECASE),
            [re.compile(_nfc(end), re.IGNORECASE) for end in rule.ends],
            rule.max_lines,
        )
        for rules in RULES.values()
        for rule in rules.blocks
    ]
    return lines, blocks


def clean_text(text: str) -> str:
    """Drop boilerplate lines from extracted text; keep every other line as it was.

    Blank lines are dropped and surrounding whitespace of each kept line is stripped, so the
    result is paragraphs separated by a single ``"\\n"``.
    """
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    keys = [_nfc(line) for line in lines]
    line_rules, block_rules = _compiled()
    drop = [False] * len(lines)
    for i, key in enumerate(keys):
        if drop[i]:
            continue
        for start, ends, max_lines in block_rules:
            if start.fullmatch(key):
                window = range(i + 1, min(len(keys), i + 1 + max_lines))
                stop = next(
                    (j for end in ends for j in window if end.fullmatch(keys[j])),
                    i,
                )
                for j in range(i, stop + 1):
                    drop[j] = True
                break
        if drop[i]:
            continue
        for pattern, following in line_rules:
            if pattern.fullmatch(key):
                for j in range(i, min(len(lines), i + 1 + following)):
                    drop[j] = True
                break
    return "\n".join(line for line, dropped in zip(lines, drop, strict=True) if not dropped)
