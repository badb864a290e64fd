"""The JSON API (``/api/...``): maps, live measures, edits with history, comments, data, users.

Every route names the role it needs (see :mod:`.security`); the OpenAPI document at
``/openapi.json`` lists them. Edits go through the workspace façade, which validates a map
before it replaces the file, and every change is written to the audit log.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field, model_validator

from journeylens.analyses.binding import Scope
from journeylens.errors import JourneylensError, SelectorError, ValidationError
from journeylens.model.common import localize
from journeylens.model.journey_map import JourneyMap
from journeylens.model.selector import parse_selector
from journeylens.web.accounts import MAX_TOKEN_DAYS, ROLES, TOKEN_DAYS, AccountError, Role
from journeylens.web.live_cache import LiveCache
from journeylens.web.security import (
    COOKIE,
    Admin,
    Editor,
    Viewer,
    accounts_of,
    client_address,
    identify,
)
from journeylens.workspace import Workspace


class Problem(BaseModel):
    """A refused request: ``detail`` says why; a refused map also lists its ``issues`` (line,
    column, path, message)."""

    detail: str | list[Any] | dict[str, Any]
    issues: list[dict[str, Any]] | None = None


_WHY = {
    401: "Not signed in (send the session cookie or `Authorization: Bearer <token>`)",
    403: "Signed in, but the role is too low, or the CSRF token is missing or wrong",
    404: "No such map, step, version or user",
    409: "No data loaded yet",
    422: "Invalid input (a map's issues carry line and column)",
    429: "Too many failed sign-ins: locked for 15 minutes",
}


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Error responses for the OpenAPI document (clients and schema tests rely on them)."""
    return {code: {"model": Problem, "description": _WHY[code]} for code in codes}


def _media(*types: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media: {} for media in types}, "description": "The file"}}


router = APIRouter(prefix="/api", responses=_problems(401, 403, 422))
_MAP = _problems(404)
EXPORTED = {
    "svg": "image/svg+xml",
    "html": "text/html; charset=utf-8",
    "png": "image/png",
    "pdf": "application/pdf",
    "mermaid": "text/plain; charset=utf-8",
}


def workspace_of(request: Request) -> Workspace:
    workspace: Workspace = request.app.state.workspace
    return workspace


def cache_of(request: Request) -> LiveCache:
    cache: LiveCache = request.app.state.live_cache
    return cache


def _map(request: Request, map_id: str) -> JourneyMap:
    """The workspace's map with this id; 404 otherwise.

    Only ids of the workspace's maps: the façade also takes a file path (``x.yaml``, relative
    to the server's working directory), which would let a caller read or overwrite YAML files
    outside the workspace."""
    workspace = workspace_of(request)
    if map_id not in {m.id for m in workspace.maps()}:
        raise HTTPException(404, f"no map {map_id!r} in this workspace")
    try:
        return workspace.map(map_id)
    except JourneylensError as error:
        raise HTTPException(404, str(error)) from None


