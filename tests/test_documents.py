from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylens.documents.loading import load_document
from journeylens.documents.workspace_files import check_workspace, save_document
from journeylens.documents.yaml_io import dump_yaml, merge_into, parse_yaml, to_plain
from journeylens.model.journey_map import JourneyMap
from tests.strategies import journey_maps

EXAMPLE = Path(__file__).parents[1] / "src/journeylens/examples/running-shoes"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journey_maps())
def test_map_survives_yaml_round_trip(journey_map: JourneyMap) -> None:
    text = dump_yaml(merge_into(None, journey_map.model_dump(mode="json", exclude_unset=True)))
    tree, issues = parse_yaml(text, file="generated.yaml")
    assert issues == []
    assert JourneyMap.model_validate(to_plain(tree)) == journey_map


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journey_maps())
def test_published_json_schema_accepts_what_the_model_dumps(journey_map: JourneyMap) -> None:
    import jsonschema

    from journeylens.documents.schema import json_schema

    data = journey_map.model_dump(mode="json", exclude_unset=True)
    jsonschema.validate(data, json_schema("map"))


def test_every_example_file_validates_against_the_published_schema() -> None:
    import jsonschema

    from journeylens.documents.schema import json_schema

    workspace_tree, _ = parse_yaml((EXAMPLE / "journeylens.yaml").read_text(), file="ws")
    jsonschema.validate(to_plain(workspace_tree), json_schema("workspace"))
    map_files = sorted((EXAMPLE / "maps").glob("*.yaml"))
    assert len(map_files) >= 7
    for path in map_files:
        tree, _ = parse_yaml(path.read_text(), file=str(path))
        jsonschema.validate(to_plain(tree), json_schema("map"))


def test_published_schema_files_are_up_to_date() -> None:
    from journeylens.documents.schema import json_schema_text

    docs = Path(__file__).parents[1] / "docs/schema"
    assert (docs / "journey-map.schema.json").read_text() == json_schema_text("map")
    assert (docs / "workspace.schema.json").read_text() == json_schema_text("workspace")


def test_example_workspace_is_valid_and_complete() -> None:
    check = check_workspace(EXAMPLE)
    assert check.issues == []
    maps = {m.model.id: m.model for m in check.maps if m.model}
    types = {m.type for m in maps.values()}
    assert types == {"current", "future", "day_in_the_life"}
    assert {m.language for m in maps.values()} >= {"en", "ro", "ru", "sl", "he"}
    assert maps["current-state"].has_blueprint
    stages = [s.lifecycle for s in maps["current-state"].stages]
    assert stages == ["awareness", "consideration", "conversion", "retention", "loyalty"]
    assert any(m.competitors for m in maps.values() if m.type == "day_in_the_life")


def test_saving_an_edit_keeps_comments_order_and_untouched_lines(tmp_path: Path) -> None:
    source = EXAMPLE / "maps/current-state.yaml"
    target = tmp_path / "current-state.yaml"
    shutil.copy(source, target)
    loaded = load_document(target, JourneyMap)
    assert loaded.model is not None
    edited = loaded.model.model_copy(deep=True)
    step = edited.step("pay-online")
    assert step is not None
    step.emotion = -1
    save_document(loaded, edited)

    before = source.read_text().splitlines()
    after = target.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [("        emotion: -2", "        emotion: -1")]
    assert load_document(target, JourneyMap).model == edited


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_text_edit_saves_to_a_file_that_reads_back_the_same(data: st.DataObject) -> None:
    import tempfile

    from tests.strategies import plain

    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "current-state.yaml"
        shutil.copy(EXAMPLE / "maps/current-state.yaml", target)
        loaded = load_document(target, JourneyMap)
        assert loaded.model is not None
        edited = loaded.model.model_copy(deep=True)
        steps = [s for _, s in edited.steps()]
        step = data.draw(st.sampled_from(steps))
        step.action = data.draw(plain)  # block context
        if step.thoughts:
            step.thoughts = [data.draw(plain)]  # flow context: [..., ...]
        if step.pain_points:
            step.pain_points[0].text = data.draw(plain)  # nested flow mapping
        save_document(loaded, edited)
        assert load_document(target, JourneyMap).model == edited
        # Comments survive whichever way the save went.
        assert target.read_text().startswith("# Current state: how Ana buys")


def test_appending_to_a_list_the_file_did_not_have_is_saved(tmp_path: Path) -> None:
    target = tmp_path / "current-state.yaml"
    shutil.copy(EXAMPLE / "maps/current-state.yaml", target)
    loaded = load_document(target, JourneyMap)
    assert loaded.model is not None
    edited = loaded.model.model_copy(deep=True)
    step = edited.step("add-to-cart")
    assert step is not None and step.thoughts == []
    step.thoughts.append("Is shipping free?")  # in place: pydantic does not mark it as set
    save_document(loaded, edited)
    reloaded = load_document(target, JourneyMap).model
    assert reloaded is not None and reloaded.step("add-to-cart").thoughts == ["Is shipping free?"]  # type: ignore[union-attr]
    assert target.read_text().startswith("# Current state: how Ana buys")
