"""Read-only analyses for the web app's analytics page (``/api/analyses/...``).

Each route builds the analysis's spec from query parameters and runs it through the workspace
façade (``Workspace.analyze``), on the store as it is now; the result is the analysis's own
``to_dict()``. The process map is also drawn as SVG by the façade (``draw_process_map``).
Analyses run one at a time: the machine's cores are shared with the live maps.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from journeylens.analyses.common import parse_duration
from journeylens.analyses.conformance import ConformanceSpec
from journeylens.analyses.dfg import DfgSpec
from journeylens.analyses.drivers import DriversSpec
from journeylens.analyses.funnel import FunnelSpec, FunnelStep
from journeylens.analyses.paths import PathsSpec
from journeylens.analyses.registry import ANALYSES
from journeylens.analyses.retention import RetentionSpec
from journeylens.analyses.segments import SegmentsSpec
from journeylens.analyses.variants import VariantsSpec
from journeylens.errors import JourneylensError, SelectorError
from journeylens.model.journey_map import JourneyMap
from journeylens.model.selector import parse_selector
from journeylens.web.api import _media, _problems, workspace_of
from journeylens.web.live_cache import NoData
from journeylens.web.security import Viewer
from journeylens.workspace import Workspace

router = APIRouter(prefix="/api/analyses", tags=["analyses"])

_running = threading.Lock()

Selector = Annotated[str, Query(min_length=1, max_length=2000)]


def _selector(name: str, text: str | None) -> str | None:
    if not text:
        return None
    try:
        parse_selector(text)
    except SelectorError as error:
        raise HTTPException(422, f"{name}: {error}") from None
    return text


def _duration(name: str, text: str | None) -> float | None:
    if not text:
        return None
    try:
        return parse_duration(text)
    except (JourneylensError, ValueError) as error:
        raise HTTPException(422, f"{name}: {error}") from None


def _run(request: Request, name: str, spec: Any) -> dict[str, Any]:
    workspace = workspace_of(request)
    if workspace.data_generation() is None:
        raise NoData("no data loaded yet: nothing to analyse")
    with _running:
        result = workspace.analyze(name, spec)
    answer: dict[str, Any] = result.to_dict()
    return answer


def _map(workspace: Workspace, map_id: str) -> JourneyMap:
    try:
        return workspace.map(map_id)
    except JourneylensError as error:
        raise HTTPException(404, str(error)) from None


@router.get("")
def list_analyses(caller: Viewer) -> list[dict[str, str]]:
    """The analyses this API runs, with what each tells."""
    served = (
        "dfg",
        "variants",
        "paths",
        "funnel",
        "retention",
        "segments",
        "drivers",
        "conformance",
    )
    return [{"name": n, "summary": ANALYSES[n].summary} for n in served]


@router.get("/dfg")
def dfg(
    caller: Viewer,
    request: Request,
    top: Annotated[int | None, Query(ge=1, le=500)] = 25,
    min_count: Annotated[int, Query(ge=1)] = 1,
    gap: Annotated[str | None, Query(max_length=20)] = None,
) -> dict[str, Any]:
    """The process map: directly-follows edges with customers and durations."""
    spec = DfgSpec(gap=_duration("gap", gap), min_count=min_count, top=top)
    return _run(request, "dfg", spec)


@router.get("/dfg/svg", response_class=Response)
def dfg_svg(
    caller: Viewer,
    request: Request,
    top: Annotated[int | None, Query(ge=1, le=500)] = 25,
    min_count: Annotated[int, Query(ge=1)] = 1,
    metric: Literal["count", "customers", "median"] = "count",
    lang: Annotated[str, Query(pattern=r"^[a-z]{2}$")] = "en",
) -> Response:
    """The process map drawn as SVG (Graphviz layout)."""
    workspace = workspace_of(request)
    if workspace.data_generation() is None:
        raise NoData("no data loaded yet: nothing to draw")
    spec = DfgSpec(min_count=min_count, top=top)
    with _running:
        result = workspace.analyze("dfg", spec)
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "process-map.svg"
            workspace.draw_process_map(result, target, metric=metric, language=lang)
            svg = target.read_text(encoding="utf-8")
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/variants")
def variants(
    caller: Viewer, request: Request, top: Annotated[int, Query(ge=1, le=200)] = 10
) -> dict[str, Any]:
    """The most common journeys (activity sequences), with coverage."""
    return _run(request, "variants", VariantsSpec(top=top))


@router.get("/funnel")
def funnel(
    caller: Viewer,
    request: Request,
    step: Annotated[list[str], Query(min_length=1, max_length=20)],
    window: Annotated[str, Query(max_length=20)] = "30d",
    order: Literal["ordered", "strict", "any_order"] = "ordered",
) -> dict[str, Any]:
    """Conversion through the steps (selectors, in order)."""
    chosen = []
    for index, text in enumerate(step):
        checked = _selector(f"step {index + 1}", text.strip())
        if checked is None:
            raise HTTPException(422, f"step {index + 1}: empty selector")
        chosen.append(FunnelStep(match=checked))
    _duration("window", window)
    spec = FunnelSpec(steps=tuple(chosen), window=window, order=order)
    return _run(request, "funnel", spec)


@router.get("/retention")
def retention(
    caller: Viewer,
    request: Request,
    start: Selector,
    returning: Annotated[str | None, Query(max_length=2000)] = None,
    period: Literal["day", "week", "month"] = "month",
    periods: Annotated[int, Query(ge=1, le=52)] = 8,
    inactive: Annotated[str | None, Query(max_length=20)] = "90d",
) -> dict[str, Any]:
    """Cohorts by the period of their start event, and who comes back."""
    spec = RetentionSpec(
        start=_selector("start", start) or start,
        returning=_selector("returning", returning),
        period=period,
        periods=periods,
        inactive=_duration("inactive", inactive),
    )
    return _run(request, "retention", spec)


@router.get("/segments")
def segments(
    caller: Viewer,
    request: Request,
    map: Annotated[str, Query(max_length=200)],
    k: Annotated[int | None, Query(ge=2, le=12)] = None,
) -> dict[str, Any]:
    """Customers clustered by journey, described in plain words."""
    workspace = workspace_of(request)
    spec = SegmentsSpec(
        journey_map=_map(workspace, map), k=k, contact_channels=workspace.contact_channels()
    )
    return _run(request, "segments", spec)


@router.get("/drivers")
def drivers(
    caller: Viewer,
    request: Request,
    map: Annotated[str, Query(max_length=200)],
    target: Literal["converted", "churned"] = "converted",
) -> dict[str, Any]:
    """What raises or lowers conversion (or churn), as odds ratios with intervals."""
    workspace = workspace_of(request)
    spec = DriversSpec(
        journey_map=_map(workspace, map),
        target=target,
        contact_channels=workspace.contact_channels(),
    )
    return _run(request, "drivers", spec)


@router.get("/conformance")
def conformance(
    caller: Viewer, request: Request, map: Annotated[str, Query(max_length=200)]
) -> dict[str, Any]:
    """Real journeys against the map's designed path."""
    workspace = workspace_of(request)
    _map(workspace, map)
    spec: ConformanceSpec = workspace.conformance_spec(map)
    return _run(request, "conformance", spec)