# -- models -------------------------------------------------------------------------------------
def _has_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, list | tuple):
        return any(_has_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    return False


class _Input(BaseModel):
    """A request body. JSON may carry lone surrogates (``"\\ud800"``), which no file, database
    or response can encode (FastAPI's own 422 echoes the input and fails the same way): such a
    body is refused with a plain 422 before any field is read."""

    @model_validator(mode="before")
    @classmethod
    def _encodable(cls, data: Any) -> Any:
        if _has_surrogate(data):
            # Not a ValueError: pydantic would report it with the input, which cannot be sent.
            raise HTTPException(422, "the body has text that is not valid Unicode (a surrogate)")
        return data


class Credentials(_Input):
    name: str = Field(max_length=100)
    password: str = Field(max_length=1000)


class SignedIn(BaseModel):
    name: str
    role: Role
    csrf: str | None = None


class MapSummary(BaseModel):
    id: str
    title: str
    type: str
    status: str
    language: str
    steps: int
    bound_steps: int


class MapText(_Input):
    yaml: str = Field(max_length=2_000_000)
    message: str | None = Field(default=None, max_length=500)


SEVERITIES = ("low", "medium", "high", "critical")
_Line = Annotated[str, Field(max_length=2000)]
_Lines = Annotated[list[_Line] | None, Field(max_length=200)]


class PainPointEdit(BaseModel):
    """A pain point as the editor writes it; an unchanged text keeps its id and evidence."""

    text: str = Field(min_length=1, max_length=2000)
    # Checked by ``patch_step``, which names the bad value (pydantic's message would not).
    severity: str = Field(
        default="medium", max_length=50, json_schema_extra={"enum": list(SEVERITIES)}
    )


class StepEdit(_Input):
    """Fields of one step to change; absent fields stay as they are. Lists are written whole
    (an empty list or null clears the lane)."""

    action: str | None = Field(default=None, max_length=2000)
    description: str | None = Field(default=None, max_length=5000)
    emotion: float | None = Field(default=None, ge=-2, le=2)
    emotion_label: str | None = Field(default=None, max_length=500)
    match: str | None = Field(default=None, max_length=2000)
    thoughts: list[str] | None = None
    pain_points: Annotated[list[PainPointEdit] | None, Field(max_length=200)] = None
    gains: _Lines = None
    physical_evidence: _Lines = None
    frontstage: _Lines = None
    backstage: _Lines = None
    support: _Lines = None
    owner: str | None = Field(default=None, max_length=500)
    message: str | None = Field(default=None, max_length=500)


class SelectorCheck(_Input):
    selector: str = Field(max_length=2000)


class SelectorResult(BaseModel):
    valid: bool
    error: str | None = None
    column: int | None = None
    events: int | None = None
    customers: int | None = None


class CommentIn(_Input):
    step: str = Field(max_length=200)
    text: str = Field(min_length=1, max_length=5000)


class NewUser(_Input):
    name: str = Field(max_length=100)
    password: str = Field(max_length=1000)
    role: Role


class RoleChange(_Input):
    role: Role


class TokenRequest(_Input):
    label: str = Field(min_length=1, max_length=100)
    days: int = Field(default=TOKEN_DAYS, ge=1, le=MAX_TOKEN_DAYS, description="validity")


def _issues(error: ValidationError) -> list[dict[str, Any]]:
    return [
        {"line": i.line, "column": i.column, "path": i.path, "message": i.message}
        for i in error.issues
    ]


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"{value!r}: expected a date like 2025-03-01") from None
    try:  # in UTC, as the store keeps time; 9999-12-31T23:00-14:00 is past the last year
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise HTTPException(422, f"{value!r}: out of range") from None


def _scope(
    segment: str | None, channel: list[str] | None, since: str | None, until: str | None
) -> Scope:
    if segment:
        try:
            parse_selector(segment)
        except SelectorError as error:
            raise HTTPException(422, f"segment: {error}") from None
    return Scope(
        segment=segment or None,
        channels=tuple(channel or ()),
        since=_when(since),
        until=_when(until),
    )


ScopeQuery = {
    "segment": Query(default=None, max_length=2000, description="selector of customers"),
    "channel": Query(default=None, description="keep events on these channels"),
    "since": Query(default=None, description="ISO date"),
    "until": Query(default=None, description="ISO date"),
}


# -- session ------------------------------------------------------------------------------------
@router.post("/login", response_model=SignedIn, tags=["session"], responses=_problems(429))
def login(credentials: Credentials, request: Request, response: Response) -> SignedIn:
    """Sign in; sets the session cookie and returns the CSRF token for unsafe requests."""
    _same_origin(request)
    accounts = accounts_of(request)
    try:
        user = accounts.authenticate(
            credentials.name, credentials.password, client=client_address(request)
        )
    except AccountError as error:
        accounts.audit(credentials.name, "login-locked")
        raise HTTPException(429, str(error)) from None
    if user is None:
        accounts.audit(credentials.name, "login-failed", detail=client_address(request))
        raise HTTPException(401, "wrong user name or password")
    session_id, session = accounts.open_session(user)
    response.set_cookie(
        COOKIE,
        session_id,
        httponly=True,
        samesite="strict",
        secure=request.app.state.secure_cookies or request.url.scheme == "https",
        max_age=int(session.expires - datetime.now(UTC).timestamp()),
        path="/",
    )
    accounts.audit(user.name, "login")
    return SignedIn(name=user.name, role=user.role, csrf=session.csrf)


