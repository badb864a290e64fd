from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeylens.cli import cli
from journeylens.errors import ValidationError
from journeylens.workspace import Workspace

BROKEN = Path(__file__).parent / "data/broken"

# Every problem in the broken workspace, in file order, exactly as `validate` prints them.
EXPECTED = [
    "journeylens.yaml:8:10: channels[1].id: duplicate channel id 'web'",
    "journeylens.yaml:8:38: channels[1].kind: expected 'store', 'web', 'app', 'social', 'review', 'forum', 'email', 'chat', 'phone', 'self_service', 'ads', 'mail', 'event', 'partner' or 'other', got 'website'",
    "journeylens.yaml:11:43: touchpoints[1].channel: unknown channel 'telephone' (known: web)",
    "journeylens.yaml:15:31: personas[0].preferred_channels[1]: unknown channel 'fax' (known: web)",
    "journeylens.yaml:16:25: personas[0].segment: selector: unexpected character '='",
    "journeylens.yaml:18:41: opportunities[0].effort: expected less than or equal to 5, got 9",
    "maps/many-errors.yaml:3:5: id: expected an id: letters, digits, '_', '.' or '-', starting with a letter or digit, at most 80 characters, got 'many errors'",
    "maps/many-errors.yaml:5:7: type: expected 'current', 'future' or 'day_in_the_life', got 'curent'",
    "maps/many-errors.yaml:6:19: personas[1]: unknown persona 'p-ghost' (known: p-one)",
    "maps/many-errors.yaml:14:18: stages[0].steps[0].channel: unknown channel 'phone' (known: web)",
    "maps/many-errors.yaml:15:9: stages[0].steps[0].emotoin: unknown field 'emotoin' (did you mean 'emotion'?)",
    "maps/many-errors.yaml:16:18: stages[0].steps[0].emotion: expected less than or equal to 2, got 3",
    "maps/many-errors.yaml:17:40: stages[0].steps[0].match: selector: unknown field 'colour', expected one of activity, channel, touchpoint, source, attr.<name>",
    "maps/many-errors.yaml:18:23: stages[0].steps[0].next[0].step: unknown step 'nowhere' (known: a, c)",
    "maps/many-errors.yaml:19:13: stages[0].steps[1].id: duplicate step id 'a'",
    "maps/many-errors.yaml:21:34: stages[0].steps[1].opportunities[1]: unknown opportunity 'op-missing' (known: op-fast)",
    "maps/many-errors.yaml:22:25: stages[0].steps[1].kpis[0].metric: unknown metric 'm-none' (known: none defined)",
    "maps/many-errors.yaml:23:5: stages[1]: missing required field 'name'",
    "maps/many-errors.yaml:26:9: stages[1].steps[0].action: expected text or a {language: text} mapping, got ['not', 'text']",
    "maps/many-errors.yaml:27:33: stages[1].steps[0].moment_of_truth.type: expected 'ZMOT', 'FMOT', 'SMOT', 'UMOT' or 'custom', got 'XMOT'",
    "maps/many-errors.yaml:28:21: stages[1].steps[0].competitor: unknown competitor 'rival' (known: none defined)",
    "maps/many-errors.yaml:30:36: paths[0].steps[1]: unknown step 'zzz' (known: a, c)",
    "maps/syntax-error.yaml:6:7: YAML syntax: while parsing a flow sequence expected ',' or ']', but got ':'",
]


@pytest.fixture
def in_broken(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(BROKEN)
    return BROKEN


def test_every_error_is_reported_at_once_with_its_position(in_broken: Path) -> None:
    issues = Workspace.open(".").validate()
    assert [str(issue) for issue in issues] == EXPECTED


def test_cli_prints_every_error_and_exits_1(in_broken: Path) -> None:
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == EXPECTED
    assert "23 error(s)" in result.stderr


def test_cli_json_output_names_file_line_column(in_broken: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "--json", "maps/many-errors.yaml"])
    assert result.exit_code == 1
    issues = json.loads(result.stdout)
    # The registry's errors are always shown: every map depends on it.
    assert {i["file"] for i in issues} == {
        str(Path("maps") / "many-errors.yaml"),
        "journeylens.yaml",
    }
    emotion = next(i for i in issues if i["path"] == "stages[0].steps[0].emotion")
    assert (emotion["line"], emotion["column"]) == (16, 18)
    assert emotion["message"] == "expected less than or equal to 2, got 3"


def test_validating_one_file_reports_it_and_the_registry(in_broken: Path) -> None:
    issues = Workspace.open(".").validate([Path("maps/syntax-error.yaml")])
    assert [str(i) for i in issues] == [
        line for line in EXPECTED if "syntax-error" in line or line.startswith("journeylens.yaml")
    ]


def test_validating_the_workspace_file_checks_it_as_the_registry(in_broken: Path) -> None:
    issues = Workspace.open(".").validate([Path("journeylens.yaml")])
    assert [str(i) for i in issues] == [e for e in EXPECTED if e.startswith("journeylens.yaml")]


def test_rendering_refuses_while_the_workspace_file_is_invalid(
    in_broken: Path, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError) as caught:
        Workspace.open(".").render("maps/many-errors.yaml", tmp_path / "x.svg")
    assert [str(i) for i in caught.value.issues] == [
        line for line in EXPECTED if line.startswith("journeylens.yaml")
    ]
    assert not (tmp_path / "x.svg").exists()


def test_rendering_an_invalid_map_refuses_with_its_errors(tmp_path: Path) -> None:
    workspace = Workspace.init(tmp_path / "ws", example="running-shoes")
    path = tmp_path / "ws/maps/current-state.yaml"
    path.write_text(path.read_text().replace("emotion: -2\n", "emotion: -5\n", 1))
    with pytest.raises(ValidationError) as caught:
        workspace.render("current-state", tmp_path / "x.svg")
    assert [i.message for i in caught.value.issues] == [
        "expected greater than or equal to -2, got -5"
    ]


def test_a_clean_file_outside_maps_is_checked_against_the_registry(tmp_path: Path) -> None:
    workspace = Workspace.init(tmp_path / "ws", example="running-shoes")
    extra = tmp_path / "draft.yaml"
    extra.write_text(
        "id: draft\ntitle: Draft\npersonas: [p-ana]\nstages:\n  - id: s\n    name: S\n"
        "    steps:\n      - {id: a, action: Calls, touchpoint: tp-phone-support, channel: chat}\n"
    )
    issues = workspace.validate([extra])
    assert [i.message for i in issues] == [
        "touchpoint 'tp-phone-support' is on channel 'phone', not 'chat'"
    ]
