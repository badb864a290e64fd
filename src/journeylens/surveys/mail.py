"""Invitation e-mails: a plain-text and an HTML part, sent over SMTP or written as files.

The HTML part puts the first scored question in the mail itself (one button per score, each a
link that opens the survey with that score chosen), the pattern respondents know from every
service e-mail. Every customer- or author-supplied text is escaped. A dry run writes each
message as an ``.eml`` file instead of sending, so the mail can be opened and checked first.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

from journeylens.model.common import direction_of
from journeylens.model.survey import Survey

DEFAULT_SUBJECT = "A quick question about your experience"
DEFAULT_BODY = "We would like to hear how it went. It takes less than a minute."


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "journeylens@localhost"
    sender_name: str | None = None
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30


@dataclass(frozen=True)
class Outgoing:
    """One invitation to send: the address, the link, the language to write in."""

    address: str
    link: str
    language: str


def compose(survey: Survey, outgoing: Outgoing, settings: SmtpSettings) -> EmailMessage:
    language = outgoing.language
    invitation = survey.invitation
    subject = survey.text(invitation.subject, language) if invitation else DEFAULT_SUBJECT
    body = survey.text(invitation.body, language) if invitation else DEFAULT_BODY
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((settings.sender_name or "", settings.sender))
    message["To"] = outgoing.address
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message["Content-Language"] = language
    message.set_content(f"{body}\n\n{outgoing.link}\n")
    message.add_alternative(_html(survey, outgoing, body), subtype="html")
    return message


def _html(survey: Survey, outgoing: Outgoing, body: str) -> str:
    language = outgoing.language
    link = html.escape(outgoing.link, quote=True)
    parts = [
        f'<!doctype html><html lang="{html.escape(language)}" dir="{direction_of(language)}">',
        '<body style="font-family:sans-serif;line-height:1.5">',
        f"<p>{html.escape(body)}</p>",
    ]
    scored = next((q for q in survey.questions if q.scale is not None), None)
    if scored is not None and scored.scale is not None:
        low, high = scored.scale
        parts.append(f"<p><strong>{html.escape(survey.text(scored.text, language))}</strong></p>")
        buttons = "".join(
            f'<a href="{link}?{html.escape(scored.id)}={n}" style="display:inline-block;'
            "min-width:2em;padding:6px;margin:2px;border:1px solid #888;border-radius:4px;"
            f'text-align:center;text-decoration:none">{n}</a>'
            for n in range(low, high + 1)
        )
        parts.append(f"<p>{buttons}</p>")
    parts.append(f'<p><a href="{link}">{link}</a></p></body></html>')
    return "".join(parts)


def send(
    messages: Sequence[EmailMessage], settings: SmtpSettings, *, dry_run: Path | None = None
) -> list[Path]:
    """Send over one SMTP connection, or with ``dry_run`` write ``.eml`` files there."""
    if dry_run is not None:
        dry_run.mkdir(parents=True, exist_ok=True)
        written = []
        for index, message in enumerate(messages, start=1):
            path = dry_run / f"{index:05d}.eml"
            path.write_bytes(bytes(message))
            written.append(path)
        return written
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if settings.ssl:
        client = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        if settings.starttls:
            client.starttls(context=context)
        if settings.username:
            client.login(settings.username, settings.password or "")
        for message in messages:
            client.send_message(message)
    return []
