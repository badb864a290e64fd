"""``journeylens analyze NAME``: run one analysis and print it, as a table or as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import click

from journeylens.analyses.channels import DEFAULT_CONTACT, ChannelField, Channels, ChannelsSpec
from journeylens.analyses.common import parse_duration
from journeylens.analyses.dfg import DfgSpec, ProcessMap
from journeylens.analyses.dropoff import Dropoff, DropoffField, DropoffSpec
from journeylens.analyses.funnel import Exclusion, FunnelResult, FunnelSpec, FunnelStep
from journeylens.analyses.paths import PathField, Paths, PathsSpec
from journeylens.analyses.retention import Period, Retention, RetentionSpec
from journeylens.analyses.variants import Variants, VariantsSpec
from journeylens.workspace import Workspace

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

gap_option = click.option(
    "--gap",
    metavar="DURATION",
    help="Split each customer's history into journeys at inactivity longer than this "
    "(e.g. 30m, 7d). Default: one journey per customer.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def _run(ctx: click.Context, name: str, spec: Any) -> Any:
    root: Path = ctx.obj["workspace"]
    workspace = Workspace.open(root)
    engine = ctx.obj.get("engine", "duckdb")
    options = {k: v for k, v in ctx.obj.get("spark", {}).items() if v}
    return workspace.analyze(name, spec, engine=engine, **options)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86_400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def _emit(result: Any, as_json: bool, table: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(table))


@click.group(context_settings=CONTEXT)
def analyze() -> None:
    """Analyse the journeys in the store (ingest and stitch first).

    \b
    Example:
      journeylens -w shoes analyze dfg --min-count 100
      journeylens -w shoes --engine spark analyze variants --top 10 --json
    """


@analyze.command(context_settings=CONTEXT)
@gap_option
@click.option(
    "--min-count",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Leave out edges seen fewer times.",
)
@click.option("--top", type=click.IntRange(min=1), help="Keep only the N most frequent edges.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw the process map to this file (.svg, .png or .pdf).",
)
@click.option(
    "--metric",
    type=click.Choice(["count", "customers", "median"]),
    default="count",
    show_default=True,
    help="What the drawn arrows are labelled with.",
)
@click.option("--title", help="Title of the drawing.")
@click.option(
    "--language",
    default="en",
    show_default=True,
    help="Language of the drawing's own words (en, ro, ru, sl, he).",
)
@json_option
@click.pass_context
def dfg(
    ctx: click.Context,
    gap: str | None,
    min_count: int,
    top: int | None,
    output: Path | None,
    metric: Literal["count", "customers", "median"],
    title: str | None,
    language: str,
    as_json: bool,
) -> None:
    """Process map: how often each activity directly follows another, for how many customers,
    and how long it takes (mean, median, p90).

    \b
    Example:
      journeylens -w shoes analyze dfg --top 25 -o process.svg
      journeylens -w shoes analyze dfg --gap 30m --json
    """
    spec = DfgSpec(gap=parse_duration(gap), min_count=min_count, top=top)
    result: ProcessMap = _run(ctx, "dfg", spec)
    if output:
        root: Path = ctx.obj["workspace"]
        Workspace.open(root).draw_process_map(
            result,
            output,
            title=title,
            metric=metric,
            language=language,
        )
        click.echo(f"wrote {output}", err=True)
    lines = [
        f"{result.events:,} events, {result.journeys:,} journeys, {result.customers:,} "
        f"customers; {len(result.edges)} of {result.edges_total} edges",
        f"{'count':>10} {'customers':>10} {'median':>10}  edge",
    ]
    for edge in result.edges:
        lines.append(
            f"{edge.count:>10,} {edge.customers:>10,} {_duration(edge.median_s):>10}  "
            f"{edge.source} -> {edge.target}"
        )
    _emit(result, as_json, lines)


@analyze.command(context_settings=CONTEXT)
@gap_option
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many variants to list.",
)
@click.option("--all", "show_all", is_flag=True, help="List every variant.")
@json_option
@click.pass_context
def variants(ctx: click.Context, gap: str | None, top: int, show_all: bool, as_json: bool) -> None:
    """Variants: the distinct sequences journeys follow, most common first, with coverage.

    \b
    Example:
      journeylens -w shoes analyze variants --top 10
    """
    spec = VariantsSpec(top=None if show_all else top, gap=parse_duration(gap))
    result: Variants = _run(ctx, "variants", spec)
    lines = [
        f"{result.journeys:,} journeys, {result.distinct:,} distinct variants",
        f"{'count':>9} {'share':>7} {'cum.':>7} {'median':>10}  activities",
    ]
    for v in result.variants:
        lines.append(
            f"{v.count:>9,} {v.share:>7.1%} {v.cumulative_share:>7.1%} "
            f"{_duration(v.median_duration_s):>10}  {' > '.join(v.activities)}"
        )
    _emit(result, as_json, lines)


def engine_options(func: Any) -> Any:
    """The global ``--engine`` options, attached to the top-level group."""
    func = click.option(
        "--spark-remote", metavar="URL", help="Spark Connect address (sc://host:15002)."
    )(func)
    func = click.option(
        "--spark-master",
        metavar="URL",
        help="Spark master (default local[*]; spark://host:7077 for a cluster).",
    )(func)
    return click.option(
        "--engine",
        type=click.Choice(["duckdb", "spark"]),
        default="duckdb",
        show_default=True,
        help="Where analyses run: embedded DuckDB, or Apache Spark for data beyond one machine.",
    )(func)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


@analyze.command(context_settings=CONTEXT)
@click.option(
    "--anchor",
    required=True,
    metavar="SELECTOR",
    help="Where paths start (or end), e.g. 'activity == \"add_to_cart\"'.",
)
@click.option(
    "--steps",
    type=click.IntRange(1, 20),
    default=5,
    show_default=True,
    help="How many steps to follow.",
)
@click.option("--before", is_flag=True, help="Follow the steps that led to the anchor.")
@click.option(
    "--every", is_flag=True, help="Anchor at every matching event, not only a journey's first."
)
@click.option(
    "--field",
    type=click.Choice(["activity", "touchpoint", "channel", "device"]),
    default="activity",
    show_default=True,
    help="What each step is labelled with.",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Labels kept per step; the rest become 'other'.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw the paths as a Sankey diagram (.svg, .png or .pdf).",
)
@click.option("--title", help="Title of the drawing.")
@gap_option
@json_option
@click.pass_context
def paths(
    ctx: click.Context,
    anchor: str,
    steps: int,
    before: bool,
    every: bool,
    field: PathField,
    top: int,
    output: Path | None,
    title: str | None,
    gap: str | None,
    as_json: bool,
) -> None:
    """Paths: the steps customers take after (or before) an anchor, with 'other' and
    'drop-off' buckets so every step adds up to the anchored journeys.

    \b
    Example:
      journeylens -w shoes analyze paths --anchor 'activity == "add_to_cart"' -o paths.svg
      journeylens -w shoes analyze paths --anchor 'activity == "call"' --before --steps 3
    """
    spec = PathsSpec(
        anchor=anchor,
        steps=steps,
        direction="before" if before else "after",
        occurrence="every" if every else "first",
        field=field,
        top=top,
        gap=parse_duration(gap),
    )
    result: Paths = _run(ctx, "paths", spec)
    if output:
        root: Path = ctx.obj["workspace"]
        Workspace.open(root).draw_paths(result, output, title=title)
        click.echo(f"wrote {output}", err=True)
    lines = [
        f"{result.paths:,} paths from {result.anchored_journeys:,} of {result.journeys:,} journeys"
    ]
    for step in range(1, result.steps + 1):
        here = sorted((n for n in result.nodes if n.step == step), key=lambda n: -n.count)
        cells = ", ".join(f"{n.label} {n.count:,}" for n in here)
        lines.append(f"  step {step}: {cells}")
    _emit(result, as_json, lines)


@analyze.command(context_settings=CONTEXT)
@click.option(
    "--outcome",
    required=True,
    metavar="SELECTOR",
    help="What converting means, e.g. 'activity == \"order_placed\"'.",
)
@click.option(
    "--field",
    type=click.Choice(["activity", "touchpoint", "channel", "device"]),
    default="activity",
    show_default=True,
    help="What the last step is labelled with.",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=15,
    show_default=True,
    help="Rows to print (JSON has them all).",
)
@gap_option
@json_option
@click.pass_context
def dropoff(
    ctx: click.Context, outcome: str, field: DropoffField, top: int, gap: str | None, as_json: bool
) -> None:
    """Drop-off: where journeys that never reach the outcome end, by last step and channel.

    \b
    Example:
      journeylens -w shoes analyze dropoff --outcome 'activity == "order_placed"' --gap 30d
    """
    spec = DropoffSpec(outcome=outcome, field=field, gap=parse_duration(gap))
    result: Dropoff = _run(ctx, "dropoff", spec)
    lines = [
        f"{result.journeys:,} journeys: {result.converting:,} converting "
        f"({_share(result.conversion_rate)}), {result.non_converting:,} not",
        f"{'journeys':>9} {'share':>7} {'customers':>10}  last {field}",
    ]
    for row in result.by_last[:top]:
        lines.append(
            f"{row.journeys:>9,} {_share(row.share):>7} {row.customers:>10,}  "
            f"{row.label if row.label is not None else '(none)'}"
        )
    _emit(result, as_json, lines)


@analyze.command(context_settings=CONTEXT)
@click.option(
    "--start",
    required=True,
    metavar="SELECTOR",
    help="What puts a customer in a cohort, e.g. 'activity == \"order_placed\"'.",
)
@click.option(
    "--return",
    "returning",
    metavar="SELECTOR",
    help="What counts as coming back (default: the start selector again).",
)
@click.option(
    "--period",
    type=click.Choice(["day", "week", "month"]),
    default="month",
    show_default=True,
    help="Cohort and return period.",
)
@click.option(
    "--periods",
    type=click.IntRange(1, 120),
    default=12,
    show_default=True,
    help="How many periods after the cohort's to follow.",
)
@click.option(
    "--inactive",
    metavar="DURATION",
    default="90d",
    show_default=True,
    help="Churned: no event for this long before the data's end ('none' to skip).",
)
@json_option
@click.pass_context
def retention(
    ctx: click.Context,
    start: str,
    returning: str | None,
    period: Period,
    periods: int,
    inactive: str,
    as_json: bool,
) -> None:
    """Retention: cohorts by the period of their first start event, the share returning in
    each later period, and churn by inactivity.

    \b
    Example:
      journeylens -w shoes analyze retention --start 'activity == "order_placed"' --period week
    """
    spec = RetentionSpec(
        start=start,
        returning=returning,
        period=period,
        periods=periods,
        inactive=None if inactive == "none" else parse_duration(inactive),
    )
    result: Retention = _run(ctx, "retention", spec)
    shown = min(periods, 8)
    header = " ".join(f"{'+' + str(k):>6}" for k in range(1, shown + 1))
    lines = [
        f"{result.customers:,} customers in {len(result.cohorts)} cohorts",
        f"{'cohort':<10} {'size':>7} {header} {'churned':>8}",
    ]
    for cohort in result.cohorts:
        cells = " ".join(
            f"{'-' if s is None else format(s, '.0%'):>6}" for s in cohort.shares[1 : shown + 1]
        )
        lines.append(
            f"{cohort.cohort:<10} {cohort.size:>7,} {cells} {_share(cohort.churn_share):>8}"
        )
    _emit(result, as_json, lines)


@analyze.command(context_settings=CONTEXT)
@click.option(
    "--field",
    type=click.Choice(["channel", "touchpoint", "device", "activity"]),
    default="channel",
    show_default=True,
    help="What a switch is a change of.",
)
@click.option(
    "--contact",
    metavar="SELECTOR",
    default=DEFAULT_CONTACT,
    show_default=True,
    help="Which events are contacts, for repeat-contact rates.",
)
@click.option(
    "--within",
    metavar="DURATION",
    default="7d",
    show_default=True,
    help="A contact followed by another this soon is a repeat contact.",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=15,
    show_default=True,
    help="Switches to print (JSON has them all).",
)
@gap_option
@json_option
@click.pass_context
def channels(
    ctx: click.Context,
    field: ChannelField,
    contact: str,
    within: str,
    top: int,
    gap: str | None,
    as_json: bool,
) -> None:
    """Channels: how often journeys switch channel from one event to the next, and how many
    contacts are followed by another contact soon after (repeat contacts).

    \b
    Example:
      journeylens -w shoes analyze channels --within 3d
    """
    spec = ChannelsSpec(
        field=field,
        contact=contact,
        within=parse_duration(within) or 0.0,
        gap=parse_duration(gap),
    )
    result: Channels = _run(ctx, "channels", spec)
    lines = [
        f"{result.pairs:,} consecutive pairs, {result.switched:,} switch {field} "
        f"({_share(result.switch_rate)}); {result.contacts:,} contacts, "
        f"{result.repeated:,} repeated within {within} ({_share(result.repeat_rate)})",
        f"{'count':>9} {'customers':>10}  switch",
    ]
    for move in result.switches[:top]:
        lines.append(f"{move.count:>9,} {move.customers:>10,}  {move.source} -> {move.target}")
    for rate in result.repeats:
        lines.append(
            f"  repeat contacts via {rate.channel}: {rate.repeated:,} of "
            f"{rate.contacts:,} ({_share(rate.rate)})"
        )
    _emit(result, as_json, lines)


def _funnel_step(text: str, optional: bool) -> FunnelStep:
    name, sep, match = text.partition("=")
    if sep and name.strip().replace("_", "").replace("-", "").isalnum() and match.strip():
        return FunnelStep(match.strip(), name=name.strip(), optional=optional)
    return FunnelStep(text, optional=optional)


def _exclusion(text: str) -> Exclusion:
    match, sep, span = text.rpartition("@")
    if sep and ":" in span:
        first, _, last = span.partition(":")
        return Exclusion(
            match,
            from_step=int(first) if first.isdigit() else first,
            to_step=(int(last) if last.isdigit() else last) if last else None,
        )
    return Exclusion(text)


@analyze.command(context_settings=CONTEXT)
@click.argument("steps", nargs=-1, required=True, metavar="STEP...")
@click.option(
    "--optional",
    "optional_steps",
    multiple=True,
    metavar="STEP",
    help="An optional step, inserted after the required step before it in STEP... "
    "order (repeatable).",
)
@click.option(
    "--order",
    type=click.Choice(["ordered", "strict", "any-order"]),
    default="ordered",
    show_default=True,
    help="How the steps must follow each other.",
)
@click.option(
    "--window",
    metavar="DURATION",
    default="14d",
    show_default=True,
    help="Conversion window, measured from the first step.",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="SELECTOR[@FROM:TO]",
    help="An event that disqualifies a journey between two steps (repeatable).",
)
@click.option(
    "--open",
    "open_entry",
    is_flag=True,
    help="Journeys may enter at any step (default: only at the first).",
)
@click.option("--breakdown", metavar="FIELD", help="Split by channel, device, source or attr.KEY.")
@click.option(
    "--attribution",
    type=click.Choice(["first", "last"]),
    default="first",
    show_default=True,
    help="Which funnel event gives a journey its breakdown value.",
)
@click.option(
    "--dropped-at",
    metavar="STEP",
    help="Export the journeys that reached STEP and went no further (needs -o).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV file for --dropped-at.",
)
@gap_option
@json_option
@click.pass_context
def funnel(
    ctx: click.Context,
    steps: tuple[str, ...],
    optional_steps: tuple[str, ...],
    order: str,
    window: str,
    exclude: tuple[str, ...],
    open_entry: bool,
    breakdown: str | None,
    attribution: str,
    dropped_at: str | None,
    output: Path | None,
    gap: str | None,
    as_json: bool,
) -> None:
    """Funnel: how many journeys enter each step, convert to the next within the window, or
    drop, and how long each step takes. Each STEP is a selector, or NAME=SELECTOR.

    \b
    Example:
      journeylens -w shoes analyze funnel 'view=activity == "product_view"' \\
        'cart=activity == "add_to_cart"' 'paid=activity == "order_placed"' --window 7d
      journeylens -w shoes analyze funnel ... --breakdown channel --json
      journeylens -w shoes analyze funnel ... --dropped-at cart -o dropped.csv
    """
    chosen = [_funnel_step(s, False) for s in steps] + [
        _funnel_step(s, True) for s in optional_steps
    ]
    spec = FunnelSpec(
        steps=tuple(chosen),
        order="any_order" if order == "any-order" else order,  # type: ignore[arg-type]
        window=window,
        exclusions=tuple(_exclusion(x) for x in exclude),
        entry="open" if open_entry else "closed",
        breakdown=breakdown,
        attribution="last_touch" if attribution == "last" else "first_touch",
        gap=gap,
    )
    if dropped_at is not None:
        if output is None:
            raise click.UsageError("--dropped-at needs -o FILE.csv")
        root: Path = ctx.obj["workspace"]
        step: int | str = int(dropped_at) if dropped_at.isdigit() else dropped_at
        count = Workspace.open(root).export_dropped(
            spec,
            step,
            output,
            engine=ctx.obj.get("engine", "duckdb"),
            **{k: v for k, v in ctx.obj.get("spark", {}).items() if v},
        )
        click.echo(f"wrote {count:,} journeys dropped at {dropped_at} to {output}", err=True)
    result: FunnelResult = _run(ctx, "funnel", spec)
    lines: list[str] = []
    for table in (result.total, *result.breakdown):
        label = "all" if table.value is None else f"{result.breakdown_by} = {table.value}"
        lines.append(
            f"{label}: {table.journeys:,} journeys, {table.customers:,} customers"
            + (f", {table.excluded:,} excluded" if table.excluded else "")
        )
        lines.append(
            f"  {'entered':>9} {'converted':>9} {'dropped':>8} {'from 1st':>8} "
            f"{'from prev':>9} {'median':>9} {'p90':>9}  step"
        )
        for s in table.steps:
            lines.append(
                f"  {s.entered:>9,} {_count(s.converted):>9} {_count(s.dropped):>8} "
                f"{_share(s.conversion_from_first):>8} {_share(s.conversion_from_previous):>9} "
                f"{_duration(s.median_s):>9} {_duration(s.p90_s):>9}  "
                f"{s.name}{' (optional)' if s.optional else ''}"
            )
    _emit(result, as_json, lines)


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
