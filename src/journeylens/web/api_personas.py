"""Personas for the web app (``/api/personas``): the gallery's cards and the persona editor.

Personas live in ``journeylens.yaml``. An edit names the language it is written in: a text the
file keeps translated (``{en: ..., ro: ...}``) gets that language changed and keeps the other
translations; list items the edit leaves as they were keep theirs. The edited persona is
validated by its model, written through the workspace façade (the file's comments survive, and
an edit that would leave the workspace with errors is refused and the file left as it was), and
recorded in the audit log.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from pydantic import ValidationError as InputError

from journeylens.errors import JourneylensError, SelectorError, ValidationError
from journeylens.model.selector import parse_selector
from journeylens.model.workspace import Persona
from journeylens.web.api import _Input, _problems, cache_of, workspace_of
from journeylens.web.i18n import text_in
from journeylens.web.security import Editor, Viewer, accounts_of

router = APIRouter(prefix="/api", tags=["personas"], responses=_problems(401, 403, 422))

#: The persona's list fields the editor changes (one item a line on the page).
LIST_FIELDS = (
    "quotes",
    "goals",
    "needs",
    "frustrations",
    "motivations",
    "behaviours",
    "jobs_to_be_done",
)
#: Segment counts kept (per store generation and selector) before the cache starts over.
COUNTS_KEPT = 256
_counts: dict[tuple[str, str, str], int] = {}
_counts_lock = threading.Lock()
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


class PersonaCard(BaseModel):
    """A persona as the gallery shows it: texts in the asked language, and its members now
    (``customers`` is None when it has no segment or there is no data)."""

    id: str
    kind: str
    name: str
    description: str | None = None
    evidence: str | None = None
    quotes: list[str]
    goals: list[str]
    needs: list[str]
    frustrations: list[str]
    motivations: list[str]
    behaviours: list[str]
    jobs_to_be_done: list[str]
    preferred_channels: list[str]
    segment: str | None = None
    customers: int | None = None
    persona: dict[str, Any] = Field(description="the persona as the file has it")


class PersonaEdit(_Input):
    """The persona's new texts in ``language`` (the workspace's default language when absent);
    fields left out stay as they are; ``null`` clears ``description`` and ``segment``."""

    language: str | None = Field(default=None, max_length=20, pattern=LANGUAGE_PATTERN)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    quotes: list[str] | None = Field(default=None, max_length=50)
    goals: list[str] | None = Field(default=None, max_length=50)
    needs: list[str] | None = Field(default=None, max_length=50)
    frustrations: list[str] | None = Field(default=None, max_length=50)
    motivations: list[str] | None = Field(default=None, max_length=50)
    behaviours: list[str] | None = Field(default=None, max_length=50)
    jobs_to_be_done: list[str] | None = Field(default=None, max_length=50)
    preferred_channels: list[str] | None = Field(default=None, max_length=50)
    segment: str | None = Field(default=None, max_length=2000)
    message: str | None = Field(default=None, max_length=500)


def customers(request: Request, persona: Persona) -> int | None:
    """Customers the persona's segment matches now; counted once per store generation."""
    if not persona.segment:
        return None
    cache = cache_of(request)
    try:
        generation = cache.generation()
        if generation is None:
            return None
        key = (str(cache.workspace.root), generation, persona.segment)
        with _counts_lock:
            if key in _counts:
                return _counts[key]
        counted = cache.selector_count(persona.segment)
        if counted is None:
            return None
        with _counts_lock:
            if len(_counts) >= COUNTS_KEPT:
                _counts.clear()
            _counts[key] = counted[1]
        return counted[1]
    except JourneylensError:
        return None


def card(persona: Persona, lang: str, customers: int | None) -> PersonaCard:
    """The gallery's card of a persona, with its texts in ``lang``."""

    def texts(values: list[Any]) -> list[str]:
        return [t for t in (text_in(v, lang) for v in values) if t]

    return PersonaCard(
        id=persona.id,
        kind=persona.kind,
        name=text_in(persona.name, lang, persona.id),
        description=text_in(persona.description, lang) or None,
        evidence=persona.evidence,
        quotes=texts(persona.quotes),
        goals=texts(persona.goals),
        needs=texts(persona.needs),
        frustrations=texts(persona.frustrations),
        motivations=texts(persona.motivations),
        behaviours=texts(persona.behaviours),
        jobs_to_be_done=texts(persona.jobs_to_be_done),
        preferred_channels=list(persona.preferred_channels),
        segment=persona.segment,
        customers=customers,
        persona=persona.model_dump(mode="json", exclude_none=True),
    )


