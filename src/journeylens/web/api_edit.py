"""Structural map edits for the web editor: add, move and delete steps, and add, rename, move
and delete stages (``/api/maps/...``).

Each edit changes the map model, writes it through the workspace façade (comments and layout
elsewhere in the file survive), checks the whole workspace's references (a branch or path
naming a deleted step is refused and the file restored), and records a version and an audit
entry, like the step edits of :mod:`journeylens.web.api`.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from journeylens.model.journey_map import JourneyMap
from journeylens.web.api import _Input, _problems, cache_of, workspace_of
from journeylens.web.api import _map as _known_map
from journeylens.web.security import Editor, accounts_of

router = APIRouter(prefix="/api")

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"


class NewStep(BaseModel):
    id: str = Field(min_length=1, max_length=80, pattern=ID_PATTERN)
    action: str = Field(min_length=1, max_length=2000)
    after: str | None = Field(default=None, max_length=200, description="step to insert after")
    stage: str | None = Field(
        default=None, max_length=200, description="stage to append to (when no ``after``)"
    )
    message: str | None = Field(default=None, max_length=500)


class Move(BaseModel):
    direction: Literal["earlier", "later"]
    message: str | None = Field(default=None, max_length=500)


def _model(request: Request, map_id: str) -> JourneyMap:
    try:
        return workspace_of(request).map(map_id)
    except Exception as error:  # unknown or invalid map
        raise HTTPException(404, str(error)) from None


def _find(data: dict[str, Any], step_id: str) -> tuple[int, int]:
    for si, stage in enumerate(data["stages"]):
        for pi, step in enumerate(stage.get("steps", [])):
            if step["id"] == step_id:
                return si, pi
    raise HTTPException(404, f"no step {step_id!r} in {data['id']}")


def _save(
    request: Request, map_id: str, data: dict[str, Any], author: str, action: str, message: str
) -> dict[str, Any]:
    try:
        edited = JourneyMap.model_validate(data)
    except Exception as error:  # pydantic's ValidationError: the edit is not a valid map
        raise HTTPException(422, f"invalid map: {error}") from None
    workspace = workspace_of(request)
    path, before = workspace.map_text(map_id)
    workspace.save_map(edited, path)
    problems = [i for i in workspace.validate([path]) if i.severity == "error"]
    if problems:
        path.write_text(before, encoding="utf-8")
        raise HTTPException(
            422,
            {
                "message": "the edit would break the map: "
                + "; ".join(i.message for i in problems),
                "issues": [
                    {"line": i.line, "column": i.column, "path": i.path, "message": i.message}
                    for i in problems
                ],
            },
        )
    _, after = workspace.map_text(map_id)
    accounts = accounts_of(request)
    if not accounts.versions(map_id):
        accounts.record_version(map_id, before, None, "before the first web edit")
    version = accounts.record_version(map_id, after, author, message)
    accounts.audit(author, action, map_id, message)
    cache_of(request).forget(map_id)
    return {"version": version.version, "map": edited.model_dump(mode="json", exclude_none=True)}


@router.post("/maps/{map_id}/steps", tags=["maps"], status_code=201)
def add_step(map_id: str, body: NewStep, caller: Editor, request: Request) -> dict[str, Any]:
    """Insert a new step after ``after`` (or at the end of ``stage``)."""
    model = _model(request, map_id)
    if model.step(body.id) is not None:
        raise HTTPException(409, f"{map_id} already has a step {body.id!r}")
    data = model.model_dump(mode="python", exclude_none=True)
    for stage in data["stages"]:
        stage.setdefault("steps", [])
    new = {"id": body.id, "action": body.action}
    if body.after:
        si, pi = _find(data, body.after)
        data["stages"][si]["steps"].insert(pi + 1, new)
    else:
        stage_ids = [s["id"] for s in data["stages"]]
        if body.stage is None:
            target = len(stage_ids) - 1
        elif body.stage in stage_ids:
            target = stage_ids.index(body.stage)
        else:
            raise HTTPException(404, f"no stage {body.stage!r} in {map_id}")
        data["stages"][target]["steps"].append(new)
    return _save(
        request, map_id, data, caller.user.name, "add-step", body.message or f"added step {body.id}"
    )


@router.post("/maps/{map_id}/steps/{step_id}/move", tags=["maps"])
def move_step(
    map_id: str, step_id: str, body: Move, caller: Editor, request: Request
) -> dict[str, Any]:
    """Move a step one place earlier or later in reading order; at a stage's edge it moves
    into the neighbouring stage."""
    data = _model(request, map_id).model_dump(mode="python", exclude_none=True)
    for stage in data["stages"]:
        stage.setdefault("steps", [])
    si, pi = _find(data, step_id)
    stages = data["stages"]
    step = stages[si]["steps"].pop(pi)
    if body.direction == "earlier":
        if pi > 0:
            stages[si]["steps"].insert(pi - 1, step)
        elif si > 0:
            stages[si - 1]["steps"].append(step)
        else:
            raise HTTPException(422, f"{step_id} is already the first step")
    elif pi < len(stages[si]["steps"]):
        stages[si]["steps"].insert(pi + 1, step)
    elif si + 1 < len(stages):
        stages[si + 1]["steps"].insert(0, step)
    else:
        raise HTTPException(422, f"{step_id} is already the last step")
    return _save(
        request,
        map_id,
        data,
        caller.user.name,
        "move-step",
        body.message or f"moved step {step_id} {body.direction}",
    )


@router.delete("/maps/{map_id}/steps/{step_id}", tags=["maps"])
def delete_step(map_id: str, step_id: str, caller: Editor, request: Request) -> dict[str, Any]:
    """Delete a step (refused while a branch or a path still names it)."""
    data = _model(request, map_id).model_dump(mode="python", exclude_none=True)
    si, pi = _find(data, step_id)
    data["stages"][si]["steps"].pop(pi)
    return _save(request, map_id, data, caller.user.name, "delete-step", f"deleted step {step_id}")


# -- stages -------------------------------------------------------------------------------------
# The stage is named in the body, not the path, like a step's ``after``: one route per change.
_STAGE_ERRORS = _problems(401, 403, 404, 409, 422)


class NewStage(_Input):
    id: str = Field(min_length=1, max_length=80, pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=500, description="in the map's language")
    after: str | None = Field(
        default=None, max_length=200, description="stage to insert after (first when absent)"
    )
    message: str | None = Field(default=None, max_length=500)


class StageRename(_Input):
    stage: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=500, description="in the map's language")
    message: str | None = Field(default=None, max_length=500)


class StageMove(_Input):
    stage: str = Field(min_length=1, max_length=200)
    direction: Literal["earlier", "later"]
    message: str | None = Field(default=None, max_length=500)


class StageRef(_Input):
    stage: str = Field(min_length=1, max_length=200)
    message: str | None = Field(default=None, max_length=500)


def _stage_index(data: dict[str, Any], stage_id: str) -> int:
    for index, stage in enumerate(data["stages"]):
        if stage["id"] == stage_id:
            return index
    raise HTTPException(404, f"no stage {stage_id!r} in {data['id']}")


def _map_data(request: Request, map_id: str) -> tuple[JourneyMap, dict[str, Any]]:
    """The map and its fields as the file sets them (defaults left out, so that an edit does
    not write every default into the file)."""
    model = _known_map(request, map_id)
    return model, model.model_dump(mode="python", exclude_unset=True)


@router.post("/maps/{map_id}/stages", tags=["maps"], status_code=201, responses=_STAGE_ERRORS)
def add_stage(map_id: str, body: NewStage, caller: Editor, request: Request) -> dict[str, Any]:
    """Insert a new, empty stage after ``after`` (or first); its name is in the map's
    language."""
    _, data = _map_data(request, map_id)
    if any(stage["id"] == body.id for stage in data["stages"]):
        raise HTTPException(409, f"{map_id} already has a stage {body.id!r}")
    position = _stage_index(data, body.after) + 1 if body.after else 0
    data["stages"].insert(position, {"id": body.id, "name": body.name.strip(), "steps": []})
    message = body.message or f"added stage {body.id}"
    return _save(request, map_id, data, caller.user.name, "add-stage", message)


@router.post("/maps/{map_id}/stages/rename", tags=["maps"], responses=_STAGE_ERRORS)
def rename_stage(
    map_id: str, body: StageRename, caller: Editor, request: Request
) -> dict[str, Any]:
    """Change a stage's name in the map's language (its other translations stay)."""
    model, data = _map_data(request, map_id)
    stage = data["stages"][_stage_index(data, body.stage)]
    current = stage.get("name")
    name = body.name.strip()
    if not name:
        raise HTTPException(422, "name: a stage needs a name")
    stage["name"] = {**current, model.language: name} if isinstance(current, dict) else name
    message = body.message or f"renamed stage {body.stage}"
    return _save(request, map_id, data, caller.user.name, "rename-stage", message)


@router.post("/maps/{map_id}/stages/move", tags=["maps"], responses=_STAGE_ERRORS)
def move_stage(map_id: str, body: StageMove, caller: Editor, request: Request) -> dict[str, Any]:
    """Move a stage, with its steps, one place earlier or later."""
    _, data = _map_data(request, map_id)
    stages = data["stages"]
    index = _stage_index(data, body.stage)
    target = index - 1 if body.direction == "earlier" else index + 1
    if not 0 <= target < len(stages):
        where = "first" if body.direction == "earlier" else "last"
        raise HTTPException(422, f"{body.stage} is already the {where} stage")
    stages.insert(target, stages.pop(index))
    message = body.message or f"moved stage {body.stage} {body.direction}"
    return _save(request, map_id, data, caller.user.name, "move-stage", message)


@router.post("/maps/{map_id}/stages/delete", tags=["maps"], responses=_STAGE_ERRORS)
def delete_stage(map_id: str, body: StageRef, caller: Editor, request: Request) -> dict[str, Any]:
    """Delete an empty stage (a stage with steps is refused: move or delete them first; the
    map keeps at least one stage)."""
    _, data = _map_data(request, map_id)
    index = _stage_index(data, body.stage)
    if data["stages"][index].get("steps"):
        raise HTTPException(409, f"stage {body.stage} still has steps: move or delete them first")
    if len(data["stages"]) == 1:
        raise HTTPException(409, f"{body.stage} is the map's only stage")
    data["stages"].pop(index)
    message = body.message or f"deleted stage {body.stage}"
    return _save(request, map_id, data, caller.user.name, "delete-stage", message)
