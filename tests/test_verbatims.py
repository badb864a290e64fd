"""Verbatim analysis: languages, sentiment with negation, themes, plug-ins, hostile input.

The macro-F1 floors are measured on the CC BY-NC-SA data in ../shared/data, read in place (never
copied here); they sit a little below today's figures so a regression fails.
"""

from __future__ import annotations

import csv
import random
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

from journeylens.verbatims import (
    SENTIMENT_GROUP,
    LexiconSentiment,
    PluginError,
    SentimentModel,
    Theme,
    WordListDetector,
    detect_language,
    label,
    load_language_detector,
    load_sentiment_model,
    register_sentiment_model,
    sentiment,
    sentiment_labels,
    theme_keys,
    themes,
)

SHARED = Path(__file__).parents[2] / "shared"
DATA = SHARED / "data"
needs_data = pytest.mark.skipif(
    not (DATA / "twitter_airline_sentiment").is_dir(),
    reason="../shared/data (CC BY-NC-SA, read in place) is not on this machine",
)


# -- language -------------------------------------------------------------------------------------

SEED_SENTENCES = {
    "ro": [
        "Cartografierea parcursului este un proces analitic.",
        "Principalul scop este de a face călătoria clientului mai plăcută și mai ușoară.",
    ],
    "ru": [
        "Цифровые технологии ставят клиента в центр бизнеса.",
        "Как улучшить качество обслуживания клиентов, составив карту пути клиента",
    ],
    "sl": [
        "Poenostavite korake, ki jih morajo stranke izvesti, da pridobijo podporo.",
        "Vseeno pa ne pozabite razmisliti o svojem delovanju tudi z vidika strank.",
    ],
    "he": [
        "כשמפתחים תהליכי שירות לקוחות, חשוב להתייחס לשלבים שהלקוחות יצטרכו לעבור",
        "מיפוי של מסלול המרת הלקוח",
    ],
    "en": ["My flight was delayed again and nobody told us why.", "Thanks for the quick refund!"],
    "pt": ["O produto chegou antes do prazo, recomendo.", "Ainda não recebi o meu pedido."],
}


@pytest.mark.parametrize("language", sorted(SEED_SENTENCES))
def test_detects_each_supported_language(language: str) -> None:
    texts = SEED_SENTENCES[language]
    assert detect_language(texts) == [language] * len(texts)


def test_seed_articles_are_detected_paragraph_by_paragraph() -> None:
    seeds = SHARED / "seeds"
    if not seeds.is_dir():
        pytest.skip("../shared/seeds is not on this machine")
    expected = {"001": "ru", "002": "sl", "004": "he"}
    for path in sorted(seeds.glob("*.txt")):
        language = expected.get(path.name[:3])
        if language is None:
            continue
        paragraphs = [p for p in path.read_text().splitlines() if len(p.strip()) >= 40]
        found = detect_language(paragraphs)
        share = sum(f == language for f in found) / len(found)
        assert share >= 0.95, (path.name, share)


def test_empty_and_unsure_texts_have_no_language() -> None:
    assert detect_language(["", "   ", None, "12345", "👍", "?!"]) == [None] * 6


def test_word_lists_alone_work_without_the_model() -> None:
    detector = WordListDetector(use_model=False)
    assert detector.detect(["Foarte mulțumit de livrare", "qwrtz"]) == ["ro", None]


# -- sentiment ------------------------------------------------------------------------------------

POSITIVE = {
    "en": ["Great service, thank you so much!", "not bad at all"],
    "pt": ["Produto excelente, chegou rápido. Recomendo!", "Adorei, muito bom"],
    "ro": ["Foarte mulțumit, livrare rapidă!", "Produsul este excelent"],
    "ru": ["Отличный сервис, спасибо!", "Мне очень понравилось"],
    "sl": ["Zelo prijazno osebje, hvala!", "Odlična izkušnja"],
    "he": ["שירות מעולה, תודה רבה!", "מאוד מרוצה מהמשלוח"],
}
NEGATIVE = {
    "en": ["not good", "The worst airline ever, lost my bag and nobody helps"],
    "pt": ["Não gostei, péssimo", "Ainda não recebi o produto"],
    "ro": ["nu e bun", "Livrare întârziată și produs stricat"],
    "ru": ["не понравилось", "Ужасное обслуживание, доставка задержалась"],
    "sl": ["ni dobro", "Slaba izkušnja, paket je prispel poškodovan"],
    "he": ["לא טוב", "שירות גרוע, המשלוח לא הגיע"],
}


