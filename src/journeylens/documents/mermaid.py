"""Mermaid ``journey`` diagrams: export a map to one, and import one as a new map.

Mermaid's journey syntax holds titles, sections, tasks, a 1–5 score and actors — a subset of a
journey map. Export maps emotion −2..+2 to the score 1..5 and writes the map's persona names as
actors; import does the reverse. Characters Mermaid reserves in task text (``:``, ``#``,
``;``) are written as look-alikes (∶ ＃ ；) and read back as the originals.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from journeylens.errors import Issue, Severity, ValidationError
from journeylens.model.common import localize
from journeylens.model.journey_map import JourneyMap, Stage, Step
from journeylens.model.workspace import Persona, WorkspaceFile

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}")
_RESERVED = {":": "∶", "#": "＃", ";": "；"}
_TASK = re.compile(
    r"^(?P<indent>\s*)(?P<task>[^:]+?)\s*:\s*(?P<score>[^:]*?)\s*(?::(?P<actors>.*))?$"
)


def _safe(text: str) -> str:
    text = " ".join(text.split())
    for char, lookalike in _RESERVED.items():
        text = text.replace(char, lookalike)
    return text


def _unsafe(text: str) -> str:
    for char, lookalike in _RESERVED.items():
        text = text.replace(lookalike, char)
    return text.strip()


def export_mermaid(journey_map: JourneyMap, workspace: WorkspaceFile | None = None) -> str:
    """The map as Mermaid ``journey`` text."""
    lang = journey_map.language
    fallback = workspace.workspace.default_language if workspace else "en"
    actors = []
    for persona_id in journey_map.personas:
        persona = workspace.persona(persona_id) if workspace else None
        actors.append(_safe(localize(persona.name, lang, fallback)) if persona else persona_id)
    lines = ["journey", f"    title {_safe(localize(journey_map.title, lang, fallback))}"]
    for stage in journey_map.stages:
        lines.append(f"    section {_safe(localize(stage.name, lang, fallback))}")
        for step in stage.steps:
            score = 3 if step.emotion is None else round(step.emotion) + 3
            task = f"      {_safe(localize(step.action, lang, fallback))}: {score}"
            if actors:
                task += f": {', '.join(a.replace(',', '‚') for a in actors)}"
            lines.append(task)
    return "\n".join(lines) + "\n"


def slug(text: str, fallback: str) -> str:
    """An id from free text: ``"Pays by card"`` → ``pays-by-card``; non-Latin → fallback."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    value = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")
    return value or fallback


def _at(file: str, line: int, column: int, message: str, severity: Severity = "error") -> Issue:
    return Issue(file, line, column, "", message, severity, code="mermaid")


@dataclass
class MermaidImport:
    """A map read from Mermaid, and the personas its actors need in the registry."""

    journey_map: JourneyMap
    new_personas: list[Persona] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)


def import_mermaid(
    text: str,
    *,
    file: str,
    map_id: str | None = None,
    language: str = "en",
    workspace: WorkspaceFile | None = None,
) -> MermaidImport:
    """Read Mermaid ``journey`` text; raise :class:`ValidationError` with every problem found."""
    issues: list[Issue] = []
    warnings: list[Issue] = []
    title = ""
    stages: list[dict[str, object]] = []
    actor_names: list[str] = []
    seen_header = False
    used_ids: set[str] = set()

    def unique(base: str) -> str:
        candidate, n = base, 2
        while candidate in used_ids:
            candidate, n = f"{base}-{n}", n + 1
        used_ids.add(candidate)
        return candidate

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        column = len(raw) - len(raw.lstrip()) + 1
        if not line or line.startswith("%%"):
            continue
        if not seen_header:
            if line != "journey":
                issues.append(
                    _at(file, number, column, f"expected 'journey' first, got {line!r:.40}")
                )
                break
            seen_header = True
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "title":
            title = _unsafe(rest)
        elif keyword in ("accTitle:", "accDescr:", "accTitle", "accDescr"):
            continue
        elif keyword == "section":
            name = _unsafe(rest)
            stages.append(
                {"id": unique(slug(name, f"stage-{len(stages) + 1}")), "name": name, "steps": []}
            )
        else:
            match = _TASK.match(raw)
            if match is None:
                issues.append(
                    _at(
                        file,
                        number,
                        column,
                        "expected 'Task: score: actors', 'section ...' or 'title ...'",
                    )
                )
                continue
            score_text = match.group("score")
            score_column = match.start("score") + 1
            if not re.fullmatch(r"-?\d+", score_text):
                message = f"expected a whole-number score 1..5, got {score_text!r}"
                issues.append(_at(file, number, score_column, message))
                continue
            score = int(score_text)
            if not 1 <= score <= 5:
                message = f"score {score} is outside 1..5; clamped"
                warnings.append(_at(file, number, score_column, message, "warning"))
            if not stages:
                stages.append({"id": unique("journey"), "name": title or "Journey", "steps": []})
            actors = [
                _unsafe(a).replace("‚", ",") for a in (match.group("actors") or "").split(",")
            ]
            for actor in actors:
                if actor and actor not in actor_names:
                    actor_names.append(actor)
            action = _unsafe(match.group("task"))
            steps = stages[-1]["steps"]
            assert isinstance(steps, list)
            steps.append(
                Step(
                    id=unique(slug(action, f"step-{len(used_ids) + 1}")),
                    action=action,
                    emotion=max(-2, min(2, score - 3)),
                )
            )
    if not seen_header and not issues:
        issues.append(_at(file, 1, 1, "empty diagram: expected 'journey'"))
    if not stages and not issues:
        issues.append(_at(file, 1, 1, "the diagram has no sections or tasks"))
    if issues:
        raise ValidationError(issues)

    persona_ids: list[str] = []
    new_personas: list[Persona] = []
    taken = {p.id for p in workspace.personas} if workspace else set()
    for name in actor_names:
        known = next(
            (
                p
                for p in (workspace.personas if workspace else [])
                if localize(p.name, language) == name or p.id == name
            ),
            None,
        )
        if known is not None:
            persona_ids.append(known.id)
            continue
        base, n = f"p-{slug(name, f'actor-{len(new_personas) + 1}')}", 2
        persona_id = base
        while persona_id in taken:
            persona_id, n = f"{base}-{n}", n + 1
        taken.add(persona_id)
        persona = Persona(id=persona_id, name=name, evidence="assumed")
        new_personas.append(persona)
        persona_ids.append(persona.id)
    if map_id is not None and not _ID.fullmatch(map_id):
        raise ValidationError(
            [
                _at(
                    file,
                    1,
                    1,
                    f"--id {map_id!r} is not a valid id: use letters, "
                    "digits, '_', '.' or '-', starting with a letter or digit",
                )
            ]
        )
    journey_map = JourneyMap(
        id=map_id or slug(title, "imported-journey"),
        title=title or "Imported journey",
        language=language,
        personas=persona_ids,
        stages=[Stage.model_validate(s) for s in stages],
    )
    return MermaidImport(journey_map, new_personas, warnings)
