"""Regenerate the charset-trap pages (01x_*) from the UTF-8 golden pages.

Each variant is a page whose bytes and declared charset disagree, or a legacy single-byte
page, as found on real news sites. The expectations JSON of the source page is copied with
the declared charset changed: the extracted text must be the same as from the UTF-8 page.

Run from the repository root after editing a source page:

    python tests/data/seeds/make_charset_variants.py
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Vietnamese tone marks: windows-1258 encodes them as combining characters after a base
# letter that may itself be precomposed (â, ê, ô, ơ, ư, ă).
_VI_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def encode_cp1258(text: str) -> bytes:
    """Encode as windows-1258 the way Vietnamese legacy sites did (decomposed tones)."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        tones = "".join(m for m in decomposed[1:] if m in _VI_TONES)
        base = unicodedata.normalize(
            "NFC", decomposed[0] + "".join(m for m in decomposed[1:] if m not in _VI_TONES)
        )
        out += (base + tones).encode("cp1258", errors="xmlcharrefreplace")
    return bytes(out)


def set_meta_charset(html: str, old: str, new: str) -> str:
    assert html.count(old) == 1, f"{old!r} must occur once"
    return html.replace(old, new)


VARIANTS = [
    # (name, source, meta charset replacement, encoder, declared HTTP charset, what it shows)
    (
        "010_ur_utf8_declared_cp1256",
        "002_ur_wordpress",
        ('<meta charset="UTF-8" />', '<meta charset="windows-1256" />'),
        lambda s: s.encode("utf-8"),
        "windows-1256",
        "UTF-8 bytes, but the HTTP header and <meta charset> say windows-1256.",
    ),
    (
        "011_ur_cp1256_declared_utf8",
        "000_ur_vietnamvn",
        ('<meta charset="utf-8">', '<meta charset="utf-8">'),
        # Letters windows-1256 lacks (Farsi yeh, Urdu full stop, Vietnamese and Chinese in
        # the language menu) become numeric character references, as legacy CMSs stored them.
        lambda s: s.encode("cp1256", errors="xmlcharrefreplace"),
        "utf-8",
        "windows-1256 bytes, but the HTTP header and <meta charset> say utf-8.",
    ),
    (
        "012_vi_cp1258_declared_utf8",
        "004_vi_news",
        ('<meta charset="utf-8">', '<meta charset="utf-8">'),
        encode_cp1258,
        "utf-8",
        "windows-1258 bytes (decomposed tone marks), but the header and <meta> say utf-8.",
    ),
    (
        "013_vi_utf8_declared_cp1258",
        "004_vi_news",
        ('<meta charset="utf-8">', '<meta charset="windows-1258">'),
        lambda s: s.encode("utf-8"),
        "windows-1258",
        "UTF-8 bytes, but the HTTP header and <meta charset> say windows-1258.",
    ),
    (
        "014_ur_cp1256_declared_cp1256",
        "002_ur_wordpress",
        ('<meta charset="UTF-8" />', '<meta charset="windows-1256" />'),
        lambda s: s.encode("cp1256", errors="xmlcharrefreplace"),
        "windows-1256",
        "A correctly declared legacy windows-1256 page: the declaration must be used.",
    ),
]


def main() -> None:
    for name, source, (old, new), encode, declared, what in VARIANTS:
        html = (HERE / f"{source}.html").read_text(encoding="utf-8")
        (HERE / f"{name}.html").write_bytes(encode(set_meta_charset(html, old, new)))
        expect = json.loads((HERE / f"{source}.json").read_text(encoding="utf-8"))
        expect["description"] = f"Charset trap from {source}: {what}"
        expect["declared_charset"] = declared
        (HERE / f"{name}.json").write_text(
            json.dumps(expect, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        print(name)


if __name__ == "__main__":
    main()