def _personas(request: Request) -> list[Persona]:
    try:
        return list(workspace_of(request).settings.personas)
    except ValidationError as error:
        raise HTTPException(422, f"journeylens.yaml has errors: {error}") from None


@router.get("/personas", response_model=list[PersonaCard])
def list_personas(
    caller: Viewer, request: Request, lang: str | None = None, counts: bool = True
) -> list[PersonaCard]:
    """Every persona, its texts in ``lang`` (the workspace's default language when absent),
    and how many customers its segment matches now (left out with ``counts=false``)."""
    workspace = workspace_of(request)
    language = lang or workspace.settings.workspace.default_language
    return [
        card(p, language, customers(request, p) if counts else None) for p in _personas(request)
    ]


def _one_text(current: Any, value: str, lang: str) -> Any:
    """``value`` in place of ``current``'s text in ``lang`` (other translations stay)."""
    if isinstance(current, dict):
        return {**current, lang: value}
    return value


def _text_list(current: list[Any], lines: list[str], lang: str) -> list[Any]:
    """The new list from its lines in ``lang``: an unchanged line keeps its item (with its
    translations); a changed line at an item's place changes that item's text in ``lang``;
    other lines are new items."""
    lines = [line.strip() for line in lines if line.strip()]
    old_texts = [text_in(item, lang) for item in current]
    used: set[int] = set()
    kept: dict[int, int] = {}
    for index, line in enumerate(lines):
        for j, text in enumerate(old_texts):
            if j not in used and text == line:
                used.add(j)
                kept[index] = j
                break
    translated = any(isinstance(item, dict) for item in current)
    result: list[Any] = []
    for index, line in enumerate(lines):
        if index in kept:
            result.append(current[kept[index]])
        elif index < len(current) and index not in used:
            used.add(index)
            result.append(_one_text(current[index], line, lang))
        else:
            result.append({lang: line} if translated else line)
    return result


def _edited(persona: Persona, body: PersonaEdit, lang: str) -> Persona:
    # Only the fields the file sets: defaults dumped too would all be written into the file.
    data: dict[str, Any] = persona.model_dump(mode="python", exclude_unset=True)
    changes = body.model_dump(exclude_unset=True, exclude={"language", "message"})
    for key, value in changes.items():
        if key == "name":
            if value is None or not value.strip():
                raise HTTPException(422, "name: a persona needs a name")
            data["name"] = _one_text(data.get("name"), value.strip(), lang)
        elif key == "description":
            if value is None or not value.strip():
                data.pop("description", None)
            else:
                data["description"] = _one_text(data.get("description"), value.strip(), lang)
        elif key in LIST_FIELDS:
            data[key] = _text_list(list(data.get(key) or []), value or [], lang)
        elif key == "preferred_channels":
            data[key] = [c.strip() for c in value or [] if c.strip()]
        elif key == "segment":
            text = (value or "").strip()
            if not text:
                data.pop("segment", None)
            else:
                try:
                    parse_selector(text)
                except SelectorError as error:
                    raise HTTPException(422, f"segment: {error}") from None
                data["segment"] = text
    try:
        return Persona.model_validate(data)
    except InputError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'persona'}: {e['msg']}"
            for e in error.errors(include_input=False, include_url=False)
        )
        raise HTTPException(422, f"invalid persona: {problems}") from None


@router.put("/personas/{persona_id}", response_model=PersonaCard, responses=_problems(404))
def put_persona(
    persona_id: str, body: PersonaEdit, caller: Editor, request: Request
) -> PersonaCard:
    """Change a persona's texts, lists, preferred channels and segment (written to
    ``journeylens.yaml``, keeping its comments)."""
    workspace = workspace_of(request)
    found = next((p for p in _personas(request) if p.id == persona_id), None)
    if found is None:
        raise HTTPException(404, f"no persona {persona_id!r} in this workspace")
    lang = body.language or workspace.settings.workspace.default_language
    edited = _edited(found, body, lang)
    try:
        workspace.save_persona(edited)
    except ValidationError as error:
        raise HTTPException(
            422,
            {
                "message": "the edit would break the workspace: "
                + "; ".join(i.message for i in error.issues),
                "issues": [
                    {"line": i.line, "column": i.column, "path": i.path, "message": i.message}
                    for i in error.issues
                ],
            },
        ) from None
    except JourneylensError as error:
        raise HTTPException(422, str(error)) from None
    changed = ", ".join(body.model_dump(exclude_unset=True, exclude={"language", "message"}))
    accounts_of(request).audit(
        caller.user.name, "edit-persona", persona_id, body.message or changed or "no changes"
    )
    return card(edited, lang, customers(request, edited))
