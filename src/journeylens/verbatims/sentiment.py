"""How positive or negative a verbatim is, in [-1, 1], from word lists: no model to download.

The rules are VADER's (Hutto & Gilbert 2014), applied to every language: word valences on a
-4..4 scale, negators flip the next three words of their clause, boosters and dampeners shift
the next two, a contrast word ("but", "mas", "dar", "но", "ampak", "אבל") puts the weight on
what follows, and "!" and SHOUTING add emphasis. English uses VADER's own 7,500-word lexicon
(MIT) under our customer-service words; the other languages use lexicons written for this
package, with stems so one entry covers a word's inflections.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Final, Literal

from journeylens.verbatims._lexicon import TermTable, data_text, data_toml, read_lines
from journeylens.verbatims._text import SHOUTED, clean, fold, is_boundary, tokens
from journeylens.verbatims.language import SUPPORTED
from journeylens.verbatims.plugins import SentimentModel, check_length, load_sentiment_model

SentimentLabel = Literal["neg", "neu", "pos"]
#: Scores within this distance of zero are neutral (VADER's convention).
NEUTRAL_BAND: Final = 0.05

_NEGATE: Final = -0.74
_BOOST: Final = 0.293
_CAPS: Final = 0.733
_EXCLAIM: Final = 0.292
_ALPHA: Final = 15.0
_NEGATION_SCOPE: Final = 3
_PUNCTUATION: Final = frozenset(".,;:!?…")

# A table entry: ("v", valence) for a sentiment word, or a modifier kind with 0.
_Kind = Literal["v", "neg", "boost", "damp", "but"]
_Entry = tuple[_Kind, float]


def _modifiers(language: str) -> list[tuple[str, _Entry]]:
    section = data_toml("sentiment/modifiers.toml").get(language, {})
    kinds: dict[str, _Kind] = {
        "negators": "neg",
        "boosters": "boost",
        "dampeners": "damp",
        "contrast": "but",
    }
    return [(word, (kind, 0.0)) for key, kind in kinds.items() for word in section.get(key, [])]


def _valences(text: str) -> list[tuple[str, _Entry]]:
    entries: list[tuple[str, _Entry]] = []
    for parts in read_lines(text):
        if len(parts) >= 2:
            entries.append((parts[0], ("v", float(parts[1]))))
    return entries


@functools.cache
def _vader() -> list[tuple[str, _Entry]]:
    """VADER's lexicon, read from the installed vaderSentiment package (MIT licence)."""
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text("utf-8")
    return [(line[0], ("v", float(line[1]))) for line in read_lines(text) if len(line) >= 2]


def _entries(language: str) -> list[tuple[str, _Entry]]:
    entries = _modifiers(language) + _valences(data_text("sentiment", f"{language}.tsv"))
    if language == "en":
        entries += _vader()
    return entries


@functools.cache
def _table(language: str | None) -> TermTable[_Entry]:
    """One language's table; ``None`` (unknown language) merges all, English first."""
    languages = [language] if language in SUPPORTED else list(SUPPORTED)
    entries = [entry for lang in languages for entry in _entries(lang)]
    entries += _valences(data_text("sentiment", "emoji.tsv"))
    return TermTable(entries)


