"""Command-line interface. Each command parses arguments, calls the workspace, prints."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from journeylens._version import __version__
from journeylens.analyses.dfg import DfgSpec
from journeylens.analyses.variants import VariantsSpec
from journeylens.cli.analyze import analyze, engine_options
from journeylens.cli.common import CONTEXT, print_issues, workspace_of
from journeylens.cli.export import export_events
from journeylens.cli.live import pain_lines, render_live, scope_options
from journeylens.cli.serve import demo_admin, serve, users
from journeylens.cli.survey import survey
from journeylens.errors import JourneylensError, ValidationError
from journeylens.render import FORMATS
from journeylens.workspace import EXAMPLES, LoadProgress, Workspace


class _Group(click.Group):
    """Turns journeylens errors into a message and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ValidationError as exc:
            print_issues(exc.issues)
            errors = sum(1 for i in exc.issues if i.severity == "error")
            click.echo(f"{errors} error(s)", err=True)
            ctx.exit(1)
        except JourneylensError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings=CONTEXT)
@click.option(
    "-w",
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default="current directory",
    help="Workspace directory (the one holding journeylens.yaml).",
)
@engine_options
@click.version_option(__version__, "-V", "--version")
@click.pass_context
def cli(
    ctx: click.Context,
    workspace: Path,
    engine: str,
    spark_master: str | None,
    spark_remote: str | None,
) -> None:
    """journeylens: customer journey maps as code, kept live from data.

    \b
    Example:
      journeylens init shoes --example running-shoes
      journeylens -w shoes render current-state -o current-state.png
    """
    ctx.ensure_object(dict)
    ctx.obj["workspace"] = workspace
    ctx.obj["engine"] = engine
    ctx.obj["spark"] = {"master": spark_master, "remote": spark_remote}


@cli.command(context_settings=CONTEXT)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--example", type=click.Choice(EXAMPLES), help="Start from a bundled example.")
@click.option("--name", help="Workspace name (default: the directory name).")
@click.option("--force", is_flag=True, help="Overwrite an existing workspace file.")
def init(directory: Path, example: str | None, name: str | None, force: bool) -> None:
    """Create a workspace in DIRECTORY.

    \b
    Example:
      journeylens init shoes --example running-shoes
    """
    workspace = Workspace.init(directory, example=example, name=name, force=force)
    maps = workspace.maps()
    click.echo(f"created {directory} with {len(maps)} map(s)")
    for journey_map in maps:
        click.echo(f"  {journey_map.id}  ({journey_map.type}, {journey_map.language})")


@cli.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the issues as JSON.")
@click.pass_context
def validate(ctx: click.Context, paths: tuple[Path, ...], as_json: bool) -> None:
    """Check the workspace, or just PATHS, and report every problem with file:line:column.

    Exits with status 1 when there is an error (warnings alone exit 0).

    \b
    Example:
      journeylens -w shoes validate
      journeylens -w shoes validate shoes/maps/current-state.yaml
    """
    workspace = workspace_of(ctx)
    issues = workspace.validate(list(paths) if paths else None)
    errors = [i for i in issues if i.severity == "error"]
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "file": i.file,
                        "line": i.line,
                        "column": i.column,
                        "path": i.path,
                        "message": i.message,
                        "severity": i.severity,
                        "code": i.code,
                    }
                    for i in issues
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        print_issues(issues)
        surveys = {p.resolve() for p in workspace.survey_files()}
        chosen = list(paths) if paths else None
        map_paths = [p for p in chosen if p.resolve() not in surveys] if chosen else None
        maps = len(workspace.check(map_paths).maps) if map_paths is None or map_paths else 0
        asked = len(surveys) if chosen is None else sum(p.resolve() in surveys for p in chosen)
        counted = f"{maps} map(s)" + (f", {asked} survey(s)" if asked else "")
        click.echo(
            f"{counted} checked: {len(errors)} error(s), {len(issues) - len(errors)} warning(s)",
            err=True,
        )
    ctx.exit(1 if errors else 0)


