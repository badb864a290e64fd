"""Who may call what: every route of the app × {anonymous, viewer, editor, admin}.

The routes come from the app itself, so a new endpoint is in the matrix without anyone
remembering to add it. Public routes are found by behaviour (anonymous is not turned away) and
must be exactly the ones listed in ``PUBLIC``. An API route's role comes from its ``require(role)``
dependency; a page, which checks in its handler, must be listed in ``PAGE_ROLES`` (the test
fails for a route whose role it cannot tell). The matrix is printed and written to
``build/authz-matrix.md``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount

from journeylens.web.accounts import RANK, ROLES, Role
from tests.web_fixtures import PASSWORDS, ROLE_USERS, Site, TestClient, build_site

MATRIX_FILE = Path(__file__).parents[1] / "build" / "authz-matrix.md"
Callers = ("anonymous", *ROLES)

#: Public by design: the OpenAPI document, the sign-in endpoint and the sign-in page (the
#: ``/static`` mount is public too and is not a route with methods).
PUBLIC = {
    ("GET", "/openapi.json"),
    ("POST", "/api/login"),
    ("GET", "/login"),
    ("POST", "/login"),
    # The survey response page: its sealed link is the respondent's only credential.
    ("GET", "/s/{token}"),
    ("POST", "/s/{token}"),
}

#: Pages check the role in the handler, not in a dependency: their roles are stated here.
PAGE_ROLES: dict[tuple[str, str], Role] = {
    ("GET", "/"): "viewer",
    ("GET", "/maps/{map_id}"): "viewer",
    ("GET", "/maps/{map_id}/edit"): "editor",
    ("GET", "/analytics"): "viewer",
    ("GET", "/personas"): "viewer",
    ("GET", "/personas/{persona_id}/edit"): "editor",
    ("GET", "/data"): "viewer",
    ("GET", "/admin"): "admin",
    ("POST", "/logout"): "viewer",
    ("GET", "/surveys"): "viewer",
    ("GET", "/surveys/{survey_id}"): "viewer",
    ("GET", "/surveys/{survey_id}/answers.csv"): "viewer",
    ("POST", "/surveys"): "editor",
    ("POST", "/surveys/{survey_id}"): "editor",
    ("POST", "/surveys/{survey_id}/link"): "editor",
    ("POST", "/surveys-load"): "editor",
}

#: Roles that must not drift: whatever the dependencies say must agree with these.
PINNED: dict[tuple[str, str], Role] = {
    ("GET", "/api/maps"): "viewer",
    ("GET", "/api/maps/{map_id}/live"): "viewer",
    ("PUT", "/api/maps/{map_id}"): "editor",
    ("PATCH", "/api/maps/{map_id}/steps/{step_id}"): "editor",
    ("POST", "/api/maps/{map_id}/versions/{version}/restore"): "editor",
    ("POST", "/api/maps/{map_id}/comments"): "editor",
    ("GET", "/api/data/quarantine"): "editor",
    ("GET", "/api/users"): "admin",
    ("POST", "/api/users"): "admin",
    ("PATCH", "/api/users/{name}"): "admin",
    ("GET", "/api/audit"): "admin",
}

MAP = "future-state"
SURVEY = "support-call"
TARGET_USER = "target"  # the user whose role the matrix changes (to the role it has)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    route: BaseRoute

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


def endpoints(app: Any) -> list[Endpoint]:
    """Every (method, path) the app serves, with included routers flattened."""
    try:  # FastAPI >= 0.13x keeps included routers as such; this walks them
        from fastapi.routing import iter_route_contexts

        routes: list[Any] = list(iter_route_contexts(app.routes))
    except ImportError:  # pragma: no cover - older FastAPI flattens app.routes itself
        routes = list(app.routes)
    found = []
    for route in routes:
        original = getattr(route, "original_route", route)
        if isinstance(original, Mount):
            continue
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                found.append(Endpoint(method, str(route.path), original))
    return found


def _mounts(app: Any) -> set[str]:
    return {r.path for r in app.routes if isinstance(r, Mount)}


def required_by_dependency(route: BaseRoute) -> Role | None:
    """The role of the ``require(role)`` dependency among the route's dependencies."""
    if not isinstance(route, APIRoute):
        return None
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        call = dependant.call
        if (
            call is not None
            and getattr(call, "__module__", "") == "journeylens.web.security"
            and getattr(call, "__qualname__", "").startswith("require.")
        ):
            role: Role = inspect.getclosurevars(call).nonlocals["role"]
            return role
        pending.extend(dependant.dependencies)
    return None


