"""Which language a verbatim is in, offline, fast enough for 100k texts a batch.

Most customer texts give themselves away by their script (Hebrew, Cyrillic) or by a couple of
function words, so a word-list vote decides those in microseconds; only texts it cannot call
(too short, another language, a tie) go to py3langid's naive-Bayes model, which ships inside its
wheel and knows 97 languages. When neither is confident the answer is ``None``: a wrong language
would pick the wrong sentiment lexicon, which is worse than the language-neutral fallback.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any, Final

from journeylens.verbatims._lexicon import data_names, data_text, read_lines, words
from journeylens.verbatims._text import WORD, clean, fold
from journeylens.verbatims.plugins import LanguageDetector, check_length, load_language_detector

#: Languages with their own word lists, sentiment lexicon and theme vocabulary.
SUPPORTED: Final = ("en", "pt", "ro", "ru", "sl", "he")

_HEBREW = re.compile(r"[\u05d0-\u05ea]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")

#: Letters that point at a language (or a few), with the weight of their presence.
_LETTERS: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "ă": (("ro", 1.5),),
    "ș": (("ro", 1.5),),
    "ş": (("ro", 1.5),),
    "ț": (("ro", 1.5),),
    "ţ": (("ro", 1.5),),
    "ã": (("pt", 1.5),),
    "õ": (("pt", 1.5),),
    "ç": (("pt", 0.5), ("fr", 0.5)),
    "ê": (("pt", 0.5), ("fr", 0.5)),
    "ô": (("pt", 0.5), ("fr", 0.5)),
    "ñ": (("es", 1.5),),
    "¿": (("es", 1.5),),
    "¡": (("es", 1.5),),
    "ä": (("de", 1.0),),
    "ö": (("de", 1.0),),
    "ü": (("de", 1.0),),
    "ß": (("de", 1.5),),
    "è": (("fr", 1.0), ("it", 0.5)),
    "œ": (("fr", 1.5),),
    "ù": (("fr", 1.0),),
    "č": (("sl", 0.7), ("hr", 0.7)),
    "š": (("sl", 0.7), ("hr", 0.7)),
    "ž": (("sl", 0.7), ("hr", 0.7)),
    "ć": (("hr", 1.5),),
    "đ": (("hr", 1.5),),
    "ы": (("ru", 1.5),),
    "э": (("ru", 1.5),),
    "і": (("uk", 2.0),),
    "ї": (("uk", 2.0),),
    "є": (("uk", 2.0),),
    "ґ": (("uk", 2.0),),
    "ъ": (("bg", 1.0), ("ru", 0.3)),
    "ђ": (("sr", 3.0),),
    "ћ": (("sr", 3.0),),
    "џ": (("sr", 3.0),),
    "љ": (("sr", 3.0),),
    "њ": (("sr", 3.0),),
    "ј": (("sr", 3.0),),
}
_LETTER_SET: Final = frozenset(_LETTERS)


@functools.cache
def _votes() -> dict[str, tuple[tuple[str, float], ...]]:
    """Each known word's votes: shared words count for every language, split between them."""
    owners: dict[str, list[str]] = {}
    for name in data_names("stopwords"):
        language = name.removesuffix(".txt")
        found = words(data_text("stopwords", name))
        if language in SUPPORTED and language != "he":
            found |= words(data_text("language", f"{language}.txt"))
            found |= _lexicon_words(language)
        for word in found:
            owners.setdefault(word, []).append(language)
    return {
        word: tuple((language, 1.0 / len(langs)) for language in langs)
        for word, langs in owners.items()
    }


def _lexicon_words(language: str) -> set[str]:
    """Whole words of a sentiment lexicon: "bom", "adorei" or "pessimo" alone name a language."""
    found: set[str] = set()
    for parts in read_lines(data_text("sentiment", f"{language}.tsv")):
        term = parts[0]
        if " " not in term and not term.endswith("*") and len(term) > 2:
            found.add(fold(term))
    return found


class _Fallback:
    """py3langid, loaded on first use (about a second) and only if a text needs it."""

    def __init__(self) -> None:
        from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

        self._model: Any = LanguageIdentifier.from_modelpath(
            MODEL_DIR / MODEL_FILE, norm_probs=True
        )

    def classify(self, text: str) -> tuple[str, float]:
        language, probability = self._model.classify(text)
        return str(language), float(probability)


@functools.cache
def _fallback() -> _Fallback:
    return _Fallback()


class WordListDetector:
    """The built-in :class:`~journeylens.verbatims.plugins.LanguageDetector`."""

    def __init__(self, *, use_model: bool = True, min_probability: float = 0.6) -> None:
        """``use_model=False`` answers only from word lists and scripts (no model load)."""
        self.use_model = use_model
        self.min_probability = min_probability

    def detect(self, texts: Sequence[str | None]) -> list[str | None]:
        return [self.detect_one(text) for text in texts]

    def detect_one(self, text: object) -> str | None:
        cleaned = clean(text)
        words_ = WORD.findall(fold(cleaned))
        letters = sum(map(len, words_))
        if letters < 2:
            return None
        sample = " ".join(words_)
        cyrillic = 0
        if not sample.isascii():
            hebrew = len(_HEBREW.findall(sample))
            if hebrew * 2 >= letters:
                return "he"
            cyrillic = len(_CYRILLIC.findall(sample))
            latin = len(_LATIN.findall(sample)) if cyrillic * 2 < letters else 0
            if cyrillic * 2 < letters and latin * 2 < letters:
                return self._model(cleaned, None)
        scores: dict[str, float] = {}
        votes = _votes()
        for word in words_:
            for language, weight in votes.get(word, ()):
                scores[language] = scores.get(language, 0.0) + weight
        letters_seen = () if cleaned.isascii() else _LETTER_SET.intersection(cleaned.lower())
        for letter in letters_seen:
            for language, weight in _LETTERS[letter]:
                scores[language] = scores.get(language, 0.0) + weight
        if cyrillic * 2 >= letters:
            scores = {k: v for k, v in scores.items() if k in ("ru", "uk", "bg", "sr")}
            if not scores:  # no word or letter of another Cyrillic language: most likely Russian
                scores = {"ru": 1.0, "bg": 0.9}
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        best, top = ranked[0] if ranked else (None, 0.0)
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if best in SUPPORTED and top >= 1.0 and top >= 2.0 * second:
            return best
        guess = best if best in SUPPORTED and top >= 1.0 and top > second else None
        return self._model(cleaned, guess)

    def _model(self, sample: str, guess: str | None) -> str | None:
        if not self.use_model:
            return guess
        language, probability = _fallback().classify(sample)
        if probability >= self.min_probability or language == guess:
            return language
        return guess


@functools.cache
def default_detector() -> WordListDetector:
    return WordListDetector()


def detect_language(
    texts: Sequence[str | None], *, detector: LanguageDetector | str | None = None
) -> list[str | None]:
    """ISO 639-1 code per text, ``None`` when empty or unsure.

    ``detector`` is a :class:`LanguageDetector`, the name of one (``"module:factory"`` or an
    entry point in ``journeylens.language_detectors``), or None for the built-in one.
    """
    if detector is None:
        chosen: LanguageDetector = default_detector()
    elif isinstance(detector, str):
        chosen = load_language_detector(detector)
    else:
        chosen = detector
    found = chosen.detect(texts)
    check_length(type(chosen).__name__, found, len(texts))
    return [code if isinstance(code, str) and code else None for code in found]
