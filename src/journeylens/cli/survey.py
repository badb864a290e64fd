"""``journeylens survey``: write surveys, hand out their links, mail them, read the results."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict
from pathlib import Path

import click

from journeylens.cli.common import CONTEXT, print_issues, workspace_of
from journeylens.errors import WorkspaceError
from journeylens.surveying import SmtpSettings, SurveyResults

BASE_URL_ENV = "JOURNEYLENS_BASE_URL"
PASSWORD_ENV = "JOURNEYLENS_SMTP_PASSWORD"
KINDS = ("nps", "csat", "ces", "open")


def _base_url(value: str | None) -> str:
    return (value or os.environ.get(BASE_URL_ENV) or "http://127.0.0.1:8000").rstrip("/")


@click.group(context_settings=CONTEXT)
def survey() -> None:
    """Short questionnaires per step: links, QR codes, e-mail, answers on the live map.

    \b
    Example:
      journeylens -w shoes survey create after-call --kind csat --kind open --about call-support
      journeylens -w shoes survey link after-call --to email:ana@example.com --qr ana.svg
      journeylens -w shoes survey send after-call --recipients called.csv --smtp-host mail
      journeylens -w shoes survey results after-call
    """


@survey.command("list")
@click.pass_context
def list_surveys(ctx: click.Context) -> None:
    """The workspace's surveys, with links issued and answers received."""
    workspace = workspace_of(ctx)
    for item in workspace.surveys():
        results = workspace.survey_results(item.id)
        kinds = ", ".join(q.kind for q in item.questions)
        click.echo(
            f"  {item.id}  ({kinds}; about {item.about or '-'}; {'/'.join(item.languages)})  "
            f"{results.issued} issued, {results.answered} answered"
        )


@survey.command()
@click.argument("survey_id")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(KINDS),
    help="A starter question (repeat; default: csat and open).",
)
@click.option("--about", help="The map step or touchpoint the answers are about.")
@click.option("--touchpoint", help="The touchpoint where the survey is answered.")
@click.option("--language", "languages", multiple=True, help="A language to write it in (repeat).")
@click.option("--name", help="The survey's name (default: its id).")
@click.pass_context
def create(
    ctx: click.Context,
    survey_id: str,
    kinds: tuple[str, ...],
    about: str | None,
    touchpoint: str | None,
    languages: tuple[str, ...],
    name: str | None,
) -> None:
    """Write surveys/SURVEY_ID.yaml with starter questions, ready to edit and send."""
    path = workspace_of(ctx).create_survey(
        survey_id,
        kinds=kinds or ("csat", "open"),
        about=about,
        touchpoint=touchpoint,
        languages=languages or ("en",),
        name=name,
    )
    click.echo(f"wrote {path}")


@survey.command()
@click.argument("survey_ids", nargs=-1)
@click.pass_context
def validate(ctx: click.Context, survey_ids: tuple[str, ...]) -> None:
    """Check surveys (all, or SURVEY_IDS) with file:line:column for every problem."""
    workspace = workspace_of(ctx)
    paths = [workspace.survey_path(s) for s in survey_ids] if survey_ids else None
    checked = workspace.check_surveys(paths)
    errors = print_issues([i for c in checked for i in c.issues])
    click.echo(f"{len(checked)} survey(s), {errors} error(s)")
    if errors:
        ctx.exit(1)


@survey.command()
@click.argument("survey_id")
@click.option("--to", "identifier", required=True, help="The customer, as type:value.")
@click.option("--about", help="The step or touchpoint asked about (default: the survey's).")
@click.option("--language", help="The language the page opens in.")
@click.option("--base-url", help=f"Where the app is served (default: ${BASE_URL_ENV}).")
@click.option(
    "--qr",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a QR code of the link (.svg or .png).",
)
@click.option("--embed", is_flag=True, help="Also print an iframe snippet for a web page.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def link(
    ctx: click.Context,
    survey_id: str,
    identifier: str,
    about: str | None,
    language: str | None,
    base_url: str | None,
    qr: Path | None,
    embed: bool,
    as_json: bool,
) -> None:
    """A personal link for one customer: one answer, tied to them and the step, sealed."""
    workspace = workspace_of(ctx)
    token, invitation = workspace.survey_invitation(
        survey_id, identifier, about=about, language=language
    )
    url = f"{_base_url(base_url)}/s/{token}"
    _, snippet = workspace.survey_link_extras(url)
    if qr is not None:
        workspace.write_survey_qr(url, qr)
    if as_json:
        data = {"url": url, "about": invitation.about, "expires": invitation.expires}
        click.echo(json.dumps(data | ({"embed": snippet} if embed else {})))
        return
    click.echo(url)
    if qr is not None:
        click.echo(f"QR code: {qr}")
    if embed:
        click.echo(snippet)