# -- requests that do something real ------------------------------------------------------------
@dataclass
class Context:
    site: Site
    step: str
    counter: list[int] = field(default_factory=lambda: [0])

    def fresh(self) -> int:
        self.counter[0] += 1
        return self.counter[0]


PATH_VALUES: dict[str, Callable[[Context], str]] = {
    "map_id": lambda c: MAP,
    "step_id": lambda c: c.step,
    "version": lambda c: "1",
    "name": lambda c: TARGET_USER,
    "fmt": lambda c: "svg",
    "persona_id": lambda c: "p-ana",
    "survey_id": lambda c: SURVEY,
    "token_id": lambda c: _target_token(c),
    "token": lambda c: c.site.workspace.survey_invitation(
        SURVEY, f"email:matrix{c.fresh()}@example.com"
    )[0],
}

#: Bodies (and query strings) that make an allowed call succeed; other routes get none.
BODIES: dict[tuple[str, str], Callable[[Context], dict[str, Any]]] = {
    # Real credentials: a failed sign-in would count towards the test client's lock-out.
    ("POST", "/api/login"): lambda c: {"json": {"name": "vera", "password": PASSWORDS["vera"]}},
    ("POST", "/login"): lambda c: {
        "data": {"name": "vera", "password": PASSWORDS["vera"], "next": "/"}
    },
    ("POST", "/api/logout"): lambda c: {},
    ("PUT", "/api/maps/{map_id}"): lambda c: {
        "json": {"yaml": c.site.workspace.map_text(MAP)[1], "message": "matrix"}
    },
    ("PATCH", "/api/maps/{map_id}/steps/{step_id}"): lambda c: {
        "json": {"thoughts": [f"matrix {c.fresh()}"]}
    },
    ("POST", "/api/maps/{map_id}/comments"): lambda c: {"json": {"step": c.step, "text": "ok"}},
    ("POST", "/api/selectors/check"): lambda c: {"json": {"selector": 'activity == "x"'}},
    ("POST", "/api/users"): lambda c: {
        "json": {"name": f"matrix{c.fresh()}", "password": "Matrix-Passphrase-42", "role": "viewer"}
    },
    ("PATCH", "/api/users/{name}"): lambda c: {"json": {"role": "viewer"}},
    ("POST", "/api/tokens"): lambda c: {"json": {"label": "matrix"}},
    ("POST", "/api/maps/{map_id}/steps"): lambda c: {
        "json": {"id": f"matrix-step-{c.fresh()}", "action": "Added by the matrix", "after": c.step}
    },
    ("POST", "/api/maps/{map_id}/steps/{step_id}/move"): lambda c: {"json": {"direction": "later"}},
    ("GET", "/api/analytics/conformance"): lambda c: {"params": {"map": MAP}},
    ("PUT", "/api/surveys/{survey_id}"): lambda c: {
        "json": {"yaml": c.site.workspace.survey_text(SURVEY)[1]}
    },
    ("POST", "/api/surveys"): lambda c: {"json": {"yaml": _new_survey(c)}},
    ("POST", "/api/surveys/{survey_id}/links"): lambda c: {
        "json": {"identifier": f"email:link{c.fresh()}@example.com"}
    },
    ("POST", "/s/{token}"): lambda c: {"data": {"csat": "4"}},
    ("POST", "/surveys"): lambda c: {"data": {"text": _new_survey(c)}},
    ("POST", "/surveys/{survey_id}"): lambda c: {
        "data": {"text": c.site.workspace.survey_text(SURVEY)[1]}
    },
    ("POST", "/surveys/{survey_id}/link"): lambda c: {
        "data": {"identifier": f"email:page{c.fresh()}@example.com"}
    },
}


def _target_token(c: Context) -> str:
    """A fresh token of the target user: only an admin may revoke it (others get 404)."""
    from journeylens.web.app import open_accounts

    accounts = open_accounts(c.site.root)
    accounts.create_token(TARGET_USER, f"matrix {c.fresh()}")
    return accounts.tokens(TARGET_USER)[0].id


def _new_survey(c: Context) -> str:
    return f"id: matrix-{c.fresh()}\nname: Matrix\nquestions: [{{id: q, kind: nps, text: Q}}]\n"


def _order(endpoint: Endpoint) -> tuple[int, str, str]:
    """Reads first, then changes, then deletions and sign-outs (they undo things)."""
    last = endpoint.method == "DELETE" or endpoint.path.endswith("/logout")
    rank = 2 if last else 0 if endpoint.method == "GET" else 1
    return (rank, endpoint.path, endpoint.method)


