"""Process maps and variants equal PM4Py's on every real event log in ../shared/data.

PM4Py (AGPL-3.0) is a test-only dependency: an independent implementation of the
directly-follows graph, start/end activities and variants, read from the same files.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from journeylens.analyses.dfg import DfgSpec, ProcessMap, process_map
from journeylens.analyses.variants import VariantsSpec, variants
from journeylens.engine import open_prepared
from journeylens.workspace import Workspace

DATA = Path(__file__).parents[2] / "shared" / "data"


def _pm4py() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pm4py

    return pm4py


def _oracle(
    frame: pd.DataFrame,
) -> tuple[dict[tuple[str, str], int], dict[str, int], dict[str, int], Counter[tuple[str, ...]]]:
    """PM4Py's DFG, start and end activities and variant counts of a formatted frame."""
    pm4py = _pm4py()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dfg, start, end = pm4py.discover_dfg(frame)
        found = pm4py.get_variants(frame)
    counts = Counter(
        {tuple(k): (len(v) if isinstance(v, list) else int(v)) for k, v in found.items()}
    )
    return dict(dfg), dict(start), dict(end), counts


def _xes(path: Path) -> pd.DataFrame:
    pm4py = _pm4py()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm4py.read_xes(str(path), show_progress_bar=False)


def _csv(path: Path, case: str, activity: str, ts: str, **read: Any) -> pd.DataFrame:
    pm4py = _pm4py()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, **read)
    frame[ts] = pd.to_datetime(frame[ts], utc=True, format="mixed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm4py.format_dataframe(frame, case_id=case, activity_key=activity, timestamp_key=ts)


def _complaints() -> pd.DataFrame:
    frame = pd.read_csv(
        DATA / "bpic2016_complaints/BPI2016_Complaints.csv",
        sep=";",
        dtype=str,
        keep_default_na=False,
        encoding="latin-1",
    )
    frame["activity"] = "complaint: " + frame["ComplaintTheme_EN"]
    frame["ts"] = pd.to_datetime(frame["ContactDate"]).dt.tz_localize("Europe/Amsterdam")
    pm4py = _pm4py()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm4py.format_dataframe(
            frame, case_id="CustomerID", activity_key="activity", timestamp_key="ts"
        )


SOURCES = {
    "helpdesk-xes": ("helpdesk/helpdesk.xes.gz", None),
    "helpdesk-csv": (
        "helpdesk/helpdesk.csv",
        "id: helpdesk-csv\npath: {path}\ntimestamp: Complete Timestamp\n"
        "timestamp_format: '%Y/%m/%d %H:%M:%S.%g'\nactivity: Activity\nchannel: null\n"
        "identifiers: [{{column: Case ID, type: case}}]\n",
    ),
    "receipt-xes": ("receipt/08_receipt.xes.gz", None),
    "roadtraffic-xes": ("roadtraffic_sample/roadtraffic100traces.xes", None),
    "roadtraffic-csv": (
        "roadtraffic_sample/roadtraffic100traces.csv",
        "id: roadtraffic-csv\npath: {path}\ntimestamp: time:timestamp\n"
        "activity: concept:name\nchannel: null\n"
        "identifiers: [{{column: case:concept:name, type: case}}]\n",
    ),
    "bpic2016-complaints": (
        "bpic2016_complaints/BPI2016_Complaints.csv",
        "id: complaints\npath: {path}\ndelimiter: ';'\nencoding: latin-1\n"
        "timestamp: ContactDate\ntimezone: Europe/Amsterdam\n"
        "identifiers: [{{column: CustomerID, type: crm_id}}]\n"
        "activity_template: 'complaint: {{ComplaintTheme_EN}}'\nchannel: ContactChannelID\n",
    ),
}

ORACLES = {
    "helpdesk-xes": lambda: _xes(DATA / "helpdesk/helpdesk.xes.gz"),
    "helpdesk-csv": lambda: _csv(
        DATA / "helpdesk/helpdesk.csv", "Case ID", "Activity", "Complete Timestamp"
    ),
    "receipt-xes": lambda: _xes(DATA / "receipt/08_receipt.xes.gz"),
    "roadtraffic-xes": lambda: _xes(DATA / "roadtraffic_sample/roadtraffic100traces.xes"),
    "roadtraffic-csv": lambda: _csv(
        DATA / "roadtraffic_sample/roadtraffic100traces.csv",
        "case:concept:name",
        "concept:name",
        "time:timestamp",
    ),
    "bpic2016-complaints": _complaints,
}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each real log loaded, stitched and prepared once through the product's own path."""
    found = {}
    for name, (relative, source) in SOURCES.items():
        ws = Workspace.init(tmp_path_factory.mktemp(name) / "ws")
        if source is None:
            ws.ingest(str(DATA / relative))
        else:
            (ws.root / "sources").mkdir()
            spec_id = source.split("\n")[0].removeprefix("id: ")
            text = source.format(path=DATA / relative)
            (ws.root / "sources" / f"{spec_id}.yaml").write_text(text, encoding="utf-8")
            [report] = ws.ingest(spec_id)
            assert report.quarantined == 0, name
        ws.stitch()
        with ws.journeys("duckdb"):
            target = next(ws.root.glob(".journeylens/journeys/duckdb-*.parquet"))
        found[name] = target
        found[name + ":ws"] = ws.root
    return found


def _mine(pm: ProcessMap) -> tuple[dict[tuple[str, str], int], dict[str, int], dict[str, int]]:
    return {(e.source, e.target): e.count for e in pm.edges}, pm.start, pm.end


@pytest.mark.parametrize("log", sorted(SOURCES))
def test_process_map_and_variants_equal_pm4py(log: str, prepared: dict[str, Path]) -> None:
    from journeylens.engine import duckdb_engine

    engine = duckdb_engine()
    journeys = open_prepared(engine, prepared[log])
    dfg, start, end, variant_counts = _oracle(ORACLES[log]())
    pm = process_map(journeys, DfgSpec())
    assert _mine(pm) == (dfg, start, end)
    assert pm.events == sum(Counter(start).values()) + sum(dfg.values())
    found = variants(journeys, VariantsSpec(top=None))
    assert Counter({v.activities: v.count for v in found.variants}) == variant_counts
    assert found.distinct == len(variant_counts)
    engine.close()
