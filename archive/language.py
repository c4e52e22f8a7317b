"""Languages of an article's text, as ISO 639-3 codes for ``WARC-Identified-Content-Language``.

langdetect 1.0.9 does the identification. Three things are added around it:

* **Determinism.** langdetect draws random n-grams; with a fixed seed (0) every call restarts
  the same random sequence, so the result depends on the text only. The profiles are loaded
  into a private :class:`~langdetect.DetectorFactory` in sorted file order (langdetect's own
  loader uses ``os.listdir`` order, which differs between file systems), so the same text
  gives the same probabilities in every process and on every machine. langdetect's global
  factory is left alone.
* **A bounded sample.** Its cost grows with the text (≈ 14 ms for 3.3 k characters, ≈ 10 ms
  for 2 k). :func:`detect_languages` looks at no more than :data:`SAMPLE_CHARS` characters,
  taken as whole paragraph pieces spread over the text (first, last, middle, quarters, …),
  so the start, the middle and the end are all seen.
* **Mixed articles.** One langdetect call over a whole text converges on its main language:
  it even deletes every Latin letter from a text whose other letters outnumber them two to
  one, so a Hindi article quoting English paragraphs comes back as pure Hindi, and an English
  third of a Vietnamese article vanishes the same way. Each sampled piece (a paragraph, or a
  ≈ 300-character part of a long one) is therefore identified on its own and the results are
  weighted by the piece's letters. langdetect's default of 7 random walks per call is spread
  over the pieces (one piece: 7 walks; 7 or more pieces: one walk each), which keeps the cost
  of a sample at that of a single call: the walks, not the n-gram extraction, are what a
  call costs. On sentence-length pieces of the golden texts the top language is the same
  with 1, 3 or 7 walks.
"""

from __future__ import annotations

import functools
import json
import threading
import unicodedata
from collections import Counter, deque
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from langdetect import DetectorFactory
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.lang_detect_exception import LangDetectException
from langdetect.utils.lang_profile import LangProfile

#: Languages below this probability are dropped (Common Crawl does the same).
MIN_PROBABILITY = 0.1
#: Upper bound of the characters given to langdetect per call of :func:`detect_languages`.
SAMPLE_CHARS = 2000
#: Paragraphs longer than this are cut (at spaces) into pieces of about equal size.
PIECE_CHARS = 300
#: Lines shorter than this are joined to the next line before identification.
MIN_PIECE_CHARS = 80
#: Random walks per call in langdetect (its default), spread over the pieces of a sample.
TRIALS = 7
SEED = 0

#: langdetect's 55 profiles → ISO 639-3 terminology codes (macrolanguage codes where ISO
#: 639-1 names a macrolanguage: fas, nor, sqi, swa, est, lav, nep, as Common Crawl writes).
ISO639_3: dict[str, str] = {
    "af": "afr",
    "ar": "ara",
    "bg": "bul",
    "bn": "ben",
    "ca": "cat",
    "cs": "ces",
    "cy": "cym",
    "da": "dan",
    "de": "deu",
    "el": "ell",
    "en": "eng",
    "es": "spa",
    "et": "est",
    "fa": "fas",
    "fi": "fin",
    "fr": "fra",
    "gu": "guj",
    "he": "heb",
    "hi": "hin",
    "hr": "hrv",
    "hu": "hun",
    "id": "ind",
    "it": "ita",
    "ja": "jpn",
    "kn": "kan",
    "ko": "kor",
    "lt": "lit",
    "lv": "lav",
    "mk": "mkd",
    "ml": "mal",
    "mr": "mar",
    "ne": "nep",
    "nl": "nld",
    "no": "nor",
    "pa": "pan",
    "pl": "pol",
    "pt": "por",
    "ro": "ron",
    "ru": "rus",
    "sk": "slk",
    "sl": "slv",
    "so": "som",
    "sq": "sqi",
    "sv": "swe",
    "sw": "swa",
    "ta": "tam",
    "te": "tel",
    "th": "tha",
    "tl": "tgl",
    "tr": "tur",
    "uk": "ukr",
    "ur": "urd",
    "vi": "vie",
    "zh-cn": "zho",
    "zh-tw": "zho",
}
_ALSO_ACCEPTED = {"zh": "zho"}
_ISO639_3_CODES = frozenset(ISO639_3.values())


@dataclass(frozen=True, slots=True)
class LanguageScore:
    """One identified language: its ISO 639-3 code, langdetect's code, and its probability."""

    code: str
    detector_code: str
    probability: float


_factory: DetectorFactory | None = None
_factory_lock = threading.Lock()


def warm_up() -> None:
    """Load the langdetect profiles (≈ 0.5 s) and the detector now rather than on the first page."""
    _get_factory()
    detect_languages("warm up")


def _get_factory() -> DetectorFactory:
    global _factory
    if _factory is None:
        with _factory_lock:
            if _factory is None:
                _factory = _load_factory()
    return _factory


def _load_factory() -> DetectorFactory:
    factory = DetectorFactory()
    factory.set_seed(SEED)
    files = sorted(p for p in Path(PROFILES_DIRECTORY).iterdir() if not p.name.startswith("."))
    for index, path in enumerate(files):
        profile = LangProfile(**json.loads(path.read_text(encoding="utf-8")))
        factory.add_profile(profile, index, len(files))
    return factory


@functools.cache
def detector_info() -> dict[str, str]:
    """Name, version and settings of the detector, recorded with every identification (computed once)."""
    return {
        "name": "langdetect",
        "version": version("langdetect"),
        "seed": str(SEED),
        "sample_chars": str(SAMPLE_CHARS),
        "min_probability": str(MIN_PROBABILITY),
    }


