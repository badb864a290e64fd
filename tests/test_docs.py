"""Docs are part of the feature: a field or command nobody documented fails the build."""

from __future__ import annotations

from pathlib import Path

from journeylens.cli import cli
from journeylens.model import common, journey_map, workspace

DOCS = Path(__file__).parents[1] / "docs"


def _documents() -> list[type[common.Document]]:
    found = []
    for module in (common, journey_map, workspace):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, common.Document):
                found.append(value)
    return found


def test_every_field_of_every_document_is_in_the_format_reference() -> None:
    text = (DOCS / "map-format.md").read_text()
    missing = sorted(
        f"{model.__name__}.{name}"
        for model in _documents()
        for name in model.model_fields
        if f"`{name}`" not in text
    )
    assert missing == []


def test_every_command_is_in_the_cli_reference() -> None:
    text = (DOCS / "cli.md").read_text()
    commands = [(name, command) for name, command in cli.commands.items()]
    for name, command in list(commands):
        for sub, subcommand in getattr(command, "commands", {}).items():
            commands.append((f"{name} {sub}", subcommand))
    for option in cli.params:
        for flag in getattr(option, "opts", []):
            if flag.startswith("--") and flag not in ("--help", "--version", "--workspace"):
                assert f"`{flag}" in text, flag
    for name, command in commands:
        assert f"## {name}" in text, name
        for option in command.params:
            for flag in getattr(option, "opts", []):
                if flag.startswith("--") and flag != "--help":
                    assert f"`{flag}" in text, f"{name} {flag}"


def test_every_field_of_a_survey_is_in_the_survey_reference() -> None:
    from journeylens.model import survey

    text = (DOCS / "surveys.md").read_text()
    missing = sorted(
        f"{model.__name__}.{name}"
        for model in (survey.Survey, survey.Question, survey.Choice, survey.Invitation)
        for name in model.model_fields
        if f"`{name}`" not in text
    )
    assert missing == []
