"""Answers as events: each scored answer becomes one event about a step, as a source would.

The rows are written as JSON Lines and loaded through the ordinary ingest path (validation,
quarantine, dedupe by event id), so a survey answer is indistinguishable from one imported from
another tool: ``score`` and ``score_type`` feed the live map's satisfaction and emotion curve,
``text`` and ``language`` its verbatims, and ``attr.about`` ties the answer to the step.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journeylens.model.sources import Identifier, SourceSpec
from journeylens.model.survey import SCORED, Survey
from journeylens.surveys.ledger import Response

ACTIVITY = "survey_answer"


@dataclass(frozen=True)
class AnswerFile:
    """One file of answer events, the source spec that reads it, and the answers inside."""

    spec: SourceSpec
    path: Path
    token_ids: list[str]


def answer_events(survey: Survey, response: Response) -> list[dict[str, Any]]:
    """The events of one response: one per scored question, the open text on the first."""
    id_value = (response.identifier or "").partition(":")[2]
    id_type = _identifier_type(response)
    base: dict[str, Any] = {
        "timestamp": response.answered_at.isoformat(),
        "activity": ACTIVITY,
        id_type: id_value,
        "touchpoint": survey.touchpoint,
        "language": response.language,
        "survey": survey.id,
        "about": response.about,
        "response": response.token_id,
    }
    for question_id, picked in response.answer.choices.items():
        question = survey.question(question_id)
        multiple = question is not None and question.kind == "multiple"
        base[question_id] = picked if multiple else picked[0]
    scored = [q for q in survey.questions if q.kind in response.answer.scores]
    events = [
        base | {"score_type": q.kind, "score": response.answer.scores[q.kind], "question": q.id}
        for q in scored
    ] or [base | {"score_type": None, "score": None, "question": None}]
    events[0]["text"] = response.answer.text
    for event in events:
        event["event_id"] = f"survey-{response.token_id}-{event['score_type'] or 'answer'}"
    return events


def write_answer_files(
    survey: Survey, responses: Sequence[Response], channel: str | None, folder: Path, stamp: str
) -> list[AnswerFile]:
    """One JSON Lines file per score type (a source has one), with its source spec."""
    by_type: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    tokens: dict[str | None, list[str]] = defaultdict(list)
    identifier_types: dict[str | None, set[str]] = defaultdict(set)
    for response in responses:
        for event in answer_events(survey, response):
            by_type[event["score_type"]].append(event)
            tokens[event["score_type"]].append(response.token_id)
            identifier_types[event["score_type"]].add(_identifier_type(response))
    choice_ids = [q.id for q in survey.questions if q.kind in ("single", "multiple")]
    files = []
    folder.mkdir(parents=True, exist_ok=True)
    for score_type, events in by_type.items():
        id_types = sorted(identifier_types[score_type])
        path = folder / f"{survey.id}-{score_type or 'answers'}-{stamp}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for event in events:
                row = dict.fromkeys(id_types) | event | {"channel": channel}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        spec = SourceSpec(
            id=f"survey-{survey.id}",
            path=str(path),
            format="jsonl",
            identifiers=[Identifier(column=t, type=t) for t in id_types],
            event_id="event_id",
            touchpoint="touchpoint",
            score="score" if score_type else None,
            score_type=score_type if score_type in SCORED else None,
            text="text",
            language="language",
            attributes=["survey", "about", "response", "question", *choice_ids],
        )
        files.append(AnswerFile(spec, path, sorted(set(tokens[score_type]))))
    return files


def _identifier_type(response: Response) -> str:
    if response.identifier is None:
        raise ValueError(f"answer {response.token_id} has no identifier (already loaded?)")
    return response.identifier.partition(":")[0]
