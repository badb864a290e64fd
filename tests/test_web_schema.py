"""The API against its own OpenAPI document (schemathesis, in-process over ASGI), as an admin
with a Bearer token: no server errors, and responses as the document describes them.

Reads run against the demo workspace; changes against a throwaway copy of it. Both are bounded
(derandomized): ten examples per read, five per change (a change can take a second or two here;
five reach every success path that ten do). Map ids are fixed to a real map so that the success
paths run, not only the 404s; other parameters are generated.
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from journeylens.web.app import create_app
from tests.web_fixtures import Site, build_site

REAL_MAP = "current-state"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: Routers whose error responses are not in the OpenAPI document yet (404, 409, and 422 with a
#: text ``detail`` where FastAPI documents a list): only "no server error" is checked there.
#: Their fix is ``responses=api._problems(...)`` as in ``api.py``; then drop them from here.
PENDING_DOCUMENTATION = {"journeylens.web.api_analytics", "journeylens.web.api_edit"}
BOUNDED = settings(
    max_examples=10,
    deadline=None,
    database=None,
    derandomize=True,  # the same examples every run: a failure is reproducible
    suppress_health_check=list(HealthCheck),
)
#: Changes are the slow requests: half as many examples, every operation still exercised.
BOUNDED_CHANGES = settings(BOUNDED, max_examples=5)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return build_site(tmp_path_factory.mktemp("schema") / "shoes")


@pytest.fixture(scope="module")
def reads(site: Site) -> OpenApiSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", site.app)


@pytest.fixture(scope="module")
def throwaway(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A copy of the workspace (store and accounts included) for generated changes."""
    root = tmp_path_factory.mktemp("schema-copy") / "shoes"
    shutil.copytree(site.root, root)
    return Site(type(site.workspace).open(root), create_app(root), dict(site.tokens))


@pytest.fixture(scope="module")
def changes(throwaway: Site) -> OpenApiSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", throwaway.app)


def _summary(error: BaseException) -> str:
    """The failed checks and the request that showed them."""
    found = [str(error).strip()]
    for inner in getattr(error, "exceptions", ()):
        found.append(f"  {type(inner).__name__}: {str(inner).strip()[:600]}")
    return "\n".join(found)


def _runner(cases: Any, site: Site, checks: list[Any], bounds: settings) -> Any:
    @given(case=cases)
    @bounds
    def run(case: Case[Any]) -> None:
        response = case.call(headers=site.bearer("admin"))
        case.validate_response(response, checks=checks)

    return run


def _exercise(
    schema: OpenApiSchema, site: Site, methods: set[str], bounds: settings = BOUNDED
) -> list[str]:
    """Run each operation of these methods on a few generated cases; the failures found.

    (Driven by hand rather than with ``schemathesis.pytest.from_fixture``, whose lazy loader
    does not run under pytest 9.)"""
    from tests.test_web_authz import endpoints

    modules = {
        e.key: getattr(getattr(e.route, "endpoint", None), "__module__", None)
        for e in endpoints(site.app)
    }
    failures: list[str] = []
    ran = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"the document has an invalid operation: {result.err()}")
            continue
        operation = result.ok()
        method = operation.method.upper()
        if method not in methods or operation.path == "/api/login":
            continue  # failed sign-ins would lock the test client out
        fixed = {"map_id": REAL_MAP} if "{map_id}" in operation.path else {}
        module = modules.get((method, operation.path))
        checks = [not_a_server_error] if module in PENDING_DOCUMENTATION else CHECKS

        try:
            cases = operation.as_strategy(path_parameters=fixed or None)
            _runner(cases, site, checks, bounds)()
        except (Exception, BaseExceptionGroup) as error:  # go on with the other operations
            failures.append(f"{method} {operation.path}: {_summary(error)}")
        ran += 1
    assert ran >= 5, "no operations were exercised"
    return failures


def test_reads_conform_to_the_schema(reads: OpenApiSchema, site: Site) -> None:
    failures = _exercise(reads, site, {"GET"})
    assert not failures, "\n\n".join(failures)


def test_changes_conform_to_the_schema(changes: OpenApiSchema, throwaway: Site) -> None:
    unsafe = {"POST", "PUT", "PATCH", "DELETE"}
    failures = _exercise(changes, throwaway, unsafe, BOUNDED_CHANGES)
    assert not failures, "\n\n".join(failures)


def test_the_document_covers_the_api(reads: OpenApiSchema, site: Site) -> None:
    """Every /api route is in the OpenAPI document, with its error responses."""
    from tests.test_web_authz import endpoints

    documented = {
        (method.upper(), path)
        for path, item in reads.raw_schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    served = {e.key for e in endpoints(site.app) if e.is_api}
    assert served and served <= documented
    # Errors are documented, so clients (and the checks above) know them.
    live = reads.raw_schema["paths"]["/api/maps/{map_id}/live"]["get"]["responses"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(live)
