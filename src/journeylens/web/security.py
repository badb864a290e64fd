"""Who is calling, and may they: sessions, API tokens, roles and CSRF, as FastAPI dependencies.

A browser signs in and gets an HttpOnly, SameSite=Strict session cookie (Secure under TLS); every
state-changing request it sends must carry the session's CSRF token in ``X-CSRF-Token`` (or a
``csrf_token`` form field), so another site cannot make it act. Scripts send
``Authorization: Bearer <token>`` instead; a token is not sent by browsers on their own, so
it needs no CSRF token. Every endpoint declares the role it needs; anonymous API calls get 401,
a role too low gets 403.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from journeylens.web.accounts import Accounts, Role, User

COOKIE = "jl_session"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: the user, and the CSRF token when signed in by cookie."""

    user: User
    csrf: str | None
    by_cookie: bool


def accounts_of(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def identify(request: Request) -> Caller | None:
    """The caller, from a Bearer token or the session cookie; None when anonymous."""
    accounts = accounts_of(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = accounts.token_user(header[7:].strip())
        return None if user is None else Caller(user, None, by_cookie=False)
    session_id = request.cookies.get(COOKIE)
    if session_id:
        session = accounts.session(session_id)
        if session is not None:
            return Caller(session.user, session.csrf, by_cookie=True)
    return None


async def _csrf_ok(request: Request, caller: Caller) -> bool:
    if not caller.by_cookie or request.method not in UNSAFE:
        return True
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if sent is None or caller.csrf is None:
        return False
    # Bytes: ``compare_digest`` refuses str with non-ASCII characters (a 500, not a 403).
    return secrets.compare_digest(
        sent.encode("utf-8", "surrogateescape"), caller.csrf.encode("utf-8")
    )


def form_token_ok(caller: Caller | None, sent: str) -> bool:
    """Whether a page form's ``csrf_token`` field is the caller's session CSRF token."""
    if caller is None or caller.csrf is None:
        return False
    # Bytes (``compare_digest`` refuses non-ASCII str); a form field may hold lone surrogates.
    return secrets.compare_digest(
        sent.encode("utf-8", "surrogatepass"), caller.csrf.encode("utf-8")
    )


def require(role: Role) -> Callable[..., object]:
    """A dependency giving the caller if they have at least ``role`` (401/403 otherwise)."""

    async def dependency(request: Request) -> Caller:
        caller = identify(request)
        if caller is None:
            raise HTTPException(
                401, "sign in first", headers={"WWW-Authenticate": 'Bearer realm="journeylens"'}
            )
        if not await _csrf_ok(request, caller):
            raise HTTPException(403, "missing or wrong CSRF token (X-CSRF-Token)")
        if not caller.user.can(role):
            raise HTTPException(403, f"this needs the {role} role (you are {caller.user.role})")
        return caller

    return dependency


Viewer = Annotated[Caller, Depends(require("viewer"))]
Editor = Annotated[Caller, Depends(require("editor"))]
Admin = Annotated[Caller, Depends(require("admin"))]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