def _same_origin(request: Request) -> None:
    """Sign-in from another site's form is refused (login CSRF)."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise HTTPException(403, "cross-site sign-in refused")


@router.post("/logout", tags=["session"], status_code=204)
def logout(caller: Viewer, request: Request, response: Response) -> None:
    session_id = request.cookies.get(COOKIE)
    if session_id:
        accounts_of(request).close_session(session_id)
    response.delete_cookie(COOKIE, path="/")
    accounts_of(request).audit(caller.user.name, "logout")


@router.get("/me", response_model=SignedIn, tags=["session"])
def me(caller: Viewer) -> SignedIn:
    return SignedIn(name=caller.user.name, role=caller.user.role, csrf=caller.csrf)


# -- maps ---------------------------------------------------------------------------------------
@router.get("/maps", response_model=list[MapSummary], tags=["maps"])
def list_maps(caller: Viewer, request: Request) -> list[MapSummary]:
    """The workspace's valid maps."""
    found = []
    for m in workspace_of(request).maps():
        steps = [s for _, s in m.steps()]
        found.append(
            MapSummary(
                id=m.id,
                title=localize(m.title, m.language, m.language),
                type=m.type,
                status=m.status,
                language=m.language,
                steps=len(steps),
                bound_steps=sum(1 for s in steps if s.match),
            )
        )
    return found


@router.get("/maps/{map_id}", tags=["maps"], responses=_MAP)
def get_map(map_id: str, caller: Viewer, request: Request) -> dict[str, Any]:
    """The map as JSON and as its YAML text."""
    model = _map(request, map_id)
    _, text = workspace_of(request).map_text(map_id)
    return {"map": model.model_dump(mode="json", exclude_none=True), "yaml": text}


@router.get(
    "/maps/{map_id}/svg",
    tags=["maps"],
    response_class=Response,
    responses={**_media("image/svg+xml"), **_problems(404, 409)},
)
def map_svg(
    map_id: str,
    caller: Viewer,
    request: Request,
    live: bool = False,
    segment: str | None = ScopeQuery["segment"],
    channel: list[str] | None = ScopeQuery["channel"],
    since: str | None = ScopeQuery["since"],
    until: str | None = ScopeQuery["until"],
) -> Response:
    """The map drawn as SVG; with ``live=true``, with its data lanes."""
    _map(request, map_id)
    if not live:
        svg = workspace_of(request).render_svg(map_id)
    else:
        svg = cache_of(request).svg(map_id, _scope(segment, channel, since, until))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/maps/{map_id}/live", tags=["maps"], responses=_problems(404, 409))
def map_live(
    map_id: str,
    caller: Viewer,
    request: Request,
    segment: str | None = ScopeQuery["segment"],
    channel: list[str] | None = ScopeQuery["channel"],
    since: str | None = ScopeQuery["since"],
    until: str | None = ScopeQuery["until"],
) -> dict[str, Any]:
    """Every step measured on the data, the pain points and conformance (cached until the
    data or the map changes)."""
    _map(request, map_id)
    result = cache_of(request).live(map_id, _scope(segment, channel, since, until))
    return {
        "live": result.live.to_dict(),
        "painpoints": result.pains.to_dict(),
        "conformance": result.conformance.to_dict(),
    }


@router.put("/maps/{map_id}", tags=["maps"], responses=_MAP)
def put_map(map_id: str, body: MapText, caller: Editor, request: Request) -> dict[str, Any]:
    """Replace the map's YAML (validated first; the previous text is kept as a version)."""
    _map(request, map_id)
    return _replace(request, map_id, body.yaml, caller.user.name, body.message or "edited YAML")


