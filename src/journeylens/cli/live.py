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
from journeylens.analyses.common import parse_duration
from journeylens.analyses.live import LiveMap, LiveSpec
from journeylens.analyses.painpoints import Moments, PainPoints
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
    """--segment, --channel, --since, --until, --within and --long-wait."""
    options = [
        click.option(
            "--segment",
            metavar="SELECTOR",
            help="Only customers with a matching event, e.g. 'attr.segment == \"beginner\"'.",
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


def _spec(
    workspace: Workspace,
    map_ref: str,
    segment: str | None,
    channels: tuple[str, ...],
    since: str | None,
    until: str | None,
    within: str,
    long_wait: str,
) -> LiveSpec:
    scope = Scope(
        segment=segment,
        channels=tuple(channels),
        since=_when(since, "--since"),
        until=_when(until, "--until"),
    )
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
        click.echo(json.dumps(measured.to_dict(), indent=2, ensure_ascii=False))
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
        click.echo(json.dumps(pains.to_dict(), indent=2, ensure_ascii=False))
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
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
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
