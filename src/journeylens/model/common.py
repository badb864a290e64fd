"""Building blocks shared by every document: ids, localised text, evidence levels."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

#: Stable, human-readable identifiers; they survive renames and translations.
Id: TypeAlias = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$")]
#: A BCP 47 language tag such as ``en``, ``pt-BR`` or ``he``.
Language: TypeAlias = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]


def _text_shape(value: Any) -> Any:
    # One clear error instead of pydantic's one-per-union-member; numbers read as text.
    if isinstance(value, bool):
        raise ValueError("expected text or a {language: text} mapping, got a true/false value")
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str | dict):
        raise ValueError(f"expected text or a {{language: text}} mapping, got {value!r:.60}")
    return value


#: Plain text, or the same text per language: ``{en: "Pay", ro: "Plătește"}``.
Text: TypeAlias = Annotated[
    str | dict[Language, str],
    BeforeValidator(_text_shape, json_schema_input_type=str | int | float | dict[Language, str]),
]
#: How much an item is backed by data (Smaply's colour-coded evidence, NN/g research levels).
Evidence: TypeAlias = Literal["assumed", "research", "measured"]
Direction: TypeAlias = Literal["ltr", "rtl"]

RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"})


def direction_of(language: str) -> Direction:
    """Writing direction of a language tag (``he`` and ``ar-EG`` are right-to-left)."""
    return "rtl" if language.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


def localize(text: Text | None, language: str, fallback: str = "en") -> str:
    """Pick the text for ``language``, then its base language, the fallback, or any."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    for candidate in (language, language.split("-")[0], fallback):
        if candidate in text:
            return text[candidate]
    return next(iter(text.values()), "")


class Document(BaseModel):
    """Base of every document type: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, str_strip_whitespace=False)


class Named(Document):
    """A registry entry: an id that other documents reference, a name, an evidence level."""

    id: Id
    name: Text
    description: Text | None = None
    evidence: Evidence | None = Field(
        default=None, description="assumed, research or measured: how well the item is backed"
    )