@pytest.mark.parametrize("language", sorted(POSITIVE))
def test_sentiment_sign_in_every_language_including_negation(language: str) -> None:
    pos, neg = POSITIVE[language], NEGATIVE[language]
    given = sentiment(pos + neg, [language] * (len(pos) + len(neg)))
    assert all(score > 0.05 for score in given[: len(pos)]), list(zip(pos, given, strict=True))
    assert all(score < -0.05 for score in given[len(pos) :]), list(zip(neg, given, strict=True))
    detected = sentiment(pos + neg)  # languages detected, same signs
    assert [s > 0 for s in detected] == [s > 0 for s in given]


def test_negation_flips_and_scope_ends_at_punctuation() -> None:
    good, not_good, later = sentiment(["good", "not good", "not now, good"], ["en"] * 3)
    assert good > 0 > not_good
    assert later > 0


def test_emoji_case_and_labels() -> None:
    happy, angry, shout, calm = sentiment(
        ["😍😍", "😡", "this is GREAT", "this is great"], ["en"] * 4
    )
    assert happy > 0.5 and angry < -0.3
    assert shout > calm > 0
    assert [label(s) for s in (0.5, 0.0, -0.5)] == ["pos", "neu", "neg"]
    assert sentiment_labels(["I love it", "the flight is at 5"], ["en", "en"]) == ["pos", "neu"]


def test_user_words_extend_the_lexicon() -> None:
    model = LexiconSentiment(extra={"en": {"sold out": -2.0}})
    assert model.score(["sold out again"], ["en"])[0] < 0
    assert LexiconSentiment().score(["sold out again"], ["en"])[0] == pytest.approx(0, abs=0.2)


def _olist() -> tuple[list[str], list[str]]:
    with (DATA / "olist_classified/olist_classified_public_dataset.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["review_comment_message"].strip()]
    stars = [int(float(r["review_score"])) for r in rows]
    gold = ["neg" if s <= 2 else "neu" if s == 3 else "pos" for s in stars]
    return [r["review_comment_message"] for r in rows], gold


def _airline() -> tuple[list[str], list[str]]:
    with (DATA / "twitter_airline_sentiment/Tweets.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["airline_sentiment"][:3] for r in rows]


def _macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    f1s = []
    for name in ("neg", "neu", "pos"):
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p == name)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != name and p == name)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == name and p != name)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / 3


@needs_data
def test_macro_f1_on_airline_tweets() -> None:
    texts, gold = _airline()
    languages = detect_language(texts)
    assert sum(lang == "en" for lang in languages) / len(texts) >= 0.97
    # Measured 0.566 (VADER as published: 0.457, majority class: 0.257).
    assert _macro_f1(gold, sentiment_labels(texts, languages)) >= 0.54


@needs_data
def test_macro_f1_on_portuguese_olist_reviews() -> None:
    texts, gold = _olist()
    languages = detect_language(texts)
    assert sum(lang == "pt" for lang in languages) / len(texts) >= 0.94
    # Measured 0.591 (majority class: 0.251).
    assert _macro_f1(gold, sentiment_labels(texts, languages)) >= 0.56


# -- themes ---------------------------------------------------------------------------------------

MULTILINGUAL = [
    ("The delivery was late and the courier was rude", "en"),
    ("Package never arrived, still waiting for my refund", "en"),
    ("A entrega atrasou e o tamanho ficou pequeno", "pt"),
    ("Quero devolver, o tamanho não serviu", "pt"),
    ("Livrarea a întârziat, curierul nu a sunat", "ro"),
    ("Доставка задержалась на неделю, курьер не позвонил", "ru"),
    ("Dostava je zamujala, paket je bil poškodovan", "sl"),
    ("המשלוח הגיע באיחור והשליח היה חצוף", "he"),
    ("Payment failed twice on the app", "en"),
    ("Pagamento no cartão recusado pelo aplicativo", "pt"),
]