@router.patch("/maps/{map_id}/steps/{step_id}", tags=["maps"], responses=_MAP)
def patch_step(
    map_id: str, step_id: str, body: StepEdit, caller: Editor, request: Request
) -> dict[str, Any]:
    """Change fields of one step; the file keeps its comments and layout elsewhere."""
    model = _map(request, map_id)
    if model.step(step_id) is None:
        raise HTTPException(404, f"no step {step_id!r} in {map_id}")
    changes = body.model_dump(exclude_unset=True, exclude={"message"})
    if changes.get("match"):
        try:
            parse_selector(changes["match"])
        except SelectorError as error:
            raise HTTPException(422, f"match: {error}") from None
    for number, pain in enumerate(body.pain_points or [], 1):
        if pain.severity not in SEVERITIES:
            raise HTTPException(
                422,
                f"pain_points: line {number}: severity {pain.severity!r} is not one of "
                f"{', '.join(SEVERITIES)}",
            )
    # Only the fields the file sets: dumping defaults too would write every one of them into
    # the file (``save_document`` keeps what the model says was set).
    data = model.model_dump(mode="python", exclude_unset=True)
    for stage in data["stages"]:
        for step in stage.get("steps", []):
            if step["id"] == step_id:
                for key, value in changes.items():
                    current = step.get(key)
                    if value is None or value == []:
                        step.pop(key, None)
                    elif key == "pain_points":
                        step[key] = _edited_pains(current, body.pain_points or [], model.language)
                    elif isinstance(value, list):
                        step[key] = _edited_lines(current, value, model.language)
                    elif isinstance(current, dict) and isinstance(value, str):
                        # Translated text: the edit is in the map's language; the other
                        # translations stay.
                        step[key] = {**current, model.language: value}
                    else:
                        step[key] = value
    try:
        edited = JourneyMap.model_validate(data)
    except Exception as error:  # pydantic's ValidationError: the edit is not a valid map
        raise HTTPException(422, f"invalid step: {error}") from None
    workspace = workspace_of(request)
    path, before = workspace.map_text(map_id)
    accounts = accounts_of(request)
    if not accounts.versions(map_id):
        accounts.record_version(map_id, before, None, "before the first web edit")
    workspace.save_map(edited, path)
    _, after = workspace.map_text(map_id)
    version = accounts.record_version(
        map_id, after, caller.user.name, body.message or f"edited step {step_id}"
    )
    accounts.audit(caller.user.name, "edit-step", f"{map_id}/{step_id}", ", ".join(changes))
    cache_of(request).forget(map_id)
    return {"version": version.version, "map": edited.model_dump(mode="json", exclude_none=True)}


def _edited_text(before: Any, text: str, language: str) -> Any:
    """``text`` in the map's language; a translated ``before`` keeps its other languages."""
    if isinstance(before, dict):
        return before if localize(before, language) == text else {**before, language: text}
    return text


def _edited_lines(current: Any, lines: list[str], language: str) -> list[Any]:
    """A list lane's new lines. While the lane keeps its length, a translated item keeps its
    other languages (line ``i`` edits item ``i``); otherwise the lines are plain text."""
    if isinstance(current, list) and len(current) == len(lines):
        return [_edited_text(old, new, language) for old, new in zip(current, lines, strict=True)]
    return list(lines)


def _edited_pains(current: Any, edits: list[PainPointEdit], language: str) -> list[Any]:
    """The new pain points. One whose text is unchanged (at any place in the list) keeps its
    id, evidence and translations; while the list keeps its length, a changed text keeps its
    item's other languages."""
    old = [p for p in current if isinstance(p, dict)] if isinstance(current, list) else []
    unused = list(range(len(old)))
    same_length = len(old) == len(edits)
    pains: list[Any] = []
    for index, edit in enumerate(edits):
        found = next(
            (i for i in unused if localize(old[i].get("text"), language) == edit.text), None
        )
        if found is not None:
            unused.remove(found)
            pain = dict(old[found])
            if pain.get("severity", "medium") != edit.severity:
                pain["severity"] = edit.severity
        else:
            before = old[index].get("text") if same_length and index in unused else None
            pain = {"text": _edited_text(before, edit.text, language), "severity": edit.severity}
        pains.append(pain)
    return pains


def _replace(request: Request, map_id: str, text: str, author: str, message: str) -> dict[str, Any]:
    workspace = workspace_of(request)
    accounts = accounts_of(request)
    _, before = workspace.map_text(map_id)
    try:
        model = workspace.replace_map_text(map_id, text)
    except ValidationError as error:
        raise HTTPException(
            422, {"message": "the map has errors", "issues": _issues(error)}
        ) from None
    except JourneylensError as error:
        raise HTTPException(422, str(error)) from None
    if not accounts.versions(map_id):
        accounts.record_version(map_id, before, None, "before the first web edit")
    version = accounts.record_version(map_id, text, author, message)
    accounts.audit(author, "edit-map", map_id, message)
    cache_of(request).forget(map_id)
    return {"version": version.version, "map": model.model_dump(mode="json", exclude_none=True)}


