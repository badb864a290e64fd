"""Survey pages: the public response page (``/s/TOKEN``) and the team's survey pages.

The response page needs no account: the sealed token in the link is the respondent's only
credential, so the page never shows who they are or which step is asked about. It works
without script, in the survey's language and direction, and inside an iframe (the embed
snippet), which is why it alone may be framed. Abuse is held off by one answer per link,
a per-address rate limit on answers and a honeypot field that people never see. Accepted
answers go to the event store at once when it is free; when it is busy they wait in the
survey ledger until it is free (a few tries, the next answer, or ``journeylens survey load``).
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections import deque
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from journeylens.errors import (
    ExpiredSurveyLink,
    InvalidSurveyLink,
    JourneylensError,
    StoreBusyError,
    SurveyAlreadyAnswered,
    ValidationError,
)
from journeylens.model.common import direction_of
from journeylens.model.survey import Survey
from journeylens.web import i18n
from journeylens.web.pages import _guard, _not_found, _Page, _page, _workspace
from journeylens.web.security import accounts_of, client_address, form_token_ok
from journeylens.workspace import Workspace

router = APIRouter(include_in_schema=False)
log = logging.getLogger("journeylens.surveys")

#: Answers accepted from one address per window (a shop's Wi-Fi is many people).
ANSWERS_PER_WINDOW = 30
WINDOW_SECONDS = 600
HONEYPOT = "website"
#: Tries to load an answer into a busy store before leaving it to the next one.
LOAD_RETRIES = 5
RETRY_SECONDS = 2.0
#: Headers of the public page: it may be framed (the embed snippet), never leaks its token.
PUBLIC_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors *; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)


class RateLimit:
    """A sliding window of answer times per client address."""

    def __init__(self, limit: int = ANSWERS_PER_WINDOW, window: float = WINDOW_SECONDS) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            times = self._seen.setdefault(address, deque())
            while times and times[0] < now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            if len(self._seen) > 10_000:  # forget quiet addresses rather than grow
                for key in [k for k, v in self._seen.items() if not v]:
                    del self._seen[key]
            return True


def _limit(request: Request) -> RateLimit:
    limit: RateLimit = request.app.state.survey_limit
    return limit


# -- the public response page ---------------------------------------------------------------------
def _public(request: Request, survey: Survey | None, wanted: str | None) -> _Page:
    chrome = _page(request, signed_in=False)
    language = survey.language_for(wanted, chrome.lang) if survey else chrome.lang
    return _Page(request, None, language, explicit_lang=False)


def _public_render(page: _Page, template: str, *, status: int = 200, **context: Any) -> Response:
    response = page.render(template, status=status, direction=direction_of(page.lang), **context)
    response.headers["Content-Security-Policy"] = PUBLIC_CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _message(page: _Page, key: str, status: int, survey: Survey | None = None) -> Response:
    title = survey.text(survey.name, page.lang) if survey else page.t(key)
    return _public_render(
        page, "survey_message.html", status=status, title=title, message=page.t(key)
    )


def _refusal(request: Request, error: JourneylensError) -> Response:
    page = _public(request, None, None)
    if isinstance(error, ExpiredSurveyLink):
        return _message(page, "survey.expired", 410)
    if isinstance(error, SurveyAlreadyAnswered):
        return _message(page, "survey.answered", 409)
    return _message(page, "survey.invalid", 404)


def _form(
    page: _Page,
    survey: Survey,
    token: str,
    values: dict[str, list[str]],
    problems: dict[str, str],
    status: int = 200,
) -> Response:
    lang = page.lang
    questions = [
        {
            "id": q.id,
            "kind": q.kind,
            "text": survey.text(q.text, lang),
            "required": q.required,
            "scale": list(range(q.scale[0], q.scale[1] + 1)) if q.scale else [],
            "low": survey.text(q.low_label, lang),
            "high": survey.text(q.high_label, lang),
            "choices": [(c.id, survey.text(c.label, lang)) for c in q.choices],
            "values": values.get(q.id, []),
            "problem": page.t(f"survey.problem.{problems[q.id]}") if q.id in problems else "",
        }
        for q in survey.questions
    ]
    return _public_render(
        page,
        "survey_form.html",
        status=status,
        title=survey.text(survey.name, lang),
        survey_name=survey.text(survey.name, lang),
        intro=survey.text(survey.intro, lang),
        questions=questions,
        token=token,
        problems=bool(problems),
        general=page.t(f"survey.problem.{problems['']}") if "" in problems else "",
        honeypot=HONEYPOT,
        other_languages=[
            (code, i18n.LANGUAGE_NAMES.get(code, code)) for code in survey.languages if code != lang
        ],
    )


@router.get("/s/{token}", response_class=HTMLResponse)
def survey_page(request: Request, token: str, lang: str | None = None) -> Response:
    workspace = _workspace(request)
    try:
        survey, invitation, answered = workspace.open_survey_token(token)
    except (InvalidSurveyLink, ExpiredSurveyLink) as error:
        return _refusal(request, error)
    page = _public(request, survey, lang or invitation.language)
    if answered:
        return _message(page, "survey.answered", 409, survey)
    # A score chosen in the invitation e-mail arrives as ?QUESTION=N: preselect it.
    values = {
        q.id: [request.query_params[q.id]] for q in survey.questions if q.id in request.query_params
    }
    return _form(page, survey, token, values, {})


@router.post("/s/{token}", response_class=HTMLResponse)
async def survey_answer(request: Request, token: str, background: BackgroundTasks) -> Response:
    workspace = _workspace(request)
    form = await request.form()
    values: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and len(values) < 64:
            values.setdefault(key, []).append(value[:4000])
    language = (values.pop("lang", [""]) or [""])[0]
    trap = "".join(values.pop(HONEYPOT, []))
    try:
        survey, invitation, answered = workspace.open_survey_token(token)
    except (InvalidSurveyLink, ExpiredSurveyLink) as error:
        return _refusal(request, error)
    page = _public(request, survey, language or invitation.language)
    if answered:
        return _message(page, "survey.answered", 409, survey)
    if trap.strip():
        # A bot filled the field people never see: thank it and keep nothing.
        accounts_of(request).audit(None, "survey.honeypot", survey.id, client_address(request))
        return _thanks(page, survey)
    if not _limit(request).allow(client_address(request)):
        return _message(page, "survey.slow_down", 429, survey)
    try:
        problems = workspace.answer_survey(token, values, page.lang)
    except SurveyAlreadyAnswered:
        return _message(page, "survey.answered", 409, survey)
    if problems:
        return _form(page, survey, token, values, problems, status=422)
    background.add_task(_load_answers, workspace, retries=LOAD_RETRIES)
    return _thanks(page, survey)


def _thanks(page: _Page, survey: Survey) -> Response:
    message = survey.text(survey.thanks, page.lang) or page.t("survey.thanks")
    return _public_render(
        page, "survey_message.html", title=survey.text(survey.name, page.lang), message=message
    )


def _load_answers(workspace: Workspace, *, retries: int = 0) -> None:
    """Bring waiting answers into the event store, after the respondent has their page.

    While the store is busy (a load, a stitch, another answer) the answers wait in the ledger;
    a few tries later, or with the next answer or ``survey load``, they go in."""
    for attempt in range(retries + 1):
        try:
            workspace.flush_survey_answers()
            return
        except StoreBusyError as error:
            if attempt == retries:
                log.warning("survey answers kept in the ledger for now: %s", error)
                return
            time.sleep(RETRY_SECONDS)
        except JourneylensError as error:
            log.warning("survey answers kept in the ledger for now: %s", error)
            return


# -- the team's pages ----------------------------------------------------------------------------
def _editor(request: Request, csrf_token: str) -> tuple[_Page, Response | None]:
    """The page of an editor's form post, and the 403 to answer when its CSRF field is wrong."""
    page = _page(request, role="editor")
    if form_token_ok(page.caller, csrf_token):
        return page, None
    refused = page.render(
        "error.html",
        title=page.t("error.forbidden"),
        status=403,
        heading=page.t("error.forbidden"),
        message="missing or wrong CSRF token",
    )
    return page, refused


