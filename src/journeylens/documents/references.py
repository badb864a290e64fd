"""Cross-reference checks: every persona, touchpoint, channel, metric, opportunity, branch and
path a document names must exist, and ids must be unique.

They read the raw tree rather than the validated model, so a file with a type error in one
step still gets its broken references reported in the same run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from journeylens.documents.yaml_io import Loc

Finding = tuple[Loc, str, str]  # (where, message, severity)


def _items(node: Any, key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    value = node.get(key) if isinstance(node, dict) else None
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def _ids(node: Any, key: str) -> Iterator[tuple[Loc, str]]:
    for index, item in _items(node, key):
        if isinstance(item.get("id"), str):
            yield (key, index, "id"), item["id"]


def _refs(node: Any, key: str) -> Iterator[tuple[int, str]]:
    value = node.get(key) if isinstance(node, dict) else None
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                yield index, item


def _duplicates(entries: list[tuple[Loc, str]], what: str) -> Iterator[Finding]:
    seen: dict[str, Loc] = {}
    for loc, ident in entries:
        if ident in seen:
            yield loc, f"duplicate {what} id '{ident}'", "error"
        else:
            seen[ident] = loc


@dataclass
class Registry:
    """The ids a map may reference, taken from the workspace file."""

    personas: set[str] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)
    touchpoints: dict[str, str | None] = field(default_factory=dict)  # id -> channel id
    metrics: set[str] = field(default_factory=set)
    opportunities: set[str] = field(default_factory=set)

    @classmethod
    def from_tree(cls, tree: Any) -> Registry:
        registry = cls()
        registry.personas = {i for _, i in _ids(tree, "personas")}
        registry.channels = {i for _, i in _ids(tree, "channels")}
        registry.metrics = {i for _, i in _ids(tree, "metrics")}
        registry.opportunities = {i for _, i in _ids(tree, "opportunities")}
        for _, item in _items(tree, "touchpoints"):
            if isinstance(item.get("id"), str):
                channel = item.get("channel")
                registry.touchpoints[item["id"]] = channel if isinstance(channel, str) else None
        return registry


def _unknown(kind: str, ident: str, known: set[str] | dict[str, Any]) -> str:
    names = sorted(known)
    listed = ", ".join(names[:12]) + (f", … ({len(names)} in all)" if len(names) > 12 else "")
    listed = listed or "none defined"
    return f"unknown {kind} '{ident}' (known: {listed})"


def check_workspace_tree(tree: Any) -> Iterator[Finding]:
    """Registries: unique ids, touchpoints on known channels, personas' channels known."""
    for key, what in [
        ("channels", "channel"),
        ("touchpoints", "touchpoint"),
        ("personas", "persona"),
        ("metrics", "metric"),
        ("opportunities", "opportunity"),
    ]:
        yield from _duplicates(list(_ids(tree, key)), what)
    registry = Registry.from_tree(tree)
    for index, item in _items(tree, "touchpoints"):
        channel = item.get("channel")
        if isinstance(channel, str) and channel not in registry.channels:
            yield (
                ("touchpoints", index, "channel"),
                _unknown("channel", channel, registry.channels),
                "error",
            )
    for index, item in _items(tree, "personas"):
        for ref_index, channel in _refs(item, "preferred_channels"):
            if channel not in registry.channels:
                yield (
                    ("personas", index, "preferred_channels", ref_index),
                    _unknown("channel", channel, registry.channels),
                    "error",
                )


def check_map_tree(tree: Any, registry: Registry | None) -> Iterator[Finding]:
    """A map's internal references, and (given the workspace's registry) its external ones."""
    stage_ids = list(_ids(tree, "stages"))
    yield from _duplicates(stage_ids, "stage")
    step_ids: list[tuple[Loc, str]] = []
    for s_index, stage in _items(tree, "stages"):
        step_ids += [(("stages", s_index, *loc), i) for loc, i in _ids(stage, "steps")]
    yield from _duplicates(step_ids, "step")
    known_steps = {i for _, i in step_ids}
    competitors = {i for _, i in _ids(tree, "competitors")}
    yield from _duplicates(list(_ids(tree, "competitors")), "competitor")
    if competitors and tree.get("type") != "day_in_the_life":
        yield ("competitors",), "competitors belong to day_in_the_life maps", "error"

    if registry is not None:
        for index, persona in _refs(tree, "personas"):
            if persona not in registry.personas:
                yield ("personas", index), _unknown("persona", persona, registry.personas), "error"

    for s_index, stage in _items(tree, "stages"):
        for t_index, step in _items(stage, "steps"):
            at: Loc = ("stages", s_index, "steps", t_index)
            yield from _check_step(step, at, known_steps, competitors, registry)

    yield from _duplicates(list(_ids(tree, "paths")), "path")
    for p_index, path in _items(tree, "paths"):
        for r_index, ref in _refs(path, "steps"):
            if ref not in known_steps:
                yield (
                    ("paths", p_index, "steps", r_index),
                    _unknown("step", ref, known_steps),
                    "error",
                )


def _check_step(
    step: dict[str, Any],
    at: Loc,
    known_steps: set[str],
    competitors: set[str],
    registry: Registry | None,
) -> Iterator[Finding]:
    for b_index, branch in _items(step, "next"):
        target = branch.get("step")
        if isinstance(target, str) and target not in known_steps:
            yield (*at, "next", b_index, "step"), _unknown("step", target, known_steps), "error"
        elif target == step.get("id"):
            yield (*at, "next", b_index, "step"), "a step cannot branch to itself", "error"
    competitor = step.get("competitor")
    if isinstance(competitor, str) and competitor not in competitors:
        yield (*at, "competitor"), _unknown("competitor", competitor, competitors), "error"
    if registry is None:
        return
    touchpoint, channel = step.get("touchpoint"), step.get("channel")
    if isinstance(touchpoint, str) and touchpoint not in registry.touchpoints:
        yield (*at, "touchpoint"), _unknown("touchpoint", touchpoint, registry.touchpoints), "error"
    if isinstance(channel, str):
        if channel not in registry.channels:
            yield (*at, "channel"), _unknown("channel", channel, registry.channels), "error"
        elif isinstance(touchpoint, str) and registry.touchpoints.get(touchpoint) not in (
            None,
            channel,
        ):
            on = registry.touchpoints[touchpoint]
            yield (
                (*at, "channel"),
                f"touchpoint '{touchpoint}' is on channel '{on}', not '{channel}'",
                "error",
            )
    for index, opportunity in _refs(step, "opportunities"):
        if opportunity not in registry.opportunities:
            yield (
                (*at, "opportunities", index),
                _unknown("opportunity", opportunity, registry.opportunities),
                "error",
            )
    for index, kpi in _items(step, "kpis"):
        metric = kpi.get("metric")
        if isinstance(metric, str) and metric not in registry.metrics:
            yield (
                (*at, "kpis", index, "metric"),
                _unknown("metric", metric, registry.metrics),
                "error",
            )