@cli.command(context_settings=CONTEXT)
@click.argument("map_ref", metavar="MAP", required=False)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="Output file (.svg .html .png .pdf), or a directory with --all.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Output format (default: from the file suffix).",
)
@click.option("--all", "render_all", is_flag=True, help="Render every map into the -o directory.")
@click.option(
    "--formats",
    default=",".join(FORMATS),
    show_default=True,
    help="With --all: comma-separated formats.",
)
@click.option(
    "--live",
    is_flag=True,
    help="Measure the map on the store's data and draw the data lanes (ingest and stitch first).",
)
@scope_options
@click.pass_context
def render(
    ctx: click.Context,
    /,
    map_ref: str | None,
    output: Path,
    fmt: str | None,
    render_all: bool,
    formats: str,
    live: bool,
    **scope: Any,
) -> None:
    """Draw MAP (an id or a file) as SVG, HTML, PNG or PDF.

    PNG and PDF are drawn by a headless Chromium (apt-get install chromium). With --live, the
    map gets data lanes under the designed journey: customers, conversion and drop-off,
    support contacts, satisfaction and verbatims, pain points found from data, and the
    measured emotion curve beside the designed one. --segment, --channel, --since and --until
    narrow the data.

    \b
    Example:
      journeylens -w shoes render current-state -o current-state.png
      journeylens -w shoes render --all -o rendered/ --formats svg,png
      journeylens -w shoes render current-state --live -o live.png
    """
    workspace = workspace_of(ctx)
    if live:
        if render_all or map_ref is None:
            raise click.UsageError("--live draws one MAP: give its id, without --all")
        click.echo(str(render_live(workspace, ctx, map_ref, output, fmt, scope)))
        return
    if render_all:
        if map_ref is not None or fmt is not None:
            raise click.UsageError("--all renders every map: drop MAP and --format")
        written = workspace.render_all(output, [f.strip() for f in formats.split(",") if f])
    elif map_ref is None:
        raise click.UsageError("give a MAP, or --all")
    else:
        written = [workspace.render(map_ref, output, fmt)]
    for path in written:
        click.echo(str(path))
    skipped = workspace.invalid_maps() if render_all else []
    for display, issues in skipped:
        click.echo(
            f"skipped {display}: {len(issues)} error(s); run: journeylens validate", err=True
        )
    ctx.exit(1 if skipped else 0)


