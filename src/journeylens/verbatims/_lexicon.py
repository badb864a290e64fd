"""Word lists shipped as data files, and the matcher that looks words up in them.

Entries are plain words, stems ending in ``*`` (so one line covers the inflections of Russian,
Slovenian, Romanian, Portuguese and Hebrew), or short phrases of such words. The matcher also
tries Hebrew words without their one-letter prefixes (ו ה ב ל מ ש כ), which are written joined.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from typing import Any, Generic, TypeVar

from journeylens.verbatims._text import fold

V = TypeVar("V")

_HEBREW_PREFIXES = frozenset("ובלמהשכ")
_MISSING: Any = object()


def data_text(*parts: str) -> str:
    """A data file of this package, read through importlib.resources so it works from a wheel."""
    node = resources.files("journeylens.verbatims").joinpath("data")
    for part in parts:
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8")


def data_names(folder: str) -> list[str]:
    node = resources.files("journeylens.verbatims").joinpath("data").joinpath(folder)
    return sorted(child.name for child in node.iterdir() if not child.name.startswith("."))


@functools.cache
def data_toml(name: str) -> dict[str, Any]:
    return tomllib.loads(data_text(name))


def read_lines(text: str) -> Iterator[list[str]]:
    """Non-empty, non-comment lines split on tabs."""
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if line:
            yield [part.strip() for part in line.split("\t") if part.strip()]


def words(text: str) -> set[str]:
    """Whitespace-separated words of a word-list file, folded."""
    found: set[str] = set()
    for parts in read_lines(text):
        for part in parts:
            found.update(fold(word) for word in part.split())
    return found


class TermTable(Generic[V]):
    """Looks folded tokens up among words, ``stem*`` prefixes and multi-word phrases."""

    def __init__(self, entries: Iterable[tuple[str, V]], *, min_stem: int = 3) -> None:
        self._exact: dict[str, V] = {}
        self._prefix: dict[str, V] = {}
        self._phrases: dict[str, list[tuple[tuple[str, ...], V]]] = {}
        self._cache: dict[str, V | None] = {}
        self.infos: dict[str, tuple[list[tuple[tuple[tuple[str, bool], ...], V]], V | None]] = {}
        self._min_stem = min_stem
        shortest = 99
        for term, value in entries:
            parts = tuple(fold(part) for part in term.split())
            if not parts:
                continue
            if len(parts) > 1:
                self._phrases.setdefault(parts[0].rstrip("*"), []).append((parts, value))
            elif parts[0].endswith("*"):
                stem = parts[0].rstrip("*")
                self._prefix.setdefault(stem, value)
                shortest = min(shortest, len(stem))
            else:
                self._exact.setdefault(parts[0], value)
        self._shortest = max(1, min(shortest, min_stem))

    def __len__(self) -> int:
        return len(self._exact) + len(self._prefix) + sum(map(len, self._phrases.values()))

    def word(self, token: str) -> V | None:
        """The value of one folded word, trying stems and Hebrew prefixes; cached."""
        hit = self._cache.get(token, _MISSING)
        if hit is _MISSING:
            hit = self._lookup(token)
            if len(self._cache) < 500_000:
                self._cache[token] = hit
        return hit

    def _lookup(self, token: str) -> V | None:
        hit = self._direct(token)
        if hit is None and len(token) > 2 and token[0] in _HEBREW_PREFIXES:
            hit = self._direct(token[1:])
            if hit is None and len(token) > 3 and token[1] in _HEBREW_PREFIXES:
                hit = self._direct(token[2:])
        return hit

    def _direct(self, token: str) -> V | None:
        hit = self._exact.get(token)
        if hit is not None or not self._prefix:
            return hit
        for end in range(len(token), self._shortest - 1, -1):
            hit = self._prefix.get(token[:end])
            if hit is not None:
                return hit
        return None

    def match(self, folded: Sequence[str], start: int) -> tuple[V, int] | None:
        """The value at ``folded[start]`` and how many tokens it spans (phrases win)."""
        candidates, hit = self.info(folded[start])
        for rest, value in candidates:
            end = start + 1 + len(rest)
            if end > len(folded):
                continue
            for offset, (part, is_stem) in enumerate(rest, start + 1):
                word = folded[offset]
                if not (word.startswith(part) if is_stem else word == part):
                    break
            else:
                return value, 1 + len(rest)
        return None if hit is None else (hit, 1)

    def info(self, token: str) -> tuple[list[tuple[tuple[tuple[str, bool], ...], V]], V | None]:
        """Phrases that may start at ``token`` and its own value; cached (hot loops read
        :attr:`infos` first to skip the call)."""
        found = self.infos.get(token)
        if found is None:
            found = self._phrase_candidates(token), self.word(token)
            if len(self.infos) < 500_000:
                self.infos[token] = found
        return found

    def _phrase_candidates(self, token: str) -> list[tuple[tuple[tuple[str, bool], ...], V]]:
        """Phrases that can start at ``token``, longest first, as (rest of words, value)."""
        found = []
        for key in self._phrase_keys(token):
            for parts, value in self._phrases.get(key, ()):
                first = parts[0]
                if first.endswith("*") or first == token:
                    rest = tuple((part.rstrip("*"), part.endswith("*")) for part in parts[1:])
                    found.append((rest, value))
        found.sort(key=lambda option: -len(option[0]))
        return found

    def _phrase_keys(self, token: str) -> Iterator[str]:
        """Phrases whose first word is a stem are keyed by the stem."""
        if not self._phrases:
            return
        for end in range(len(token), 0, -1):
            yield token[:end]