@dataclass
class Cell:
    status: int
    location: str = ""

    def refused_anonymous(self, api: bool) -> bool:
        if api:
            return self.status == 401
        return self.status in (401, 403) or (
            self.status in (302, 303, 307) and self.location.startswith("/login")
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    built = build_site(tmp_path_factory.mktemp("authz") / "shoes")
    from journeylens.web.app import open_accounts

    open_accounts(built.root).add_user(TARGET_USER, "Moving-Roles-Around-17", "viewer")
    return built


@pytest.fixture(scope="module")
def context(site: Site) -> Context:
    step = next(iter(site.workspace.map(MAP).steps()))[1].id
    with site.client() as client:  # a version 1 and 2 to read and restore
        edited = client.patch(
            f"/api/maps/{MAP}/steps/{step}",
            json={"thoughts": ["first"]},
            headers=site.bearer("editor"),
        )
        assert edited.status_code == 200, edited.text
    return Context(site, step)


@pytest.fixture(scope="module")
def sessions(site: Site) -> Iterator[dict[Role, tuple[TestClient, str]]]:
    """A cookie session per role (pages are used by browsers)."""
    opened: dict[Role, tuple[TestClient, str]] = {}
    for role, name in ROLE_USERS.items():
        client = site.client(follow_redirects=False)
        client.__enter__()
        response = client.post("/api/login", json={"name": name, "password": PASSWORDS[name]})
        assert response.status_code == 200
        opened[role] = (client, response.json()["csrf"])
    yield opened
    for client, _ in opened.values():
        client.__exit__(None, None, None)


def _call(
    site: Site,
    context: Context,
    endpoint: Endpoint,
    caller: str,
    sessions: dict[Role, tuple[TestClient, str]],
) -> Cell:
    path = endpoint.path
    for name in sorted(set(_path_names(path))):
        assert name in PATH_VALUES, f"{endpoint.key}: no value for path parameter {name!r}"
        path = path.replace("{" + name + "}", PATH_VALUES[name](context))
    make = BODIES.get(endpoint.key)
    options: dict[str, Any] = make(context) if make else {}
    if caller == "anonymous":
        with site.client(follow_redirects=False) as client:
            response = client.request(endpoint.method, path, **options)
    elif endpoint.is_api:
        role: Role = caller  # type: ignore[assignment]
        with site.client(follow_redirects=False) as client:
            response = client.request(
                endpoint.method,
                path,
                headers={**site.bearer(role), **options.pop("headers", {})},
                **options,
            )
    else:  # a page, with the browser's session cookie (and the CSRF field on forms)
        role = caller  # type: ignore[assignment]
        client, csrf = sessions[role]
        if endpoint.method != "GET":
            options["data"] = {"csrf_token": csrf, **options.get("data", {})}
        if endpoint.path.endswith("/logout"):  # sign out a session of its own
            fresh = site.client(follow_redirects=False)
            with fresh:
                name = ROLE_USERS[role]
                signed = fresh.post("/api/login", json={"name": name, "password": PASSWORDS[name]})
                options["data"] = {"csrf_token": signed.json()["csrf"]}
                response = fresh.request(endpoint.method, path, **options)
                assert fresh.get("/api/me").status_code == 401, "the session outlived sign-out"
            return Cell(response.status_code, response.headers.get("location", ""))
        if endpoint.key == ("POST", "/login"):  # signing in again would replace the session
            with site.client(follow_redirects=False) as fresh:
                response = fresh.request(endpoint.method, path, **options)
            return Cell(response.status_code, response.headers.get("location", ""))
        response = client.request(endpoint.method, path, **options)
    return Cell(response.status_code, response.headers.get("location", ""))


def _path_names(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


def _table(rows: list[tuple[Endpoint, str, dict[str, Cell]]]) -> str:
    lines = [
        "| method | path | needs | anonymous | viewer | editor | admin |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for endpoint, needs, cells in sorted(rows, key=lambda r: (r[0].path, r[0].method)):
        shown = []
        for caller in Callers:
            cell = cells[caller]
            allowed = needs == "public" or (caller != "anonymous" and RANK[caller] >= RANK[needs])  # type: ignore[index]
            mark = "allowed" if allowed else "refused"
            where = f" → {cell.location.split('?')[0]}" if cell.location else ""
            shown.append(f"{cell.status}{where} ({mark})")
        lines.append(
            f"| {endpoint.method} | `{endpoint.path}` | {needs} | " + " | ".join(shown) + " |"
        )
    return "\n".join(lines) + "\n"


# -- the tests ----------------------------------------------------------------------------------
def test_every_route_is_enumerated(site: Site) -> None:
    found = {e.key for e in endpoints(site.app)}
    # The enumeration sees the API and the pages, not just the first router.
    assert ("GET", "/api/maps") in found and ("GET", "/openapi.json") in found
    assert {key for key in PINNED if key not in found} == set()
    assert {key for key in PAGE_ROLES if key not in found} == set()
    assert "/static" in _mounts(site.app)


def test_roles_of_api_routes_come_from_their_dependencies(site: Site) -> None:
    unknown = []
    for endpoint in endpoints(site.app):
        role = required_by_dependency(endpoint.route)
        if endpoint.key in PINNED:
            assert role == PINNED[endpoint.key], endpoint.key
        if endpoint.is_api and role is None and endpoint.key not in PUBLIC:
            unknown.append(endpoint.key)
        if endpoint.key in PAGE_ROLES:
            assert role is None or role == PAGE_ROLES[endpoint.key], endpoint.key
    assert unknown == [], "API routes without a require(role) dependency"


def test_authorization_matrix(
    site: Site,
    context: Context,
    sessions: dict[Role, tuple[TestClient, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows: list[tuple[Endpoint, str, dict[str, Cell]]] = []
    problems: list[str] = []
    public_seen: set[tuple[str, str]] = set()
    for endpoint in sorted(endpoints(site.app), key=_order):
        needs: str | None
        if endpoint.key in PUBLIC:
            needs = "public"
        else:
            needs = required_by_dependency(endpoint.route) or PAGE_ROLES.get(endpoint.key)
        if needs is None:
            problems.append(
                f"{endpoint.method} {endpoint.path}: no require(role) dependency and not in "
                "PAGE_ROLES or PUBLIC: say which role it needs"
            )
            continue
        cells = {
            caller: _call(site, context, endpoint, caller, sessions)
            for caller in ("anonymous", *ROLES)
        }
        rows.append((endpoint, needs, cells))
        anonymous = cells["anonymous"]
        if not anonymous.refused_anonymous(endpoint.is_api):
            public_seen.add(endpoint.key)
        for caller, cell in cells.items():
            where = f"{caller} {endpoint.method} {endpoint.path} → {cell.status}"
            if cell.status >= 500:
                problems.append(f"{where}: server error")
            if needs == "public" or caller == "anonymous":
                continue
            allowed = RANK[caller] >= RANK[needs]  # type: ignore[index]
            if allowed and cell.status in (401, 403):
                problems.append(f"{where}: refused, but {caller} ≥ {needs}")
            if not allowed and cell.status != 403:
                problems.append(f"{where}: expected 403 ({caller} < {needs})")
    table = _table(rows)
    MATRIX_FILE.parent.mkdir(parents=True, exist_ok=True)
    MATRIX_FILE.write_text(
        "# Authorization matrix\n\nStatus per caller; *needs* is the least role a route "
        "requires. API calls use Bearer tokens, pages the session cookie (with the CSRF "
        "field on forms).\n\n" + table,
        encoding="utf-8",
    )
    with capsys.disabled():
        print("\n" + table)
    assert problems == [], "\n".join(problems)
    # Anonymous gets in exactly where it should, and everywhere else it is refused.
    assert public_seen == {key for key in PUBLIC if key in {e.key for e in endpoints(site.app)}}
    assert {("GET", "/openapi.json"), ("POST", "/api/login")} <= public_seen


def test_public_routes_work_anonymously(site: Site) -> None:
    with site.client(follow_redirects=False) as client:
        assert client.get("/openapi.json").status_code == 200
        signed = client.post("/api/login", json={"name": "vera", "password": PASSWORDS["vera"]})
        assert signed.status_code == 200
    routes = {e.key for e in endpoints(site.app)}
    if ("GET", "/login") in routes:
        with site.client(follow_redirects=False) as client:
            assert client.get("/login").status_code == 200


def test_anonymous_api_refusals_say_how_to_authenticate(site: Site, context: Context) -> None:
    with site.client(follow_redirects=False) as client:
        for endpoint in endpoints(site.app):
            if endpoint.is_api and endpoint.key not in PUBLIC:
                path = endpoint.path
                for name in _path_names(path):
                    path = path.replace("{" + name + "}", PATH_VALUES[name](context))
                response = client.request(endpoint.method, path)
                assert response.status_code == 401, endpoint.key
                assert response.headers["www-authenticate"].startswith("Bearer"), endpoint.key