@router.get("/maps/{map_id}/versions", tags=["history"], responses=_MAP)
def list_versions(map_id: str, caller: Viewer, request: Request) -> list[dict[str, Any]]:
    _map(request, map_id)
    return [
        {"version": v.version, "author": v.author, "at": v.at, "message": v.message}
        for v in accounts_of(request).versions(map_id)
    ]


@router.get("/maps/{map_id}/versions/{version}", tags=["history"], responses=_MAP)
def get_version(map_id: str, version: int, caller: Viewer, request: Request) -> dict[str, Any]:
    """A version's text and its unified diff against the map as it is now."""
    _map(request, map_id)
    found = accounts_of(request).version(map_id, version)
    if found is None:
        raise HTTPException(404, f"no version {version} of {map_id}")
    _, now = workspace_of(request).map_text(map_id)
    diff = difflib.unified_diff(
        found.content.splitlines(keepends=True),
        now.splitlines(keepends=True),
        fromfile=f"{map_id} v{version}",
        tofile=f"{map_id} now",
    )
    return {
        "version": found.version,
        "author": found.author,
        "at": found.at,
        "message": found.message,
        "yaml": found.content,
        "diff": "".join(diff),
    }


@router.post("/maps/{map_id}/versions/{version}/restore", tags=["history"], responses=_MAP)
def restore_version(map_id: str, version: int, caller: Editor, request: Request) -> dict[str, Any]:
    """Make an old version current again (recorded as a new version: nothing is lost)."""
    _map(request, map_id)
    found = accounts_of(request).version(map_id, version)
    if found is None:
        raise HTTPException(404, f"no version {version} of {map_id}")
    return _replace(request, map_id, found.content, caller.user.name, f"restored v{version}")


@router.get("/maps/{map_id}/comments", tags=["comments"], responses=_MAP)
def list_comments(map_id: str, caller: Viewer, request: Request) -> list[dict[str, Any]]:
    _map(request, map_id)
    return [
        {"id": c.id, "step": c.step_id, "author": c.author, "text": c.text, "at": c.at}
        for c in accounts_of(request).comments(map_id)
    ]


@router.post("/maps/{map_id}/comments", tags=["comments"], status_code=201, responses=_MAP)
def add_comment(map_id: str, body: CommentIn, caller: Editor, request: Request) -> dict[str, Any]:
    model = _map(request, map_id)
    if model.step(body.step) is None:
        raise HTTPException(404, f"no step {body.step!r} in {map_id}")
    comment = accounts_of(request).add_comment(map_id, body.step, caller.user.name, body.text)
    accounts_of(request).audit(caller.user.name, "comment", f"{map_id}/{body.step}")
    return {"id": comment.id, "step": comment.step_id, "author": comment.author, "at": comment.at}


@router.get(
    "/maps/{map_id}/export/{fmt}",
    tags=["maps"],
    response_class=Response,
    responses={**_media(*EXPORTED.values()), **_MAP},
)
def export_map(
    map_id: str,
    fmt: Literal["svg", "html", "png", "pdf", "mermaid"],
    caller: Viewer,
    request: Request,
) -> Response:
    """The map as a file to download (PNG and PDF drawn by the server's Chromium)."""
    workspace = workspace_of(request)
    _map(request, map_id)
    if fmt == "mermaid":
        return _download(workspace.export_mermaid(map_id).encode(), EXPORTED[fmt], f"{map_id}.mmd")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / f"{map_id}.{fmt}"
        workspace.render(map_id, target, fmt)
        content = target.read_bytes()
    return _download(content, EXPORTED[fmt], f"{map_id}.{fmt}")


