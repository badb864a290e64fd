"""A journey map document (``maps/*.yaml``): stages of steps, and lanes of cells on them.

Steps carry stable ids so that a future-state map, a translation or a path can name the same
step as the current-state map and be compared cell by cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field, field_validator

from journeylens.model.common import (
    Direction,
    Document,
    Evidence,
    Id,
    Language,
    Named,
    Text,
    direction_of,
)
from journeylens.model.selector import check_selector
from journeylens.model.workspace import FORMAT_VERSION

MapType = Literal["current", "future", "day_in_the_life"]
Lifecycle = Literal[
    "awareness", "consideration", "conversion", "retention", "loyalty", "support", "other"
]
EMOTION_MIN, EMOTION_MAX = -2, 2


class MomentOfTruth(Document):
    """Why a step makes or breaks the relationship (Carlzon; ZMOT/FMOT/SMOT/UMOT)."""

    type: Literal["ZMOT", "FMOT", "SMOT", "UMOT", "custom"] = "custom"
    rationale: Text | None = None


class PainPoint(Document):
    id: Id | None = None
    text: Text
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    evidence: Evidence | None = None


class KpiBinding(Document):
    """Places a workspace metric on a step, optionally narrowed (channel, segment...)."""

    metric: Id
    target: float | None = None
    filter: str | None = Field(default=None, description="selector narrowing the metric")

    @field_validator("filter")
    @classmethod
    def _filter_parses(cls, value: str | None) -> str | None:
        return None if value is None else check_selector(value)


class Branch(Document):
    """A decision point's outgoing edge: ``step`` is the target, ``label`` the condition."""

    step: Id
    label: Text | None = None


class Step(Document):
    """One moment of the journey, with every lane's content for it."""

    id: Id
    action: Text = Field(description="what the customer does, in their words")
    description: Text | None = None
    kind: Literal["action", "decision", "wait"] = "action"
    touchpoint: Id | None = None
    channel: Id | None = Field(default=None, description="defaults to the touchpoint's channel")
    competitor: Id | None = Field(default=None, description="day-in-the-life: step at a rival")
    thoughts: list[Text] = Field(default_factory=list)
    emotion: float | None = Field(
        default=None, ge=EMOTION_MIN, le=EMOTION_MAX, description="designed emotion, -2..+2"
    )
    emotion_label: Text | None = None
    pain_points: list[PainPoint] = Field(default_factory=list)
    gains: list[Text] = Field(default_factory=list)
    opportunities: list[Id] = Field(default_factory=list, description="workspace opportunity ids")
    moment_of_truth: MomentOfTruth | None = None
    physical_evidence: list[Text] = Field(default_factory=list)
    frontstage: list[Text] = Field(default_factory=list)
    backstage: list[Text] = Field(default_factory=list)
    support: list[Text] = Field(default_factory=list, description="support processes")
    owner: Text | None = Field(default=None, description="owning department or team")
    kpis: list[KpiBinding] = Field(default_factory=list)
    next: list[Branch] = Field(default_factory=list)
    match: str | None = Field(default=None, description="selector binding events to the step")
    evidence: Evidence | None = None

    @field_validator(
        "moment_of_truth", mode="before", json_schema_input_type=MomentOfTruth | bool | None
    )
    @classmethod
    def _flag_to_moment(cls, value: Any) -> Any:
        if value is True:
            return {}
        if value is False:
            return None
        return value

    @field_validator("match")
    @classmethod
    def _match_parses(cls, value: str | None) -> str | None:
        return None if value is None else check_selector(value)

    @property
    def has_blueprint(self) -> bool:
        return bool(self.physical_evidence or self.frontstage or self.backstage or self.support)


class Stage(Document):
    id: Id
    name: Text
    lifecycle: Lifecycle | None = None
    goal: Text | None = None
    description: Text | None = None
    steps: list[Step] = Field(default_factory=list)


class Path(Document):
    """An ordered route through shared steps: the happy path, a variant or an exception."""

    id: Id
    name: Text
    kind: Literal["happy", "variant", "exception"] = "variant"
    steps: list[Id] = Field(min_length=1)


class Competitor(Named):
    """A rival in a day-in-the-life map; steps at it set ``competitor``."""


class EmotionScale(Document):
    labels: dict[int, Text] = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _labels_on_scale(cls, value: dict[int, Text]) -> dict[int, Text]:
        for key in value:
            if not EMOTION_MIN <= key <= EMOTION_MAX:
                raise ValueError(f"emotion label {key} is off the -2..+2 scale")
        return value


class JourneyMap(Document):
    """A journey map: current state, future state or a day in the life."""

    journeylens: Literal[1] = FORMAT_VERSION
    id: Id
    title: Text
    type: MapType = "current"
    language: Language = "en"
    direction: Direction | None = Field(default=None, description="defaults from the language")
    translation_of: Id | None = Field(default=None, description="id of the map this translates")
    based_on: Id | None = Field(default=None, description="the as-is map a future map improves")
    status: Literal["draft", "in_review", "approved", "live", "archived"] = "draft"
    owner: str | None = None
    personas: list[Id] = Field(default_factory=list)
    goal: Text | None = Field(default=None, description="the customer's goal")
    scenario: Text | None = None
    description: Text | None = None
    emotion_scale: EmotionScale = Field(default_factory=EmotionScale)
    competitors: list[Competitor] = Field(default_factory=list)
    stages: list[Stage] = Field(min_length=1)
    paths: list[Path] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    evidence: Evidence | None = None

    @property
    def text_direction(self) -> Direction:
        return self.direction or direction_of(self.language)

    def steps(self) -> Iterator[tuple[Stage, Step]]:
        """Every step in reading order, with its stage."""
        for stage in self.stages:
            for step in stage.steps:
                yield stage, step

    def step(self, step_id: str) -> Step | None:
        return next((s for _, s in self.steps() if s.id == step_id), None)

    @property
    def has_blueprint(self) -> bool:
        return any(step.has_blueprint for _, step in self.steps())
