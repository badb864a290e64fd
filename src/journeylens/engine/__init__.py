"""The analytics engine: the one package that runs queries over events (Ibis on DuckDB or Spark).

Analyses build Ibis expressions against :class:`Journeys`; the engine compiles and runs them on
the chosen backend and hands back Arrow tables of aggregates.
"""

from __future__ import annotations

from journeylens.engine.backends import (
    ENGINES,
    Capability,
    Engine,
    EngineError,
    EngineName,
    duckdb_engine,
    open_engine,
    spark_engine,
)
from journeylens.engine.journeys import (
    JOURNEY_COLUMNS,
    EventColumns,
    Journeys,
    open_prepared,
    ordered_events,
    prepare,
)
from journeylens.engine.selectors import compile_selector, compile_text

__all__ = [
    "ENGINES",
    "JOURNEY_COLUMNS",
    "Capability",
    "Engine",
    "EngineError",
    "EngineName",
    "EventColumns",
    "Journeys",
    "compile_selector",
    "compile_text",
    "duckdb_engine",
    "open_engine",
    "open_prepared",
    "ordered_events",
    "prepare",
    "spark_engine",
]