def _download(content: bytes, media: str, name: str) -> Response:
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- selectors ----------------------------------------------------------------------------------
@router.post("/selectors/check", response_model=SelectorResult, tags=["maps"])
def check_selector(body: SelectorCheck, caller: Viewer, request: Request) -> SelectorResult:
    """Is the selector valid, and how many events and customers does it match now?"""
    try:
        parse_selector(body.selector)
    except SelectorError as error:
        return SelectorResult(valid=False, error=str(error), column=getattr(error, "column", None))
    counted = cache_of(request).selector_count(body.selector)
    if counted is None:
        return SelectorResult(valid=True)
    return SelectorResult(valid=True, events=counted[0], customers=counted[1])


# -- data ---------------------------------------------------------------------------------------
@router.get("/data/batches", tags=["data"])
def list_batches(caller: Viewer, request: Request) -> list[dict[str, Any]]:
    """Every load: file, counts (read = accepted + quarantined + duplicates), status."""
    try:
        batches = workspace_of(request).batches()
    except JourneylensError:
        return []
    return [asdict(b) for b in batches]


@router.get("/data/quarantine", tags=["data"])
def list_quarantine(
    caller: Editor,
    request: Request,
    batch: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Rejected rows with file:row:column and the reason (raw customer data: editors only)."""
    try:
        rows = workspace_of(request).quarantine(batch=batch, limit=limit)
    except JourneylensError:
        return []
    return [asdict(r) for r in rows]


# -- users, tokens, audit -----------------------------------------------------------------------
@router.get("/users", tags=["admin"])
def list_users(caller: Admin, request: Request) -> list[dict[str, str]]:
    return [{"name": u.name, "role": u.role} for u in accounts_of(request).users()]


@router.post("/users", tags=["admin"], status_code=201)
def add_user(body: NewUser, caller: Admin, request: Request) -> dict[str, str]:
    try:
        user = accounts_of(request).add_user(body.name, body.password, body.role)
    except AccountError as error:
        raise HTTPException(422, str(error)) from None
    accounts_of(request).audit(caller.user.name, "add-user", user.name, user.role)
    return {"name": user.name, "role": user.role}


@router.patch("/users/{name}", tags=["admin"], responses=_MAP)
def change_role(name: str, body: RoleChange, caller: Admin, request: Request) -> dict[str, str]:
    if name == caller.user.name and body.role != "admin":
        raise HTTPException(422, "an admin cannot demote themselves (ask another admin)")
    try:
        user = accounts_of(request).set_role(name, body.role)
    except AccountError as error:
        raise HTTPException(404, str(error)) from None
    accounts_of(request).audit(caller.user.name, "set-role", name, body.role)
    return {"name": user.name, "role": user.role}


@router.post("/tokens", tags=["session"], status_code=201)
def create_token(body: TokenRequest, caller: Viewer, request: Request) -> dict[str, Any]:
    """A token for scripts, acting as you; shown once, working for ``days``."""
    token = accounts_of(request).create_token(caller.user.name, body.label, days=body.days)
    accounts_of(request).audit(caller.user.name, "create-token", body.label, f"{body.days} d")
    listed = accounts_of(request).tokens(caller.user.name)[0]
    return {"token": token, "id": listed.id, "label": body.label, "expires": listed.expires}


@router.get("/tokens", tags=["session"])
def list_tokens(caller: Viewer, request: Request) -> list[dict[str, Any]]:
    """Your API tokens (an admin sees everyone's): id, label, created, expires; never the
    tokens themselves."""
    owner = None if caller.user.can("admin") else caller.user.name
    return [asdict(t) for t in accounts_of(request).tokens(owner)]


@router.delete("/tokens/{token_id}", tags=["session"], responses=_MAP)
def revoke_token(token_id: str, caller: Viewer, request: Request) -> dict[str, str]:
    """Revoke one of your tokens (an admin: anyone's); it stops working at once."""
    owner = None if caller.user.can("admin") else caller.user.name
    try:
        revoked = accounts_of(request).revoke_token(token_id, owner=owner)
    except AccountError as error:
        raise HTTPException(404, str(error)) from None
    accounts_of(request).audit(caller.user.name, "revoke-token", revoked.user, revoked.label)
    return {"revoked": revoked.id}


@router.get("/audit", tags=["admin"])
def audit_log(
    caller: Admin, request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[dict[str, Any]]:
    return [asdict(e) for e in accounts_of(request).audit_log(limit)]


__all__ = ["ROLES", "identify", "router"]
