"""Paths: where journeys go in the steps after an anchor event (or came from, before it).

Step ``k`` of a path is the event ``k`` positions after (or before) the anchor in the same
journey; step 0 is the anchor itself. Each step keeps its ``top`` most frequent values and puts
the rest in one "other" node; paths that run out of events go to a "drop-off" node, which they
never leave. So every step's counts add up to the number of paths, and the links between two
steps add up to it too: nodes and links are ready for a Sankey diagram.

The anchor is a selector. By default a journey's *first* matching event is its anchor (one path
per anchored journey); with ``occurrence="every"`` each matching event starts its own path, so
one journey can contribute several, overlapping paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from journeylens.analyses.common import plain
from journeylens.engine import Journeys, compile_text
from journeylens.engine import expr as E
from journeylens.errors import JourneylensError

PathField = Literal["activity", "touchpoint", "channel", "device"]
PATH_FIELDS: tuple[PathField, ...] = ("activity", "touchpoint", "channel", "device")
Direction = Literal["after", "before"]
Occurrence = Literal["first", "every"]
NodeKind = Literal["value", "missing", "other", "drop-off"]

#: Labels of the nodes that are not a value of the field; ``kind`` tells them apart from a
#: value that happens to be spelled the same.
OTHER = "(other)"
MISSING = "(none)"
DROP_OFF = {"after": "(drop-off)", "before": "(journey start)"}
_KIND_ORDER = {"value": 0, "missing": 0, "other": 1, "drop-off": 2}


@dataclass(frozen=True)
class PathsSpec:
    """``anchor`` is a selector (``activity == "cart"``); ``steps`` after or before it;
    ``field`` names each step; ``gap`` splits journeys at inactivity (seconds)."""

    anchor: str
    steps: int = 5
    direction: Direction = "after"
    occurrence: Occurrence = "first"
    field: PathField = "activity"
    top: int = 8
    gap: float | None = None


@dataclass(frozen=True)
class PathNode:
    step: int
    label: str
    count: int
    kind: NodeKind = "value"


@dataclass(frozen=True)
class PathLink:
    """``count`` paths went from ``source`` at ``step`` to ``target`` at ``step + 1``."""

    step: int
    source: str
    target: str
    count: int
    source_kind: NodeKind = "value"
    target_kind: NodeKind = "value"


@dataclass(frozen=True)
class Paths:
    anchor: str
    direction: Direction
    occurrence: Occurrence
    field: PathField
    steps: int
    nodes: tuple[PathNode, ...]
    links: tuple[PathLink, ...]
    paths: int
    anchored_journeys: int
    journeys: int

    def to_dict(self) -> dict[str, Any]:
        return plain(self)  # type: ignore[no-any-return]


def _check(spec: PathsSpec) -> None:
    if spec.steps < 1:
        raise JourneylensError(f"paths: steps must be at least 1, got {spec.steps}")
    if spec.top < 1:
        raise JourneylensError(f"paths: top must be at least 1, got {spec.top}")
    if spec.field not in PATH_FIELDS:
        raise JourneylensError(
            f"paths: field {spec.field!r} is not one of {', '.join(PATH_FIELDS)}"
        )
    if spec.direction not in ("after", "before"):
        raise JourneylensError(f"paths: direction must be after or before, not {spec.direction!r}")
    if spec.occurrence not in ("first", "every"):
        raise JourneylensError(f"paths: occurrence must be first or every, not {spec.occurrence!r}")


def _labelled_steps(ev: E.Table, hit: E.BooleanValue, spec: PathsSpec) -> E.Table:
    """Per path (``path_j``, ``path_p``) and step, the step's node (``label``, ``kind``)."""
    anchors = ev.filter(hit).select(a_journey=ev.journey, a_pos=ev.pos)
    if spec.occurrence == "first":
        anchors = anchors.group_by("a_journey").agg(a_pos=anchors.a_pos.min())
    value = ev[spec.field]
    near = ev.select(
        journey=ev.journey, pos=ev.pos, missing=value.isnull(), key=value.fill_null("")
    )
    # One row per path and step, joined on equality: a range join on the journey alone would
    # pair every anchor with every event of its journey (quadratic for "every").
    steps = E.literal(list(range(spec.steps + 1)), type="array<int64>")
    offsets = anchors.mutate(step=steps.unnest())  # Spark: no cast around the explode
    sign = 1 if spec.direction == "after" else -1
    joined = offsets.join(
        near,
        [offsets.a_journey == near.journey, near.pos == offsets.a_pos + sign * offsets.step],
    )
    per_step = joined.select(
        path_j=joined.a_journey,
        path_p=joined.a_pos,
        step=joined.step,
        missing=joined.missing,
        key=joined.key,
    )
    # Rank each step's values; ties by value so both engines keep the same ones.
    counts = per_step.group_by(["step", "missing", "key"]).agg(n=per_step.count())
    rank = E.row_number().over(
        E.window(group_by=counts.step, order_by=[E.desc(counts.n), counts.missing, counts.key])
    )
    ranked = counts.mutate(r=rank)
    kept = ranked.select(
        step=ranked.step,
        missing=ranked.missing,
        key=ranked.key,
        kind=E.cases((ranked.r >= spec.top, "other"), (ranked.missing, "missing"), else_="value"),
        label=E.cases((ranked.r >= spec.top, OTHER), (ranked.missing, MISSING), else_=ranked.key),
    )
    # Join on (missing, key) rather than the value: NULL never equals NULL in a join.
    per_step = per_step.view()  # a join result: joining it again must not extend its chain
    kept = kept.view()  # derived from per_step: a self-join needs its own reference
    labelled = per_step.join(
        kept,
        [
            per_step.step == kept.step,
            per_step.missing == kept.missing,
            per_step.key == kept.key,
        ],
    ).select(per_step.path_j, per_step.path_p, per_step.step, kept.kind, kept.label)
    return labelled


