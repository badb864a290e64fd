"""A survey (``surveys/*.yaml``): a short questionnaire asked at one touchpoint or step.

The seeds ask for few, unambiguous questions; so a survey holds at most one question of each
scored kind (NPS, CSAT, CES: each becomes one scored event about a step), choice questions
and at most one open question (its text becomes the answer's verbatim).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from journeylens.model.common import Document, Id, Language, Named, Text, localize
from journeylens.model.sources import IDENTIFIER_TYPES, SCORE_SCALES
from journeylens.model.workspace import FORMAT_VERSION

QuestionKind = Literal["nps", "csat", "ces", "single", "multiple", "open"]
SCORED: tuple[str, ...] = ("nps", "csat", "ces")
MAX_QUESTIONS = 10
MAX_TEXT = 2000
#: Attribute names every answer event carries; choice questions' ids may not take them.
RESERVED_ATTRIBUTES = frozenset({"survey", "about", "response", "question"})
_TAKEN_IDS = RESERVED_ATTRIBUTES | set(IDENTIFIER_TYPES)


class Choice(Document):
    id: Id
    label: Text


class Question(Document):
    id: Id
    kind: QuestionKind
    text: Text = Field(description="the question as the customer reads it")
    required: bool = False
    choices: list[Choice] = Field(default_factory=list, description="single and multiple only")
    low_label: Text | None = Field(default=None, description="scored: the scale's low end")
    high_label: Text | None = Field(default=None, description="scored: the scale's high end")

    @model_validator(mode="after")
    def _choices_fit_the_kind(self) -> Question:
        if self.kind in ("single", "multiple"):
            if len(self.choices) < 2:
                raise ValueError(f"a {self.kind} choice question needs at least two choices")
            ids = [c.id for c in self.choices]
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                raise ValueError(f"choice ids must be unique, repeated: {', '.join(repeated)}")
        elif self.choices:
            raise ValueError(f"a {self.kind} question takes no choices")
        if self.kind not in SCORED and (self.low_label or self.high_label):
            raise ValueError("low_label and high_label belong to nps, csat and ces questions")
        return self

    @property
    def scale(self) -> tuple[int, int] | None:
        return SCORE_SCALES.get(self.kind)


class Invitation(Document):
    """The e-mail that carries a survey's link."""

    subject: Text
    body: Text = Field(description="plain text; the link and the answer buttons are added")


class Survey(Named):
    """A survey document; ``about`` ties its answers to a step (or touchpoint) of the maps."""

    journeylens: Literal[1] = FORMAT_VERSION
    languages: list[Language] = Field(default_factory=lambda: ["en"], min_length=1)
    touchpoint: Id | None = Field(
        default=None, description="where the survey is answered (its answers' touchpoint)"
    )
    channel: Id | None = Field(
        default=None, description="the answers' channel; defaults to the touchpoint's channel"
    )
    about: Id | None = Field(
        default=None,
        description="the map step or touchpoint the answers are about; a link can name another",
    )
    intro: Text | None = None
    thanks: Text | None = None
    questions: list[Question] = Field(min_length=1, max_length=MAX_QUESTIONS)
    valid_days: int = Field(default=30, ge=1, le=366, description="how long a link is valid")
    invitation: Invitation | None = None

    @model_validator(mode="after")
    def _short_and_unambiguous(self) -> Survey:
        ids = [q.id for q in self.questions]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"question ids must be unique, repeated: {', '.join(repeated)}")
        clashing = sorted(set(ids) & _TAKEN_IDS)
        if clashing:
            raise ValueError(
                f"question id(s) {', '.join(clashing)} are taken: answer events carry the "
                "survey, about, response, question and identifier columns under those names"
            )
        for kind in (*SCORED, "open"):
            count = sum(q.kind == kind for q in self.questions)
            if count > 1:
                raise ValueError(
                    f"a survey asks at most one {kind} question ({count} given): "
                    "each becomes one answer about the step"
                )
        return self

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def language_for(self, *wanted: str | None) -> str:
        """The first wanted language the survey is written in, else its first language."""
        for language in wanted:
            if not language:
                continue
            for candidate in (language, language.split("-")[0]):
                if candidate in self.languages:
                    return candidate
        return self.languages[0]

    def missing_translations(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(location, language) of every text not given in one of the survey's languages."""
        found: list[tuple[tuple[str | int, ...], str]] = []

        def need(loc: tuple[str | int, ...], text: Text | None) -> None:
            if text is None or (len(self.languages) == 1 and isinstance(text, str)):
                return
            for language in self.languages:
                if isinstance(text, str) or language not in text:
                    found.append((loc, language))

        if not isinstance(self.name, str):  # a plain name is a brand; other texts are read
            need(("name",), self.name)
        need(("intro",), self.intro)
        need(("thanks",), self.thanks)
        for i, question in enumerate(self.questions):
            need(("questions", i, "text"), question.text)
            need(("questions", i, "low_label"), question.low_label)
            need(("questions", i, "high_label"), question.high_label)
            for j, choice in enumerate(question.choices):
                need(("questions", i, "choices", j, "label"), choice.label)
        if self.invitation is not None:
            need(("invitation", "subject"), self.invitation.subject)
            need(("invitation", "body"), self.invitation.body)
        return found

    def text(self, value: Text | None, language: str) -> str:
        return localize(value, language, self.languages[0])
