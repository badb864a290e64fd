from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeylens.cli import cli

COMMANDS = ["init", "validate", "render", "schema", "export-mermaid", "import-mermaid", "demo"]


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout
    assert "journeylens " in result.stdout.split("Example:")[1]


def test_init_validate_render_svg_and_html(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = tmp_path / "shoes"
    result = runner.invoke(cli, ["init", str(ws), "--example", "running-shoes"])
    assert result.exit_code == 0, result.output
    assert "current-state  (current, en)" in result.stdout
    assert runner.invoke(cli, ["-w", str(ws), "validate"]).exit_code == 0
    out = tmp_path / "out" / "map.svg"
    result = runner.invoke(cli, ["-w", str(ws), "render", "current-state", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<svg")
    result = runner.invoke(
        cli,
        ["-w", str(ws), "render", "--all", "-o", str(tmp_path / "all"), "--formats", "svg,html"],
    )
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "all").glob("*.html"))) == len(list((ws / "maps").glob("*")))


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    result = runner.invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert "already exists" in result.stderr


def test_empty_workspace_is_valid_and_has_no_maps(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path / "empty")]).exit_code == 0
    result = runner.invoke(cli, ["-w", str(tmp_path / "empty"), "validate"])
    assert result.exit_code == 0
    assert "0 map(s) checked" in result.stderr


def test_errors_are_messages_not_tracebacks(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["-w", str(tmp_path), "validate"])
    assert result.exit_code == 1
    assert "not a journeylens workspace" in result.stderr
    runner.invoke(cli, ["init", str(tmp_path / "ws"), "--example", "running-shoes"])
    result = runner.invoke(cli, ["-w", str(tmp_path / "ws"), "render", "nope", "-o", "x.svg"])
    assert result.exit_code == 1 and "no map 'nope'" in result.stderr
    result = runner.invoke(
        cli, ["-w", str(tmp_path / "ws"), "render", "current-state", "-o", str(tmp_path / "x.gif")]
    )
    assert result.exit_code == 1 and "cannot tell the output format" in result.stderr


