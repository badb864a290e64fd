"""Reading a filled-in survey: every answer checked against its question, every problem named.

Form values are untrusted text; they become typed answers (a score within the question's
scale, choice ids the question offers, bounded free text) or a per-question problem that the
response page shows next to the question, in the respondent's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from journeylens.model.survey import MAX_TEXT, Survey


@dataclass
class Answer:
    """One respondent's answers: scores by question kind, choices by question id, free text."""

    scores: dict[str, int] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)
    text: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"scores": self.scores, "choices": self.choices, "text": self.text}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Answer:
        return cls(dict(data.get("scores", {})), dict(data.get("choices", {})), data.get("text"))

    @property
    def empty(self) -> bool:
        return not self.scores and not self.choices and not self.text


#: Problem codes; the response page words them in the respondent's language.
REQUIRED, OUT_OF_RANGE, UNKNOWN_CHOICE, TOO_LONG, ONE_CHOICE, NOTHING = (
    "required",
    "out_of_range",
    "unknown_choice",
    "too_long",
    "one_choice",
    "nothing",
)


def read_answer(survey: Survey, form: Mapping[str, Sequence[str]]) -> tuple[Answer, dict[str, str]]:
    """The answer in ``form`` (question id -> submitted values) and the problems by question."""
    answer, problems = Answer(), {}
    for question in survey.questions:
        values = [v for v in form.get(question.id, ()) if v.strip()]
        if not values:
            if question.required:
                problems[question.id] = REQUIRED
            continue
        if question.scale is not None:
            low, high = question.scale
            raw = values[0].strip()
            if len(values) > 1 or not raw.isdigit() or not low <= int(raw) <= high:
                problems[question.id] = OUT_OF_RANGE
                continue
            answer.scores[question.kind] = int(raw)
        elif question.kind in ("single", "multiple"):
            offered = {c.id for c in question.choices}
            picked = list(dict.fromkeys(v.strip() for v in values))
            if any(p not in offered for p in picked):
                problems[question.id] = UNKNOWN_CHOICE
            elif question.kind == "single" and len(picked) > 1:
                problems[question.id] = ONE_CHOICE
            else:
                answer.choices[question.id] = picked
        else:
            text = values[0].strip()
            if len(text) > MAX_TEXT:
                problems[question.id] = TOO_LONG
            else:
                answer.text = text
    if not problems and answer.empty:
        problems[""] = NOTHING
    return answer, problems
