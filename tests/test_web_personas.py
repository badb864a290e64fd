"""The persona gallery and editor, the paths (Sankey) analysis and stage editing, over HTTP:
``/api/personas``, ``/api/analyses/paths[/svg]``, ``/api/maps/{map_id}/stages...`` and the
``/personas`` pages, with their roles, validation, versions and audit entries."""

from __future__ import annotations

from typing import Any

import pytest

from journeylens.web.app import open_accounts
from tests.web_fixtures import Site, TestClient, build_site, signed_in

STAGE_MAP = "day-in-the-life"
ANCHOR = 'activity == "add_to_cart"'


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return build_site(tmp_path_factory.mktemp("personas") / "shoes")


@pytest.fixture
def client(site: Site) -> Any:
    with site.client() as opened:
        yield opened


def _yaml(site: Site) -> str:
    return (site.root / "journeylens.yaml").read_text(encoding="utf-8")


def _comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.lstrip().startswith("#")]


def _audit(site: Site, action: str) -> list[Any]:
    return [e for e in open_accounts(site.root).audit_log(500) if e.action == action]


# -- personas -----------------------------------------------------------------------------------
def test_personas_are_listed_with_their_members_now(site: Site, client: TestClient) -> None:
    response = client.get("/api/personas", params={"lang": "ro"}, headers=site.bearer("viewer"))
    assert response.status_code == 200, response.text
    cards = {card["id"]: card for card in response.json()}
    assert set(cards) == {p.id for p in site.workspace.settings.personas}
    ana = cards["p-ana"]
    assert ana["name"] == "Ana, alergătoarea începătoare"
    assert ana["goals"][0].startswith("Să alerge 5 km")
    assert ana["preferred_channels"] == ["instagram", "webshop", "store"]
    assert ana["segment"] == 'attr.segment == "beginner"'
    _, members = site.workspace.count_matching(ana["segment"])
    assert ana["customers"] == members > 0
    assert ana["persona"]["name"]["en"] == "Ana, the new runner"
    quick = client.get("/api/personas", params={"counts": "false"}, headers=site.bearer("viewer"))
    assert all(card["customers"] is None for card in quick.json())


def test_an_editor_changes_a_persona_keeping_comments_and_translations(
    site: Site, client: TestClient
) -> None:
    before = _yaml(site)
    comments = _comments(before)
    assert comments
    old = next(p for p in site.workspace.settings.personas if p.id == "p-ana")
    assert isinstance(old.description, dict)
    body = {
        "language": "en",
        "goals": ["Run 10 km without knee pain", "Buy one good pair without overspending"],
        "frustrations": ["Jargon-heavy product pages"],
        "description": "Started running this spring.",
        "segment": 'attr.segment == "beginner" or attr.device == "mobile"',
        "message": "goals after the interviews",
    }
    response = client.put("/api/personas/p-ana", json=body, headers=site.bearer("editor"))
    assert response.status_code == 200, response.text
    card = response.json()
    assert card["goals"] == body["goals"]
    assert card["customers"] > 0
    after = _yaml(site)
    assert _comments(after) == comments
    assert "Run 10 km without knee pain" in after
    ana = next(p for p in site.workspace.settings.personas if p.id == "p-ana")
    # The edited goal keeps its other translations; the unchanged one keeps all of its own.
    assert isinstance(ana.goals[0], dict) and ana.goals[0]["en"] == "Run 10 km without knee pain"
    assert ana.goals[0]["ro"].startswith("Să alerge 5 km")
    assert isinstance(ana.goals[1], dict) and ana.goals[1]["sl"].startswith("Kupiti en dober par")
    assert [f["en"] for f in ana.frustrations if isinstance(f, dict)] == [
        "Jargon-heavy product pages"
    ]
    assert ana.description == {**old.description, "en": "Started running this spring."}
    assert ana.segment == body["segment"]
    entries = _audit(site, "edit-persona")
    assert entries and entries[0].target == "p-ana" and entries[0].user == "eddie"
    assert entries[0].detail == "goals after the interviews"
    # Another persona's file text is untouched.
    marko = next(p for p in site.workspace.settings.personas if p.id == "p-marko")
    assert isinstance(marko.goals[0], dict)


