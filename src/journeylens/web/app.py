"""The web application: one FastAPI app over one workspace (``journeylens serve``).

Pages and the JSON API share the workspace façade, the accounts database and the live-result
cache. Everything the pages need is served from the package (no CDN, works offline), and every
response carries headers that keep the browser strict: a Content-Security-Policy without
inline scripts, no framing, no MIME sniffing, no referrer leaks.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from journeylens._version import __version__
from journeylens.errors import JourneylensError, StoreBusyError, ValidationError
from journeylens.web import (
    api,
    api_analytics,
    api_edit,
    api_export,
    api_personas,
    api_surveys,
    pages,
    survey_pages,
)
from journeylens.web.accounts import Accounts
from journeylens.web.live_cache import LiveCache, NoData
from journeylens.workspace import Workspace

ACCOUNTS_FILE = "web.sqlite"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)


class _SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        if not request.url.path.startswith("/s/"):  # survey pages may be embedded
            response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def accounts_path(root: Path) -> Path:
    return Workspace.open(root).state_dir / ACCOUNTS_FILE


def open_accounts(root: Path) -> Accounts:
    return Accounts(accounts_path(root))


def create_app(root: Path | str, *, secure_cookies: bool = False) -> FastAPI:
    """The app for the workspace at ``root``; ``secure_cookies`` when served behind TLS."""
    workspace = Workspace.open(root)
    app = FastAPI(
        title="journeylens",
        version=__version__,
        description="Customer journey maps kept live from omnichannel data.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.workspace = workspace
    app.state.accounts = open_accounts(workspace.root)
    app.state.live_cache = LiveCache(workspace)
    app.state.secure_cookies = secure_cookies
    app.state.survey_limit = survey_pages.RateLimit()
    app.add_middleware(_SecurityHeaders)
    app.include_router(api.router)
    app.include_router(api_edit.router)
    app.include_router(api_analytics.router)
    app.include_router(api_export.router)
    app.include_router(api_personas.router)
    app.include_router(api_surveys.router)
    app.include_router(pages.router)
    app.include_router(survey_pages.router)
    static = resources.files("journeylens.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.exception_handler(NoData)
    async def _no_data(request: Request, error: NoData) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=409)

    @app.exception_handler(ValidationError)
    async def _invalid(request: Request, error: ValidationError) -> JSONResponse:
        issues = [
            {"line": i.line, "column": i.column, "path": i.path, "message": i.message}
            for i in error.issues
        ]
        return JSONResponse({"detail": "invalid", "issues": issues}, status_code=422)

    @app.exception_handler(StoreBusyError)
    async def _busy(request: Request, error: StoreBusyError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": "10"})

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, error: RequestValidationError) -> Response:
        # ASCII-escaped JSON: an input with a lone surrogate is echoed back, not a 500.
        body = json.dumps({"detail": jsonable_encoder(error.errors())}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    @app.exception_handler(JourneylensError)
    async def _refused(request: Request, error: JourneylensError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=422)

    return app
