"""The web application's pages: server-rendered with Jinja2 (autoescaped: customer text is
untrusted), enhanced by small vendored scripts in ``static/`` that talk to the JSON API.

Every page needs a signed-in user (anonymous browsers are sent to ``/login``) and mirrors the
API's roles: editing pages answer 403 to viewers, the admin page to everyone but admins. The
Content-Security-Policy allows no inline script, so pages hand data to scripts in ``data-*``
attributes and JSON data blocks, and the CSRF token in ``<meta name="csrf-token">``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import ValidationError as InputError

from journeylens._version import __version__
from journeylens.errors import JourneylensError
from journeylens.model.journey_map import JourneyMap
from journeylens.web import api, api_personas, i18n
from journeylens.web.accounts import Role
from journeylens.web.security import COOKIE, Caller, accounts_of, form_token_ok, identify
from journeylens.workspace import Workspace

router = APIRouter(include_in_schema=False)

_templates = Environment(
    loader=PackageLoader("journeylens.web", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

#: Steps of the admin audit log and quarantine shown on a page.
AUDIT_ROWS = 200
QUARANTINE_ROWS = 200


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


@dataclass(frozen=True)
class _Page:
    request: Request
    caller: Caller | None
    lang: str
    explicit_lang: bool

    @property
    def t(self) -> Any:
        return i18n.translator(self.lang)

    def render(
        self,
        template: str,
        *,
        title: str,
        status: int = 200,
        direction: str | None = None,
        **context: Any,
    ) -> HTMLResponse:
        user = self.caller.user if self.caller else None
        html = _templates.get_template(template).render(
            t=self.t,
            lang=self.lang,
            dir=direction or i18n.direction(self.lang),
            languages=i18n.LANGUAGE_NAMES,
            js_strings=i18n.strings(self.lang),
            user=user,
            csrf=(self.caller.csrf if self.caller else None) or "",
            can_edit=bool(user and user.can("editor")),
            is_admin=bool(user and user.can("admin")),
            title=title,
            path=self.request.url.path,
            version=__version__,
            text=lambda value, fallback="": i18n.text_in(value, self.lang, fallback),
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        response.headers["Cache-Control"] = "no-store"
        if self.explicit_lang:
            response.set_cookie(
                i18n.COOKIE, self.lang, max_age=365 * 86400, samesite="lax", path="/"
            )
        return response


def _page(request: Request, *, signed_in: bool = True, role: Role = "viewer") -> _Page:
    lang, explicit = i18n.choose(
        request.query_params.get("lang"),
        request.cookies.get(i18n.COOKIE),
        request.headers.get("accept-language"),
    )
    caller = identify(request)
    page = _Page(request, caller, lang, explicit)
    if signed_in and caller is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise _Redirect("/login?next=" + quote(target, safe=""))
    if signed_in and caller is not None and not caller.user.can(role):
        raise _Forbidden(page, role)
    return page


class _Forbidden(Exception):
    def __init__(self, page: _Page, role: Role) -> None:
        self.page = page
        self.role = role


def _guard(handler: Any) -> Any:
    """Turn the page exceptions into a redirect to sign-in or a 403 page."""
    import functools
    import inspect

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            result: Response = handler(*args, **kwargs)
        except _Redirect as redirect:
            return RedirectResponse(redirect.location, status_code=303)
        except _Forbidden as refused:
            page = refused.page
            assert page.caller is not None
            return page.render(
                "error.html",
                title=page.t("error.forbidden"),
                status=403,
                heading=page.t("error.forbidden"),
                message=page.t(
                    "error.needs_role",
                    role=page.t(f"role.{refused.role}"),
                    current=page.t(f"role.{page.caller.user.role}"),
                ),
            )
        return result

    wrapper.__signature__ = inspect.signature(handler)  # type: ignore[attr-defined]
    return wrapper


def _workspace(request: Request) -> Workspace:
    workspace: Workspace = request.app.state.workspace
    return workspace


def _safe_next(target: str | None) -> str:
    """Only local paths: a sign-in link must not send the user to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _not_found(page: _Page, what: str) -> HTMLResponse:
    return page.render(
        "error.html",
        title=page.t("error.not_found"),
        status=404,
        heading=page.t("error.not_found"),
        message=what,
    )


# -- sign-in --------------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
@_guard
def login_page(request: Request, next: str | None = None) -> Response:
    page = _page(request, signed_in=False)
    if page.caller is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return page.render(
        "login.html", title=page.t("login.title"), next=_safe_next(next), error=None, name=""
    )