def test_themes_count_across_languages_with_examples() -> None:
    texts = [t for t, _ in MULTILINGUAL]
    languages = [lang for _, lang in MULTILINGUAL]
    found = {theme.key: theme for theme in themes(texts, languages, scores=sentiment(texts))}
    delivery = found["delivery"]
    assert isinstance(delivery, Theme) and delivery.kind == "lexicon"
    assert delivery.count >= 6
    assert set(delivery.languages) >= {"en", "pt", "ro", "ru", "sl", "he"}
    assert delivery.examples and all(texts.index(e) in delivery.indices for e in delivery.examples)
    assert delivery.sentiment is not None and delivery.sentiment < 0
    assert found["size_fit"].count == 2
    assert found["payment"].count == 2 and found["app_website"].count == 2
    assert set(found["waiting_time"].indices) >= {0, 1, 2, 4, 5, 6, 7}
    keys = theme_keys(texts, languages)
    assert "returns" in keys[3] and "delivery" in keys[7]


def test_frequent_terms_come_from_the_data() -> None:
    texts = [f"the lounge in terminal {n} was closed" for n in "ABCDE"] + ["ok"] * 3
    terms = [t for t in themes(texts, ["en"] * len(texts)) if t.kind == "term"]
    labels = [t.label for t in terms]
    assert any("lounge" in label_ for label_ in labels)
    lounge = next(t for t in terms if "lounge" in t.label)
    assert lounge.count == 5
    assert "the" not in labels and "was" not in labels


# -- plug-ins -------------------------------------------------------------------------------------


class AlwaysPositive:
    def score(self, texts: Sequence[str | None], languages: Sequence[str | None]) -> list[float]:
        return [0.9] * len(texts)


class Broken:
    def score(self, texts: Sequence[str | None], languages: Sequence[str | None]) -> list[float]:
        return [0.1]


def test_user_model_by_instance_registered_name_and_dotted_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(AlwaysPositive(), SentimentModel)
    assert sentiment(["terrible"], ["en"], model=AlwaysPositive()) == [0.9]
    register_sentiment_model("always-positive", AlwaysPositive)
    assert sentiment(["terrible"], ["en"], model="always-positive") == [0.9]
    (tmp_path / "my_sentiment.py").write_text(
        textwrap.dedent(
            """
            class Model:
                def __init__(self, value=-0.5):
                    self.value = value
                def score(self, texts, languages):
                    return [self.value for _ in texts]
            def build():
                return Model(0.25)
            class Detector:
                def detect(self, texts):
                    return ["xx" for _ in texts]
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert sentiment(["a", "b"], model="my_sentiment:build") == [0.25, 0.25]
    assert load_sentiment_model("my_sentiment:Model").score(["a"], [None]) == [-0.5]
    assert detect_language(["hello there"], detector="my_sentiment:Detector") == ["xx"]
    assert load_language_detector("my_sentiment:Detector").detect([]) == []
    sys.modules.pop("my_sentiment", None)


def test_bad_plugins_fail_with_a_clear_error() -> None:
    with pytest.raises(PluginError, match="cannot load"):
        load_sentiment_model("no_such_module_xyz:build")
    with pytest.raises(PluginError, match=SENTIMENT_GROUP):
        load_sentiment_model("no-such-entry-point")
    with pytest.raises(PluginError, match="not a SentimentModel"):
        load_sentiment_model("collections:OrderedDict")
    with pytest.raises(PluginError, match="returned 1 results for 2 texts"):
        sentiment(["a", "b"], ["en", "en"], model=Broken())


# -- hostile input --------------------------------------------------------------------------------


def test_empty_none_huge_and_binary_texts_do_not_crash() -> None:
    rng = random.Random(7)
    garbage = bytes(rng.randrange(256) for _ in range(5000)).decode("latin-1")
    texts: list[str | None] = [
        "",
        None,
        "   \n\t ",
        "great " * 200_000,
        garbage,
        "\x00\x01\ufffd\udcff",
        "🙂" * 1000,
        "!!!???...",
        "a",
        "ש",
        b"\xff\xfe binary".decode("latin-1"),
    ]
    languages = detect_language(texts)
    scores = sentiment(texts)
    assert len(languages) == len(scores) == len(texts)
    assert all(-1.0 <= s <= 1.0 for s in scores)
    assert scores[0] == scores[1] == 0.0 and languages[0] is languages[1] is None
    assert scores[3] > 0.5
    themes(texts)
    theme_keys(texts, languages)
    odd: list[object] = [b"\xff\xfe", 42]
    assert len(LexiconSentiment().score(odd, [None, None])) == 2  # type: ignore[arg-type]