def paths(journeys: Journeys, spec: PathsSpec) -> Paths:
    _check(spec)
    engine = journeys.engine
    ev = journeys.events(spec.gap)
    hit = compile_text(engine, ev, spec.anchor)
    labelled = _labelled_steps(ev, hit, spec)
    left = labelled.filter(labelled.step < spec.steps).select(
        lj=labelled.path_j,
        lp=labelled.path_p,
        step=labelled.step,
        source_kind=labelled.kind,
        source=labelled.label,
    )
    right = labelled.select(
        rj=labelled.path_j,
        rp=labelled.path_p,
        rstep=labelled.step,
        target_kind=labelled.kind,
        target=labelled.label,
    )
    pairs = left.left_join(
        right, [left.lj == right.rj, left.lp == right.rp, right.rstep == left.step + 1]
    )
    grouped = pairs.group_by(["step", "source_kind", "source", "target_kind", "target"]).agg(
        count=pairs.count()
    )
    totals = ev.agg(
        journeys=(ev.pos == 0).cast("int64").sum(),
        anchored=ev.journey.nunique(where=hit),
    )
    rows = engine.to_arrow(grouped).to_pylist()
    total_row = engine.to_arrow(totals).to_pylist()[0]
    return _assemble(spec, rows, int(total_row["journeys"] or 0), int(total_row["anchored"] or 0))


def _assemble(spec: PathsSpec, rows: list[dict[str, Any]], journeys: int, anchored: int) -> Paths:
    """Nodes and links from the link counts; drop-offs are what is missing from each step."""
    drop = DROP_OFF[spec.direction]
    nodes: dict[tuple[int, NodeKind, str], int] = {}
    links: dict[tuple[int, NodeKind, str, NodeKind, str], int] = {}
    for row in rows:
        step, count = int(row["step"]), int(row["count"])
        source: tuple[NodeKind, str] = (row["source_kind"], row["source"])
        target: tuple[NodeKind, str] = (
            (row["target_kind"], row["target"]) if row["target_kind"] else ("drop-off", drop)
        )
        links[(step, *source, *target)] = links.get((step, *source, *target), 0) + count
        nodes[(step, *source)] = nodes.get((step, *source), 0) + count
        if step == spec.steps - 1 and target[0] != "drop-off":
            nodes[(step + 1, *target)] = nodes.get((step + 1, *target), 0) + count
    total = sum(count for (step, _, _), count in nodes.items() if step == 0)
    for step in range(spec.steps + 1):
        present = sum(c for (s, kind, _), c in nodes.items() if s == step and kind != "drop-off")
        if total - present:
            nodes[(step, "drop-off", drop)] = total - present
            if step < spec.steps:
                links[(step, "drop-off", drop, "drop-off", drop)] = total - present

    def order(step: int, kind: NodeKind, label: str) -> tuple[int, int, int, str]:
        return (step, _KIND_ORDER[kind], -nodes[(step, kind, label)], label)

    node_list = sorted(nodes, key=lambda k: order(*k))
    link_list = sorted(
        links,
        key=lambda k: (order(k[0], k[1], k[2]), order(k[0] + 1, k[3], k[4])),
    )
    return Paths(
        anchor=spec.anchor,
        direction=spec.direction,
        occurrence=spec.occurrence,
        field=spec.field,
        steps=spec.steps,
        nodes=tuple(PathNode(s, label, nodes[(s, k, label)], k) for s, k, label in node_list),
        links=tuple(
            PathLink(s, src, dst, links[(s, sk, src, dk, dst)], sk, dk)
            for s, sk, src, dk, dst in link_list
        ),
        paths=total,
        anchored_journeys=anchored,
        journeys=journeys,
    )


__all__ = [
    "DROP_OFF",
    "MISSING",
    "OTHER",
    "PATH_FIELDS",
    "Direction",
    "NodeKind",
    "Occurrence",
    "PathField",
    "PathLink",
    "PathNode",
    "Paths",
    "PathsSpec",
    "paths",
]
