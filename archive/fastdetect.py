"""langdetect's :class:`~langdetect.detector.Detector`, same results bit for bit, for less CPU.

langdetect spends most of a call in pure-Python loops over every character: it collapses
spaces one character at a time, looks up each character's Unicode block twice (once to count
Latin letters, once to normalise it), and builds each character's 1-, 2- and 3-grams through a
method call per character. Those are pure functions of the text, so :class:`FastDetector`
computes them with the same rules but with a per-character memo (``str.translate``), C-level
counting and one loop per distinct word: n-gram extraction restarts at every space, so a word's
n-grams are a function of the word, memoised (news vocabularies repeat; the memo is bounded).
The random walks that follow draw the same random numbers; only the 55 language probabilities
live in a NumPy vector, so each step is one vector operation instead of a Python loop, with the
very same float operations in the same order on each element (the normalising sum is still
Python's ``sum``, whose order NumPy's pairwise sum would not keep).

The equivalence (same n-grams in the same order, same probabilities) is checked against the
unmodified ``Detector`` in ``tests/archive/test_fastdetect.py``. Written for langdetect 1.0.9
(pinned); its source has not changed since 2021.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from typing import Any

import numpy as np
from langdetect.detector import Detector
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
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


class _Memo(dict[str, Any]):
    """A memo emptied when it is full, or when asked for on behalf of other profiles."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.profiles: object = None

    def of(self, profiles: object) -> _Memo:
        if self.profiles is not profiles or len(self) >= self.size:
            self.clear()
            self.profiles = profiles
        return self


#: word (normalised) -> its n-grams, about 300 bytes a word: the n-grams themselves are
#: interned (at most the profiles' 87,598 distinct ones).
_WORD_MEMO = _Memo(50_000)
#: n-gram -> its 55 language probabilities as a vector, about 550 bytes each.
_VECTORS = _Memo(20_000)


def _word_ngrams(chars: str, known: dict[str, Any]) -> tuple[str, ...]:
    """NGram.add_char + Detector._extract_ngrams over one word, from a fresh buffer (" ")."""
    result: list[str] = []
    append = result.append
    grams = " "
    capital = False
    for ch in chars:
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
    return tuple(map(sys.intern, result))


class FastDetector(Detector):  # type: ignore[misc]  # langdetect is untyped: Detector is Any
    text: str  # set by Detector.__init__; declared because the untyped base declares nothing

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
        # The n-gram buffer restarts at every space, so a word's n-grams depend on the word
        # alone (and on whether a space follows it): they are computed once per word and
        # memoised, and the text is walked a word at a time.
        known = self.word_lang_prob_map
        memo = _WORD_MEMO.of(known)
        words = _normalized(self.text).split(" ")
        last = words.pop()
        result: list[str] = []
        extend = result.extend
        for word in words:
            grams = memo.get(word)
            if grams is None:
                grams = memo[word] = _word_ngrams(word + " ", known)
            extend(grams)
        if last:  # the text's last word has no space after it
            extend(_word_ngrams(last, known))
        return result

    def _detect_block(self) -> None:
        # Detector._detect_block with the language probabilities in a NumPy vector: every
        # element sees the same float operations in the same order (the sum stays Python's).
        self.cleaning_text()
        ngrams = self._extract_ngrams()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        known = self.word_lang_prob_map
        vectors = _VECTORS.of(known)
        langprob = np.zeros(len(self.langlist))
        rand = self.random
        rand.seed(self.seed)
        for _ in range(self.n_trial):
            prob = np.array(self._init_probability(), dtype=np.float64)
            alpha = self.alpha + rand.gauss(0.0, 1.0) * self.ALPHA_WIDTH
            weight = alpha / self.BASE_FREQ
            i = 0
            while True:
                word = rand.choice(ngrams)
                vector = vectors.get(word)
                if vector is None:
                    vector = vectors[word] = np.array(known[word], dtype=np.float64)
                prob *= weight + vector
                if i % 5 == 0:
                    total = sum(prob.tolist())
                    if total == 0:
                        raise ZeroDivisionError("float division by zero")  # as langdetect would
                    prob /= total
                    if max(0.0, float(prob.max())) > self.CONV_THRESHOLD or i >= self.ITERATION_LIMIT:
                        break
                i += 1
            langprob += prob / self.n_trial
        self.langprob = langprob.tolist()