def test_a_new_list_item_and_plain_texts(site: Site, client: TestClient) -> None:
    response = client.put(
        "/api/personas/p-marko",
        json={"language": "sl", "needs": ["Hitra dostava", "Iskrene ocene izkušenih tekačev"]},
        headers=site.bearer("editor"),
    )
    assert response.status_code == 200, response.text
    marko = next(p for p in site.workspace.settings.personas if p.id == "p-marko")
    # The first need changed in Slovenian only; the second is the same text, kept whole.
    assert isinstance(marko.needs[0], dict) and marko.needs[0]["sl"] == "Hitra dostava"
    assert marko.needs[0]["en"] == "The same model and size, delivered fast"
    assert isinstance(marko.needs[1], dict) and marko.needs[1]["en"].startswith("Honest reviews")
    response = client.put(
        "/api/personas/p-marko",
        json={"language": "en", "motivations": ["Race day"], "segment": None},
        headers=site.bearer("editor"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["customers"] is None
    marko = next(p for p in site.workspace.settings.personas if p.id == "p-marko")
    assert marko.motivations == [{"en": "Race day"}] or marko.motivations == ["Race day"]
    assert marko.segment is None


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"segment": 'attr.segment = "x"'}, 422, "segment"),
        ({"preferred_channels": ["carrier-pigeon"]}, 422, "unknown channel"),
        ({"name": ""}, 422, ""),
        ({"name": "   "}, 422, "name"),
        ({"goals": "not a list"}, 422, ""),
        ({"language": "not a language"}, 422, ""),
    ],
)
def test_invalid_persona_edits_are_refused_and_leave_the_file(
    site: Site, client: TestClient, body: dict[str, Any], status: int, says: str
) -> None:
    before = _yaml(site)
    response = client.put("/api/personas/p-ana", json=body, headers=site.bearer("editor"))
    assert response.status_code == status, response.text
    assert says in response.text
    assert _yaml(site) == before


def test_persona_roles_and_unknown_ids(site: Site, client: TestClient) -> None:
    body = {"goals": ["x"]}
    assert client.get("/api/personas").status_code == 401
    assert client.put("/api/personas/p-ana", json=body).status_code == 401
    refused = client.put("/api/personas/p-ana", json=body, headers=site.bearer("viewer"))
    assert refused.status_code == 403
    missing = client.put("/api/personas/p-nobody", json=body, headers=site.bearer("admin"))
    assert missing.status_code == 404
    with signed_in(site, "eddie") as (browser, csrf):
        assert browser.put("/api/personas/p-ana", json=body).status_code == 403  # no CSRF
        ok = browser.put(
            "/api/personas/p-ana", json={"quotes": ["Quoted"]}, headers={"X-CSRF-Token": csrf}
        )
        assert ok.status_code == 200, ok.text


def test_persona_pages(site: Site) -> None:
    with signed_in(site, "vera") as (viewer, _):
        page = viewer.get("/personas")
        assert page.status_code == 200
        assert "Ana, the new runner" in page.text and "customers match now" in page.text
        assert "/personas/p-ana/edit" not in page.text
        assert 'href="/personas"' in page.text  # in the navigation
        assert viewer.get("/personas/p-ana/edit").status_code == 403
    with signed_in(site, "eddie") as (editor, _):
        page = editor.get("/personas")
        assert "/personas/p-ana/edit" in page.text
        edit = editor.get("/personas/p-ana/edit?lang=ro")
        assert edit.status_code == 200
        assert 'data-language="ro"' in edit.text and "Ana, alergătoarea" in edit.text
        assert editor.get("/personas/p-nobody/edit").status_code == 404
    with site.client(follow_redirects=False) as anonymous:
        assert anonymous.get("/personas").headers["location"].startswith("/login")


