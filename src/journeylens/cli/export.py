"""``journeylens export-events``: the stitched journeys as XES or OCEL 2.0 for mining tools."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import click

from journeylens.workspace import Workspace

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command("export-events", context_settings=CONTEXT)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (.xes, .xes.gz, .jsonocel, .ocel.json; .gz compresses).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xes", "ocel"]),
    help="xes (IEEE 1849-2016) or ocel (OCEL 2.0 JSON). Default: from the file name.",
)
@click.option(
    "--limit-customers",
    type=click.IntRange(min=1),
    metavar="N",
    help="Only the first N customers by key: a sample, the same one every time.",
)
@click.pass_context
def export_events(
    ctx: click.Context,
    output: Path,
    fmt: Literal["xes", "ocel"] | None,
    limit_customers: int | None,
) -> None:
    """Write the store's events, one trace (XES) or customer object (OCEL) per customer.

    Only stitched events are written (run 'journeylens stitch' first), in time order per
    customer. The file holds raw customer data: it is created readable by you only.

    \b
    Example:
      journeylens -w shoes export-events -o journeys.xes.gz
      journeylens -w shoes export-events -o journeys.jsonocel --limit-customers 1000
    """
    root: Path = ctx.obj["workspace"]
    count = Workspace.open(root).export_events(output, fmt, limit_customers=limit_customers)
    click.echo(f"wrote {count:,} events to {output}")
