"""Live maps from the command line: ``render MAP --live`` and ``analyze painpoints|moments|live``.

The options that narrow a live map (segment, channels, period) and say what counts as a
contact are shared by every command here, so a map drawn and its pain points listed agree.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from journeylens.analyses.binding import Scope
from journeylens.analyses.common import parse_duration, plain
from journeylens.analyses.conformance import Conformance
from journeylens.analyses.drivers import Drivers, DriversSpec
from journeylens.analyses.live import LiveMap, LiveSpec
from journeylens.analyses.markov import MarkovModel, MarkovSpec, what_if
from journeylens.analyses.painpoints import Moments, PainPoints
from journeylens.analyses.segments import Segments, SegmentsSpec, write_members
from journeylens.analyses.support import DeflectionSpec, SupportDemand
from journeylens.cli.analyze import CONTEXT, analyze, json_option
from journeylens.render import FORMATS
from journeylens.workspace import Workspace


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: expected a date like 2025-03-01", param_hint=name
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def scope_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--segment, --persona, --members, --channel, --since, --until, --within, --long-wait."""
    options = [
        click.option(
            "--segment",
            metavar="SELECTOR",
            help="Only customers with a matching event, e.g. 'attr.segment == \"beginner\"'.",
        ),
        click.option(
            "--persona",
            metavar="ID",
            help="Only the persona's members (its segment selector or members file in "
            "journeylens.yaml).",
        ),
        click.option(
            "--members",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Only the customers in this Parquet file (a segment saved by "
            "'analyze segments --save').",
        ),
        click.option(
            "--channel",
            "channels",
            multiple=True,
            metavar="CHANNEL",
            help="Only events on this channel (repeatable).",
        ),
        click.option("--since", metavar="DATE", help="Only events from this date (UTC)."),
        click.option("--until", metavar="DATE", help="Only events before this date (UTC)."),
        click.option(
            "--within",
            default="7d",
            show_default=True,
            metavar="DURATION",
            help="How long after a step a support contact counts as caused by it.",
        ),
        click.option(
            "--long-wait",
            default="5m",
            show_default=True,
            metavar="DURATION",
            help="A recorded wait (attr.wait_seconds) longer than this is a long wait.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _scope(
    workspace: Workspace,
    segment: str | None,
    persona: str | None,
    members: Path | None,
    channels: tuple[str, ...],
    since: str | None,
    until: str | None,
) -> Scope:
    if persona is not None:
        found = workspace.settings.persona(persona)
        if found is None:
            raise click.BadParameter(
                f"no persona {persona!r} in journeylens.yaml", param_hint="--persona"
            )
        if not found.segment and not found.members:
            raise click.BadParameter(
                f"persona {persona!r} has neither a segment selector nor a members file",
                param_hint="--persona",
            )
        if segment is not None or members is not None:
            raise click.UsageError("give --segment/--members or --persona, not both")
        segment = found.segment
        members = workspace.root / found.members if found.members else None
    return Scope(
        segment=segment,
        members=members,
        channels=tuple(channels),
        since=_when(since, "--since"),
        until=_when(until, "--until"),
    )


def _spec(
    workspace: Workspace,
    map_ref: str,
    within: str,
    long_wait: str,
    **narrowing: Any,
) -> LiveSpec:
    scope = _scope(workspace, **narrowing)
    return workspace.live_spec(
        map_ref,
        scope=scope,
        within=parse_duration(within) or 7 * 86_400.0,
        long_wait=parse_duration(long_wait) or 300.0,
    )


def _context(ctx: click.Context) -> tuple[Workspace, Any, dict[str, Any]]:
    workspace = Workspace.open(ctx.obj["workspace"])
    engine = ctx.obj.get("engine", "duckdb")
    options = {k: v for k, v in ctx.obj.get("spark", {}).items() if v}
    return workspace, engine, options


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def live_lines(measured: LiveMap) -> list[str]:
    as_of = measured.data_as_of.isoformat() if measured.data_as_of else "-"
    lines = [
        f"{measured.map_id}: {measured.customers:,} customers, data as of {as_of}",
        f"{'step':<26} {'customers':>9} {'share':>6} {'to next':>8} {'drop':>6} "
        f"{'contact':>8} {'emotion':>7}",
    ]
    for s in measured.steps:
        if not s.bound:
            lines.append(f"{s.step:<26} (not bound to data)")
            continue
        emotion = "-" if s.emotion is None else f"{s.emotion:+.1f}"
        lines.append(
            f"{s.step:<26} {s.customers:>9,} {_pct(s.share):>6} {_pct(s.conversion):>8} "
            f"{_pct(s.dropoff):>6} {_pct(s.contact_rate):>8} {emotion:>7}"
        )
    if measured.unmatched:
        lines.append("no matching events: " + ", ".join(measured.unmatched))
    return lines


def pain_lines(pains: PainPoints) -> list[str]:
    lines = [f"pain points of {pains.map_id} ({pains.customers:,} customers), worst first:"]
    for rank, point in enumerate(pains.ranked, start=1):
        lines.append(
            f"{rank:>2}. {point.step}: {_pct(point.score)} of customers hurt "
            f"({point.affected:,} of {point.customers:,} at the step)"
        )
        lines.extend(f"      - {signal.evidence}" for signal in point.signals)
    if not pains.ranked:
        lines.append("  none beyond chance")
    return lines


@analyze.command("live", context_settings=CONTEXT)
@click.argument("map_ref", metavar="MAP")
@scope_options
@json_option
@click.pass_context
def live_command(ctx: click.Context, /, map_ref: str, as_json: bool, **scope: Any) -> None:
    """The live map: reach, conversion, drop-off, contacts and satisfaction on every step.

    \b
    Example:
      journeylens -w shoes analyze live current-state
      journeylens -w shoes analyze live current-state --segment 'attr.device == "mobile"' --json
    """
    workspace, engine, options = _context(ctx)
    measured, _ = workspace.live(_spec(workspace, map_ref, **scope), engine=engine, **options)
    if as_json:
        _print_json(measured.to_dict())
    else:
        click.echo("\n".join(live_lines(measured)))


@analyze.command("painpoints", context_settings=CONTEXT)
@click.argument("map_ref", metavar="MAP")
@scope_options
@json_option
@click.pass_context
def painpoints_command(ctx: click.Context, /, map_ref: str, as_json: bool, **scope: Any) -> None:
    """Pain points found from data: the map's steps ranked by customers hurt, with evidence.

    Signals: abnormal drop-off, support contacts after the step, dissatisfied survey answers,
    loops back to earlier steps and long recorded waits (see docs/live-maps.md).

    \b
    Example:
      journeylens -w shoes analyze painpoints current-state --json
    """
    workspace, engine, options = _context(ctx)
    _, pains = workspace.live(_spec(workspace, map_ref, **scope), engine=engine, **options)
    if as_json:
        _print_json(pains.to_dict())
    else:
        click.echo("\n".join(pain_lines(pains)))


@analyze.command("moments", context_settings=CONTEXT)
@click.argument("map_ref", metavar="MAP")
@scope_options
@json_option
@click.pass_context
def moments_command(ctx: click.Context, /, map_ref: str, as_json: bool, **scope: Any) -> None:
    """Moments of truth: steps whose reach most changes conversion or coming back.

    \b
    Example:
      journeylens -w shoes analyze moments current-state
    """
    workspace, engine, options = _context(ctx)
    spec = _spec(workspace, map_ref, **scope)
    result: Moments = workspace.moments(spec, engine=engine, **options)
    if as_json:
        _print_json(result.to_dict())
        return
    click.echo(f"{'step':<26} {'outcome':<10} {'reached':>8} {'not':>8} {'diff':>7} odds ratio")
    for m in result.moments:
        flag = "" if m.significant else "  (not significant)"
        note = f"  [{'; '.join(m.warnings)}]" if m.warnings else ""
        click.echo(
            f"{m.step:<26} {m.outcome:<10} {_pct(m.reached_rate):>8} "
            f"{_pct(m.not_reached_rate):>8} {m.difference * 100:>+6.1f} "
            f"{m.odds_ratio:.2f} ({m.low:.2f}-{m.high:.2f}){flag}{note}"
        )


@analyze.command("drivers", context_settings=CONTEXT)
@click.argument("map_ref", metavar="MAP")
@click.option(
    "--target",
    type=click.Choice(["converted", "churned"]),
    default="converted",
    show_default=True,
    help="What the drivers raise or lower.",
)
@click.option(
    "--outcome",
    metavar="SELECTOR",
    help="What converting means (default: reaching the map's purchase step).",
)
@click.option(
    "--adjust",
    type=click.Choice(["length", "all"]),
    default="length",
    show_default=True,
    help="Control each driver for journey length only, or for all drivers at once.",
)
@click.option(
    "--min-support",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Customers a driver needs on each side.",
)
@click.option("--top", type=click.IntRange(min=1), default=15, show_default=True)
@scope_options
@json_option
@click.pass_context
def drivers_command(
    ctx: click.Context,
    /,
    map_ref: str,
    target: str,
    outcome: str | None,
    adjust: str,
    min_support: int,
    top: int,
    as_json: bool,
    within: str,
    long_wait: str,
    **narrowing: Any,
) -> None:
    """Drivers: which channels, touchpoints, devices and attributes raise or lower conversion
    (or churn), as odds ratios with 95% intervals, controlling for journey length.

    \b
    Example:
      journeylens -w shoes analyze drivers current-state
      journeylens -w shoes analyze drivers current-state --target churned --json
    """
    workspace, engine, options = _context(ctx)
    spec = DriversSpec(
        journey_map=workspace.map(map_ref),
        scope=_scope(workspace, **narrowing),
        outcome=outcome,
        target=target,  # type: ignore[arg-type]
        adjust=adjust,  # type: ignore[arg-type]
        min_support=min_support,
        contact_channels=workspace.contact_channels(),
    )
    result: Drivers = workspace.analyze("drivers", spec, engine=engine, **options)
    if as_json:
        _print_json(result.to_dict())
        return
    click.echo(
        f"{result.target}: {_pct(result.target_rate)} of {result.population:,} "
        f"{result.unit}s; {len(result.drivers)} drivers"
        + (f" (fitted on a sample of {result.fitted:,})" if result.sampled else "")
    )
    for driver in result.drivers[:top]:
        click.echo(f"  {driver.sentence}")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


@analyze.command("segments", context_settings=CONTEXT)
@click.argument("map_ref", metavar="MAP")
@click.option(
    "--k",
    type=click.IntRange(min=2, max=20),
    help="Number of segments (default: 3-7 by silhouette).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the clustering.")
@click.option(
    "--save",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each segment's customers to DIR/segment-<id>.parquet (use with --members).",
)
@scope_options
@json_option
@click.pass_context
def segments_command(
    ctx: click.Context,
    /,
    map_ref: str,
    k: int | None,
    seed: int,
    save: Path | None,
    as_json: bool,
    within: str,
    long_wait: str,
    **narrowing: Any,
) -> None:
    """Segments: customers clustered by their journeys (channels, stage reached, time,
    contacts, satisfaction, value), each with its size and a description in words.

    \b
    Example:
      journeylens -w shoes analyze segments current-state --save segments/
      journeylens -w shoes render current-state --live --members segments/segment-1.parquet \
        -o segment-1.png
    """
    workspace, engine, options = _context(ctx)
    spec = SegmentsSpec(
        journey_map=workspace.map(map_ref),
        scope=_scope(workspace, **narrowing),
        k=k,
        seed=seed,
        contact_channels=workspace.contact_channels(),
    )
    result: Segments = workspace.analyze("segments", spec, engine=engine, **options)
    saved = []
    if save is not None:
        saved = [
            write_members(result, s.id, save / f"segment-{s.id}.parquet") for s in result.segments
        ]
    if as_json:
        data = result.to_dict()
        data["saved"] = [str(path) for path in saved]
        _print_json(data)
        return
    click.echo(f"{result.k} segments of {result.rows:,} {result.unit}s ({result.chosen_by})")
    for segment in result.segments:
        click.echo(f"  {segment.id}. {segment.label}: {segment.size:,} ({_pct(segment.share)})")
        click.echo(f"     {segment.description}")
    for path in saved:
        click.echo(str(path))


@analyze.command("support", context_settings=CONTEXT)
@click.argument("map_ref", metavar="MAP")
@click.option(
    "--step",
    "steps",
    multiple=True,
    metavar="STEP",
    help="Self-service step to judge (repeatable; default: every step on a channel of kind "
    "self_service).",
)
@scope_options
@json_option
@click.pass_context
def support_command(
    ctx: click.Context,
    /,
    map_ref: str,
    steps: tuple[str, ...],
    as_json: bool,
    within: str,
    long_wait: str,
    **narrowing: Any,
) -> None:
    """Support demand: do FAQ and knowledge-base steps prevent contacts (deflection)?

    Readers of each self-service step are compared with the other customers of its stage:
    their contact rates within --within after reading (or entering the stage). Contacts per
    step and their reasons are in 'analyze live'.

    \b
    Example:
      journeylens -w shoes analyze support current-state
    """
    workspace, engine, options = _context(ctx)
    chosen = steps or workspace.self_service_steps(map_ref)
    if not chosen:
        raise click.UsageError(f"{map_ref} has no bound step on a self-service channel: use --step")
    spec = DeflectionSpec(
        journey_map=workspace.map(map_ref),
        self_service=tuple(chosen),
        scope=_scope(workspace, **narrowing),
        contact_channels=workspace.contact_channels(),
        within=parse_duration(within) or 7 * 86_400.0,
    )
    result: SupportDemand = workspace.analyze("support", spec, engine=engine, **options)
    if as_json:
        _print_json(result.to_dict())
        return
    for d in result.steps:
        click.echo(
            f"{d.step}: {_pct(d.rate_with)} of {d.readers:,} readers contacted support vs "
            f"{_pct(d.rate_without)} of {d.others:,} others in {d.stage} - {d.verdict} "
            f"(odds ratio {d.odds_ratio:.2f}, 95% CI {d.low:.2f}-{d.high:.2f})"
        )


@analyze.command("conformance", context_settings=CONTEXT)
@click.argument("map_ref", metavar="MAP")
@click.option("--path", "path_id", metavar="ID", help="The map's path to check (default: happy).")
@click.option(
    "--late-after",
    metavar="DURATION",
    help="A designed move slower than this is a late handoff (default: its own p90).",
)
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True)
@scope_options
@json_option
@click.pass_context
def conformance_command(
    ctx: click.Context,
    /,
    map_ref: str,
    path_id: str | None,
    late_after: str | None,
    top: int,
    as_json: bool,
    within: str,
    long_wait: str,
    **narrowing: Any,
) -> None:
    """Conformance: do real journeys follow the map's designed path, and where do they leave it?

    \b
    Example:
      journeylens -w shoes analyze conformance future-state
      journeylens -w shoes analyze conformance current-state --path size-exchange --json
    """
    workspace, engine, options = _context(ctx)
    spec = workspace.conformance_spec(
        map_ref,
        scope=_scope(workspace, **narrowing),
        path=path_id,
        late_after=late_after,
        repeat_within=parse_duration(within) or 7 * 86_400.0,
        top=top,
    )
    result: Conformance = workspace.analyze("conformance", spec, engine=engine, **options)
    if as_json:
        _print_json(result.to_dict())
        return
    click.echo(
        f"{result.conforming:,} of {result.journeys:,} journeys ({_pct(result.conformance)}) "
        f"follow the designed path {result.path_id or ''}: {' > '.join(result.path)}"
    )
    click.echo(f"{'step':<26} {'reached':>8} {'fitness':>8} {'off-design':>10}")
    for step_id in result.path:
        fit = result.steps.get(step_id)
        if fit is not None:
            click.echo(
                f"{step_id:<26} {fit.reached:>8,} {_pct(fit.fitness):>8} "
                f"{_pct(fit.from_undesigned_share):>10}"
            )
    click.echo("top deviations:")
    for d in result.deviations:
        where = f"{d.from_step} > {d.step}" if d.from_step else d.step
        click.echo(f"  {d.journeys:>8,}  {d.label}: {where}")


@analyze.command("whatif", context_settings=CONTEXT)
@click.argument("map_ref", metavar="MAP")
@click.option(
    "--step",
    "changes",
    multiple=True,
    metavar="STEP=DROPOFF",
    help="A step's drop-off to try, e.g. pay-online=0.2 (repeatable).",
)
@click.option(
    "--future",
    metavar="MAP",
    help="Predict the future-state map (its steps that exist now; removed ones are bypassed).",
)
@scope_options
@json_option
@click.pass_context
def whatif_command(
    ctx: click.Context,
    /,
    map_ref: str,
    changes: tuple[str, ...],
    future: str | None,
    as_json: bool,
    within: str,
    long_wait: str,
    **narrowing: Any,
) -> None:
    """What-if: a Markov model of the map's steps; predicted conversion, each step's removal
    effect (attribution) and the conversions a lower drop-off would bring.

    \b
    Example:
      journeylens -w shoes analyze whatif current-state --step pay-online=0.2
      journeylens -w shoes analyze whatif current-state --future future-state
    """
    workspace, engine, options = _context(ctx)
    dropoffs: dict[str, float] = {}
    for change in changes:
        step, _, value = change.partition("=")
        try:
            rate = float(value)
        except ValueError:
            raise click.BadParameter(
                f"{change!r}: expected STEP=DROPOFF, e.g. pay-online=0.2", param_hint="--step"
            ) from None
        if not 0 <= rate <= 1:
            raise click.BadParameter(
                f"{change!r}: a drop-off is between 0 and 1", param_hint="--step"
            )
        dropoffs[step] = rate
    spec = MarkovSpec(
        workspace.map(map_ref),
        scope=_scope(workspace, **narrowing),
        future=workspace.map(future) if future else None,
        future_dropoffs=dropoffs if future else {},
    )
    model: MarkovModel = workspace.analyze("markov", spec, engine=engine, **options)
    tried = [] if future else [what_if(model, step, rate) for step, rate in dropoffs.items()]
    if as_json:
        data = model.to_dict()
        data["what_if"] = [plain(w) for w in tried]
        _print_json(data)
        return
    click.echo(
        f"{model.journeys:,} journeys; conversion ({model.conversion_step}) observed "
        f"{_pct(model.observed_rate)}, predicted {_pct(model.predicted_rate)}"
    )
    click.echo("removal effects (conversion lost without the step):")
    for effect in model.removal_effects[:10]:
        click.echo(
            f"  {effect.name:<26} {effect.effect * 100:>6.1f} pts  share {_pct(effect.share)}"
        )
    for w in tried:
        click.echo(
            f"if {w.step}'s drop-off went from {_pct(w.dropoff_now)} to {_pct(w.dropoff)}: "
            f"conversion {_pct(w.conversion_rate_now)} -> {_pct(w.conversion_rate)}, "
            f"{w.change:+,.0f} conversions"
        )
    if model.future is not None:
        f = model.future
        click.echo(
            f"future state {f.map_id}: conversion {_pct(f.conversion_rate_now)} -> "
            f"{_pct(f.conversion_rate)} ({f.change:+,.0f} conversions); "
            f"bypassed: {', '.join(f.bypassed) or '-'}; "
            f"no data yet: {', '.join(f.unmeasured) or '-'}"
        )


def render_live(
    workspace: Workspace,
    ctx: click.Context,
    map_ref: str,
    output: Path,
    fmt: str | None,
    scope: dict[str, Any],
) -> Path:
    """``render MAP --live``: the map with its data lanes; pain points printed too."""
    _, engine, options = _context(ctx)
    spec = _spec(workspace, map_ref, **scope)
    path, measured, _ = workspace.render_live(spec, output, fmt, engine=engine, **options)
    if measured.unmatched:
        click.echo("steps with no matching events: " + ", ".join(measured.unmatched), err=True)
    return path


__all__ = ["FORMATS", "render_live", "scope_options"]