@cli.command(context_settings=CONTEXT)
@click.option(
    "--kind",
    type=click.Choice(["map", "workspace"]),
    default="map",
    show_default=True,
    help="Which document's schema.",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to a file.")
def schema(kind: str, output: Path | None) -> None:
    """Print the JSON Schema of map files (or of journeylens.yaml).

    \b
    Example:
      journeylens schema > journey-map.schema.json
      journeylens schema --kind workspace -o workspace.schema.json
    """
    text = Workspace.schema("map" if kind == "map" else "workspace")
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@cli.command("export-mermaid", context_settings=CONTEXT)
@click.argument("map_ref", metavar="MAP")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to a file.")
@click.pass_context
def export_mermaid_command(ctx: click.Context, map_ref: str, output: Path | None) -> None:
    """Print MAP as a Mermaid `journey` diagram (emotion -2..+2 becomes score 1..5).

    \b
    Example:
      journeylens -w shoes export-mermaid current-state > current-state.mmd
    """
    text = workspace_of(ctx).export_mermaid(map_ref)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@cli.command("import-mermaid", context_settings=CONTEXT)
@click.argument(
    "source", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--id", "map_id", help="Id of the new map (default: from the file name).")
@click.option("--language", help="Language of the diagram's text (default: the workspace's).")
@click.option("--force", is_flag=True, help="Replace a map file with the same id.")
@click.pass_context
def import_mermaid_command(
    ctx: click.Context, source: Path, map_id: str | None, language: str | None, force: bool
) -> None:
    """Create a map from a Mermaid `journey` diagram in FILE.

    Actors the workspace does not know are added to journeylens.yaml as personas.

    \b
    Example:
      journeylens -w shoes import-mermaid onboarding.mmd --id onboarding
    """
    target, personas, warnings = workspace_of(ctx).import_mermaid(
        source, map_id=map_id, language=language, force=force
    )
    print_issues(warnings)
    click.echo(f"wrote {target}")
    if personas:
        click.echo(f"added persona(s) to journeylens.yaml: {', '.join(personas)}")


@cli.command(context_settings=CONTEXT)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("demo"))
@click.option(
    "--formats",
    default=",".join(FORMATS),
    show_default=True,
    help="Comma-separated output formats.",
)
@click.option(
    "--events",
    type=click.IntRange(min=0),
    default=200_000,
    show_default=True,
    help="Demo events to generate, load, stitch and analyse (0: maps only).",
)
@click.option(
    "--serve",
    "then_serve",
    is_flag=True,
    help="Then open the demo workspace in the web application (creates a 'demo' admin with "
    "a random password, printed once).",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.pass_context
def demo(
    ctx: click.Context, directory: Path, formats: str, events: int, then_serve: bool, port: int
) -> None:
    """Create the running-shoes example in DIRECTORY, render all its maps, and run the data
    side on generated journeys: load, stitch, process map, variants, and the current-state
    map live (current-state-live.*) with its pain points found from data.

    \b
    Example:
      journeylens demo demo/
    """
    workspace = Workspace.init(directory, example="running-shoes", force=True)
    outdir = directory / "rendered"
    chosen = [f.strip() for f in formats.split(",") if f]
    written = workspace.render_all(outdir, chosen)
    for path in written:
        click.echo(str(path))
    if events:
        _, reports = workspace.demo_data(events=events, load=True)
        loaded = sum(r.accepted for r in reports)
        stitched = workspace.stitch()
        click.echo(
            f"\nloaded {loaded:,} demo events, stitched into {stitched.customers:,} customers"
        )
        result = workspace.analyze("dfg", DfgSpec(top=30))
        for fmt in [f for f in chosen if f in ("svg", "png", "pdf")]:
            target = outdir / f"process-map.{fmt}"
            written.append(
                workspace.draw_process_map(result, target, title="Running shoes: process map")
            )
            click.echo(str(target))
        top = workspace.analyze("variants", VariantsSpec(top=5, gap=30 * 86_400))
        click.echo(f"most common journeys (of {top.journeys:,}, 30-day inactivity splits):")
        for variant in top.variants:
            click.echo(f"  {variant.count:>6,}  {' > '.join(variant.activities)}")
        spec = workspace.live_spec("current-state")
        for fmt in [f for f in chosen if f in ("svg", "html", "png", "pdf")]:
            path, _, pains = workspace.render_live(spec, outdir / f"current-state-live.{fmt}")
            written.append(path)
            click.echo(str(path))
        click.echo("\n" + "\n".join(pain_lines(pains)))
    click.echo(f"\n{len(written)} file(s) in {outdir}/ - open {outdir}/current-state.html")
    if then_serve:
        password = demo_admin(directory)
        click.echo(f"\nsign in as 'demo' with password {password}")
        customers = workspace.known_identifiers("email", 1) if events else []
        if customers:
            token, _ = workspace.survey_invitation("support-call", customers[0], language="ro")
            click.echo(
                f"answer the support-call survey as {customers[0]} (in Romanian; the answer "
                f"shows on the map's call-support step): http://127.0.0.1:{port}/s/{token}"
            )
        ctx.obj = {"workspace": directory}
        ctx.invoke(serve, host="127.0.0.1", port=port, secure_cookies=False)


@cli.command(context_settings=CONTEXT)
@click.argument("target", metavar="[FILE|SOURCE]", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(
        ["csv", "tsv", "parquet", "jsonl", "xlsx", "xes", "ocel-json", "ocel-sqlite"]
    ),
    help="Format of FILE (default: from its name).",
)
@click.option("--source-id", help="Source name for a bare FILE (default: from its name).")
@click.option(
    "--object-type",
    help="OCEL: the object type whose objects are the customers (default: the type named "
    "like 'customer', else the only type).",
)
@click.option(
    "--memory-limit",
    default="1GB",
    show_default=True,
    help="DuckDB memory limit; larger loads spill to disk.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the batch counts as JSON.")
@click.pass_context
def ingest(
    ctx: click.Context,
    target: str | None,
    fmt: str | None,
    source_id: str | None,
    object_type: str | None,
    memory_limit: str,
    as_json: bool,
) -> None:
    """Load events from FILE, from the source SOURCE (sources/SOURCE.yaml), or from every source.

    Each file is one batch: all of it or nothing. Rows that fail validation go to the
    quarantine with file, row, column and reason; read = accepted + quarantined + duplicates.
    Loading the same file again adds nothing.

    \b
    Example:
      journeylens -w shoes ingest events.csv
      journeylens -w shoes ingest helpdesk.xes.gz --json
      journeylens -w shoes ingest orders.jsonocel --object-type customers
      journeylens -w shoes ingest web-events
    """
    reports = workspace_of(ctx).ingest(
        target,
        fmt=fmt,
        source_id=source_id,
        object_type=object_type,
        memory_limit=memory_limit,
        progress=_progress_line if sys.stderr.isatty() else None,
    )
    if as_json:
        data = [r.to_dict() for r in reports]
        click.echo(json.dumps(data[0] if len(data) == 1 else data, indent=2))
        return
    for report in reports:
        rate = f"{report.read / report.seconds:,.0f} rows/s" if report.seconds else ""
        click.echo(
            f"{report.file}: {report.status} - read {report.read:,} = accepted "
            f"{report.accepted:,} + quarantined {report.quarantined:,} + duplicates "
            f"{report.duplicates:,}" + (f" ({report.seconds:.1f} s, {rate})" if rate else "")
        )
        for message in report.messages:
            click.echo(f"  {message}")


def _progress_line(progress: LoadProgress) -> None:
    """One self-overwriting line on stderr, so --json on stdout stays clean."""
    if progress.seconds < 1:  # short loads print only their summary
        return
    share = f"{progress.fraction:4.0%}  " if progress.fraction is not None else ""
    approx = "" if progress.done or progress.fraction is None else "~"
    line = (
        f"{progress.file}: {share}{approx}{progress.rows:,} rows  "
        f"{progress.rows_per_second:,.0f} rows/s  {progress.seconds:.0f} s"
    )
    click.echo(f"\r{line:<100}", nl=progress.done, err=True)


@cli.command(context_settings=CONTEXT)
@click.pass_context
def batches(ctx: click.Context) -> None:
    """List the loaded batches with their counts.

    \b
    Example:
      journeylens -w shoes batches
    """
    for b in workspace_of(ctx).batches():
        click.echo(
            f"{b.batch_id:>4}  {b.finished_at}  {b.status:<7} {b.source:<16} "
            f"read {b.read:,} accepted {b.accepted:,} quarantined {b.quarantined:,} "
            f"duplicates {b.duplicates:,}  {b.file}"
        )


@cli.command(context_settings=CONTEXT)
@click.option("--batch", type=int, help="Only this batch.")
@click.option("--limit", type=int, default=50, show_default=True, help="Rows to print (0 for all).")
@click.option(
    "--export",
    "export",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the rows (with their raw text) to a CSV file to fix and load again.",
)
@click.pass_context
def quarantine(ctx: click.Context, batch: int | None, limit: int, export: Path | None) -> None:
    """List rows that were rejected, with file:row, column and reason.

    \b
    Example:
      journeylens -w shoes quarantine --batch 3
      journeylens -w shoes quarantine --export rejected.csv
    """
    import csv

    rows = workspace_of(ctx).quarantine(batch, None if (export or not limit) else limit)
    if export:
        with export.open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(["batch", "file", "row", "column", "reason", "raw"])
            for row in rows:
                out.writerow(
                    [row.batch_id, row.file, row.row, row.column or "", row.reason, row.raw or ""]
                )
        click.echo(f"wrote {len(rows)} row(s) to {export}")
        return
    for row in rows:
        click.echo(str(row))


@cli.command(context_settings=CONTEXT)
@click.option(
    "--max-strong",
    type=int,
    default=3,
    show_default=True,
    help="Flag an identifier seen with more than this many distinct e-mails, phones "
    "or CRM ids of one type (a shared device, test@example.com).",
)
@click.option(
    "--max-weak",
    type=int,
    default=10,
    show_default=True,
    help="Flag an identifier seen with more than this many distinct cookies or "
    "devices of one type.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def stitch(ctx: click.Context, max_strong: int, max_weak: int, as_json: bool) -> None:
    """Join identifiers into customers (connected components over identifier links).

    Re-running it replays the stitch from the stored identifiers.

    \b
    Example:
      journeylens -w shoes stitch
    """
    report = workspace_of(ctx).stitch(max_strong=max_strong, max_weak=max_weak)
    if as_json:
        from dataclasses import asdict

        click.echo(json.dumps(asdict(report), indent=2))
        return
    click.echo(
        f"{report.identifiers:,} identifiers -> {report.customers:,} customers "
        f"({report.flagged:,} flagged, {report.iterations} iterations, "
        f"{report.seconds:.1f} s); events attributed {report.events_attributed:,}, "
        f"unattributed {report.events_unattributed:,}"
    )


@cli.group(context_settings=CONTEXT)
def identity() -> None:
    """Inspect stitched identities.

    \b
    Example:
      journeylens -w shoes identity show email:ana@example.com
    """


@identity.command("show", context_settings=CONTEXT)
@click.argument("identifier")
@click.pass_context
def identity_show(ctx: click.Context, identifier: str) -> None:
    """Explain why records were joined: the customer and the chain of links to IDENTIFIER.

    IDENTIFIER is type:value (email:ana@example.com) or a bare value.

    \b
    Example:
      journeylens -w shoes identity show email:ana@example.com
    """
    assert ctx.parent is not None
    found = workspace_of(ctx.parent).identity(identifier)
    if found.customer_key is None:
        click.echo(
            f"{found.identifier}: not joined to any customer - flagged: {found.flagged_reason}"
        )
        return
    click.echo(
        f"{found.identifier} -> customer {found.customer_key} "
        f"({len(found.identifiers)} identifiers, {found.events:,} events)"
    )
    for target, chain in found.chains.items():
        click.echo(f"  {target}")
        for link in chain:
            click.echo(f"    {link.a} ~ {link.b}: seen together on {link.evidence}")


@cli.command(context_settings=CONTEXT)
@click.argument("identifier")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def erase(ctx: click.Context, identifier: str, yes: bool) -> None:
    """Erase the customer behind IDENTIFIER: events, identifiers, quarantined rows.

    \b
    Example:
      journeylens -w shoes erase email:ana@example.com --yes
    """
    if not yes:
        click.confirm(
            f"Erase every event and identifier of the customer behind {identifier}?", abort=True
        )
    events, identifiers = workspace_of(ctx).erase(identifier)
    click.echo(f"erased {events:,} event(s) and {identifiers:,} identifier(s)")


@cli.command("demo-data", context_settings=CONTEXT)
@click.option(
    "--events", type=int, default=100_000, show_default=True, help="How many events to generate."
)
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option("--ingest", "load", is_flag=True, help="Load the files and stitch identities.")
@click.pass_context
def demo_data(ctx: click.Context, events: int, seed: int, load: bool) -> None:
    """Generate multichannel demo journeys for the running-shoes workspace.

    Writes data/demo/{web.parquet,store.csv,contacts.csv}, ground_truth.json (the customer
    behind every identifier, the planted pain points) and sources/demo-*.yaml.

    \b
    Example:
      journeylens -w shoes demo-data --events 1000000 --seed 3 --ingest
    """
    workspace = workspace_of(ctx)
    folder, reports = workspace.demo_data(events=events, seed=seed, load=load)
    click.echo(f"wrote {events:,} events to {folder}/ (ground truth: {folder}/ground_truth.json)")
    for report in reports:
        click.echo(
            f"  {report.source}: read {report.read:,} = accepted {report.accepted:,} + "
            f"quarantined {report.quarantined:,} + duplicates {report.duplicates:,}"
        )
    if load:
        stitched = workspace.stitch()
        click.echo(
            f"  stitched {stitched.identifiers:,} identifiers into "
            f"{stitched.customers:,} customers ({stitched.flagged} flagged)"
        )


cli.add_command(analyze)
cli.add_command(serve)
cli.add_command(users)
cli.add_command(export_events)
cli.add_command(survey)


def main() -> None:
    """Console entry point."""
    sys.exit(cli.main(prog_name="journeylens", standalone_mode=True))