def _messages(error: JourneylensError) -> list[str]:
    found = error.issues if isinstance(error, ValidationError) else [error]
    return [str(i) for i in found]


def public_link(request: Request, token: str) -> str:
    """The response page of a token, as respondents reach this app."""
    return str(request.base_url).rstrip("/") + "/s/" + token


def _survey_rows(workspace: Workspace, page: _Page) -> list[dict[str, Any]]:
    rows = []
    for survey in workspace.surveys():
        results = workspace.survey_results(survey.id)
        rate = results.total.response_rate
        rows.append(
            {
                "id": survey.id,
                "name": survey.text(survey.name, survey.language_for(page.lang)),
                "about": survey.about or "",
                "kinds": ", ".join(q.kind.upper() for q in survey.questions),
                "languages": ", ".join(survey.languages),
                "issued": results.issued,
                "answered": results.answered,
                "rate": f"{rate:.0%}" if rate is not None else "–",
                "pending": results.pending,
            }
        )
    return rows


@router.get("/surveys", response_class=HTMLResponse)
@_guard
def surveys_page(request: Request) -> Response:
    page = _page(request)
    workspace = _workspace(request)
    try:
        rows, issues = _survey_rows(workspace, page), []
    except ValidationError as error:
        rows, issues = [], [str(i) for i in error.issues]
    return page.render(
        "surveys.html",
        title=page.t("surveys.title"),
        surveys=rows,
        issues=issues,
        pending=sum(r["pending"] for r in rows),
        draft="",
    )


