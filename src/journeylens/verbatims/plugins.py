"""Bring your own model: the two protocols and how a model is found by name.

A model is named either by a dotted path ``"package.module:factory"`` or by the name of an entry
point in the ``journeylens.sentiment_models`` / ``journeylens.language_detectors`` groups, so a
team can ship its own fine-tuned classifier as a package without journeylens knowing about it.
The target may be a class, a zero-argument factory, or a ready instance.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import Any, Final, Protocol, runtime_checkable

from journeylens.errors import JourneylensError

SENTIMENT_GROUP: Final = "journeylens.sentiment_models"
LANGUAGE_GROUP: Final = "journeylens.language_detectors"


class PluginError(JourneylensError):
    """A user model could not be found, built, or broke its contract."""


@runtime_checkable
class SentimentModel(Protocol):
    """Scores texts in [-1, 1] (negative to positive), one score per text, in order."""

    def score(
        self, texts: Sequence[str | None], languages: Sequence[str | None]
    ) -> list[float]: ...


@runtime_checkable
class LanguageDetector(Protocol):
    """ISO 639-1 code per text, or ``None`` when unsure, in order."""

    def detect(self, texts: Sequence[str | None]) -> list[str | None]: ...


_REGISTERED: dict[str, dict[str, Callable[[], object]]] = {SENTIMENT_GROUP: {}, LANGUAGE_GROUP: {}}


def register_sentiment_model(name: str, factory: Callable[[], SentimentModel]) -> None:
    """Make ``name`` usable wherever a model name is accepted, for this process."""
    _REGISTERED[SENTIMENT_GROUP][name] = factory


def register_language_detector(name: str, factory: Callable[[], LanguageDetector]) -> None:
    _REGISTERED[LANGUAGE_GROUP][name] = factory


def load_sentiment_model(spec: str) -> SentimentModel:
    """The model named by ``spec``: a registered name, ``module:factory`` or an entry point."""
    model = _build(spec, SENTIMENT_GROUP, SentimentModel)
    if not isinstance(model, SentimentModel):
        raise PluginError(f"{spec!r} gave {type(model).__name__}, not a SentimentModel")
    return model


def load_language_detector(spec: str) -> LanguageDetector:
    detector = _build(spec, LANGUAGE_GROUP, LanguageDetector)
    if not isinstance(detector, LanguageDetector):
        raise PluginError(f"{spec!r} gave {type(detector).__name__}, not a LanguageDetector")
    return detector


def _target(spec: str, group: str) -> object:
    registered = _REGISTERED[group].get(spec)
    if registered is not None:
        return registered
    if ":" in spec:
        module_name, _, attribute = spec.partition(":")
        try:
            found: Any = importlib.import_module(module_name)
            for part in attribute.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError) as error:
            raise PluginError(f"cannot load {spec!r}: {error}") from error
        return found
    for point in entry_points(group=group, name=spec):
        try:
            return point.load()
        except Exception as error:  # a broken plug-in must not look like a journeylens bug
            raise PluginError(f"entry point {spec!r} in {group} failed to load: {error}") from error
    known = sorted({*_REGISTERED[group], *(p.name for p in entry_points(group=group))})
    raise PluginError(
        f"no model {spec!r}: use 'module:factory' or one of the {group} entry points {known}"
    )


def _build(spec: str, group: str, protocol: type[Any]) -> object:
    """Instantiate classes and call factories; a ready instance is returned as it is."""
    target = _target(spec, group)
    if isinstance(target, type) or (callable(target) and not isinstance(target, protocol)):
        try:
            return target()
        except Exception as error:
            raise PluginError(f"{spec!r} failed to build its model: {error}") from error
    return target


def check_length(name: str, results: Sequence[Any], expected: int) -> None:
    """A model that drops or adds a row would silently shift every label after it."""
    if len(results) != expected:
        raise PluginError(f"{name} returned {len(results)} results for {expected} texts")