def to_iso639_3(code: str) -> str | None:
    """ISO 639-3 code for a langdetect code (``ur``, ``zh-cn``), a BCP 47 tag (``en-GB``)
    or an ISO 639-3 code; None when unknown."""
    key = code.strip().lower().replace("_", "-")
    if key in ISO639_3:
        return ISO639_3[key]
    if key in _ISO639_3_CODES:
        return key
    base = key.split("-", 1)[0]
    return ISO639_3.get(base) or _ALSO_ACCEPTED.get(base)


def languages_header(scores: list[LanguageScore]) -> str:
    """``WARC-Identified-Content-Language`` value: codes, main language first ("hin,eng").

    Empty when nothing was identified; the header should then be left out.
    """
    return ",".join(dict.fromkeys(score.code for score in scores))


def detect_languages(text: str) -> list[LanguageScore]:
    """Languages of ``text`` with probability ≥ :data:`MIN_PROBABILITY`, main language first.

    Deterministic; ``[]`` for text without letters or that langdetect cannot place.
    """
    pieces = [(piece, _letters(piece)) for piece in _sample(text)]
    pieces = [(piece, letters) for piece, letters in pieces if letters]
    if not pieces:
        return []
    # langdetect averages 7 random walks per call; spread about as many over the pieces.
    trials = max(1, TRIALS // len(pieces))
    total = sum(letters for _, letters in pieces)
    by_code: dict[str, dict[str, float]] = {}
    for piece, letters in pieces:
        for detector_code, probability in _identify(piece, trials):
            iso = to_iso639_3(detector_code)
            if iso is not None:
                contributions = by_code.setdefault(iso, {})
                contributions[detector_code] = (
                    contributions.get(detector_code, 0.0) + probability * letters / total
                )
    scores = []
    for iso, contributions in by_code.items():
        probability = sum(contributions.values())
        if probability >= MIN_PROBABILITY:
            main = max(sorted(contributions), key=contributions.__getitem__)
            scores.append(LanguageScore(iso, main, round(probability, 4)))
    scores.sort(key=lambda s: (-s.probability, s.code))
    return scores


def _letters(piece: str) -> int:
    """Letters *and* combining marks: Devanagari, Arabic and Vietnamese write vowels and
    diacritics as marks (``str.isalpha`` is False for them), and counting only base letters
    under-weighted a Hindi piece against an English one of the same length by about a third."""
    counts = Counter(piece)
    return sum(n for char, n in counts.items() if _is_letter_or_mark(char))


@functools.lru_cache(maxsize=65536)
def _is_letter_or_mark(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM"


def _identify(text: str, trials: int) -> list[tuple[str, float]]:
    # Imported here: it loads NumPy, which the crawler process (languages_header) does not need.
    from archive.fastdetect import FastDetector  # langdetect's Detector, bit for bit, less CPU

    detector = FastDetector(_get_factory())
    detector.n_trial = trials
    detector.append(text)
    try:
        return [(lang.lang, lang.prob) for lang in detector.get_probabilities()]
    except LangDetectException:
        # "No features in text": digits, symbols, or a script langdetect has no profile for.
        return []


def _sample(text: str) -> list[str]:
    """Pieces of :data:`MIN_PIECE_CHARS` to :data:`PIECE_CHARS`, at most :data:`SAMPLE_CHARS`
    in all, spread over the whole text."""
    pieces = _pieces(text)
    if sum(map(len, pieces)) <= SAMPLE_CHARS:
        return pieces
    chosen: list[int] = []
    budget = SAMPLE_CHARS
    for index in _spread_order(len(pieces)):
        if budget < MIN_PIECE_CHARS:
            break
        if len(pieces[index]) <= budget:
            chosen.append(index)
            budget -= len(pieces[index])
    return [pieces[i] for i in sorted(chosen)]


def _pieces(text: str) -> list[str]:
    """Paragraphs cut into near-equal pieces; short lines joined to the lines that follow.

    Very short pieces ("before.") are where langdetect errs, so none is left alone if it can
    be joined to its neighbours.
    """
    pieces: list[str] = []
    pending = ""
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if pending:
            line = f"{pending}\n{line}"
        if len(line) < MIN_PIECE_CHARS:
            pending = line
            continue
        pending = ""
        pieces.extend(_cut(line))
    if pending:
        if pieces and len(pieces[-1]) + len(pending) < PIECE_CHARS:
            pieces[-1] = f"{pieces[-1]}\n{pending}"
        else:
            pieces.append(pending)
    return pieces


def _cut(line: str) -> list[str]:
    """Cut a long line at spaces into ceil(len / PIECE_CHARS) pieces of about equal size."""
    count = -(-len(line) // PIECE_CHARS)
    size = len(line) / count
    pieces = []
    start = 0
    for k in range(1, count):
        target = round(k * size)
        cut = line.rfind(" ", start + 1, target + 1)
        if cut < target - size / 2:
            cut = target  # no space near the target: a script written without spaces
        pieces.append(line[start:cut].strip())
        start = cut
    pieces.append(line[start:].strip())
    return [piece for piece in pieces if piece]


def _spread_order(n: int) -> list[int]:
    """0, n-1, then midpoints breadth-first: any prefix covers the text evenly."""
    if n <= 2:
        return list(range(n))
    order = [0, n - 1]
    queue = deque([(0, n - 1)])
    while queue:
        low, high = queue.popleft()
        if high - low < 2:
            continue
        middle = (low + high) // 2
        order.append(middle)
        queue.extend(((low, middle), (middle, high)))
    return order
