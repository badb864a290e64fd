"""Offline analysis of customer verbatims: language, sentiment and themes.

Everything runs from data shipped in the wheel (word lists, VADER's English lexicon, py3langid's
model), so survey answers and tickets never leave the machine and nothing is downloaded. Bring
your own model through :mod:`journeylens.verbatims.plugins`.
"""

from __future__ import annotations

from journeylens.verbatims.language import SUPPORTED, WordListDetector, detect_language
from journeylens.verbatims.plugins import (
    LANGUAGE_GROUP,
    SENTIMENT_GROUP,
    LanguageDetector,
    PluginError,
    SentimentModel,
    load_language_detector,
    load_sentiment_model,
    register_language_detector,
    register_sentiment_model,
)
from journeylens.verbatims.sentiment import (
    NEUTRAL_BAND,
    LexiconSentiment,
    SentimentLabel,
    label,
    sentiment,
    sentiment_labels,
)
from journeylens.verbatims.themes import Theme, theme_keys, theme_labels, themes

__all__ = [
    "LANGUAGE_GROUP",
    "NEUTRAL_BAND",
    "SENTIMENT_GROUP",
    "SUPPORTED",
    "LanguageDetector",
    "LexiconSentiment",
    "PluginError",
    "SentimentLabel",
    "SentimentModel",
    "Theme",
    "WordListDetector",
    "detect_language",
    "label",
    "load_language_detector",
    "load_sentiment_model",
    "register_language_detector",
    "register_sentiment_model",
    "sentiment",
    "sentiment_labels",
    "theme_keys",
    "theme_labels",
    "themes",
]