def test_persona_routes_document_their_errors(site: Site, client: TestClient) -> None:
    document = client.get("/openapi.json").json()["paths"]
    assert {"200", "401", "403", "422"} <= set(document["/api/personas"]["get"]["responses"])
    put = document["/api/personas/{persona_id}"]["put"]["responses"]
    assert {"200", "401", "403", "404", "422"} <= set(put)
    for path in ("/api/analyses/paths", "/api/analyses/paths/svg"):
        assert {"200", "401", "403", "409", "422"} <= set(document[path]["get"]["responses"])
    for path in ("", "/rename", "/move", "/delete"):
        responses = document[f"/api/maps/{{map_id}}/stages{path}"]["post"]["responses"]
        assert {"401", "403", "404", "409", "422"} <= set(responses)


# -- paths (Sankey) -----------------------------------------------------------------------------
def test_paths_as_json_and_svg(site: Site, client: TestClient) -> None:
    viewer = site.bearer("viewer")
    params = {"anchor": ANCHOR, "steps": 3, "top": 4}
    response = client.get("/api/analyses/paths", params=params, headers=viewer)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["direction"] == "after" and result["steps"] == 3
    assert 0 < result["anchored_journeys"] <= result["journeys"]
    first = [n for n in result["nodes"] if n["step"] == 0]
    assert [n["label"] for n in first] == ["add_to_cart"]
    for step in range(3):
        flowing = sum(link["count"] for link in result["links"] if link["step"] == step)
        assert flowing == result["paths"]
    before = client.get(
        "/api/analyses/paths", params={**params, "direction": "before"}, headers=viewer
    )
    assert before.json()["direction"] == "before"
    drawn = client.get("/api/analyses/paths/svg", params=params, headers=viewer)
    assert drawn.status_code == 200
    assert drawn.headers["content-type"].startswith("image/svg+xml")
    assert drawn.text.lstrip().startswith("<svg") or "<svg" in drawn.text[:300]
    assert drawn.text.count("<path") >= 3
    assert "add_to_cart" in drawn.text


@pytest.mark.parametrize(
    "params",
    [
        {"anchor": 'activity = "x"'},
        {"anchor": "   "},
        {"anchor": ANCHOR, "steps": 0},
        {"anchor": ANCHOR, "steps": 11},
        {"anchor": ANCHOR, "top": 0},
        {"anchor": ANCHOR, "direction": "sideways"},
        {},
    ],
)
def test_paths_refuse_bad_input(site: Site, client: TestClient, params: dict[str, Any]) -> None:
    for path in ("/api/analyses/paths", "/api/analyses/paths/svg"):
        response = client.get(path, params=params, headers=site.bearer("viewer"))
        assert response.status_code == 422, (path, params, response.text)


def test_paths_need_data(tmp_path: Any) -> None:
    empty = build_site(tmp_path / "empty", data=False)
    with empty.client() as client:
        for path in ("/api/analyses/paths", "/api/analyses/paths/svg"):
            response = client.get(path, params={"anchor": ANCHOR}, headers=empty.bearer("viewer"))
            assert response.status_code == 409, response.text
            assert client.get(path, params={"anchor": ANCHOR}).status_code == 401


# -- stages -------------------------------------------------------------------------------------
def _stages(answer: Any) -> list[str]:
    return [stage["id"] for stage in answer.json()["map"]["stages"]]


