"""Downloading the store's events as XES or OCEL 2.0 JSON (``/api/data/export/...``).

Editors only: the file is raw customer data, one trace or object per customer. The export is
written to a temporary file first (it streams from the store, so memory stays flat) and sent
from there; the file is removed once sent. Exports run one at a time, as they read the whole
store, and each is written to the audit log.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from journeylens.errors import JourneylensError, StoreBusyError
from journeylens.web.api import Problem, _problems, workspace_of
from journeylens.web.live_cache import NoData
from journeylens.web.security import Editor, accounts_of

router = APIRouter(prefix="/api", tags=["data"], responses=_problems(401, 403, 422))

#: The file name and media type of each format, plain and gzip-compressed.
FILES: dict[str, tuple[str, str]] = {
    "xes": ("journeylens-events.xes", "application/xml"),
    "ocel": ("journeylens-events.jsonocel", "application/json"),
}
GZIP = "application/gzip"
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The events as a file download (XES or OCEL 2.0 JSON, gzip if asked)",
        "content": {media: {} for media in (*(m for _, m in FILES.values()), GZIP)},
    },
    **_problems(409),
    503: {"model": Problem, "description": "The store is being written to: try again shortly"},
}

_exporting = threading.Lock()


@router.get("/data/export/{fmt}", response_class=FileResponse, responses=_RESPONSES)
def export_events(
    fmt: Literal["xes", "ocel"],
    caller: Editor,
    request: Request,
    gzip: Annotated[bool, Query(description="Compress the file with gzip")] = False,
    limit_customers: Annotated[
        int | None, Query(ge=1, description="Only the first N customers by key (a sample)")
    ] = None,
) -> FileResponse:
    """The stitched events, one trace (XES) or customer object (OCEL) per customer, in time
    order: for process-mining tools. Raw customer data: editors only, and audited."""
    workspace = workspace_of(request)
    if workspace.data_generation() is None:
        raise NoData("no data loaded yet: nothing to export")
    name, media = FILES[fmt]
    if gzip:
        name, media = f"{name}.gz", GZIP
    folder = Path(tempfile.mkdtemp(prefix="journeylens-export-"))
    try:
        with _exporting:
            count = workspace.export_events(folder / name, fmt, limit_customers=limit_customers)
    except BaseException as error:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(error, JourneylensError) and not isinstance(error, StoreBusyError):
            raise HTTPException(409, str(error)) from None  # nothing stitched yet, say
        raise
    accounts_of(request).audit(caller.user.name, "export-events", fmt, f"{count} events")
    return FileResponse(
        folder / name,
        media_type=media,
        filename=name,
        headers={"Cache-Control": "no-store"},
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
