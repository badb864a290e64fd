"""What customers talk about: recurring topics with counts and example texts.

Two sources, reported side by side: a customer-service theme lexicon (delivery, waiting, returns,
payment, price, size and fit, quality, staff, contact, app and website, cancellations) in the six
supported languages, so the same theme is counted across languages; and the most frequent other
words and word pairs, so a topic nobody anticipated (a product, a city, a campaign) still shows.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from journeylens.verbatims._lexicon import TermTable, data_names, data_text, data_toml, words
from journeylens.verbatims._text import clean, fold, is_word, tokens
from journeylens.verbatims.language import SUPPORTED, default_detector
from journeylens.verbatims.sentiment import default_model

#: Data-driven terms are grouped by their first letters, so "delivery"/"delivered" and
#: "entrega"/"entregue" count as one term (a crude stemmer that needs no per-language rules).
STEM_LENGTH: Final = 6
_EXAMPLE_CHARS: Final = 240


@dataclass(frozen=True)
class Theme:
    """One recurring topic; ``indices`` point into the texts passed in."""

    key: str  # "delivery", or "term:<stem>" for a data-driven term
    label: str
    kind: Literal["lexicon", "term"]
    count: int  # texts that mention it
    share: float  # count / texts with any words
    examples: tuple[str, ...]
    indices: tuple[int, ...]
    languages: dict[str, int] = field(default_factory=dict, compare=False)
    sentiment: float | None = None  # mean score of its texts, when scores were given


@functools.cache
def _theme_table(language: str | None) -> TermTable[tuple[str, ...]]:
    owners: dict[str, list[str]] = {}
    for key, section in data_toml("themes.toml").items():
        for lang, terms in section.items():
            if lang == "label" or (language in SUPPORTED and lang != language):
                continue
            for term in terms:
                owners.setdefault(term, []).append(key)
    return TermTable((term, tuple(dict.fromkeys(keys))) for term, keys in owners.items())


def theme_labels() -> dict[str, str]:
    """Theme key to its English label, in the lexicon's order."""
    return {key: str(section["label"]) for key, section in data_toml("themes.toml").items()}


@functools.cache
def _stopwords(language: str | None) -> frozenset[str]:
    names = data_names("stopwords")
    if language is not None and f"{language}.txt" in names:
        return frozenset(words(data_text("stopwords", f"{language}.txt")))
    found: set[str] = set()
    for name in names:
        found |= words(data_text("stopwords", name))
    return frozenset(found)


_SKIP: Final = ("skip", "")
_PHRASE: Final = ("phrase", "")


class _Vocabulary:
    """What each word is, in one language: part of a theme, a candidate term, or noise.

    Cached per word: a batch of 100k texts has far fewer distinct words than tokens.
    """

    def __init__(self, language: str | None) -> None:
        self.table = _theme_table(language if language in SUPPORTED else None)
        self._stop = _stopwords(language)
        self._opinion = default_model().table(language)
        self.kinds: dict[str, tuple[str, str] | tuple[str, tuple[str, ...]]] = {}

    def kind(self, token: str) -> tuple[str, str] | tuple[str, tuple[str, ...]]:
        found = self.kinds.get(token)
        if found is None:
            found = self._classify(token)
            if len(self.kinds) < 500_000:
                self.kinds[token] = found
        return found

    def _classify(self, token: str) -> tuple[str, str] | tuple[str, tuple[str, ...]]:
        if not is_word(token):
            return _SKIP
        candidates, hit = self.table.info(token)
        if candidates:
            return _PHRASE
        if hit is not None:
            return ("theme", hit)
        minimum = 2 if "\u05d0" <= token[:1] <= "\u05ea" else 3
        if len(token) < minimum or token in self._stop:
            return _SKIP
        entry = self._opinion.word(token)
        if entry is not None and (entry[0] != "v" or entry[1] != 0.0):
            return _SKIP
        return ("term", token[:STEM_LENGTH])


@functools.cache
def _vocabulary(language: str | None) -> _Vocabulary:
    return _Vocabulary(language)


