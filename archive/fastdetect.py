"""langdetect's :class:`~langdetect.detector.Detector`, same results bit for bit, for less CPU.

langdetect spends most of a call in pure-Python loops over every character: it collapses
spaces one character at a time, looks up each character's Unicode block twice (once to count
Latin letters, once to normalise it), and builds each character's 1-, 2- and 3-grams through a
method call per character. Those are pure functions of the text, so :class:`FastDetector`
computes them with the same rules but with a per-character memo (``str.translate``), C-level
counting and one inlined loop. The random walks that follow are untouched, except that the two
per-n-gram loops over the 55 language probabilities are list comprehensions doing the very
same float operations in the same order.

The equivalence (same n-grams in the same order, same probabilities) is checked against the
unmodified ``Detector`` in ``tests/archive/test_fastdetect.py``. Written for langdetect 1.0.9
(pinned); its source has not changed since 2021.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from langdetect.detector import Detector
from langdetect.utils.ngram import NGram
from langdetect.utils.unicode_block import unicode_block

_SPACES = re.compile(" {2,}")
_LATIN_RANGE = re.compile("[A-z]+")  # 'A' <= ch <= 'z', as langdetect tests it

#: ord(ch) -> NGram.normalize(ch), filled as characters are met (bounded by the alphabet).
_NORMALIZED: dict[int, str] = {}
#: ch -> 1 when langdetect counts it as non-Latin in ``cleaning_text``, else 0.
_NON_LATIN: dict[str, int] = {}


def _normalized(text: str) -> str:
    missing = {ch for ch in set(text) if ord(ch) not in _NORMALIZED}
    for ch in missing:
        _NORMALIZED[ord(ch)] = NGram.normalize(ch)
    return text.translate(_NORMALIZED)


def _non_latin(ch: str) -> int:
    flag = _NON_LATIN.get(ch)
    if flag is None:
        flag = _NON_LATIN[ch] = int(
            not ("A" <= ch <= "z") and ch >= "\u0300" and unicode_block(ch) != "Latin Extended Additional"
        )
    return flag


class FastDetector(Detector):  # type: ignore[misc]
    def append(self, text: str) -> None:
        text = self.URL_RE.sub(" ", text)
        text = self.MAIL_RE.sub(" ", text)
        text = NGram.normalize_vi(text)
        # langdetect keeps a space only when the input character before it was not a space.
        self.text += _SPACES.sub(" ", text[: self.max_text_length])

    def cleaning_text(self) -> None:
        counts = Counter(self.text)
        latin = sum(n for ch, n in counts.items() if "A" <= ch <= "z")
        non_latin = sum(n for ch, n in counts.items() if _non_latin(ch))
        if latin * 2 < non_latin:
            self.text = _LATIN_RANGE.sub("", self.text)

    def _extract_ngrams(self) -> list[str]:
        # NGram.add_char + Detector._extract_ngrams in one loop over the normalised text.
        known = self.word_lang_prob_map
        result: list[str] = []
        append = result.append
        grams = " "
        capital = False
        for ch in _normalized(self.text):
            last = grams[-1]
            if last == " ":
                grams = " "
                capital = False
                if ch == " ":
                    continue
            elif len(grams) >= 3:
                grams = grams[1:]
            grams += ch
            if ch.isupper():
                if last.isupper():
                    capital = True
            else:
                capital = False
            if capital:
                continue
            if ch != " " and ch in known:
                append(ch)
            if len(grams) < 2:
                continue
            pair = grams[-2:]
            if pair in known:
                append(pair)
            if len(grams) == 3 and grams in known:
                append(grams)
        return result

    def _update_lang_prob(self, prob: list[float], word: Any, alpha: float) -> bool:
        if word is None or word not in self.word_lang_prob_map:
            return False
        weight = alpha / self.BASE_FREQ
        prob[:] = [p * (weight + q) for p, q in zip(prob, self.word_lang_prob_map[word], strict=True)]
        return True

    def _normalize_prob(self, prob: list[float]) -> float:
        total = sum(prob)
        prob[:] = [p / total for p in prob]
        return max(0.0, *prob)
