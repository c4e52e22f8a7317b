"""FastDetector must be langdetect, bit for bit: same n-grams, same probabilities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langdetect.detector import Detector
from langdetect.lang_detect_exception import LangDetectException

from archive.fastdetect import FastDetector
from archive.language import _get_factory, _sample
from archive.text import extract_article

SEEDS = Path(__file__).resolve().parent.parent / "data" / "seeds"
DEMO = Path(__file__).resolve().parents[2] / "crawler" / "demo" / "content"


def _both(text: str, trials: int = 7) -> tuple[Detector, FastDetector]:
    factory = _get_factory()
    plain, fast = Detector(factory), FastDetector(factory)
    for detector in (plain, fast):
        detector.n_trial = trials
        detector.append(text)
    return plain, fast


def _outcome(detector: Detector) -> object:
    try:
        return [(lang.lang, lang.prob) for lang in detector.get_probabilities()]
    except LangDetectException as exc:
        return f"error {exc.code}"


def assert_identical(text: str, trials: int = 7) -> None:
    plain, fast = _both(text, trials)
    assert fast.text == plain.text
    plain.cleaning_text()
    fast.cleaning_text()
    assert fast.text == plain.text
    assert fast._extract_ngrams() == plain._extract_ngrams()
    plain, fast = _both(text, trials)
    assert _outcome(fast) == _outcome(plain)  # floats compared exactly


def _gold_texts() -> list[str]:
    texts = []
    for page in sorted(SEEDS.glob("*.html")):
        article = extract_article(page.read_bytes(), url="https://example.org/" + page.stem)
        if article is not None:
            texts.append(article.text)
    for path in sorted(DEMO.rglob("*.json")):
        texts.extend(_strings(json.loads(path.read_text(encoding="utf-8"))))
    return texts


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if len(value) > 40 else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_gold_texts_and_their_sample_pieces_are_identified_identically() -> None:
    texts = _gold_texts()
    assert len(texts) >= 8
    for text in texts:
        assert_identical(text)
        for piece in _sample(text):
            assert_identical(piece, trials=1)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "12345 -- !!!",
        "NASA and the WHO said  so.   Twice   spaced   text, URLs http://x.example/a?b=1 and a@b.example",
        "ÀÉÎ õü ß ÇA ŞȘ ţț Ạ ấ ừ quá trình phát triển",
        "यह एक परीक्षण है and this is ENGLISH TEXT in CAPS",
        "پاکستان کی حکومت نے ی ی اعلان کیا IMF",
        "ひらがな カタカナ 漢字 한국어 ㄅㄆ",
        "A" * 50 + " b" * 50,
        " leading space, trailing space ",
        "ends in CAPS",
        "ENDS IN CAPS ",
        "x",
        "McDONALD's iPhone USA-based e-Mail",
    ],
)
def test_edge_texts_are_identified_identically(text: str) -> None:
    assert_identical(text)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            list("aAbBzZ  ._-@/:0\t\nÀéßıŞșțạấừ") + list("कखगािीुे्") + list("ابپتیۓ") + list("あア漢한ㄅ")
        ),
        max_size=300,
    )
)
def test_any_text_is_identified_identically(text: str) -> None:
    assert_identical(text, trials=2)


def test_results_hold_when_the_memos_are_emptied_mid_text(monkeypatch: pytest.MonkeyPatch) -> None:
    import archive.fastdetect as fastdetect

    monkeypatch.setattr(fastdetect._WORD_MEMO, "size", 3)
    monkeypatch.setattr(fastdetect._VECTORS, "size", 5)
    texts = _gold_texts()[:4]
    for text in texts:
        assert_identical(text)
    # Checked once per text: the memo then holds one text's words at most.
    assert 3 < len(fastdetect._WORD_MEMO) <= len(texts[-1].split())
