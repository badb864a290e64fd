"""Analyses over a workspace's store: which engine, which prepared journeys, which analysis.

The workspace façade mixes this in. Prepared journeys live in ``.journeylens/journeys/``, one
per store generation and engine; preparing is the one sort, done once per change of data.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv

from journeylens.analyses.binding import Scope
from journeylens.analyses.conformance import Conformance, ConformanceSpec, conformance
from journeylens.analyses.dfg import ProcessMap
from journeylens.analyses.funnel import FunnelSpec, dropped
from journeylens.analyses.live import DAY, LiveMap, LiveSpec, live_map
from journeylens.analyses.painpoints import Moments, PainPoints, PainSpec, moments_of_truth, rank
from journeylens.analyses.paths import Paths
from journeylens.analyses.registry import analysis
from journeylens.engine import (
    Engine,
    EngineName,
    Journeys,
    compile_text,
    duckdb_engine,
    open_prepared,
    prepare,
    spark_engine,
)
from journeylens.errors import JourneylensError
from journeylens.model.journey_map import JourneyMap
from journeylens.model.workspace import WorkspaceFile
from journeylens.render.drawing import write_drawing
from journeylens.render.process_map import Metric, render_process_map
from journeylens.render.sankey import render_sankey
from journeylens.store import database
from journeylens.store.snapshot import export_events, generation

JOURNEYS_DIR = "journeys"


#: Channel kinds whose events are contacts with the company's support.
CONTACT_KINDS = ("phone", "chat")


class AnalyticsMixin:
    root: Path

    # Provided by the workspace façade.
    def map(self, ref: str) -> JourneyMap:
        raise NotImplementedError

    @property
    def settings(self) -> WorkspaceFile:
        raise NotImplementedError

    def count_matching(self, selector: str) -> tuple[int, int]:
        """Events and customers the selector matches in the store now (for live validation
        while a step's ``match`` is edited)."""
        with self.journeys() as prepared:
            table = prepared.table
            hit = table.filter(compile_text(prepared.engine, table, selector))
            row = prepared.engine.to_arrow(
                hit.aggregate(events=hit.count(), customers=hit.customer_key.nunique())
            ).to_pylist()[0]
        return int(row["events"] or 0), int(row["customers"] or 0)

    def data_generation(self) -> str | None:
        """A key that changes whenever the store's content does (None: no data yet), so
        results computed from the data can be cached until it changes."""
        if not database.store_path(self.root).exists():
            return None
        with database.reader(self.root) as con:
            try:
                return generation(con)
            except JourneylensError:
                return None

    def contact_channels(self) -> tuple[str, ...]:
        """The workspace's contact channels: those of kind phone or chat."""
        return tuple(c.id for c in self.settings.channels if c.kind in CONTACT_KINDS) or (
            "phone",
            "chat",
        )

    def touchpoint_channels(self) -> dict[str, str]:
        """Each touchpoint's channel, as the workspace registry defines it."""
        return {t.id: t.channel for t in self.settings.touchpoints}

    def conformance_spec(
        self, ref: str, *, scope: Scope | None = None, **options: Any
    ) -> ConformanceSpec:
        """Conformance of the map's designed path, with the workspace's channels."""
        return ConformanceSpec(
            self.map(ref),
            scope=scope or Scope(),
            contact_channels=self.contact_channels(),
            touchpoint_channels=self.touchpoint_channels(),
            **options,
        )

    def self_service_steps(self, ref: str) -> tuple[str, ...]:
        """Bound steps on a self-service channel (FAQ, knowledge base): what may deflect."""
        settings = self.settings
        found = []
        for _, step in self.map(ref).steps():
            touchpoint = settings.touchpoint(step.touchpoint) if step.touchpoint else None
            channel_id = step.channel or (touchpoint.channel if touchpoint else None)
            channel = settings.channel(channel_id) if channel_id else None
            if step.match and channel is not None and channel.kind == "self_service":
                found.append(step.id)
        return tuple(found)

    def live_spec(
        self,
        ref: str,
        *,
        scope: Scope | None = None,
        within: float = 7 * DAY,
        long_wait: float = 300.0,
    ) -> LiveSpec:
        """How a map is measured: contacts are events on the workspace's phone and chat
        channels (every such channel declared in ``journeylens.yaml``)."""
        contact_channels = self.contact_channels()
        return LiveSpec(
            self.map(ref),
            scope=scope or Scope(),
            within=within,
            contact_channels=contact_channels,
            long_wait=long_wait,
        )

    def live(
        self, spec: LiveSpec, *, engine: EngineName = "duckdb", **options: Any
    ) -> tuple[LiveMap, PainPoints]:
        """The map measured on the store's journeys, and its pain points ranked."""
        measured, pains, _ = self._live(spec, False, engine, options)
        return measured, pains

    def live_with_conformance(
        self, spec: LiveSpec, *, engine: EngineName = "duckdb", **options: Any
    ) -> tuple[LiveMap, PainPoints, Conformance]:
        """As :meth:`live`, plus how far journeys follow the map's designed path."""
        measured, pains, checked = self._live(spec, True, engine, options)
        assert checked is not None
        return measured, pains, checked

    def _live(
        self, spec: LiveSpec, check: bool, engine: EngineName, options: dict[str, Any]
    ) -> tuple[LiveMap, PainPoints, Conformance | None]:
        with self.journeys(engine, **options) as prepared:
            measured = live_map(prepared, spec)
            checked = None
            if check:
                checked = conformance(
                    prepared,
                    ConformanceSpec(
                        spec.journey_map,
                        scope=spec.scope,
                        contact_channels=spec.contact_channels,
                        touchpoint_channels=self.touchpoint_channels(),
                    ),
                )
        return measured, rank(measured, PainSpec(spec)), checked

    def moments(self, spec: LiveSpec, *, engine: EngineName = "duckdb", **options: Any) -> Moments:
        with self.journeys(engine, **options) as prepared:
            return moments_of_truth(prepared, spec)

    def _journeys_dir(self) -> Path:
        return self.root / database.STORE_DIR / JOURNEYS_DIR

    def _engine(self, name: EngineName, options: dict[str, Any]) -> Engine:
        if name == "duckdb":
            return duckdb_engine(temp_directory=self.root / database.STORE_DIR / "tmp")
        if name == "spark":
            return spark_engine(options.get("master"), remote=options.get("remote"))
        raise JourneylensError(f"unknown engine {name!r}: expected duckdb or spark")

    @contextmanager
    def journeys(self, engine: EngineName = "duckdb", **options: Any) -> Iterator[Journeys]:
        """The ordered journeys of the store's current content, prepared on first use."""
        folder = self._journeys_dir()
        with database.reader(self.root) as con:
            key = generation(con)
            events = folder / f"events-{key}.parquet"
            if engine == "spark" and not events.exists():
                export_events(con, events)
        target = folder / (f"duckdb-{key}.parquet" if engine == "duckdb" else f"spark-{key}")
        eng = self._engine(engine, options)
        try:
            if target.exists():
                prepared = open_prepared(eng, target)
            else:
                partial = target.with_name(target.name + ".partial")
                _remove(partial)
                if engine == "duckdb":
                    eng.con.raw_sql(
                        "ATTACH '"
                        + str(database.store_path(self.root)).replace("'", "''")
                        + "' AS store (READ_ONLY)"
                    )
                    table = eng.con.table("events", database="store")
                else:
                    table = eng.read_parquet(events)
                prepare(eng, table, partial)
                partial.replace(target)
                if engine == "duckdb":
                    eng.con.raw_sql("DETACH store")
                prepared = open_prepared(eng, target)
                _forget_others(folder, keep=key)
            yield prepared
        finally:
            eng.close()

    def draw_process_map(
        self,
        result: ProcessMap,
        output: Path,
        *,
        title: str | None = None,
        metric: Metric = "count",
        language: str = "en",
    ) -> Path:
        """Draw a process map to SVG, PNG or PDF (by the file's suffix)."""
        svg = render_process_map(result, title=title, metric=metric, language=language)
        return write_drawing(svg, output)

    def draw_paths(self, result: Paths, output: Path, *, title: str | None = None) -> Path:
        """Draw paths as a Sankey diagram to SVG, PNG or PDF (by the file's suffix)."""
        return write_drawing(render_sankey(result, title=title), output)

    def export_dropped(
        self,
        spec: FunnelSpec,
        step: int | str,
        output: Path,
        *,
        engine: EngineName = "duckdb",
        **options: Any,
    ) -> int:
        """Write the journeys that reached ``step`` and went no further to a CSV file, so a
        team can follow them up; returns how many."""
        with self.journeys(engine, **options) as prepared:
            table = prepared.engine.to_arrow(dropped(prepared, spec, step))
        output.parent.mkdir(parents=True, exist_ok=True)
        pacsv.write_csv(table, output)
        return int(table.num_rows)

    def analyze(
        self, name: str, spec: Any = None, *, engine: EngineName = "duckdb", **options: Any
    ) -> Any:
        """Run the analysis ``name`` (see :data:`journeylens.analyses.registry.ANALYSES`)."""
        info = analysis(name)
        with self.journeys(engine, **options) as prepared:
            return info.run(prepared, spec if spec is not None else info.spec())


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _forget_others(folder: Path, *, keep: str) -> None:
    """Drop prepared data of older generations (derived data, rebuilt on demand)."""
    for entry in folder.iterdir():
        if keep not in entry.name and not entry.name.endswith(".partial"):
            _remove(entry)