def test_stages_are_added_renamed_moved_and_deleted(site: Site, client: TestClient) -> None:
    editor = site.bearer("editor")
    url = f"/api/maps/{STAGE_MAP}/stages"
    original_map = site.workspace.map(STAGE_MAP)
    original = [s.id for s in original_map.stages]
    _, text_before = site.workspace.map_text(STAGE_MAP)

    added = client.post(
        url, json={"id": "warm-up", "name": "Warm-up", "after": original[0]}, headers=editor
    )
    assert added.status_code == 201, added.text
    assert _stages(added) == [original[0], "warm-up", *original[1:]]
    first_version = added.json()["version"]
    renamed = client.post(
        f"{url}/rename", json={"stage": "warm-up", "name": "Warming up"}, headers=editor
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["map"]["stages"][1]["name"] == "Warming up"
    moved = client.post(
        f"{url}/move", json={"stage": "warm-up", "direction": "earlier"}, headers=editor
    )
    assert _stages(moved) == ["warm-up", *original]
    edge = client.post(
        f"{url}/move", json={"stage": "warm-up", "direction": "earlier"}, headers=editor
    )
    assert edge.status_code == 422 and "first stage" in edge.text
    later = client.post(
        f"{url}/move", json={"stage": "warm-up", "direction": "later"}, headers=editor
    )
    assert _stages(later) == [original[0], "warm-up", *original[1:]]
    _, text = site.workspace.map_text(STAGE_MAP)
    assert "name: Warming up" in text
    # Comments and the other stages' text stay.
    assert text.splitlines()[:3] == text_before.splitlines()[:3]

    deleted = client.post(f"{url}/delete", json={"stage": "warm-up"}, headers=editor)
    assert deleted.status_code == 200, deleted.text
    assert _stages(deleted) == original
    _, text_after = site.workspace.map_text(STAGE_MAP)
    # The map is as it was, comments included (flow collections may be re-flowed).
    assert _comments(text_after) == _comments(text_before)
    assert site.workspace.map(STAGE_MAP) == original_map

    versions = client.get(f"/api/maps/{STAGE_MAP}/versions", headers=editor).json()
    messages = [v["message"] for v in versions if v["version"] >= first_version]
    assert messages == [
        "deleted stage warm-up",
        "moved stage warm-up later",
        "moved stage warm-up earlier",
        "renamed stage warm-up",
        "added stage warm-up",
    ]
    actions = {e.action for e in open_accounts(site.root).audit_log(500) if e.target == STAGE_MAP}
    assert {"add-stage", "rename-stage", "move-stage", "delete-stage"} <= actions


def test_stage_edits_that_cannot_be_done(site: Site, client: TestClient) -> None:
    editor = site.bearer("editor")
    url = f"/api/maps/{STAGE_MAP}/stages"
    first = site.workspace.map(STAGE_MAP).stages[0].id
    _, before = site.workspace.map_text(STAGE_MAP)
    cases = [
        ("", {"id": first, "name": "Again"}, 409),  # the id is taken
        ("", {"id": "Bad Id", "name": "x"}, 422),
        ("", {"id": "fine", "name": "x", "after": "nowhere"}, 404),
        ("/rename", {"stage": "nowhere", "name": "x"}, 404),
        ("/rename", {"stage": first, "name": "   "}, 422),
        ("/move", {"stage": first, "direction": "up"}, 422),
        ("/delete", {"stage": first}, 409),  # it has steps
        ("/delete", {"stage": "nowhere"}, 404),
    ]
    for suffix, body, status in cases:
        response = client.post(url + suffix, json=body, headers=editor)
        assert response.status_code == status, (suffix, body, response.text)
    unknown = client.post("/api/maps/nowhere/stages", json={"id": "x", "name": "x"}, headers=editor)
    assert unknown.status_code == 404
    outside = client.post("/api/maps/x.yaml/stages", json={"id": "x", "name": "x"}, headers=editor)
    assert outside.status_code == 404
    viewer = client.post(url, json={"id": "x", "name": "x"}, headers=site.bearer("viewer"))
    assert viewer.status_code == 403
    assert client.post(url, json={"id": "x", "name": "x"}).status_code == 401
    assert site.workspace.map_text(STAGE_MAP)[1] == before


def test_a_translated_stage_name_keeps_its_other_translations(
    site: Site, client: TestClient
) -> None:
    editor = site.bearer("editor")
    map_id = "future-state"
    path, text = site.workspace.map_text(map_id)
    stage = site.workspace.map(map_id).stages[0]
    assert isinstance(stage.name, str)
    translated = text.replace(f"name: {stage.name}", f"name: {{en: {stage.name}, sl: Faza}}", 1)
    assert translated != text
    put = client.put(f"/api/maps/{map_id}", json={"yaml": translated}, headers=editor)
    assert put.status_code == 200, put.text
    renamed = client.post(
        f"/api/maps/{map_id}/stages/rename",
        json={"stage": stage.id, "name": "Noticing"},
        headers=editor,
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["map"]["stages"][0]["name"] == {"en": "Noticing", "sl": "Faza"}
    del path
