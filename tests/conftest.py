from __future__ import annotations

from pathlib import Path

import pytest

from journeylens.workspace import Workspace

EXAMPLE = Path(__file__).parents[1] / "src/journeylens/examples/running-shoes"


@pytest.fixture
def example(tmp_path: Path) -> Workspace:
    """A fresh copy of the bundled running-shoes workspace."""
    return Workspace.init(tmp_path / "running-shoes", example="running-shoes")


@pytest.fixture(scope="module")
def rasterizer():  # type: ignore[no-untyped-def]
    """One real Chromium per test module. Missing Chromium is a failure, not a skip:
    `make test` installs it, and PNG/PDF output is a feature we ship. Not per session: a live
    sync Playwright keeps its event loop on the main thread, and the browser tests of the web
    app start their own."""
    from journeylens.render.raster import Rasterizer

    with Rasterizer() as raster:
        yield raster


# -- engines -------------------------------------------------------------------------------
# Every analysis test runs on DuckDB and on Spark local mode, and the results must be equal.


@pytest.fixture(scope="session")
def spark_engine():  # type: ignore[no-untyped-def]
    """One Spark local session for the whole run (it takes ~10 s to start)."""
    from journeylens.engine import spark_engine as start

    return start("local[2]", driver_memory="2g", shuffle_partitions=2)


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The analysis engines, each test once per backend."""
    from journeylens.engine import duckdb_engine

    if request.param == "spark":
        yield request.getfixturevalue("spark_engine")
        return
    eng = duckdb_engine()
    yield eng
    eng.close()
