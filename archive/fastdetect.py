"""langdetect's :class:`~langdetect.detector.Detector`, same results bit for bit, for less CPU.

langdetect spends most of a call in pure-Python loops over every character: it collapses
spaces one character at a time, looks up each character's Unicode block twice (once to count
Latin letters, once to normalise it), and builds each character's 1-, 2- and 3-grams through a
method call per character. Those are pure functions of the text, so :class:`FastDetector`
computes them with the same rules but with a per-character memo (``str.translate``), C-level
counting and one loop per distinct word: n-gram extraction restarts at every space, so a word's
n-grams are a function of the word, memoised (news vocabularies repeat; the memo is bounded).
The random walks that follow are untouched, except that the two
per-n-gram loops over the 55 language probabilities are list comprehensions doing the very
same float operations in the same order.

The equivalence (same n-grams in the same order, same probabilities) is checked against the
unmodified ``Detector`` in ``tests/archive/test_fastdetect.py``. Written for langdetect 1.0.9
(pinned); its source has not changed since 2021.
"""

from __future__ import annotations

import re
import sys
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


#: word (normalised, followed by a space) -> its n-grams; one memo per profile map.
_WORD_MEMO: dict[str, tuple[str, ...]] = {}
_WORD_MEMO_OWNER: list[object] = [None]
#: The memo is emptied when it holds this many words: about 300 bytes each, as the n-grams
#: themselves are interned (at most the profiles' 87,598 distinct ones).
WORD_MEMO_SIZE = 50_000


def _word_memo(known: object) -> dict[str, tuple[str, ...]]:
    if _WORD_MEMO_OWNER[0] is not known or len(_WORD_MEMO) >= WORD_MEMO_SIZE:
        _WORD_MEMO.clear()
        _WORD_MEMO_OWNER[0] = known
    return _WORD_MEMO


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
        # The n-gram buffer restarts at every space, so a word's n-grams depend on the word
        # alone (and on whether a space follows it): they are computed once per word and
        # memoised, and the text is walked a word at a time.
        known = self.word_lang_prob_map
        memo = _word_memo(known)
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