@router.post("/login", response_class=HTMLResponse)
@_guard
def login_form(
    request: Request,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """The sign-in form without script: the same checks as ``POST /api/login``."""
    page = _page(request, signed_in=False)
    response = RedirectResponse(_safe_next(next), status_code=303)
    try:
        api.login(api.Credentials(name=name, password=password), request, response)
    except (HTTPException, InputError) as error:
        status = error.status_code if isinstance(error, HTTPException) else 401
        message = page.t("login.locked") if status == 429 else page.t("login.failed")
        if status == 403 and isinstance(error, HTTPException):
            message = str(error.detail)
        return page.render(
            "login.html",
            title=page.t("login.title"),
            status=status,
            next=_safe_next(next),
            error=message,
            name=name[:100],
        )
    return response


@router.post("/logout")
def logout_form(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    caller = identify(request)
    response = RedirectResponse("/login", status_code=303)
    if caller is None or not caller.by_cookie:
        return response
    if not form_token_ok(caller, csrf_token):
        raise HTTPException(403, "missing or wrong CSRF token")
    session_id = request.cookies.get(COOKIE)
    if session_id:
        accounts_of(request).close_session(session_id)
    accounts_of(request).audit(caller.user.name, "logout")
    response.delete_cookie(COOKIE, path="/")
    return response


# -- workspace home -------------------------------------------------------------------------------
def _map_rows(page: _Page, maps: list[JourneyMap]) -> list[dict[str, Any]]:
    rows = []
    for m in maps:
        steps = [s for _, s in m.steps()]
        rows.append(
            {
                "id": m.id,
                "title": i18n.text_in(m.title, m.language, m.id),
                "type": page.t(f"type.{m.type}"),
                "status": m.status,
                "language": m.language,
                "dir": m.direction or i18n.direction(m.language),
                "steps": len(steps),
                "bound": sum(1 for s in steps if s.match),
            }
        )
    return rows


def _batches(workspace: Workspace) -> list[Any]:
    try:
        return list(workspace.batches())
    except JourneylensError:
        return []
    except Exception:  # no store yet: the store layer's own error types are not ours to import
        return []


@router.get("/", response_class=HTMLResponse)
@_guard
def home(request: Request) -> Response:
    page = _page(request)
    workspace = _workspace(request)
    settings = workspace.settings
    batches = _batches(workspace)
    loaded = [b for b in batches if b.status == "loaded"]
    freshness = {
        "latest": max((b.finished_at for b in loaded if b.finished_at), default=None),
        "events": sum(b.accepted for b in loaded),
        "batches": len(loaded),
    }
    personas = [
        {
            "id": p.id,
            "name": i18n.text_in(p.name, page.lang, p.id),
            "description": i18n.text_in(p.description, page.lang),
            "goals": [i18n.text_in(g, page.lang) for g in p.goals[:3]],
        }
        for p in settings.personas
    ]
    return page.render(
        "home.html",
        title=page.t("home.title"),
        maps=_map_rows(page, workspace.maps()),
        invalid=[
            {"id": name, "issues": [str(i) for i in issues[:5]]}
            for name, issues in workspace.invalid_maps()
        ],
        personas=personas,
        freshness=freshness,
    )


# -- map viewer and editor ------------------------------------------------------------------------
def _map_context(page: _Page, journey_map: JourneyMap) -> dict[str, Any]:
    language = journey_map.language
    stages = []
    for stage in journey_map.stages:
        stages.append(
            {
                "id": stage.id,
                "name": i18n.text_in(stage.name, language, stage.id),
                "steps": [
                    {
                        "id": step.id,
                        "action": i18n.text_in(step.action, language, step.id),
                        "bound": bool(step.match),
                    }
                    for step in stage.steps
                ],
            }
        )
    steps = [
        {
            "id": step.id,
            "stage": stage.id,
            "action": i18n.text_in(step.action, language, step.id),
            "bound": bool(step.match),
            "match": step.match or "",
            "pain_points": [i18n.text_in(p.text, language) for p in step.pain_points],
        }
        for stage, step in journey_map.steps()
    ]
    return {
        "map": {
            "id": journey_map.id,
            "title": i18n.text_in(journey_map.title, language, journey_map.id),
            "type": page.t(f"type.{journey_map.type}"),
            "status": journey_map.status,
            "language": language,
            "dir": journey_map.direction or i18n.direction(language),
        },
        "stages": stages,
        "steps": steps,
    }


def _load_map(request: Request, map_id: str) -> JourneyMap | None:
    try:
        return _workspace(request).map(map_id)
    except JourneylensError:
        return None


@router.get("/maps/{map_id}", response_class=HTMLResponse)
@_guard
def map_page(request: Request, map_id: str) -> Response:
    page = _page(request)
    journey_map = _load_map(request, map_id)
    if journey_map is None:
        return _not_found(page, map_id)
    context = _map_context(page, journey_map)
    channels = [
        {"id": c.id, "name": i18n.text_in(c.name, page.lang, c.id)}
        for c in _workspace(request).settings.channels
    ]
    return page.render(
        "map.html",
        title=context["map"]["title"],
        direction=context["map"]["dir"],
        channels=channels,
        exports=("svg", "html", "png", "pdf", "mermaid"),
        **context,
    )


@router.get("/maps/{map_id}/edit", response_class=HTMLResponse)
@_guard
def edit_page(request: Request, map_id: str) -> Response:
    page = _page(request, role="editor")
    journey_map = _load_map(request, map_id)
    if journey_map is None:
        return _not_found(page, map_id)
    context = _map_context(page, journey_map)
    return page.render(
        "edit.html",
        title=f"{page.t('edit.title')}: {context['map']['title']}",
        direction=context["map"]["dir"],
        **context,
    )


# -- personas -------------------------------------------------------------------------------------
def _channel_names(workspace: Workspace, lang: str) -> dict[str, str]:
    return {c.id: i18n.text_in(c.name, lang, c.id) for c in workspace.settings.channels}


@router.get("/personas", response_class=HTMLResponse)
@_guard
def personas_page(request: Request) -> Response:
    page = _page(request)
    workspace = _workspace(request)
    has_data = workspace.data_generation() is not None
    cards = [
        api_personas.card(p, page.lang, api_personas.customers(request, p) if has_data else None)
        for p in workspace.settings.personas
    ]
    return page.render(
        "personas.html",
        title=page.t("pe.title"),
        personas=cards,
        channel_names=_channel_names(workspace, page.lang),
        has_data=has_data,
    )


def _editing_language(workspace: Workspace, lang: str) -> str:
    """The page's language when the workspace writes in it, its default language otherwise."""
    info = workspace.settings.workspace
    return lang if lang in (info.languages or [info.default_language]) else info.default_language


@router.get("/personas/{persona_id}/edit", response_class=HTMLResponse)
@_guard
def persona_edit_page(request: Request, persona_id: str) -> Response:
    page = _page(request, role="editor")
    workspace = _workspace(request)
    persona = next((p for p in workspace.settings.personas if p.id == persona_id), None)
    if persona is None:
        return _not_found(page, persona_id)
    language = _editing_language(workspace, page.lang)
    shown = api_personas.card(persona, language, None)
    fields = [
        ("goals", "pe.goals"),
        ("frustrations", "pe.frustrations"),
        ("needs", "pe.needs"),
        ("motivations", "pe.motivations"),
        ("behaviours", "pe.behaviours"),
        ("jobs_to_be_done", "pe.jobs"),
        ("quotes", "pe.quotes"),
    ]
    return page.render(
        "persona_edit.html",
        title=f"{page.t('pe.edit_title')}: {shown.name}",
        persona=shown,
        language=language,
        language_name=i18n.LANGUAGE_NAMES.get(language, language),
        text_dir=i18n.direction(language),
        list_fields=[(key, page.t(label), getattr(shown, key)) for key, label in fields],
        # The persona's channels first, in its order (a save keeps that order), then the rest.
        channels=sorted(
            _channel_names(workspace, page.lang).items(),
            key=lambda c: (
                shown.preferred_channels.index(c[0])
                if c[0] in shown.preferred_channels
                else len(shown.preferred_channels),
                c[1],
            ),
        ),
    )


# -- analytics, data, admin -----------------------------------------------------------------------
@router.get("/analytics", response_class=HTMLResponse)
@_guard
def analytics_page(request: Request) -> Response:
    page = _page(request)
    workspace = _workspace(request)
    maps = _map_rows(page, workspace.maps())
    return page.render(
        "analytics.html",
        title=page.t("an.title"),
        maps=maps,
        default_map=next(
            (m["id"] for m in maps if m["language"] == page.lang and m["id"].startswith("current")),
            next(
                (m["id"] for m in maps if m["language"] == page.lang), maps[0]["id"] if maps else ""
            ),
        ),
        has_data=workspace.data_generation() is not None,
    )


@router.get("/data", response_class=HTMLResponse)
@_guard
def data_page(request: Request) -> Response:
    page = _page(request)
    workspace = _workspace(request)
    try:
        sources = workspace.sources()
        source_error = None
    except JourneylensError as error:
        sources, source_error = [], str(error)
    quarantine: list[Any] = []
    if page.caller is not None and page.caller.user.can("editor"):
        try:
            quarantine = workspace.quarantine(limit=QUARANTINE_ROWS)
        except Exception:  # no store yet
            quarantine = []
    return page.render(
        "data.html",
        title=page.t("data.title"),
        sources=sources,
        source_error=source_error,
        batches=_batches(workspace),
        quarantine=quarantine,
    )


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@router.get("/admin", response_class=HTMLResponse)
@_guard
def admin_page(request: Request) -> Response:
    page = _page(request, role="admin")
    accounts = accounts_of(request)
    audit = [
        {
            "at": _when(e.at),
            "user": e.user,
            "action": e.action,
            "target": e.target,
            "detail": e.detail,
        }
        for e in accounts.audit_log(AUDIT_ROWS)
    ]
    return page.render(
        "admin.html",
        title=page.t("admin.title"),
        users=accounts.users(),
        roles=("viewer", "editor", "admin"),
        audit=audit,
        tokens=[
            {
                "id": k.id,
                "user": k.user,
                "label": k.label,
                "expires": _when(k.expires) if k.expires is not None else "—",
                "expired": k.expired,
            }
            for k in accounts.tokens()
        ],
    )