def test_schema_is_json_schema_for_both_documents() -> None:
    runner = CliRunner()
    schema = json.loads(runner.invoke(cli, ["schema"]).stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    assert "stages" in schema["required"]
    workspace = json.loads(runner.invoke(cli, ["schema", "--kind", "workspace"]).stdout)
    assert "touchpoints" in workspace["properties"]


def test_mermaid_export_then_import_round_trips_stages_steps_and_emotion(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = tmp_path / "ws"
    runner.invoke(cli, ["init", str(ws), "--example", "running-shoes"])
    exported = runner.invoke(cli, ["-w", str(ws), "export-mermaid", "current-state"])
    assert exported.exit_code == 0
    text = exported.stdout
    assert text.startswith("journey\n    title Ana buys her first running shoes\n")
    assert "      Pays by card on her phone: 1: Ana‚ the new runner\n" in text
    source = tmp_path / "copy.mmd"
    source.write_text(text.replace("Ana‚ the new runner", "Ana‚ the new runner, Sam"))
    result = runner.invoke(cli, ["-w", str(ws), "import-mermaid", str(source), "--id", "copy"])
    assert result.exit_code == 0, result.output
    assert "added persona(s) to journeylens.yaml: p-sam" in result.stdout
    assert runner.invoke(cli, ["-w", str(ws), "validate"]).exit_code == 0
    again = runner.invoke(cli, ["-w", str(ws), "export-mermaid", "copy"]).stdout
    assert again.replace(": Ana‚ the new runner, Sam", ": Ana‚ the new runner") == text
    assert "# journeylens workspace" in (ws / "journeylens.yaml").read_text()  # comment kept


def test_import_mermaid_reports_positions(tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["init", str(tmp_path / "ws")])
    bad = tmp_path / "bad.mmd"
    bad.write_text("journey\n  title T\n  section S\n    Task without score\n    Pay: x: A\n")
    result = runner.invoke(cli, ["-w", str(tmp_path / "ws"), "import-mermaid", str(bad)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{bad}:4:5: expected 'Task: score: actors', 'section ...' or 'title ...'",
        f"{bad}:5:10: expected a whole-number score 1..5, got 'x'",
    ]


def test_import_mermaid_clamps_out_of_range_scores_with_a_warning(tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["init", str(tmp_path / "ws")])
    source = tmp_path / "onboarding.mmd"
    source.write_text("journey\n  title Onboarding\n  section Sign up\n    Verify e-mail: 7: Me\n")
    result = runner.invoke(cli, ["-w", str(tmp_path / "ws"), "import-mermaid", str(source)])
    assert result.exit_code == 0, result.output
    assert f"{source}:4:20: warning: score 7 is outside 1..5; clamped" in result.stdout
    map_text = (tmp_path / "ws/maps/onboarding.yaml").read_text()
    assert "emotion: 2" in map_text and "id: verify-e-mail" in map_text


def test_import_mermaid_never_overwrites_a_persona_and_refuses_bad_ids(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = tmp_path / "ws"
    runner.invoke(cli, ["init", str(ws), "--example", "running-shoes"])
    source = tmp_path / "m.mmd"
    # Mermaid splits actors on commas: "Marko" is a new actor, not the registry's p-marko.
    source.write_text("journey\n  title T\n  section S\n    Runs: 4: Marko, the marathon regular\n")
    result = runner.invoke(cli, ["-w", str(ws), "import-mermaid", str(source), "--id", "Bad id"])
    assert result.exit_code == 1 and "is not a valid id" in result.stdout
    result = runner.invoke(cli, ["-w", str(ws), "import-mermaid", str(source), "--language", "ro"])
    assert result.exit_code == 0, result.output
    assert "p-marko-2, p-the-marathon-regular" in result.stdout
    text = (ws / "journeylens.yaml").read_text()
    assert "&id" not in text and "*id" not in text  # no YAML aliases
    assert runner.invoke(cli, ["-w", str(ws), "validate"]).exit_code == 0
    imported = (ws / "maps/m.yaml").read_text()
    assert "language: ro" in imported and "emotion: 1\n" in imported


def test_render_all_reports_maps_it_could_not_draw(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = tmp_path / "ws"
    runner.invoke(cli, ["init", str(ws), "--example", "running-shoes"])
    broken = ws / "maps/day-in-the-life.yaml"
    broken.write_text(broken.read_text().replace("type: day_in_the_life", "type: daily"))
    out = tmp_path / "out"
    result = runner.invoke(
        cli, ["-w", str(ws), "render", "--all", "-o", str(out), "--formats", "svg"]
    )
    assert result.exit_code == 1
    assert (
        "skipped " in result.stderr and "day-in-the-life.yaml: 2 error(s)" in result.stderr
    )  # type, competitors
    assert len(list(out.glob("*.svg"))) == 6
    result = runner.invoke(cli, ["-w", str(ws), "render", "current-state", "--all", "-o", "x"])
    assert result.exit_code == 2 and "drop MAP" in result.stderr


def test_init_with_an_example_takes_the_name(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["init", str(tmp_path / "ws"), "--example", "running-shoes", "--name", "Shoes EU"]
    )
    assert result.exit_code == 0, result.output
    text = (tmp_path / "ws/journeylens.yaml").read_text()
    assert "Shoes EU" in text and text.startswith("# journeylens workspace")


HELPDESK = Path(__file__).parents[2] / "shared/data/helpdesk/helpdesk.xes.gz"


def test_analyze_prints_json_tables_and_drawings(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = str(tmp_path / "ws")
    assert runner.invoke(cli, ["init", ws]).exit_code == 0
    assert runner.invoke(cli, ["-w", ws, "ingest", str(HELPDESK)]).exit_code == 0
    before = runner.invoke(cli, ["-w", ws, "analyze", "dfg"])
    assert before.exit_code == 1 and "run journeylens stitch" in before.output
    assert runner.invoke(cli, ["-w", ws, "stitch"]).exit_code == 0
    shown = runner.invoke(cli, ["-w", ws, "analyze", "dfg", "--json", "--top", "3"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert [e["count"] for e in data["edges"]] == [4558, 4160, 3563]
    assert set(data["edges"][0]) == {
        "source",
        "target",
        "count",
        "customers",
        "mean_s",
        "median_s",
        "p90_s",
    }
    assert data["start"]["Assign seriousness"] == 4384 and data["events"] == 21348
    drawing = tmp_path / "map.svg"
    drawn = runner.invoke(cli, ["-w", ws, "analyze", "dfg", "--top", "10", "-o", str(drawing)])
    assert drawn.exit_code == 0 and drawing.read_text().startswith("<svg")
    listed = runner.invoke(cli, ["-w", ws, "analyze", "variants", "--top", "2"])
    assert listed.exit_code == 0
    assert "4,580 journeys, 226 distinct variants" in listed.output
    assert "2,366" in listed.output.splitlines()[2]
    wrong = runner.invoke(cli, ["-w", ws, "analyze", "dfg", "--gap", "soon"])
    assert wrong.exit_code != 0 and "expected a number and a unit" in wrong.output
