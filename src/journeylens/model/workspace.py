"""The workspace file ``journeylens.yaml``: registries defined once, placed on many steps."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from journeylens.model.common import Document, Id, Language, Named, Text
from journeylens.model.selector import check_selector

FORMAT_VERSION: Literal[1] = 1

ChannelKind = Literal[
    "store",
    "web",
    "app",
    "social",
    "review",
    "forum",
    "email",
    "chat",
    "phone",
    "self_service",
    "ads",
    "mail",
    "event",
    "partner",
    "other",
]


class Channel(Named):
    """A medium customers use to reach the company: web shop, store, phone, Instagram..."""

    kind: ChannelKind = "other"
    online: bool = True


class Touchpoint(Named):
    """A named point of contact on a channel ("FAQ: returns", "checkout page")."""

    channel: Id
    kind: Literal["app", "document", "physical", "channel", "service", "person", "other"] = (
        "channel"
    )
    owner: str | None = None
    url: str | None = None


class Demographics(Document):
    age: str | int | None = None
    location: Text | None = None
    occupation: Text | None = None
    income: Text | None = None
    family: Text | None = None
    education: Text | None = None


class Persona(Named):
    """Who the map is about; with a ``segment`` selector the persona gets real members."""

    kind: Literal["persona", "proto_persona", "stakeholder"] = "persona"
    photo: str | None = None
    quotes: list[Text] = Field(default_factory=list)
    demographics: Demographics = Field(default_factory=Demographics)
    goals: list[Text] = Field(default_factory=list)
    needs: list[Text] = Field(default_factory=list)
    frustrations: list[Text] = Field(default_factory=list)
    motivations: list[Text] = Field(default_factory=list)
    behaviours: list[Text] = Field(default_factory=list)
    jobs_to_be_done: list[Text] = Field(default_factory=list)
    preferred_channels: list[Id] = Field(default_factory=list)
    segment: str | None = Field(
        default=None,
        description="selector: customers with at least one matching event are members",
    )
    members: str | None = Field(
        default=None,
        description="a saved segment (Parquet of customer keys, relative to the workspace): "
        "its customers are members",
    )

    @field_validator("segment")
    @classmethod
    def _segment_parses(cls, value: str | None) -> str | None:
        return None if value is None else check_selector(value)


class Target(Document):
    value: float
    direction: Literal["up", "down"] = "up"


class Metric(Named):
    """A metric definition; steps place it with a binding (``kpis`` on a step)."""

    type: Literal[
        "nps",
        "csat",
        "ces",
        "conversion",
        "drop_off",
        "time",
        "volume",
        "contact_rate",
        "cost_to_serve",
        "revenue",
        "other",
    ] = "other"
    unit: str | None = None
    aggregation: Literal["avg", "sum", "count", "rate", "median", "p90"] = "avg"
    target: Target | None = None
    owner: str | None = None


class Opportunity(Named):
    """A "how might we" that can span steps across maps, scored for prioritisation."""

    customer_value: int = Field(default=3, ge=1, le=5)
    business_value: int = Field(default=3, ge=1, le=5)
    effort: int = Field(default=3, ge=1, le=5)
    status: Literal["open", "planned", "in_progress", "solved", "dropped"] = "open"
    owner: str | None = None
    external_ref: str | None = Field(default=None, description="e.g. JIRA:CX-123")

    @property
    def score(self) -> float:
        """Value for effort: (customer + business value) / effort, the usual portfolio sort."""
        return (self.customer_value + self.business_value) / self.effort


class WorkspaceInfo(Document):
    id: Id
    name: Text
    description: Text | None = None
    default_language: Language = "en"
    languages: list[Language] = Field(default_factory=lambda: ["en"])


class WorkspaceFile(Document):
    """Everything in ``journeylens.yaml``: the workspace and its registries."""

    journeylens: Literal[1] = Field(
        default=FORMAT_VERSION, description="file format version; 1 is the only one so far"
    )
    workspace: WorkspaceInfo
    channels: list[Channel] = Field(default_factory=list)
    touchpoints: list[Touchpoint] = Field(default_factory=list)
    personas: list[Persona] = Field(default_factory=list)
    metrics: list[Metric] = Field(default_factory=list)
    opportunities: list[Opportunity] = Field(default_factory=list)

    def channel(self, channel_id: str) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def touchpoint(self, touchpoint_id: str) -> Touchpoint | None:
        return next((t for t in self.touchpoints if t.id == touchpoint_id), None)

    def persona(self, persona_id: str) -> Persona | None:
        return next((p for p in self.personas if p.id == persona_id), None)

    def opportunity(self, opportunity_id: str) -> Opportunity | None:
        return next((o for o in self.opportunities if o.id == opportunity_id), None)

    def metric(self, metric_id: str) -> Metric | None:
        return next((m for m in self.metrics if m.id == metric_id), None)