@router.get("/surveys/{survey_id}", response_class=HTMLResponse)
@_guard
def survey_detail_page(request: Request, survey_id: str) -> Response:
    page = _page(request)
    return _detail(page, survey_id)


def _detail(
    page: _Page,
    survey_id: str,
    *,
    text: str | None = None,
    issues: list[str] | None = None,
    saved: bool = False,
    link: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    workspace = _workspace(page.request)
    try:
        survey = workspace.survey(survey_id)
        _, current = workspace.survey_text(survey_id)
    except JourneylensError:
        return _not_found(page, survey_id)
    results = workspace.survey_results(survey_id)
    language = survey.language_for(page.lang)
    comments = [
        {"text": r.answer.text, "language": r.language, "dir": direction_of(r.language)}
        for r in reversed(workspace.survey_responses(survey_id))
        if r.answer.text
    ][:50]
    return page.render(
        "survey.html",
        status=status,
        title=f"{page.t('surveys.title')}: {survey.text(survey.name, language)}",
        survey=survey,
        name=survey.text(survey.name, language),
        results=results,
        question_texts={q.id: survey.text(q.text, language) for q in survey.questions},
        choice_labels={
            q.id: {c.id: survey.text(c.label, language) for c in q.choices}
            for q in survey.questions
        },
        comments=comments,
        yaml_text=current if text is None else text,
        issues=issues or [],
        saved=saved,
        link=link,
    )


@router.post("/surveys/{survey_id}", response_class=HTMLResponse)
@_guard
def survey_save(
    request: Request,
    survey_id: str,
    text: Annotated[str, Form(max_length=200_000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    page, refused = _editor(request, csrf_token)
    if refused is not None:
        return refused
    try:
        _workspace(request).save_survey_text(survey_id, text)
    except JourneylensError as error:
        return _detail(page, survey_id, text=text, issues=_messages(error), status=422)
    assert page.caller is not None
    accounts_of(request).audit(page.caller.user.name, "survey.save", survey_id)
    return _detail(page, survey_id, saved=True)


@router.post("/surveys", response_class=HTMLResponse)
@_guard
def survey_create(
    request: Request,
    text: Annotated[str, Form(max_length=200_000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    page, refused = _editor(request, csrf_token)
    if refused is not None:
        return refused
    workspace = _workspace(request)
    try:
        survey = workspace.save_survey_text(None, text)
    except JourneylensError as error:
        return page.render(
            "surveys.html",
            status=422,
            title=page.t("surveys.title"),
            surveys=_survey_rows(workspace, page),
            issues=_messages(error),
            pending=0,
            draft=text,
        )
    assert page.caller is not None
    accounts_of(request).audit(page.caller.user.name, "survey.create", survey.id)
    return RedirectResponse(f"/surveys/{survey.id}", status_code=303)


@router.post("/surveys/{survey_id}/link", response_class=HTMLResponse)
@_guard
def survey_make_link(
    request: Request,
    survey_id: str,
    identifier: Annotated[str, Form(max_length=500)] = "",
    about: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    page, refused = _editor(request, csrf_token)
    if refused is not None:
        return refused
    workspace = _workspace(request)
    try:
        token, _ = workspace.survey_invitation(survey_id, identifier, about=about or None)
    except JourneylensError as error:
        return _detail(page, survey_id, issues=[str(error)], status=422)
    url = public_link(request, token)
    qr, snippet = workspace.survey_link_extras(url)
    assert page.caller is not None
    accounts_of(request).audit(page.caller.user.name, "survey.link", survey_id)
    link = {
        "url": url,
        "qr": "data:image/svg+xml;base64," + base64.b64encode(qr.encode()).decode(),
        "embed": snippet,
    }
    return _detail(page, survey_id, link=link)


@router.post("/surveys-load", response_class=HTMLResponse)
@_guard
def survey_load(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    _, refused = _editor(request, csrf_token)
    if refused is not None:
        return refused
    _load_answers(_workspace(request))
    return RedirectResponse("/surveys", status_code=303)


@router.get("/surveys/{survey_id}/answers.csv")
@_guard
def survey_answers_csv(request: Request, survey_id: str) -> Response:
    page = _page(request)
    try:
        text = _workspace(request).survey_responses_csv(survey_id)
    except JourneylensError:
        return _not_found(page, survey_id)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{survey_id}-answers.csv"'},
    )
