"""``journeylens analyze NAME``: run one analysis and print it, as a table or as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from journeylens.analyses.common import parse_duration
from journeylens.analyses.dfg import DfgSpec, ProcessMap
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
    metric: str,
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
            metric=metric,  # type: ignore[arg-type]  # click.Choice checked it
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
