"""A demo workspace with data and one user per role, and an in-process client of its web app.

Building the workspace (demo data loaded and stitched) takes a few seconds: test modules build
it once (module-scoped fixtures call :func:`build_site`) and keep their edits to maps they own.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from journeylens.web.accounts import Role
from journeylens.web.app import create_app, open_accounts
from journeylens.workspace import Workspace

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its test client; httpx (installed) still works.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

__all__ = ["PASSWORDS", "ROLE_USERS", "Site", "TestClient", "build_site", "signed_in"]

ROLE_USERS: dict[Role, str] = {"viewer": "vera", "editor": "eddie", "admin": "ada"}
PASSWORDS: dict[str, str] = {
    "vera": "viewer-Secret-4821",
    "eddie": "editor-Secret-9377",
    "ada": "admin-Secret-1664",
}
DEMO_EVENTS = 4_000
DEMO_SEED = 5


@dataclass
class Site:
    """A workspace, its app, and a Bearer token per role."""

    workspace: Workspace
    app: FastAPI
    tokens: dict[Role, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.workspace.root

    def client(self, **options: Any) -> TestClient:
        """A new client (its own cookie jar); not raising on server errors, so that tests see
        the 500 a bug gives rather than the exception."""
        options.setdefault("raise_server_exceptions", False)
        return TestClient(self.app, **options)

    def bearer(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def build_site(root: Path, *, data: bool = True, secure_cookies: bool = False) -> Site:
    """The running-shoes example at ``root`` (with demo data loaded and stitched when
    ``data``), a viewer, an editor and an admin, and an API token for each."""
    workspace = Workspace.init(root, example="running-shoes")
    if data:
        workspace.demo_data(events=DEMO_EVENTS, seed=DEMO_SEED, load=True)
        workspace.stitch()
    accounts = open_accounts(root)
    site = Site(workspace, create_app(root, secure_cookies=secure_cookies))
    for role, name in ROLE_USERS.items():
        accounts.add_user(name, PASSWORDS[name], role)
        site.tokens[role] = accounts.create_token(name, f"{role} tests")
    return site


@contextmanager
def signed_in(site: Site, name: str, **options: Any) -> Iterator[tuple[TestClient, str]]:
    """A client signed in by cookie as ``name``, and the session's CSRF token."""
    with site.client(**options) as client:
        response = client.post("/api/login", json={"name": name, "password": PASSWORDS[name]})
        assert response.status_code == 200, response.text
        csrf = response.json()["csrf"]
        assert isinstance(csrf, str) and csrf
        yield client, csrf