def _scan(text: object, language: str | None) -> tuple[set[str], dict[str, str]]:
    """One text's lexicon themes, and its candidate terms (stem or stem pair -> surface)."""
    vocabulary = _vocabulary(language)
    kinds = vocabulary.kinds
    folded = tokens(fold(clean(text)))
    found: set[str] = set()
    terms: dict[str, str] = {}
    previous: tuple[str, str] | None = None
    i = 0
    while i < len(folded):
        token = folded[i]
        kind, value = kinds.get(token) or vocabulary.kind(token)
        i += 1
        if kind == "term":
            stem = str(value)
            terms.setdefault(stem, token)
            if previous is not None:
                terms.setdefault(f"{previous[0]} {stem}", f"{previous[1]} {token}")
            previous = (stem, token)
            continue
        previous = None
        if kind == "theme":
            found.update(value)
        elif kind == "phrase":
            hit = vocabulary.table.match(folded, i - 1)
            if hit is not None:
                found.update(hit[0])
                i += hit[1] - 1
    return found, terms


def _languages(
    texts: Sequence[str | None], languages: Sequence[str | None] | None
) -> Sequence[str | None]:
    if languages is None:
        return default_detector().detect(texts)
    if len(languages) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(languages)} languages")
    return languages


def theme_keys(
    texts: Sequence[str | None], languages: Sequence[str | None] | None = None
) -> list[tuple[str, ...]]:
    """The lexicon themes of each text (sorted keys), to join back onto journeys."""
    langs = _languages(texts, languages)
    return [tuple(sorted(_scan(t, lang)[0])) for t, lang in zip(texts, langs, strict=True)]


def themes(
    texts: Sequence[str | None],
    languages: Sequence[str | None] | None = None,
    *,
    scores: Sequence[float] | None = None,
    min_count: int = 2,
    top_terms: int = 20,
    examples: int = 3,
) -> list[Theme]:
    """Lexicon themes (most mentioned first), then up to ``top_terms`` frequent other terms.

    ``scores`` (e.g. from :func:`sentiment`) adds each theme's mean sentiment.
    """
    langs = _languages(texts, languages)
    if scores is not None and len(scores) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(scores)} scores")
    by_theme: dict[str, list[int]] = {}
    by_term: dict[str, list[int]] = {}
    surfaces: dict[str, dict[str, int]] = {}
    with_words = 0
    for index, (text, lang) in enumerate(zip(texts, langs, strict=True)):
        found, terms = _scan(text, lang)
        if found or terms:
            with_words += 1
        for key in found:
            by_theme.setdefault(key, []).append(index)
        for key, surface in terms.items():
            by_term.setdefault(key, []).append(index)
            forms = surfaces.setdefault(key, {})
            forms[surface] = forms.get(surface, 0) + 1

    def build(key: str, label: str, kind: Literal["lexicon", "term"], found: list[int]) -> Theme:
        mean = None
        if scores is not None:
            mean = sum(float(scores[i]) for i in found) / len(found)
        return Theme(
            key=key,
            label=label,
            kind=kind,
            count=len(found),
            share=len(found) / max(with_words, 1),
            examples=_examples(texts, found, examples),
            indices=tuple(found),
            languages=dict(Counter(str(langs[i]) for i in found).most_common()),
            sentiment=mean,
        )

    labels = theme_labels()
    result = [
        build(key, labels[key], "lexicon", found)
        for key, found in sorted(by_theme.items(), key=lambda item: (-len(item[1]), item[0]))
        if len(found) >= 1
    ]
    for key in _top_terms(by_term, min_count, top_terms):
        forms = surfaces[key]
        label = max(forms, key=lambda form: (forms[form], form))
        result.append(build(f"term:{key}", label, "term", by_term[key]))
    return result


def _top_terms(by_term: dict[str, list[int]], min_count: int, limit: int) -> list[str]:
    """Most frequent terms; a word pair replaces its words when it covers most of their uses."""
    ranked = sorted(
        (key for key, found in by_term.items() if len(found) >= max(min_count, 1)),
        key=lambda key: (-len(by_term[key]), key.count(" "), key),
    )
    chosen: list[str] = []
    covered: set[str] = set()
    for key in ranked:
        if len(chosen) >= limit:
            break
        if key in covered:
            continue
        if " " in key:
            for part in key.split(" "):
                if len(by_term[key]) >= 0.6 * len(by_term.get(part, ())):
                    covered.add(part)
                    if part in chosen:
                        chosen.remove(part)
        chosen.append(key)
    return chosen


def _examples(texts: Sequence[str | None], found: list[int], limit: int) -> tuple[str, ...]:
    picked: list[str] = []
    seen: set[str] = set()
    for index in found:
        text = " ".join(clean(texts[index]).split())
        if text and text not in seen:
            seen.add(text)
            picked.append(text if len(text) <= _EXAMPLE_CHARS else text[:_EXAMPLE_CHARS] + "…")
            if len(picked) >= limit:
                break
    return tuple(picked)