PathsDirection = Literal["after", "before"]
PathsField = Literal["activity", "touchpoint", "channel", "device"]
_PATHS_ERRORS = _problems(401, 403, 409, 422)


def _paths_spec(
    anchor: str, direction: PathsDirection, steps: int, top: int, field: PathsField
) -> PathsSpec:
    checked = _selector("anchor", anchor.strip())
    if checked is None:
        raise HTTPException(422, "anchor: empty selector")
    return PathsSpec(anchor=checked, steps=steps, direction=direction, top=top, field=field)


@router.get("/paths", responses=_PATHS_ERRORS)
def paths(
    caller: Viewer,
    request: Request,
    anchor: Selector,
    direction: PathsDirection = "after",
    steps: Annotated[int, Query(ge=1, le=10)] = 4,
    top: Annotated[int, Query(ge=1, le=20)] = 6,
    field: PathsField = "activity",
) -> dict[str, Any]:
    """Where journeys go after the anchor event (or came from before it): the nodes and links
    of a Sankey diagram, step by step."""
    return _run(request, "paths", _paths_spec(anchor, direction, steps, top, field))


@router.get(
    "/paths/svg",
    response_class=Response,
    responses={**_media("image/svg+xml"), **_PATHS_ERRORS},
)
def paths_svg(
    caller: Viewer,
    request: Request,
    anchor: Selector,
    direction: PathsDirection = "after",
    steps: Annotated[int, Query(ge=1, le=10)] = 4,
    top: Annotated[int, Query(ge=1, le=20)] = 6,
    field: PathsField = "activity",
) -> Response:
    """The paths drawn as a Sankey diagram (SVG)."""
    workspace = workspace_of(request)
    if workspace.data_generation() is None:
        raise NoData("no data loaded yet: nothing to draw")
    spec = _paths_spec(anchor, direction, steps, top, field)
    with _running:
        result = workspace.analyze("paths", spec)
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "paths.svg"
            workspace.draw_paths(result, target)
            svg = target.read_text(encoding="utf-8")
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})
