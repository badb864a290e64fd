"""Survey invitations by e-mail, received by a real SMTP server (aiosmtpd on localhost)."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from journeylens.cli import cli
from journeylens.workspace import Workspace

SURVEY = "support-call"


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[_Inbox, int]]:
    handler = _Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def shop(tmp_path: Path) -> Workspace:
    return Workspace.init(tmp_path / "shoes", example="running-shoes")


def _run(shop: Workspace, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["-w", str(shop.root), "survey", *args])
    assert result.exit_code == 0, result.output
    return result


def test_invitations_arrive_in_each_recipients_language(
    shop: Workspace, inbox: tuple[_Inbox, int], tmp_path: Path
) -> None:
    server, port = inbox
    recipients = tmp_path / "called.csv"
    recipients.write_text(
        "email,language,about\nAna@Example.com,ro,\ndana@example.co.il,he,look-for-returns-info\n",
        encoding="utf-8",
    )
    result = _run(
        shop, "send", SURVEY, "--recipients", str(recipients), "--to", "sam@example.com",
        "--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--from", "cx@shoes.example",
        "--from-name", "Shoes <CX>", "--base-url", "https://shoes.example/",
    )  # fmt: skip
    assert "sent 3 invitation(s)" in result.output
    by_address = {rcpt[0]: message for _, rcpt, message in server.messages}
    assert sorted(by_address) == ["Ana@Example.com", "dana@example.co.il", "sam@example.com"]
    assert {sender for sender, _, _ in server.messages} == {"cx@shoes.example"}

    romanian, hebrew, english = (
        by_address[a] for a in ("Ana@Example.com", "dana@example.co.il", "sam@example.com")
    )
    assert romanian["Subject"] == "Cum a fost apelul?"
    assert hebrew["Subject"] == "איך הייתה השיחה?"
    assert english["Subject"] == "How was your call?"
    assert '"Shoes <CX>"' in english["From"]

    html = hebrew.get_body(("html",)).get_content()
    assert 'dir="rtl"' in html and 'lang="he"' in html
    plain = hebrew.get_body(("plain",)).get_content()
    link = next(line for line in plain.splitlines() if line.startswith("https://"))
    assert link.startswith("https://shoes.example/s/")
    # One button per CSAT score (1..5) in the mail, each opening the survey with it chosen.
    for score in range(1, 6):
        assert f'href="{link}?csat={score}"' in html
    survey, invitation, answered = shop.open_survey_token(link.rsplit("/", 1)[1])
    assert survey.id == SURVEY and not answered
    assert invitation.identifier == "email:dana@example.co.il"
    assert invitation.about == "look-for-returns-info"
    assert invitation.language == "he"

    ana = romanian.get_body(("plain",)).get_content()
    ana_link = next(line for line in ana.splitlines() if line.startswith("https://"))
    assert shop.open_survey_token(ana_link.rsplit("/", 1)[1])[1].identifier == (
        "email:ana@example.com"
    )
    assert shop.survey_results(SURVEY).issued == 3


def test_a_dry_run_writes_the_mails_and_sends_nothing(
    shop: Workspace, inbox: tuple[_Inbox, int], tmp_path: Path
) -> None:
    server, port = inbox
    out = tmp_path / "outbox"
    result = _run(
        shop, "send", SURVEY, "--to", "ana@example.com", "--smtp-host", "127.0.0.1",
        "--smtp-port", str(port), "--dry-run", str(out),
    )  # fmt: skip
    assert "nothing sent" in result.output
    assert server.messages == []
    files = sorted(out.glob("*.eml"))
    assert len(files) == 1
    written = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert written["To"] == "ana@example.com"
    assert shop.survey_results(SURVEY).issued == 0


def test_survey_text_in_a_mail_is_escaped(shop: Workspace, inbox: tuple[_Inbox, int]) -> None:
    server, port = inbox
    path, text = shop.survey_text(SURVEY)
    path.write_text(
        text.replace("en: How was your call?", 'en: "<b>Call</b> & you"'), encoding="utf-8"
    )
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "en: You called our support line recently. It takes less than a minute to tell us how"
            " it went.",
            'en: "<img src=x onerror=alert(1)>"',
        ),
        encoding="utf-8",
    )
    _run(
        shop, "send", SURVEY, "--to", "x@example.com", "--smtp-host", "127.0.0.1",
        "--smtp-port", str(port),
    )  # fmt: skip
    message = server.messages[0][2]
    assert message["Subject"] == "<b>Call</b> & you"
    html = message.get_body(("html",)).get_content()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_sending_needs_recipients_and_a_reachable_server(shop: Workspace) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["-w", str(shop.root), "survey", "send", SURVEY])
    assert result.exit_code == 1 and "nobody to send to" in result.output
    port = _free_port()  # nothing listens there
    result = runner.invoke(
        cli,
        ["-w", str(shop.root), "survey", "send", SURVEY, "--to", "a@example.com",
         "--smtp-host", "127.0.0.1", "--smtp-port", str(port)],
    )  # fmt: skip
    assert result.exit_code != 0
    assert shop.survey_results(SURVEY).issued == 0
