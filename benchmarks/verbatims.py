"""Verbatim analysis quality and speed on real labelled data, read in place from ../shared/.

Sentiment macro-F1 on US airline tweets (English, negative/neutral/positive) and Olist reviews
(Portuguese, 1-2 stars negative, 3 neutral, 4-5 positive), against a majority-class predictor and
VADER as published; language-detection accuracy on those and on the seed articles (Romanian,
Russian, Slovenian, Hebrew) split into paragraphs; throughput and peak memory on 100k texts.
The data are CC BY-NC-SA 4.0: they are only read here, never copied into the repository.

    .venv/bin/python benchmarks/verbatims.py
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from journeylens.verbatims import detect_language, label, sentiment, themes

SHARED = Path(__file__).resolve().parents[2] / "shared"
LABELS = ("neg", "neu", "pos")
#: The seed articles' languages, by file-name prefix (one article each).
SEED_LANGUAGES = {"000": "ro", "001": "ru", "002": "sl", "003": "ro", "004": "he"}


def airline(shared: Path) -> tuple[list[str], list[str]]:
    with (shared / "data/twitter_airline_sentiment/Tweets.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["airline_sentiment"][:3] for r in rows]


def olist(shared: Path) -> tuple[list[str], list[str]]:
    with (shared / "data/olist_classified/olist_classified_public_dataset.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["review_comment_message"].strip()]
    stars = [int(float(r["review_score"])) for r in rows]
    gold = ["neg" if s <= 2 else "neu" if s == 3 else "pos" for s in stars]
    return [r["review_comment_message"] for r in rows], gold


def seeds(shared: Path) -> tuple[list[str], list[str]]:
    """Paragraphs of at least 20 characters of each seed article, with the article's language."""
    texts: list[str] = []
    gold: list[str] = []
    for path in sorted((shared / "seeds").glob("*.txt")):
        language = SEED_LANGUAGES.get(path.name[:3])
        if language is None:
            continue
        for paragraph in path.read_text(encoding="utf-8").splitlines():
            if len(paragraph.strip()) >= 20:
                texts.append(paragraph.strip())
                gold.append(language)
    return texts, gold


def twcs(shared: Path) -> list[str]:
    with (shared / "data/twcs_customer_support/twcs_first5000.csv").open(newline="") as f:
        return [r["text"] for r in csv.DictReader(f)]


def scores(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Accuracy, per-class F1 and their unweighted mean (macro-F1)."""
    result: dict[str, float] = {}
    for name in LABELS:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p == name)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != name and p == name)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == name and p != name)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        result[name] = 2 * precision * recall / (precision + recall) if precision + recall else 0
    result["macro"] = sum(result[name] for name in LABELS) / len(LABELS)
    result["accuracy"] = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    return result


def confusion(gold: Sequence[str], predicted: Sequence[str]) -> str:
    counts = Counter(zip(gold, predicted, strict=True))
    lines = ["      gold\\pred " + " ".join(f"{p:>6}" for p in LABELS)]
    for g in LABELS:
        lines.append(f"      {g:>9} " + " ".join(f"{counts[(g, p)]:>6}" for p in LABELS))
    return "\n".join(lines)


def vader_labels(texts: Sequence[str]) -> list[str]:
    """VADER as published (compound score, +-0.05 neutral band): the usual English reference."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return [label(analyzer.polarity_scores(text)["compound"]) for text in texts]


def timed(step: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--texts", type=int, default=100_000, help="texts for the speed run")
    args = parser.parse_args()
    if not (args.shared / "data").is_dir():
        sys.exit(f"no data in {args.shared}: this benchmark reads ../shared/data in place")

    sets = {"airline (en)": airline(args.shared), "olist (pt)": olist(args.shared)}
    print("Sentiment (labels neg/neu/pos; macro-F1 is the unweighted mean of the three F1s)")
    print(
        f"{'data':<14}{'model':<22}{'n':>7}{'macro-F1':>10}{'acc':>7}"
        f"{'F1 neg':>8}{'F1 neu':>8}{'F1 pos':>8}"
    )
    for name, (texts, gold) in sets.items():
        languages = detect_language(texts)
        ours = [label(s) for s in sentiment(texts, languages)]
        majority = [Counter(gold).most_common(1)[0][0]] * len(gold)
        rows = [("journeylens lexicon", ours), ("majority class", majority)]
        rows.append(("VADER 3.3.2 as is", vader_labels(texts)))
        for model, predicted in rows:
            s = scores(gold, predicted)
            print(
                f"{name:<14}{model:<22}{len(gold):>7}{s['macro']:>10.3f}{s['accuracy']:>7.3f}"
                f"{s['neg']:>8.3f}{s['neu']:>8.3f}{s['pos']:>8.3f}"
            )
        print(f"    confusion, journeylens lexicon on {name}:\n{confusion(gold, ours)}")

    print("\nLanguage detection (None counts as wrong)")
    print(f"{'data':<26}{'n':>7}{'accuracy':>10}{'undecided':>11}  most common wrong answers")
    seed_texts, seed_gold = seeds(args.shared)
    language_sets = [
        ("airline tweets (en)", sets["airline (en)"][0], ["en"] * len(sets["airline (en)"][0])),
        ("olist reviews (pt)", sets["olist (pt)"][0], ["pt"] * len(sets["olist (pt)"][0])),
    ]
    for language in ("ro", "ru", "sl", "he"):
        chosen = [t for t, g in zip(seed_texts, seed_gold, strict=True) if g == language]
        language_sets.append((f"seed paragraphs ({language})", chosen, [language] * len(chosen)))
    for name, texts, gold in language_sets:
        found = detect_language(texts)
        right = sum(f == g for f, g in zip(found, gold, strict=True))
        wrong = Counter(str(f) for f, g in zip(found, gold, strict=True) if f != g).most_common(3)
        undecided = sum(f is None for f in found)
        print(f"{name:<26}{len(texts):>7}{right / len(texts):>10.3f}{undecided:>11}  {wrong}")

    pool = sets["airline (en)"][0] + sets["olist (pt)"][0] + twcs(args.shared) + seed_texts
    batch = [f"{pool[i % len(pool)]} #{i // len(pool)}" for i in range(args.texts)]
    print(
        f"\nSpeed on {len(batch):,} texts (tweets, reviews, support tweets, seed paragraphs; "
        "first call includes loading the lexicons and the langid model)"
    )
    languages: list[str | None] = []
    found_scores: list[float] = []

    def detect() -> None:
        languages[:] = detect_language(batch)

    def score() -> None:
        found_scores[:] = sentiment(batch, languages)

    steps = [
        ("detect_language", detect),
        ("sentiment", score),
        ("themes", lambda: themes(batch, languages, scores=found_scores)),
    ]
    print(f"{'step':<18}{'wall s':>8}{'cpu s':>8}{'texts/s':>10}")
    for name, step in steps:
        wall, cpu = timed(step)
        print(f"{name:<18}{wall:>8.2f}{cpu:>8.2f}{len(batch) / wall:>10,.0f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (data sets included): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