class LexiconSentiment:
    """The built-in :class:`~journeylens.verbatims.plugins.SentimentModel`.

    ``extra`` adds or overrides words per language (``{"en": {"sold out": -1.5}}``), for jargon
    a domain has that no general lexicon knows.
    """

    def __init__(self, *, extra: Mapping[str, Mapping[str, float]] | None = None) -> None:
        self._tables: dict[str | None, TermTable[_Entry]] = {}
        self._extra = {lang: dict(words) for lang, words in (extra or {}).items()}

    def table(self, language: str | None) -> TermTable[_Entry]:
        key = language if language in SUPPORTED else None
        table = self._tables.get(key)
        if table is None:
            if not self._extra:
                table = _table(key)
            else:
                own: list[tuple[str, _Entry]] = [
                    (word, ("v", value))
                    for lang, words in self._extra.items()
                    if key is None or lang == key
                    for word, value in words.items()
                ]
                base = [key] if key is not None else list(SUPPORTED)
                rest = [entry for lang in base for entry in _entries(lang)]
                rest += _valences(data_text("sentiment", "emoji.tsv"))
                table = TermTable(_modifiers_first(own, rest))
            self._tables[key] = table
        return table

    def score(self, texts: Sequence[str | None], languages: Sequence[str | None]) -> list[float]:
        if len(languages) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(languages)} languages")
        return [
            self.score_one(text, language) for text, language in zip(texts, languages, strict=True)
        ]

    def score_one(self, text: object, language: str | None) -> float:
        cleaned = clean(text)
        folded = tokens(fold(cleaned))
        if not folded:
            return 0.0
        table = self.table(language)
        infos = table.infos
        shouted = _shouted(cleaned)
        scores: list[float] = []
        clause_start = 0
        negated_at = -99
        shift, shift_at = 0.0, -99
        contrast_at: int | None = None
        exclaims = 0
        words_seen = 0  # word positions, so punctuation does not stretch a scope
        i = 0
        while i < len(folded):
            token = folded[i]
            if token[0] in _PUNCTUATION and is_boundary(token):
                exclaims += token.count("!")
                clause_start = words_seen
                i += 1
                continue
            info = infos.get(token) or table.info(token)
            if info[0]:
                hit = table.match(folded, i)
            elif info[1] is None:
                words_seen += 1
                i += 1
                continue
            else:
                hit = info[1], 1
            span = 1 if hit is None else hit[1]
            if hit is not None:
                (kind, valence) = hit[0]
                if kind == "neg":
                    negated_at = words_seen
                elif kind in ("boost", "damp"):
                    shift, shift_at = (_BOOST if kind == "boost" else -_BOOST), words_seen
                elif kind == "but":
                    contrast_at = len(scores)
                elif valence:
                    sign = 1.0 if valence > 0 else -1.0
                    if shouted and token in shouted:
                        valence += sign * _CAPS
                    if 0 < words_seen - shift_at <= 2:
                        valence += sign * shift
                    if negated_at >= clause_start and 0 < words_seen - negated_at <= (
                        _NEGATION_SCOPE
                    ):
                        valence *= _NEGATE
                    scores.append(valence)
            words_seen += span
            i += span
        if contrast_at is not None:
            scores = [s * 0.5 for s in scores[:contrast_at]] + [
                s * 1.5 for s in scores[contrast_at:]
            ]
        total = sum(scores)
        if total == 0.0:
            return 0.0
        total += math.copysign(min(exclaims, 4) * _EXCLAIM, total)
        return max(-1.0, min(1.0, total / math.sqrt(total * total + _ALPHA)))


def _shouted(text: str) -> frozenset[str]:
    """Words in capitals, unless the whole text is: then capitals are no emphasis."""
    if text.islower():
        return frozenset()
    found = SHOUTED.findall(text)
    if not found or text.upper() == text:
        return frozenset()
    return frozenset(fold(word) for word in found)


def _modifiers_first(
    own: list[tuple[str, _Entry]], rest: list[tuple[str, _Entry]]
) -> list[tuple[str, _Entry]]:
    """Negators and friends keep their role even if a user lists the same word with a valence."""
    modifiers = [entry for entry in rest if entry[1][0] != "v"]
    return modifiers + own + rest


@functools.cache
def default_model() -> LexiconSentiment:
    return LexiconSentiment()


def resolve_model(model: SentimentModel | str | None) -> SentimentModel:
    if model is None:
        return default_model()
    if isinstance(model, str):
        return load_sentiment_model(model)
    return model


def label(score: float, band: float = NEUTRAL_BAND) -> SentimentLabel:
    """neg / neu / pos for a score: within ``band`` of zero is neutral."""
    if score >= band:
        return "pos"
    if score <= -band:
        return "neg"
    return "neu"


def sentiment(
    texts: Sequence[str | None],
    languages: Sequence[str | None] | None = None,
    *,
    model: SentimentModel | str | None = None,
) -> list[float]:
    """A score in [-1, 1] per text; ``languages`` (ISO 639-1 or None) are detected if omitted.

    ``model`` is a :class:`SentimentModel`, the name of one (``"module:factory"`` or an entry
    point in ``journeylens.sentiment_models``), or None for the built-in lexicons.
    """
    if languages is None:
        from journeylens.verbatims.language import default_detector

        languages = default_detector().detect(texts)
    elif len(languages) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(languages)} languages")
    chosen = resolve_model(model)
    scores = chosen.score(texts, languages)
    check_length(type(chosen).__name__, scores, len(texts))
    return [max(-1.0, min(1.0, float(s))) if s == s else 0.0 for s in scores]


def sentiment_labels(
    texts: Sequence[str | None],
    languages: Sequence[str | None] | None = None,
    *,
    model: SentimentModel | str | None = None,
    band: float = NEUTRAL_BAND,
) -> list[SentimentLabel]:
    return [label(s, band) for s in sentiment(texts, languages, model=model)]
