"""Data sources (``sources/*.yaml``): how one system's export becomes journeylens events.

A source names its files, their format, which column holds the time, the activity, the channel,
and which columns identify the customer (and as what: e-mail, phone, cookie...). Everything is
declarative so it can be validated up front and compiled to one set-based load, whatever the size
of the file.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from journeylens.model.common import Document, Id

Format = Literal["csv", "tsv", "parquet", "jsonl", "xlsx", "xes", "ocel-json", "ocel-sqlite"]
IdentifierType = Literal[
    "customer_id",
    "email",
    "phone",
    "cookie",
    "device",
    "crm_id",
    "ticket_requester",
    "account",
    "case",
    "other",
]
IDENTIFIER_TYPES: tuple[str, ...] = IdentifierType.__args__  # type: ignore[attr-defined]
#: Strong identifiers name one person; a weak one (cookie, device) may be shared.
STRONG_IDENTIFIERS = frozenset({"customer_id", "email", "phone", "crm_id", "account"})
#: The scales the named survey scores are asked on: an answer outside is a broken export.
SCORE_SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


class Identifier(Document):
    """A column that identifies the customer, and what kind of identifier it holds."""

    column: str
    type: IdentifierType


class TouchpointRule(Document):
    """Sets ``touchpoint`` to ``touchpoint`` for rows matching the selector ``when``."""

    when: str
    touchpoint: Id


class SourceSpec(Document):
    """One ``sources/<id>.yaml`` file, or the defaults a bare file gets on the command line."""

    id: Id
    kind: Literal["events", "links"] = Field(
        default="events",
        description="events: each row is an event; links: each row says its identifiers are "
        "one customer (a CRM export), nothing else is read",
    )
    path: str = Field(description="file path or glob, relative to the workspace")
    format: Format | None = Field(default=None, description="default: from the file suffix")
    # CSV options
    delimiter: str | None = None
    encoding: str = "utf-8"
    header: bool = True
    # Columns
    timestamp: str = "timestamp"
    timestamp_format: str | None = Field(
        default=None, description="strptime format, e.g. %d/%m/%Y %H:%M; default: ISO 8601"
    )
    timezone: str = Field(default="UTC", description="zone of timestamps that carry none")
    identifiers: list[Identifier] = Field(
        default_factory=lambda: [Identifier(column="customer_id", type="customer_id")]
    )
    event_id: str | None = Field(default=None, description="column with a unique event id")
    activity: str | None = Field(default="activity", description="column holding the activity")
    activity_template: str | None = Field(
        default=None, description="e.g. 'ticket_{status}': built from columns in braces"
    )
    channel: str | None = Field(default="channel", description="column holding the channel")
    channel_constant: str | None = Field(default=None, description="one channel for every row")
    touchpoint: str | None = None
    touchpoint_rules: list[TouchpointRule] = Field(default_factory=list)
    device: str | None = None
    value: str | None = None
    text: str | None = None
    score: str | None = None
    score_type: Literal["csat", "nps", "ces", "rating", "other"] | None = None
    score_range: tuple[float, float] | None = Field(
        default=None,
        description="lowest and highest accepted score, both included; default for nps 0-10, "
        "csat 1-5, ces 1-7, none for rating and other",
    )
    language: str | None = None
    language_constant: str | None = Field(
        default=None,
        description="one language for every row (a BCP 47 tag such as pt or pt-BR), for an "
        "export that has no language column",
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
    )
    attributes: list[str] = Field(default_factory=list, description="extra columns to keep")
    future_tolerance_hours: float = Field(default=24, ge=0)
    object_type: str | None = Field(
        default=None,
        description="OCEL: the object type whose objects are the customers (default: the type "
        "named like 'customer', else the only type)",
    )

    @model_validator(mode="before")
    @classmethod
    def _template_and_constant_replace_columns(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if data.get("activity_template") is not None:
                data["activity"] = None
            if data.get("channel_constant") is not None:
                data["channel"] = None
            if data.get("language_constant") is not None:
                data["language"] = None
        return data

    @model_validator(mode="after")
    def _complete(self) -> SourceSpec:
        if self.kind == "links":
            if len(self.identifiers) < 2:
                raise ValueError("a links source needs at least two identifier columns")
            return self
        if self.activity is None and self.activity_template is None:
            raise ValueError("give `activity` (a column) or `activity_template`")
        if not self.identifiers:
            raise ValueError("give at least one identifier column")
        return self

    @field_validator("score_range")
    @classmethod
    def _a_range(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not (math.isfinite(value[0]) and math.isfinite(value[1])):
            raise ValueError("the score range needs two finite numbers, e.g. [0, 100]")
        if value is not None and value[0] >= value[1]:
            raise ValueError(f"the score range {list(value)} must go from low to high")
        return value

    def accepted_scores(self) -> tuple[float, float] | None:
        """The scores a row may carry: the stated range, else its score type's scale."""
        if self.score_range is not None:
            return self.score_range
        return SCORE_SCALES.get(self.score_type or "")

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode("utf-8")) != 1:
            raise ValueError("the delimiter must be one single-byte character, e.g. ';' or '\\t'")
        return value

    def columns(self) -> list[str]:
        """Every source column this spec reads, without repeats."""
        if self.kind == "links":
            return list(dict.fromkeys(i.column for i in self.identifiers))
        columns = [self.timestamp, *[i.column for i in self.identifiers]]
        for optional in (
            self.activity,
            self.channel,
            self.touchpoint,
            self.device,
            self.value,
            self.text,
            self.score,
            self.language,
            self.event_id,
        ):
            if optional:
                columns.append(optional)
        return list(dict.fromkeys([*columns, *self.template_columns(), *self.attributes]))

    def template_columns(self) -> list[str]:
        """Columns an ``activity_template`` reads, in order."""
        import re

        return re.findall(r"\{([^{}]+)\}", self.activity_template or "")
