"""archive.language: gold languages, the ISO 639-3 table, mixed texts, determinism, odd input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langdetect.detector_factory import PROFILES_DIRECTORY

from archive.language import (
    ISO639_3,
    MIN_PROBABILITY,
    SAMPLE_CHARS,
    LanguageScore,
    _sample,
    detect_languages,
    detector_info,
    languages_header,
    to_iso639_3,
    warm_up,
)
from archive.text import extract_article

SEEDS = Path(__file__).resolve().parent.parent / "data" / "seeds"
REPO = Path(__file__).resolve().parent.parent.parent


def _expect(name: str) -> dict:
    return json.loads((SEEDS / f"{name}.json").read_text(encoding="utf-8"))


ARTICLES = sorted(p.stem for p in SEEDS.glob("*.json") if _expect(p.stem)["article"])


def _text(name: str) -> str:
    expect = _expect(name)
    article = extract_article(
        (SEEDS / f"{name}.html").read_bytes(),
        url=expect["url"],
        declared_charset=expect["declared_charset"],
    )
    assert article is not None
    return article.text


def codes(text: str) -> list[str]:
    return [score.code for score in detect_languages(text)]


@pytest.mark.parametrize("name", ARTICLES)
def test_golden_page_languages(name):
    assert codes(_text(name)) == _expect(name)["languages"]


@pytest.mark.parametrize(
    ("flat", "language"),
    [
        ("000_0b561a0f2779ceac", "urd"),
        ("001_696ee9e4d8d61bc7", "hin"),
        ("002_de0ae104d542f6d8", "urd"),
    ],
)
def test_raw_seed_texts(flat, language):
    text = (SEEDS / "flat" / f"{flat}.txt").read_text(encoding="utf-8")
    assert codes(text) == [language]


SHORT_TEXTS = [
    ("vie", "Hà Nội hôm nay trời nắng nóng, nhiệt độ cao nhất lên tới 38 độ C."),
    ("vie", "Người dân nên hạn chế ra đường vào buổi trưa và uống đủ nước."),
    ("vie", "Giá xăng giảm nhẹ từ chiều nay."),
    ("eng", "The council will meet again next week to discuss the budget."),
    ("eng", "Heavy rain is expected across the north of the country on Sunday."),
    ("eng", "Police have closed the road after a crash."),
    ("hin", "दिल्ली में आज भी बारिश होने की संभावना है।"),
    ("hin", "सरकार ने किसानों के लिए नई योजना की घोषणा की है।"),
    ("hin", "मैच रविवार को खेला जाएगा।"),
    ("urd", "وزیر اعظم نے آج کابینہ کے اجلاس کی صدارت کی۔"),
    ("urd", "بارش کے باعث کئی سڑکیں بند ہو گئیں۔"),
]


@pytest.mark.parametrize(("language", "text"), SHORT_TEXTS)
def test_short_texts_main_language(language, text):
    assert codes(text)[0] == language


MIXED_VI_EN = "\n".join(
    [
        "Sáng nay, đoạn trên cao dài 8,5 km của tuyến đường sắt đô thị Nhổn - ga Hà Nội đã chính "
        "thức đón hành khách sau hơn mười năm xây dựng. Ngay từ những chuyến tàu đầu tiên, rất "
        "đông người dân đã có mặt tại các nhà ga để trải nghiệm phương tiện giao thông mới.",
        "Theo Ban Quản lý đường sắt đô thị Hà Nội, đoạn tuyến gồm tám nhà ga trên cao, đi qua "
        "các quận Nam Từ Liêm, Bắc Từ Liêm, Cầu Giấy và Đống Đa.",
        '"The elevated section is a milestone for Hanoi. It shows that the city can build and '
        "operate modern urban rail, and we expect ridership to grow quickly once the bus "
        'connections are in place," a representative of the lenders said at the ceremony.',
        "Trong mười lăm ngày đầu, hành khách được miễn phí vé để làm quen với cách đi tàu.",
    ]
)


def test_mixed_hindi_article_quoting_english():
    scores = detect_languages(_text("003_hi_en_mixed"))
    assert [s.code for s in scores] == ["hin", "eng"]
    assert [s.detector_code for s in scores] == ["hi", "en"]
    assert scores[1].probability >= 0.2
    assert languages_header(scores) == "hin,eng"


def test_mixed_same_script_vietnamese_and_english():
    """A single langdetect call gives pure Vietnamese here; per-piece identification does not."""
    scores = detect_languages(MIXED_VI_EN)
    assert [s.code for s in scores] == ["vie", "eng"]
    assert scores[1].probability >= 0.2


def test_english_paragraph_at_the_end_of_a_long_text_is_sampled():
    hindi = _text("001_hi_ndtv")
    english = (
        "This paragraph is written in English and closes the article; the sample must still "
        "see it even though the text is longer than the sample, because pieces are drawn "
        "from the start, the end and the middle of the text before anything else. "
    ) * 2
    text = "\n".join([hindi, hindi, english.strip()])
    assert len(text) > 2 * SAMPLE_CHARS
    assert sum(map(len, _sample(text))) <= SAMPLE_CHARS
    assert codes(text) == ["hin", "eng"]


def test_probabilities_sorted_and_thresholded():
    for name in ARTICLES:
        scores = detect_languages(_text(name))
        assert all(s.probability >= MIN_PROBABILITY for s in scores)
        assert [s.probability for s in scores] == sorted((s.probability for s in scores), reverse=True)
        assert sum(s.probability for s in scores) <= 1.0001


@pytest.mark.parametrize(
    "text", ["", "   \n  ", "1234 5678", "!!! ??? ---", "https://example.com/a/b", "ᚠᚢᚦᚨᚱᚲ"]
)
def test_nothing_to_identify(text):
    assert detect_languages(text) == []


def test_languages_header():
    assert languages_header([]) == ""
    scores = [LanguageScore("hin", "hi", 0.7), LanguageScore("eng", "en", 0.3)]
    assert languages_header(scores) == "hin,eng"


def test_chinese_variants_merge_into_zho():
    scores = detect_languages("北京今天天气很好，很多人去公园散步。政府宣布了新的交通计划。")
    assert scores[0].code == "zho"
    assert scores[0].detector_code in {"zh-cn", "zh-tw"}
    assert len({s.code for s in scores}) == len(scores)


# --- ISO 639-3 table ----------------------------------------------------------------------


def test_table_covers_exactly_langdetects_profiles():
    profiles = sorted(p.name for p in Path(PROFILES_DIRECTORY).iterdir())
    assert len(profiles) == 55
    assert sorted(ISO639_3) == profiles
    for code in profiles:
        iso = to_iso639_3(code)
        assert iso is not None
        assert len(iso) == 3
        assert iso.isascii()
        assert iso.islower()


@pytest.mark.parametrize(
    ("code", "iso"),
    [
        ("ur", "urd"),
        ("hi", "hin"),
        ("vi", "vie"),
        ("en", "eng"),
        ("zh-cn", "zho"),
        ("zh-tw", "zho"),
        ("fa", "fas"),
        ("he", "heb"),
        ("cs", "ces"),
        ("de", "deu"),
        ("fr", "fra"),
        ("el", "ell"),
        ("nl", "nld"),
        ("ro", "ron"),
        ("sk", "slk"),
        ("sq", "sqi"),
        ("cy", "cym"),
        ("tl", "tgl"),
        ("no", "nor"),
        ("ZH_TW", "zho"),
        ("en-GB", "eng"),
        ("hi-IN", "hin"),
        ("zh", "zho"),
        ("urd", "urd"),
        (" ur ", "urd"),
        ("xx", None),
        ("", None),
        ("klingon", None),
    ],
)
def test_to_iso639_3(code, iso):
    assert to_iso639_3(code) == iso


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=20))
def test_to_iso639_3_never_raises(code):
    iso = to_iso639_3(code)
    assert iso is None or iso in set(ISO639_3.values())


# --- robustness and determinism -------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=3000))
def test_detect_languages_on_arbitrary_text(text):
    first = detect_languages(text)
    assert first == detect_languages(text)
    assert all(s.code in set(ISO639_3.values()) for s in first)
    assert all(MIN_PROBABILITY <= s.probability <= 1.0 for s in first)
    assert len({s.code for s in first}) == len(first)


_CHILD = """
import json, sys
from pathlib import Path
from archive.language import detect_languages
texts = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
print(json.dumps([[[s.code, s.detector_code, s.probability] for s in detect_languages(t)]
                  for t in texts]))
"""


def test_same_result_in_a_fresh_process(tmp_path):
    texts = [_text(name) for name in ARTICLES] + [t for _, t in SHORT_TEXTS] + [MIXED_VI_EN]
    here = [[[s.code, s.detector_code, s.probability] for s in detect_languages(t)] for t in texts]
    path = tmp_path / "texts.json"
    path.write_text(json.dumps(texts), encoding="utf-8")
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        assert json.loads(out.stdout) == here


def test_warm_up_and_info():
    warm_up()
    warm_up()
    info = detector_info()
    assert info["name"] == "langdetect"
    assert info["version"] == "1.0.9"
    assert info["seed"] == "0"
    assert all(isinstance(v, str) for v in info.values())


def test_scores_cross_a_process_pool_boundary():
    import pickle

    scores = detect_languages(_text("003_hi_en_mixed"))
    assert pickle.loads(pickle.dumps(scores)) == scores