@survey.command()
@click.argument("survey_id")
@click.option("--to", "addresses", multiple=True, help="An e-mail address (repeat).")
@click.option(
    "--recipients",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV with an 'email' column, optionally 'about' and 'language'.",
)
@click.option("--base-url", help=f"Where the app is served (default: ${BASE_URL_ENV}).")
@click.option("--smtp-host", default="localhost", show_default=True)
@click.option("--smtp-port", type=int, default=25, show_default=True)
@click.option("--smtp-user", help=f"SMTP login; the password is read from ${PASSWORD_ENV}.")
@click.option("--starttls", is_flag=True, help="Upgrade the connection with STARTTLS.")
@click.option("--ssl", "use_ssl", is_flag=True, help="Connect with TLS from the start.")
@click.option("--from", "sender", default="journeylens@localhost", show_default=True)
@click.option("--from-name", help="Display name of the sender.")
@click.option(
    "--dry-run",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each mail as an .eml file into this folder instead of sending.",
)
@click.pass_context
def send(
    ctx: click.Context,
    survey_id: str,
    addresses: tuple[str, ...],
    recipients: Path | None,
    base_url: str | None,
    smtp_host: str,
    smtp_port: int,
    smtp_user: str | None,
    starttls: bool,
    use_ssl: bool,
    sender: str,
    from_name: str | None,
    dry_run: Path | None,
) -> None:
    """E-mail personal links: one mail per recipient, the first question inside the mail."""
    wanted: list[tuple[str, str | None, str | None]] = [(a, None, None) for a in addresses]
    if recipients is not None:
        with recipients.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if "email" not in (reader.fieldnames or []):
                raise WorkspaceError(f"{recipients}: expected an 'email' column")
            for row in reader:
                if (row.get("email") or "").strip():
                    wanted.append(
                        (row["email"].strip(), row.get("about") or None, row.get("language"))
                    )
    if not wanted:
        raise WorkspaceError("nobody to send to: give --to ADDRESS or --recipients FILE.csv")
    smtp = SmtpSettings(
        host=smtp_host,
        port=smtp_port,
        sender=sender,
        sender_name=from_name,
        username=smtp_user,
        password=os.environ.get(PASSWORD_ENV),
        starttls=starttls,
        ssl=use_ssl,
    )
    count, _ = workspace_of(ctx).send_survey(
        survey_id, wanted, base_url=_base_url(base_url), smtp=smtp, dry_run=dry_run
    )
    if dry_run is not None:
        click.echo(f"dry run: {count} mail(s) written to {dry_run} (nothing sent)")
    else:
        click.echo(f"sent {count} invitation(s) through {smtp_host}:{smtp_port}")


@survey.command()
@click.argument("survey_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every answer to this CSV file (no identifiers).",
)
@click.pass_context
def results(ctx: click.Context, survey_id: str, as_json: bool, csv_path: Path | None) -> None:
    """Response rates and answers per step asked about."""
    workspace = workspace_of(ctx)
    found = workspace.survey_results(survey_id)
    if csv_path is not None:
        csv_path.write_text(workspace.survey_responses_csv(survey_id), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(asdict(found), ensure_ascii=False, indent=2))
        return
    for line in result_lines(found):
        click.echo(line)
    if csv_path is not None:
        click.echo(f"answers written to {csv_path}")


@survey.command()
@click.pass_context
def load(ctx: click.Context) -> None:
    """Move answers not yet in the event store into it (the web app does this on answer)."""
    report = workspace_of(ctx).flush_survey_answers()
    click.echo(
        f"{report.answers} answer(s) loaded in {len(report.batches)} batch(es); "
        f"{report.attached} event(s) joined to their customer"
    )
    for survey_id, count in report.waiting.items():
        click.echo(
            f"{count} answer(s) to survey {survey_id!r} wait: its file is missing or invalid "
            "(journeylens survey validate)",
            err=True,
        )


def result_lines(found: SurveyResults) -> list[str]:
    lines = [
        f"{found.survey}: {found.issued} link(s) issued, {found.answered} answered"
        + (f", {found.pending} not yet in the event store" if found.pending else "")
    ]
    for part in [found.total, *found.by_about] if len(found.by_about) > 1 else found.by_about:
        rate = f"{part.response_rate:.0%}" if part.response_rate is not None else "-"
        lines.append(f"  {part.about or 'all'}: {part.answered} of {part.issued} answered ({rate})")
        for score in part.scores:
            headline = {"nps": "NPS", "csat": "satisfied", "ces": "easy"}[score.kind]
            unit = "" if score.kind == "nps" else "%"
            lines.append(
                f"    {score.kind.upper()} mean {score.mean} · {headline} {score.headline:g}{unit}"
                f" · n={score.answers}"
            )
        for question, counts in part.choices.items():
            shown = ", ".join(f"{c} {n}" for c, n in counts.items())
            lines.append(f"    {question}: {shown}")
        if part.texts:
            lines.append(f"    {part.texts} comment(s); languages: {part.languages}")
    return lines
