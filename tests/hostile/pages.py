"""Page bodies for the hostile server: ordinary articles and indexes around the broken cases.

Most hostile cases need a normal page next to them: an index that links to the case (so the
crawler reaches it as an article link, the path that would extract text) and an ordinary
article in the same run (so "no text for the bomb" is not just "no text at all"). The
Urdu paragraphs are the bundled demo article ur-240619 (real text from seed 002); the
charset cases re-encode them, and :data:`URDU_SENTENCE` is what must come out readable.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

URDU_TITLE = "روسی صدر پوتین چوبیس سال بعد شمالی کوریا پہنچ گئے، کم جونگ ان سے اعلیٰ سطحی بات چیت"
URDU_PARAGRAPHS = (
    "پیونگ یانگ (ہ س)۔روسی صدر ولادیمیر پوتین اور شمالی کوریا کے رہنما کم جونگ ان کے درمیان پیونگ یانگ میں"
    " اعلیٰ سطحی بات چیت ہو رہی ہے۔",
    "روسی صدر پوتین چوبیس سال بعد پہلی مرتبہ شمالی کوریا آئے ہیں۔ پوتین کی کابینہ کے بیشتر ارکان روسی وفد کا"
    " حصہ ہیں، جو کم جونگ اْن کے ساتھ بات چیت کریں گے۔",
    "روسی صدر پوتین کا شمالی کوریا کا واحد سابقہ دورہ جولائی سن 2000 میں پہلی بار اقتدار سنبھالنے کے فوراً بعد"
    " ہوا تھا۔ اس وقت کم جونگ ان کے والد کم جونگ ال ملک کے سربراہ تھے اور ملک 1990 کی دہائی میں شدید قحط سالی"
    " سے بمشکل ہی نکل پایا تھا۔",
    "لیکن موجودہ حکمران کم جونگ اْن نے گذشتہ سال روس کا ایک غیر معمولی دورہ کیا تھا، جس کے دوران انہوں نے اور"
    " پوتین نے خلائی ٹیکنالوجی جیسے شعبوں میں تعاون کے امکانات پر زور دیا تھا۔",
    "دارالحکومت پیونگ یانگ پہنچنے پر کم جونگ ان نے ان کا شاندار خیر مقدم کیا۔ بعد میں دونوں رہنماؤں کی اعلیٰ"
    " سطحی میٹنگ شروع ہوئی۔",
)
#: A sentence that must appear in the extracted text of every readable Urdu case.
URDU_SENTENCE = "روسی صدر پوتین چوبیس سال بعد پہلی مرتبہ شمالی کوریا آئے ہیں۔"


def windows_1256_urdu(text: str) -> str:
    """Urdu as windows-1256 pages write it: that code page has no FARSI YEH (U+06CC), so such
    sites use ARABIC YEH (U+064A); nor URDU FULL STOP (U+06D4), so they end sentences with
    a period; nor SUPERSCRIPT ALEF (U+0670), so they leave it out. The result encodes to
    windows-1256 exactly."""
    return text.replace("\u06cc", "\u064a").replace("\u06d4", ".").replace("\u0670", "")


ENGLISH_PARAGRAPHS = (
    "The harbour authority said on Tuesday that the old swing bridge would close for repairs in the spring,"
    " after engineers found corrosion in two of the four main bearings during a routine inspection.",
    "Ferries will run every twenty minutes between the two quays while the bridge is closed, and the council"
    " has promised that cyclists and pedestrians will be carried free of charge for the whole period.",
    "Local traders welcomed the decision but asked for the works to be finished before the summer festival,"
    " when the waterfront usually draws more than fifty thousand visitors over a single weekend.",
    "The repairs are expected to cost about four million, most of it paid from the regional transport fund,"
    " and the contract will be awarded after an open tender that closes at the end of next month.",
)
ENGLISH_SENTENCE = "Ferries will run every twenty minutes between the two quays while the bridge is closed"


def article(
    title: str,
    paragraphs: Iterable[str],
    *,
    lang: str = "en",
    links: Iterable[str] = (),
    meta_charset: str | None = None,
    extra_head: str = "",
) -> str:
    """A plain news article page: what trafilatura should find is the paragraphs."""
    meta = f'<meta charset="{meta_charset}">' if meta_charset else ""
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    nav = "".join(f'<li><a href="{escape(h, quote=True)}">{escape(h)}</a></li>' for h in links)
    direction = ' dir="rtl"' if lang in ("ur", "ar", "fa") else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"{direction}><head>{meta}<title>{escape(title)}</title>'
        f"{extra_head}</head>\n<body><header><nav><ul>{nav}</ul></nav></header>\n"
        f"<main><article><h1>{escape(title)}</h1>\n{body}\n</article></main>\n"
        "<footer><p>Hostile test site</p></footer></body></html>\n"
    )


def index(title: str, links: Iterable[str]) -> str:
    """A link list (no article text): the crawler follows every link within its site."""
    items = "\n".join(f'<li><a href="{escape(h, quote=True)}">{escape(h)}</a></li>' for h in links)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title></head>\n'
        f"<body><h1>{escape(title)}</h1><ul>\n{items}\n</ul></body></html>\n"
    )


def english_article(title: str, *, links: Iterable[str] = ()) -> str:
    return article(title, ENGLISH_PARAGRAPHS, links=links)


def urdu_article(*, windows_1256: bool = False, meta_charset: str | None = None) -> str:
    """The Urdu article, in the spelling windows-1256 can encode when asked."""
    spell = windows_1256_urdu if windows_1256 else str
    paragraphs = [spell(p) for p in URDU_PARAGRAPHS]
    return article(spell(URDU_TITLE), paragraphs, lang="ur", meta_charset=meta_charset)


def broken_html() -> str:
    """Malformed and unclosed markup around a readable article: the parser must recover."""
    paragraphs = "".join(f"<p class=x>{escape(p)}<b><i>" for p in ENGLISH_PARAGRAPHS)
    return (
        "<html><head><title>Unclosed <b>title</title><meta charset=utf-8 <link rel=x\n"
        '<body onload="x(\'><div><div class="a><span>\n'
        "<table><tr><td>cell<td><tr></table></table></div></span>\n"
        "<article><h1>Broken markup still carries news</h1>" + paragraphs + "\n"
        '<div <p>>stray</p></div></div></div><a href="/content/a/control"<x>link</a>\n'
        "<script>var s = '</scr' + 'ipt>'; document.write('<p>'); <!-- unclosed comment"
    )


def deeply_nested_html(depth: int) -> str:
    """``depth`` nested elements, then the article: deep trees break recursive code and parser limits."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Deep</title></head><body>'
        + "<div>" * depth
        + "<article><h1>Deep nesting</h1>"
        + "".join(f"<p>{escape(p)}</p>" for p in ENGLISH_PARAGRAPHS)
        + "</article>"
        + "</div>" * depth
        + "</body></html>"
    )


# --- tiny but valid binary files ---------------------------------------------------------------------------

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Contents 4 0 R>>endobj\n"
    b"4 0 obj<</Length 44>>stream\nBT /F1 12 Tf 20 100 Td (Not HTML at all) Tj ET\nendstream endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def png() -> bytes:
    """A 1x1 PNG built from its chunks (signature, IHDR, IDAT, IEND)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def binary_noise(size: int = 4096) -> bytes:
    """Deterministic bytes with NULs and every byte value: "an image served as text/html"."""
    return bytes((i * 131 + (i >> 7)) % 256 for i in range(size))
