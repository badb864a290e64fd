"""The analyses by name, so the CLI, the API and the web app find them in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from journeylens.analyses.channels import ChannelsSpec, channels
from journeylens.analyses.conformance import ConformanceSpec, conformance
from journeylens.analyses.dfg import DfgSpec, process_map
from journeylens.analyses.drivers import DriversSpec, drivers
from journeylens.analyses.dropoff import DropoffSpec, dropoff
from journeylens.analyses.funnel import FunnelSpec, funnel
from journeylens.analyses.live import LiveSpec, live_map
from journeylens.analyses.markov import MarkovSpec, markov
from journeylens.analyses.painpoints import PainSpec, moments_of_truth, painpoints
from journeylens.analyses.paths import PathsSpec, paths
from journeylens.analyses.retention import RetentionSpec, retention
from journeylens.analyses.segments import SegmentsSpec, segments
from journeylens.analyses.support import DeflectionSpec, deflection
from journeylens.analyses.variants import VariantsSpec, variants
from journeylens.engine import Journeys
from journeylens.errors import JourneylensError


@dataclass(frozen=True)
class AnalysisInfo:
    name: str
    spec: type
    run: Callable[[Journeys, Any], Any]
    summary: str


ANALYSES: dict[str, AnalysisInfo] = {
    info.name: info
    for info in (
        AnalysisInfo(
            "dfg",
            DfgSpec,
            process_map,
            "process map: directly-follows counts, customers and durations per edge",
        ),
        AnalysisInfo("variants", VariantsSpec, variants, "the most common journeys, with coverage"),
        AnalysisInfo("funnel", FunnelSpec, funnel, "conversion through steps, drop-off and time"),
        AnalysisInfo("paths", PathsSpec, paths, "the steps after or before an anchor (Sankey)"),
        AnalysisInfo("dropoff", DropoffSpec, dropoff, "where journeys without the outcome end"),
        AnalysisInfo(
            "retention", RetentionSpec, retention, "cohort retention and churn by inactivity"
        ),
        AnalysisInfo("channels", ChannelsSpec, channels, "channel switches and repeat contacts"),
        AnalysisInfo("live", LiveSpec, live_map, "a journey map measured on every step"),
        AnalysisInfo(
            "painpoints", PainSpec, painpoints, "the map's steps ranked by customers hurt"
        ),
        AnalysisInfo(
            "moments", LiveSpec, moments_of_truth, "steps whose reach most changes the outcome"
        ),
        AnalysisInfo("drivers", DriversSpec, drivers, "what raises or lowers conversion or churn"),
        AnalysisInfo("segments", SegmentsSpec, segments, "customers clustered by journey"),
        AnalysisInfo(
            "support", DeflectionSpec, deflection, "which self-service steps prevent contacts"
        ),
        AnalysisInfo(
            "conformance", ConformanceSpec, conformance, "real journeys against the designed path"
        ),
        AnalysisInfo(
            "markov", MarkovSpec, markov, "a Markov model of the map: attribution and what-if"
        ),
    )
}


def analysis(name: str) -> AnalysisInfo:
    try:
        return ANALYSES[name]
    except KeyError:
        known = ", ".join(sorted(ANALYSES))
        raise JourneylensError(f"unknown analysis {name!r}: expected one of {known}") from None
