from __future__ import annotations

from pathlib import Path

import pytest

from journeylens.workspace import Workspace

EXAMPLE = Path(__file__).parents[1] / "src/journeylens/examples/running-shoes"


@pytest.fixture
def example(tmp_path: Path) -> Workspace:
    """A fresh copy of the bundled running-shoes workspace."""
    return Workspace.init(tmp_path / "running-shoes", example="running-shoes")


@pytest.fixture(scope="session")
def rasterizer():  # type: ignore[no-untyped-def]
    """One real Chromium for the whole session. Missing Chromium is a failure, not a skip:
    `make test` installs it, and PNG/PDF output is a feature we ship."""
    from journeylens.render.raster import Rasterizer

    with Rasterizer() as raster:
        yield raster
