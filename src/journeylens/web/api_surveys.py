"""Surveys in the JSON API (``/api/surveys``): definitions, results, personal links.

Viewers read definitions and results; editors change a survey's YAML (checked like the CLI's
``survey validate`` before anything is written), make personal links and load waiting
answers into the event store. Every change is in the audit log.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import Field

from journeylens.errors import JourneylensError
from journeylens.web.api import _Input, _problems, workspace_of
from journeylens.web.security import Editor, Viewer, accounts_of
from journeylens.web.survey_pages import public_link

router = APIRouter(prefix="/api", tags=["surveys"], responses=_problems(401, 403, 422))
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$"


class SurveyText(_Input):
    yaml: str = Field(max_length=200_000)


class LinkRequest(_Input):
    identifier: str = Field(min_length=3, max_length=500, description="the customer as type:value")
    about: str | None = Field(default=None, pattern=ID_PATTERN)
    language: str | None = Field(default=None, max_length=20)


def _existing(request: Request, survey_id: str) -> None:
    try:
        workspace_of(request).survey_path(survey_id)
    except JourneylensError as error:
        raise HTTPException(404, str(error)) from None


@router.get("/surveys")
def list_surveys(caller: Viewer, request: Request) -> list[dict[str, Any]]:
    """Every survey with its links issued, answers and response rate."""
    workspace = workspace_of(request)
    found = []
    for survey in workspace.surveys():
        results = workspace.survey_results(survey.id)
        found.append(
            {
                "id": survey.id,
                "about": survey.about,
                "languages": survey.languages,
                "questions": [q.kind for q in survey.questions],
                "issued": results.issued,
                "answered": results.answered,
                "pending": results.pending,
                "response_rate": results.total.response_rate,
            }
        )
    return found


@router.get("/surveys/{survey_id}", responses=_problems(404))
def get_survey(survey_id: str, caller: Viewer, request: Request) -> dict[str, Any]:
    """The survey's definition (JSON and YAML) and its results per step asked about."""
    _existing(request, survey_id)
    workspace = workspace_of(request)
    survey = workspace.survey(survey_id)
    _, text = workspace.survey_text(survey_id)
    return {
        "survey": survey.model_dump(mode="json", exclude_none=True),
        "yaml": text,
        "results": asdict(workspace.survey_results(survey_id)),
    }


@router.put("/surveys/{survey_id}", responses=_problems(404))
def put_survey(
    survey_id: str, body: SurveyText, caller: Editor, request: Request
) -> dict[str, Any]:
    """Replace the survey's YAML; refused with every issue (line, column) when invalid."""
    _existing(request, survey_id)
    survey = workspace_of(request).save_survey_text(survey_id, body.yaml)
    accounts_of(request).audit(caller.user.name, "survey.save", survey_id)
    return {"survey": survey.model_dump(mode="json", exclude_none=True)}


@router.post("/surveys", status_code=201)
def create_survey(body: SurveyText, caller: Editor, request: Request) -> dict[str, Any]:
    """Add a survey from its YAML (its id must be new)."""
    survey = workspace_of(request).save_survey_text(None, body.yaml)
    accounts_of(request).audit(caller.user.name, "survey.create", survey.id)
    return {"survey": survey.model_dump(mode="json", exclude_none=True)}


@router.post("/surveys/{survey_id}/links", status_code=201, responses=_problems(404))
def make_link(
    survey_id: str, body: LinkRequest, caller: Editor, request: Request
) -> dict[str, Any]:
    """A personal link for one customer, with a QR code (SVG) and an embed snippet."""
    _existing(request, survey_id)
    workspace = workspace_of(request)
    token, invitation = workspace.survey_invitation(
        survey_id, body.identifier, about=body.about, language=body.language
    )
    url = public_link(request, token)
    qr, snippet = workspace.survey_link_extras(url)
    accounts_of(request).audit(caller.user.name, "survey.link", survey_id)
    return {
        "url": url,
        "about": invitation.about,
        "expires": invitation.expires,
        "qr_svg": qr,
        "embed": snippet,
    }


@router.post("/surveys-load")
def load_answers(caller: Editor, request: Request) -> dict[str, Any]:
    """Load answers waiting in the survey ledger into the event store (503 when busy)."""
    report = workspace_of(request).flush_survey_answers()
    accounts_of(request).audit(caller.user.name, "survey.load", None, str(report.answers))
    return {
        "answers": report.answers,
        "batches": [b.batch_id for b in report.batches],
        "joined": report.attached,
    }
