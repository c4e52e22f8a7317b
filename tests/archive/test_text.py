"""archive.text / archive.boilerplate on the golden pages, charset traps and hostile bodies.

A failing golden check names the page and the sentence; if a page was edited on purpose,
update its JSON (and run `python tests/data/seeds/make_charset_variants.py` for the 01x pages).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive import boilerplate
from archive.text import (
    MAX_BODY_BYTES,
    ArticleText,
    decode_html,
    extract_article,
    extractor_info,
)

SEEDS = Path(__file__).resolve().parent.parent / "data" / "seeds"
PAGES = sorted(p.stem for p in SEEDS.glob("*.json"))
ARTICLES = [n for n in PAGES if json.loads((SEEDS / f"{n}.json").read_text("utf-8"))["article"]]
URL = "https://news.example/article"


def expectations(name: str) -> dict:
    return json.loads((SEEDS / f"{name}.json").read_text(encoding="utf-8"))


def extract(name: str) -> ArticleText | None:
    expect = expectations(name)
    body = (SEEDS / f"{name}.html").read_bytes()
    return extract_article(body, url=expect["url"], declared_charset=expect["declared_charset"])


def test_there_are_golden_pages():
    assert len(ARTICLES) >= 10
    assert {"000_ur_vietnamvn", "001_hi_ndtv", "002_ur_wordpress"} <= set(ARTICLES)


@pytest.mark.parametrize("name", PAGES)
def test_golden_page_text(name):
    expect = expectations(name)
    article = extract(name)
    if not expect["article"]:
        assert article is None, f"{name}: expected no article, got {article.text[:300]!r}"
        return
    assert article is not None, f"{name}: no article extracted"
    for sentence in expect["must_contain"]:
        assert sentence in article.text, f"{name}: sentence lost: {sentence!r}"
    for junk in expect["must_not_contain"]:
        assert junk not in article.text, f"{name}: boilerplate kept: {junk!r}"
    for sentence, most in expect["max_count"].items():
        assert article.text.count(sentence) <= most, f"{name}: repeated: {sentence!r}"
    assert "\n\n" not in article.text
    assert article.text == article.text.strip()


@pytest.mark.parametrize("name", ARTICLES)
def test_golden_page_metadata(name):
    expect = expectations(name)
    article = extract(name)
    assert article is not None
    assert article.title == expect["title"]
    assert article.date_published == expect["date_published"]
    for key in ("author", "sitename", "html_lang"):
        if key in expect:
            assert getattr(article, key) == expect[key], key


def test_as_metadata_has_every_field_but_the_text():
    article = extract("001_hi_ndtv")
    assert article is not None
    metadata = article.as_metadata()
    assert metadata == {
        "title": article.title,
        "author": "Ashutosh Kumar Singh",
        "date_published": "2025-08-13",
        "sitename": "NDTV India",
        "description": article.description,
        "html_lang": "hi",
    }
    json.dumps(metadata)  # goes into a JSON metadata record


def test_author_keeps_its_final_vowel_sign():
    # trafilatura cuts the trailing "ा" of "वर्मा" (combining marks are not \w).
    article = extract("003_hi_en_mixed")
    assert article is not None
    assert article.author == "प्रिया वर्मा"


def test_extractor_info():
    info = extractor_info()
    assert info["name"] == "trafilatura"
    assert info["version"].startswith("2.3")
    assert "favor_precision=True" in info["options"]
    assert "include_comments=False" in info["options"]
    assert info["boilerplate_rules"] == boilerplate.RULES_VERSION
    assert all(isinstance(v, str) for v in info.values())


# --- charsets ---------------------------------------------------------------------------

CHARSET_TRAPS = [
    ("010_ur_utf8_declared_cp1256", "002_ur_wordpress"),
    ("011_ur_cp1256_declared_utf8", "000_ur_vietnamvn"),
    ("012_vi_cp1258_declared_utf8", "004_vi_news"),
    ("013_vi_utf8_declared_cp1258", "004_vi_news"),
    ("014_ur_cp1256_declared_cp1256", "002_ur_wordpress"),
]


@pytest.mark.parametrize(("variant", "source"), CHARSET_TRAPS)
def test_charset_trap_gives_the_same_article_as_the_utf8_page(variant, source):
    assert extract(variant) == extract(source)


@pytest.mark.parametrize(("variant", "source"), CHARSET_TRAPS[:4])
def test_charset_trap_is_a_trap(variant, source):
    """Decoding blindly with the declared charset loses the text: the pages test something."""
    expect = expectations(variant)
    blind = (SEEDS / f"{variant}.html").read_bytes().decode(expect["declared_charset"], "replace")
    assert not any(sentence in blind for sentence in expect["must_contain"])


def test_charset_variants_are_up_to_date():
    spec = importlib.util.spec_from_file_location("variants", SEEDS / "make_charset_variants.py")
    assert spec is not None
    assert spec.loader is not None
    variants = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(variants)
    for name, source, (old, new), encode, declared, _ in variants.VARIANTS:
        html = (SEEDS / f"{source}.html").read_text(encoding="utf-8")
        expected = encode(variants.set_meta_charset(html, old, new))
        assert (SEEDS / f"{name}.html").read_bytes() == expected, (
            f"{name} is stale: run python tests/data/seeds/make_charset_variants.py"
        )
        assert expectations(name)["declared_charset"] == declared


def test_decode_prefers_valid_utf8_over_the_declaration():
    body = "<p>اردو متن</p>".encode()
    assert decode_html(body, "windows-1256") == "<p>اردو متن</p>"


def test_decode_uses_a_declaration_that_fits():
    body = "<p>اردو کی خبریں</p>".replace("ی", "ي").encode("cp1256")
    assert decode_html(body, "windows-1256") == "<p>اردو کی خبریں</p>".replace("ی", "ي")
    meta = b'<meta charset="windows-1256">' + body
    assert decode_html(meta, None).endswith("<p>اردو کی خبریں</p>".replace("ی", "ي"))


def test_decode_latin1_label_means_windows_1252():
    assert decode_html("“quoted” café".encode("cp1252"), "iso-8859-1") == "“quoted” café"


def test_decode_bom_wins():
    assert decode_html("<p>hé</p>".encode("utf-16"), "windows-1256") == "<p>hé</p>"
    assert decode_html(b"\xef\xbb\xbf<p>h\xc3\xa9</p>", "windows-1256") == "<p>hé</p>"


def test_decode_survives_unknown_labels_and_undecodable_bytes():
    assert decode_html(b"<p>\xff\xfe\xfa</p>", "x-no-such-charset") is not None
    assert decode_html(b"\x81\x8d\x8f\x90\x9d", "ascii")


def test_html_lang_skips_conditional_comments():
    # 002 starts with <!--[if IE 8]><html class="ie8" lang="en"><![endif]-->.
    assert b'lang="en"' in (SEEDS / "002_ur_wordpress.html").read_bytes()[:200]
    article = extract("002_ur_wordpress")
    assert article is not None
    assert article.html_lang == "ur"


# --- hostile and empty bodies -------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"   \n\t ", id="whitespace"),
        pytest.param(PNG, id="png-as-html"),
        pytest.param(gzip.compress((SEEDS / "005_en_news.html").read_bytes()), id="gzip-twice"),
        pytest.param(random.Random(0).randbytes(50_000), id="random-bytes"),
        pytest.param(b"<html><head><title>x</title></head><body></body></html>", id="no-body"),
        pytest.param(b"<html><body><script>var a = 1;</script></body></html>", id="script-only"),
        pytest.param(b"<" * 100_000, id="angle-brackets"),
        pytest.param(b"<div>" * 20_000 + b"deep" + b"</div>" * 20_000, id="deep-nesting"),
        pytest.param(b'<?xml version="1.0" encoding="utf-8"?><rss><channel></channel></rss>', id="rss"),
        pytest.param((SEEDS / "020_en_index_page.html").read_bytes(), id="index-page"),
    ],
)
def test_no_article_gives_none(body):
    assert extract_article(body, url=URL, declared_charset="utf-8") is None


def test_oversized_body_gives_none():
    body = b"<html><body><p>" + b"a" * MAX_BODY_BYTES + b"</p></body></html>"
    assert extract_article(body, url=URL) is None


def test_odd_declarations_do_not_break_extraction():
    body = (SEEDS / "005_en_news.html").read_bytes()
    for declared in (None, "", "utf-16", "x-unknown", "windows-1256", "'utf-8'"):
        article = extract_article(body, url=URL, declared_charset=declared)
        assert article is not None
        assert "A petition against the plans gathered almost 900 signatures." in article.text


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000), st.sampled_from([None, "utf-8", "windows-1256", "bogus"]))
def test_never_raises_on_arbitrary_bytes(body, declared):
    result = extract_article(body, url=URL, declared_charset=declared)
    assert result is None or isinstance(result, ArticleText)


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=2000))
def test_never_raises_on_arbitrary_markup(text):
    page = f"<html><body><article><p>{text}</p></article></body></html>"
    result = extract_article(page.encode("utf-8", "surrogatepass"), url=URL)
    assert result is None or isinstance(result, ArticleText)


# --- boilerplate rules ------------------------------------------------------------------------

FLAT = {
    "000_0b561a0f2779ceac": "000_ur_vietnamvn",
    "001_696ee9e4d8d61bc7": "001_hi_ndtv",
    "002_de0ae104d542f6d8": "002_ur_wordpress",
}


@pytest.mark.parametrize("flat", sorted(FLAT))
def test_clean_text_on_the_flattened_seeds(flat):
    """The seeds as an extractor flattened them, furniture lines and all."""
    raw = (SEEDS / "flat" / f"{flat}.txt").read_text(encoding="utf-8")
    cleaned = boilerplate.clean_text(raw)
    expect = expectations(FLAT[flat])
    for sentence in expect["must_contain"]:
        assert sentence in cleaned
    for junk in expect["must_not_contain"]:
        assert junk not in cleaned
    for sentence, most in expect["max_count"].items():
        assert cleaned.count(sentence) <= most


def _dropped(flat: str) -> list[str]:
    raw = (SEEDS / "flat" / f"{flat}.txt").read_text(encoding="utf-8")
    kept = set(boilerplate.clean_text(raw).split("\n"))
    return [line.strip() for line in raw.split("\n") if line.strip() and line.strip() not in kept]


def test_clean_text_drops_exactly_the_seed_furniture():
    assert _dropped("000_0b561a0f2779ceac") == [
        "ماخذ: https://baoquocte.vn/what-in-the-gap-of-president-of-northern-state-of-russia-286239.html",
        "تبصرہ (0)",
    ]
    assert _dropped("002_de0ae104d542f6d8") == []
    assert _dropped("001_696ee9e4d8d61bc7") == [
        "विज्ञापन",
        "Read Time: 2 mins",
        "फटाफट पढ़ें",
        "Summary is AI-generated, newsroom-reviewed",
        "• अलास्का शिखर सम्मेलन से पहले व्लादिमीर पुतिन ने किम जोंग के साथ टेलीफोन पर बातचीत की.",
        "• दोनों नेताओं ने रूस और नॉर्थ कोरिया के बीच सहयोग को मजबूत करने की प्रतिबद्धता जाहिर की.",
        "• नॉर्थ कोरिया यूक्रेन में रूस के सैन्य अभियानों के लिए सैनिकों और हथियारों की आपूर्ति कर रहा है.",
        "क्या हमारी AI समरी आपके लिए उपयोगी रही?",
        "हमें बताएं।",
        "यह भी पढ़ें:\xa0रूस की तारीफ करते चीन पर चुटकी काट गए ट्रंप, निकाली ट्रेड वाली खुन्नस",
        "Featured Video Of The Day",
        "Uttarkashi Cloudburst: सरकार बताए मेरा पति ज़िंदा है या मर गया, पति को खोज रही पत्नी का सवाल",
    ]


@pytest.mark.parametrize(
    ("line", "dropped"),
    [
        ("Advertisement", True),
        ("ADVERTISEMENT", True),
        ("The advertisement ran for a week before it was withdrawn.", False),
        ("Comments (12)", True),
        ("Also read: Storm surge floods high street", True),
        ("Also read the council's full report before the meeting.", False),
        ("Source: https://example.org/a", True),
        ("Source: a senior official who asked not to be named.", False),
        ("Bình luận (0)", True),
        ("Xem thêm: Giá vé tàu điện được tính như thế nào?", True),
        ("Quảng cáo", True),
        ("Nguồn: https://vnexpress.net/x", True),
        ("- اشتہار -", True),
        ("یہ بھی پڑھیں: پوتین یاکوتسک پہنچے", True),
        ("3 تبصرے", True),
        ("ماخذ: KCNA", False),
        ("ये भी पढ़ें- चंद्रयान-4 मिशन को कैबिनेट की मंजूरी", True),
        ("यह भी पढ़ें कि सरकार ने अदालत में क्या कहा था.", False),
        # Precomposed nukta (U+095D) spelling of the same phrase.
        ("यह भी प\u095dें: एक और खबर", True),
        ("टिप्पणियां (3)", True),
    ],
)
def test_line_rules(line, dropped):
    text = f"First real paragraph of the article.\n{line}\nLast real paragraph."
    cleaned = boilerplate.clean_text(text)
    assert (line not in cleaned.split("\n")) is dropped
    assert cleaned.startswith("First real paragraph of the article.")
    assert cleaned.endswith("Last real paragraph.")


def test_featured_video_takes_only_the_next_line():
    text = "Body one.\nFeatured Video Of The Day\nSome video title\nBody two."
    assert boilerplate.clean_text(text) == "Body one.\nBody two."


def test_block_rule_without_end_drops_only_the_start():
    text = "फटाफट पढ़ें\nपहला असली पैराग्राफ.\nदूसरा असली पैराग्राफ."
    assert boilerplate.clean_text(text) == "पहला असली पैराग्राफ.\nदूसरा असली पैराग्राफ."


def _page(body: str) -> bytes:
    return (
        "<html><head><title>t</title></head><body><article>"
        f"{body}</article><footer>© Example</footer></body></html>"
    ).encode()


PARAGRAPHS = "".join(
    f"<p>Paragraph {n} of a long article about the harbour wall, with enough words in it to "
    f"count as real text for the extractor and for the tests that read it back.</p>"
    for n in range(1, 7)
)


def test_label_inside_a_sentence_is_kept():
    body = _page(
        PARAGRAPHS + "<p>The <b>Advertisement</b> Standards Authority upheld the complaint "
        "about the leaflet, which it said had misled readers about the flood risk.</p>"
    )
    article = extract_article(body, url=URL)
    assert article is not None
    assert "The Advertisement Standards Authority upheld the complaint" in article.text


def test_widget_heading_directly_in_the_article_keeps_the_article():
    body = _page("<div class='story'><h4>Also read</h4>" + PARAGRAPHS + "</div>")
    article = extract_article(body, url=URL)
    assert article is not None
    for n in range(1, 7):
        assert f"Paragraph {n} of a long article" in article.text


def test_long_paragraph_starting_with_a_heading_phrase_is_kept():
    sentence = (
        "<p><b>Also read</b> the minutes of the meeting, which show that the engineers had "
        "warned about the state of the old wall for more than ten years before the storm, and "
        "that the council had twice postponed the repairs because of the cost of the work and "
        "the disruption it would cause to the summer trade on the promenade and the beach.</p>"
    )
    article = extract_article(_page(PARAGRAPHS + sentence), url=URL)
    assert article is not None
    assert "the minutes of the meeting" in article.text


def test_prune_tree_counts_what_it_removed():
    from lxml import html

    tree = html.fromstring(
        "<html><body><article><p>Real text.</p>"
        "<div class='ad'><span>- Advertisement -</span></div>"
        "<p><strong>यह भी प\u095dें:</strong> <a href='/x'>एक और खबर</a></p>"
        "<div><div>फटाफट पढ़ें</div><ul><li>bullet</li></ul></div>"
        "<p>More real text.</p></article></body></html>"
    )
    assert boilerplate.prune_tree(tree) == 3
    assert [p.text for p in tree.iter("p")] == ["Real text.", "More real text."]


def test_prune_tree_with_comments_in_leaves():
    from lxml import html

    tree = html.fromstring(
        "<html><body><p>Text.</p><span><!-- ad -->Advertisement</span>"
        "<div><!-- x --></div><p>More.</p></body></html>"
    )
    assert boilerplate.prune_tree(tree) == 0


def test_result_crosses_a_process_pool_boundary():
    import pickle

    article = extract("000_ur_vietnamvn")
    assert pickle.loads(pickle.dumps(article)) == article
