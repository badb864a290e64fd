"""The JSON API in-process: signing in (cookie flags, wrong passwords, lock-out, logout), CSRF,
Bearer tokens, maps and live measures checked against the workspace and DuckDB, edits with
history, selectors, comments, data, users, audit, security headers, the live cache, and what
the accounts database keeps (hashes only)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest

from journeylens.errors import JourneylensError
from journeylens.store import database
from journeylens.web import live_cache
from journeylens.web.accounts import Role
from journeylens.web.app import accounts_path
from journeylens.workspace import Workspace
from tests.web_fixtures import PASSWORDS, Site, TestClient, build_site, signed_in


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """Demo data loaded and stitched; tests edit different maps so they do not meet."""
    return build_site(tmp_path_factory.mktemp("api") / "shoes")


@pytest.fixture
def bare(tmp_path: Path) -> Site:
    """No data, fresh accounts: for lock-outs, which would lock the shared site's client."""
    return build_site(tmp_path / "bare", data=False)


def _cookie_attributes(header: str) -> dict[str, str]:
    name_value, *attributes = (part.strip() for part in header.split(";"))
    found = {"": name_value}
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        found[key.lower()] = value.lower()
    return found


def _audit(site: Site) -> list[dict[str, Any]]:
    with site.client() as client:
        response = client.get("/api/audit", headers=site.bearer("admin"))
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def _query(site: Site, sql: str, *params: object) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(database.store_path(site.root)), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _plain(value: object) -> Any:
    """What a value looks like after a JSON round trip."""
    return json.loads(json.dumps(value, default=str))


# -- signing in ---------------------------------------------------------------------------------
def test_sign_in_sets_a_strict_http_only_cookie_and_returns_the_csrf_token(site: Site) -> None:
    with site.client() as client:
        response = client.post("/api/login", json={"name": "vera", "password": PASSWORDS["vera"]})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["name"] == "vera" and body["role"] == "viewer" and body["csrf"]
        cookie = _cookie_attributes(response.headers["set-cookie"])
        assert cookie[""].startswith("jl_session=")
        assert "httponly" in cookie and cookie["samesite"] == "strict"
        assert "secure" not in cookie  # plain HTTP without secure_cookies
        assert cookie["path"] == "/" and int(cookie["max-age"]) > 0
        me = client.get("/api/me")
        assert me.status_code == 200
        assert me.json() == {"name": "vera", "role": "viewer", "csrf": body["csrf"]}


def test_secure_cookies_behind_tls(tmp_path: Path) -> None:
    secure = build_site(tmp_path / "tls", data=False, secure_cookies=True)
    with secure.client() as client:
        response = client.post("/api/login", json={"name": "ada", "password": PASSWORDS["ada"]})
        assert response.status_code == 200
        cookie = _cookie_attributes(response.headers["set-cookie"])
        assert "secure" in cookie and "httponly" in cookie and cookie["samesite"] == "strict"


def test_wrong_password_is_401_without_a_session_and_is_audited(site: Site) -> None:
    with site.client(client=("10.1.0.1", 4000)) as client:
        response = client.post("/api/login", json={"name": "vera", "password": "not-her-password"})
        assert response.status_code == 401
        assert "set-cookie" not in response.headers
        assert client.get("/api/me").status_code == 401
        unknown = client.post("/api/login", json={"name": "nobody", "password": "whatever-1234"})
        assert unknown.status_code == 401
        assert unknown.json() == response.json()  # does not say which part was wrong
    failed = [e for e in _audit(site) if e["action"] == "login-failed"]
    assert {"vera", "nobody"} <= {e["user"] for e in failed}
    assert any(e["detail"] == "10.1.0.1" for e in failed)


def test_lock_out_after_five_failures_per_user(bare: Site) -> None:
    # Five failures for one name, each from another address: the name is locked everywhere.
    for attempt in range(5):
        with bare.client(client=(f"10.2.0.{attempt}", 4000)) as client:
            wrong = client.post("/api/login", json={"name": "vera", "password": "guess-number-x"})
            assert wrong.status_code == 401
    with bare.client(client=("10.2.0.99", 4000)) as client:
        locked = client.post("/api/login", json={"name": "vera", "password": PASSWORDS["vera"]})
        assert locked.status_code == 429
        assert "set-cookie" not in locked.headers
        # Another user from the same address is not locked out.
        other = client.post("/api/login", json={"name": "eddie", "password": PASSWORDS["eddie"]})
        assert other.status_code == 200
    actions = [(e["user"], e["action"]) for e in _audit(bare)]
    assert actions.count(("vera", "login-failed")) == 5
    assert ("vera", "login-locked") in actions
    assert ("vera", "login") not in actions


def test_lock_out_after_five_failures_per_client(bare: Site) -> None:
    with bare.client(client=("10.3.0.1", 4000)) as client:
        for attempt in range(5):
            wrong = client.post(
                "/api/login", json={"name": f"guess{attempt}", "password": "guess-number-x"}
            )
            assert wrong.status_code == 401
        locked = client.post("/api/login", json={"name": "ada", "password": PASSWORDS["ada"]})
        assert locked.status_code == 429
    with bare.client(client=("10.3.0.2", 4000)) as client:
        fine = client.post("/api/login", json={"name": "ada", "password": PASSWORDS["ada"]})
        assert fine.status_code == 200


def test_logout_ends_the_session_on_the_server(site: Site) -> None:
    with signed_in(site, "vera") as (client, csrf):
        session_id = client.cookies["jl_session"]
        assert client.post("/api/logout").status_code == 403  # CSRF applies to logout too
        response = client.post("/api/logout", headers={"X-CSRF-Token": csrf})
        assert response.status_code == 204
        assert client.get("/api/me").status_code == 401
    with site.client() as replay:  # the old cookie, sent again, is worth nothing
        replay.cookies.set("jl_session", session_id)
        assert replay.get("/api/me").status_code == 401
    assert ("vera", "logout") in [(e["user"], e["action"]) for e in _audit(site)]


def test_anonymous_api_calls_get_401_with_www_authenticate(site: Site) -> None:
    with site.client() as client:
        for method, path in [
            ("GET", "/api/maps"),
            ("GET", "/api/maps/current-state/live"),
            ("PATCH", "/api/maps/current-state/steps/pay-online"),
            ("GET", "/api/users"),
        ]:
            response = client.request(method, path, json={})
            assert response.status_code == 401, (method, path)
            assert response.headers["www-authenticate"].startswith("Bearer")
        bogus = client.get("/api/maps", headers={"Authorization": "Bearer jl_not-a-token"})
        assert bogus.status_code == 401


def test_cross_origin_sign_in_is_refused(site: Site) -> None:
    credentials = {"name": "vera", "password": PASSWORDS["vera"]}
    with site.client() as client:
        evil = client.post(
            "/api/login", json=credentials, headers={"Origin": "https://evil.example"}
        )
        assert evil.status_code == 403 and "set-cookie" not in evil.headers
        same = client.post("/api/login", json=credentials, headers={"Origin": "http://testserver"})
        assert same.status_code == 200


# -- CSRF and tokens ----------------------------------------------------------------------------
def _first_step(site: Site, map_id: str) -> tuple[str, str]:
    model = site.workspace.map(map_id)
    _, step = next(iter(model.steps()))
    return step.id, str(step.action)


def test_cookie_requests_that_change_things_need_the_csrf_token(site: Site) -> None:
    step_id, _ = _first_step(site, "current-state-ro")
    path = site.workspace.map_text("current-state-ro")[0]
    before = path.read_bytes()
    url = f"/api/maps/current-state-ro/steps/{step_id}"
    with signed_in(site, "eddie") as (client, csrf):
        for headers in ({}, {"X-CSRF-Token": "wrong"}, {"X-CSRF-Token": b"\xe9t\xe9"}):
            refused = client.patch(url, json={"action": "CSRF"}, headers=headers)
            assert refused.status_code == 403, (headers, refused.text)
        assert path.read_bytes() == before
        accepted = client.patch(
            url, json={"action": "With the token"}, headers={"X-CSRF-Token": csrf}
        )
        assert accepted.status_code == 200, accepted.text
    assert "action: With the token" in path.read_text(encoding="utf-8")


def test_bearer_tokens_need_no_csrf_and_act_with_the_users_role(site: Site) -> None:
    step_id, _ = _first_step(site, "current-state-sl")
    url = f"/api/maps/current-state-sl/steps/{step_id}"
    with site.client() as client:
        viewer = client.patch(url, json={"emotion": 1}, headers=site.bearer("viewer"))
        assert viewer.status_code == 403
        editor = client.patch(url, json={"emotion": -1}, headers=site.bearer("editor"))
        assert editor.status_code == 200, editor.text
        assert site.workspace.map("current-state-sl").step(step_id).emotion == -1  # type: ignore[union-attr]
        me = client.get("/api/me", headers=site.bearer("editor"))
        assert me.json() == {"name": "eddie", "role": "editor", "csrf": None}
    # A token made over a cookie session (with CSRF), shown once, then used alone.
    with signed_in(site, "vera") as (client, csrf):
        assert client.post("/api/tokens", json={"label": "x"}).status_code == 403
        made = client.post(
            "/api/tokens", json={"label": "notebook"}, headers={"X-CSRF-Token": csrf}
        )
        assert made.status_code == 201
        token = made.json()["token"]
    with site.client() as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/me", headers=headers).json()["name"] == "vera"
        assert client.get("/api/users", headers=headers).status_code == 403


# -- maps and live measures ---------------------------------------------------------------------
def test_maps_list(site: Site) -> None:
    with site.client() as client:
        response = client.get("/api/maps", headers=site.bearer("viewer"))
    assert response.status_code == 200
    listed = {m["id"]: m for m in response.json()}
    assert set(listed) == {m.id for m in site.workspace.maps()}
    current = listed["current-state"]
    model = site.workspace.map("current-state")
    steps = [s for _, s in model.steps()]
    assert current["steps"] == len(steps) and current["type"] == "current"
    assert current["bound_steps"] == sum(1 for s in steps if s.match) > 0


def test_live_map_equals_the_workspace_and_duckdb(site: Site) -> None:
    with site.client() as client:
        response = client.get("/api/maps/future-state/live", headers=site.bearer("viewer"))
    assert response.status_code == 200, response.text
    served = response.json()
    measured, pains = site.workspace.live(site.workspace.live_spec("future-state"))
    assert served["live"]["steps"] == _plain(measured.to_dict()["steps"])
    assert served["live"]["customers"] == measured.customers > 0
    assert served["painpoints"] == _plain(pains.to_dict())
    # One step counted straight from the store: customers with a matching event.
    model = site.workspace.map("future-state")
    bound = {s.id: s.match for _, s in model.steps() if s.match}
    assert bound
    ((customers,),) = _query(
        site,
        "SELECT count(DISTINCT customer_key) FROM events WHERE activity = 'add_to_cart'",
    )
    steps = {s["step"]: s for s in served["live"]["steps"]}
    carts = [i for i, m in bound.items() if m == 'activity == "add_to_cart"']
    assert carts
    for step_id in carts:
        assert steps[step_id]["customers"] == customers > 0


def test_live_svg_is_an_svg_with_the_data_lanes(site: Site) -> None:
    with site.client() as client:
        response = client.get(
            "/api/maps/current-state/svg", params={"live": "true"}, headers=site.bearer("viewer")
        )
        plain = client.get("/api/maps/current-state/svg", headers=site.bearer("viewer"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.lstrip().startswith("<svg") and "Customers (data)" in response.text
    assert plain.status_code == 200 and "Customers (data)" not in plain.text


def test_map_ids_are_not_file_paths(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A map outside the workspace, next to the server's working directory, is not served
    nor overwritten through a map id that looks like a file name."""
    stray = tmp_path / "stray.yaml"
    text = site.workspace.map_text("future-state")[1].replace("id: future-state", "id: stray", 1)
    stray.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with site.client() as client:
        assert client.get("/api/maps/stray.yaml", headers=site.bearer("viewer")).status_code == 404
        put = client.put(
            "/api/maps/stray.yaml",
            json={"yaml": text + "\n# changed\n"},
            headers=site.bearer("admin"),
        )
        assert put.status_code == 404
    assert stray.read_text(encoding="utf-8") == text


# -- edits and history --------------------------------------------------------------------------
def test_step_edit_history_diff_and_restore(site: Site) -> None:
    path, original = site.workspace.map_text("day-in-the-life")
    step_id, old_action = _first_step(site, "day-in-the-life")
    editor = site.bearer("editor")
    with site.client() as client:
        edited = client.patch(
            f"/api/maps/day-in-the-life/steps/{step_id}",
            json={"action": "Opens the running app at dawn", "message": "clearer"},
            headers=editor,
        )
        assert edited.status_code == 200, edited.text
        on_disk = path.read_text(encoding="utf-8")
        assert "Opens the running app at dawn" in on_disk and old_action not in on_disk
        # Only that step changed: the file keeps its comments and the rest of its text.
        assert on_disk.count("\n") == original.count("\n")
        versions = client.get("/api/maps/day-in-the-life/versions", headers=editor).json()
        assert [v["version"] for v in versions] == [2, 1]
        assert versions[0]["author"] == "eddie" and versions[0]["message"] == "clearer"
        first = client.get("/api/maps/day-in-the-life/versions/1", headers=editor).json()
        assert first["yaml"] == original
        minus = [line for line in first["diff"].splitlines() if line.startswith("-")]
        plus = [line for line in first["diff"].splitlines() if line.startswith("+")]
        assert any(old_action in line for line in minus[1:])
        assert any("Opens the running app at dawn" in line for line in plus[1:])
        assert client.get("/api/maps/day-in-the-life/versions/9", headers=editor).status_code == 404
        restored = client.post("/api/maps/day-in-the-life/versions/1/restore", headers=editor)
        assert restored.status_code == 200, restored.text
        assert path.read_text(encoding="utf-8") == original
        versions = client.get("/api/maps/day-in-the-life/versions", headers=editor).json()
        assert [v["version"] for v in versions] == [3, 2, 1]
        assert versions[0]["message"] == "restored v1"
        got = client.get("/api/maps/day-in-the-life", headers=editor).json()
        assert got["yaml"] == original and got["map"]["id"] == "day-in-the-life"
    actions = [(e["user"], e["action"], e["target"]) for e in _audit(site)]
    assert ("eddie", "edit-step", f"day-in-the-life/{step_id}") in actions
    assert ("eddie", "edit-map", "day-in-the-life") in actions


def test_invalid_step_edits_leave_the_file_alone(site: Site) -> None:
    path = site.workspace.map_text("current-state-he")[0]
    before = path.read_bytes()
    step_id, _ = _first_step(site, "current-state-he")
    with site.client() as client:
        for body in ({"emotion": 7}, {"match": 'activity == "x" and'}, {"action": None}):
            response = client.patch(
                f"/api/maps/current-state-he/steps/{step_id}",
                json=body,
                headers=site.bearer("editor"),
            )
            assert response.status_code == 422, (body, response.text)
        missing = client.patch(
            "/api/maps/current-state-he/steps/no-such-step", json={}, headers=site.bearer("editor")
        )
        assert missing.status_code == 404
    assert path.read_bytes() == before


def test_invalid_yaml_is_refused_with_line_and_column(site: Site) -> None:
    path, before = site.workspace.map_text("current-state-ru")
    with site.client() as client:
        versions = client.get("/api/maps/current-state-ru/versions", headers=site.bearer("editor"))
        for text, line in [
            ("journeylens: 1\nid: current-state-ru\ntitle: [unclosed\n", 4),
            ("journeylens: 1\nid: current-state-ru\ntitle: x\ntype: nonsense\nstages: []\n", 4),
        ]:
            response = client.put(
                "/api/maps/current-state-ru", json={"yaml": text}, headers=site.bearer("editor")
            )
            assert response.status_code == 422, response.text
            issues = response.json()["detail"]["issues"]
            assert issues and all(
                isinstance(i["line"], int) and isinstance(i["column"], int) and i["message"]
                for i in issues
            )
            assert line in {i["line"] for i in issues} or line - 1 in {i["line"] for i in issues}
        renamed = before.replace("id: current-state-ru", "id: another-id", 1)
        assert renamed != before
        response = client.put(
            "/api/maps/current-state-ru", json={"yaml": renamed}, headers=site.bearer("editor")
        )
        assert response.status_code == 422
        after = client.get("/api/maps/current-state-ru/versions", headers=site.bearer("editor"))
    assert path.read_text(encoding="utf-8") == before
    assert after.json() == versions.json()


# -- selectors ----------------------------------------------------------------------------------
def test_selector_check_reports_the_column_or_counts_equal_to_duckdb(site: Site) -> None:
    with site.client() as client:

        def check(selector: str) -> dict[str, Any]:
            response = client.post(
                "/api/selectors/check", json={"selector": selector}, headers=site.bearer("viewer")
            )
            assert response.status_code == 200, response.text
            result: dict[str, Any] = response.json()
            return result

        bad = check('activity == "order_placed" and')
        assert bad["valid"] is False and bad["column"] == len('activity == "order_placed" and') + 1
        unknown = check("price > 3")
        assert unknown["valid"] is False and unknown["column"] == 1 and "price" in unknown["error"]
        for selector, where in [
            ('activity == "add_to_cart"', "activity = 'add_to_cart'"),
            (
                'channel == "webshop" and activity in ["product_view", "checkout_start"]',
                "channel = 'webshop' AND activity IN ('product_view', 'checkout_start')",
            ),
        ]:
            ((events, customers),) = _query(
                site, f"SELECT count(*), count(DISTINCT customer_key) FROM events WHERE {where}"
            )
            good = check(selector)
            assert good["valid"] is True and good["error"] is None
            assert (good["events"], good["customers"]) == (events, customers)
            assert events > customers > 0


# -- comments, data -----------------------------------------------------------------------------
def test_comments(site: Site) -> None:
    step_id, _ = _first_step(site, "current-state")
    text = '<b>Check</b> this "step" — שלום'
    with site.client() as client:
        refused = client.post(
            "/api/maps/current-state/comments",
            json={"step": step_id, "text": "hi"},
            headers=site.bearer("viewer"),
        )
        assert refused.status_code == 403
        made = client.post(
            "/api/maps/current-state/comments",
            json={"step": step_id, "text": text},
            headers=site.bearer("editor"),
        )
        assert made.status_code == 201, made.text
        assert made.json()["author"] == "eddie"
        nowhere = client.post(
            "/api/maps/current-state/comments",
            json={"step": "no-such-step", "text": "hi"},
            headers=site.bearer("editor"),
        )
        assert nowhere.status_code == 404
        listed = client.get("/api/maps/current-state/comments", headers=site.bearer("viewer"))
    assert [(c["id"], c["step"], c["author"], c["text"]) for c in listed.json()] == [
        (made.json()["id"], step_id, "eddie", text)
    ]


def test_quarantine_is_for_editors(site: Site, tmp_path: Path) -> None:
    bad = tmp_path / "broken.csv"
    bad.write_text(
        "customer_id,timestamp,activity,channel\n"
        "q-1,not a date,store_visit,store\n"
        "q-2,,store_visit,store\n",
        encoding="utf-8",
    )
    (report,) = site.workspace.ingest(str(bad))
    assert report.quarantined == 2
    with site.client() as client:
        assert client.get("/api/data/quarantine").status_code == 401
        assert client.get("/api/data/quarantine", headers=site.bearer("viewer")).status_code == 403
        rows = client.get(
            "/api/data/quarantine", params={"batch": report.batch_id}, headers=site.bearer("editor")
        )
        batches = client.get("/api/data/batches", headers=site.bearer("viewer"))
    assert rows.status_code == 200
    assert sorted(r["row"] for r in rows.json()) == [1, 2] or sorted(
        r["row"] for r in rows.json()
    ) == [2, 3]
    assert all(r["reason"] and r["file"].endswith("broken.csv") for r in rows.json())
    mine = [b for b in batches.json() if b["batch_id"] == report.batch_id]
    assert (
        mine
        and mine[0]["read"] == mine[0]["accepted"] + mine[0]["quarantined"] + mine[0]["duplicates"]
    )


# -- users, audit -------------------------------------------------------------------------------
def test_admin_adds_users_and_weak_passwords_are_refused(site: Site) -> None:
    admin = site.bearer("admin")
    with site.client() as client:
        for name, password in [
            ("newbie", "short-1"),
            ("newbie", "newbie-is-my-name-1"),
            ("newbie", "aaaaaaaaaaaaaaaa"),
            ("newbie", "password1234"),
            ("bad name!", "A-good-Passphrase-77"),
        ]:
            response = client.post(
                "/api/users",
                json={"name": name, "password": password, "role": "viewer"},
                headers=admin,
            )
            assert response.status_code == 422, (name, password)
        assert (
            client.post(
                "/api/users",
                json={"name": "newbie", "password": "A-good-Passphrase-77", "role": "owner"},
                headers=admin,
            ).status_code
            == 422
        )
        made = client.post(
            "/api/users",
            json={"name": "newbie", "password": "A-good-Passphrase-77", "role": "viewer"},
            headers=admin,
        )
        assert made.status_code == 201 and made.json() == {"name": "newbie", "role": "viewer"}
        again = client.post(
            "/api/users",
            json={"name": "newbie", "password": "Another-Passphrase-78", "role": "admin"},
            headers=admin,
        )
        assert again.status_code == 422
        by_editor = client.post(
            "/api/users",
            json={"name": "sneaky", "password": "A-good-Passphrase-77", "role": "admin"},
            headers=site.bearer("editor"),
        )
        assert by_editor.status_code == 403
        users = client.get("/api/users", headers=admin).json()
        assert {"name": "newbie", "role": "viewer"} in users
        assert "sneaky" not in {u["name"] for u in users}
        signed = client.post(
            "/api/login", json={"name": "newbie", "password": "A-good-Passphrase-77"}
        )
        assert signed.status_code == 200 and signed.json()["role"] == "viewer"
    assert ("ada", "add-user", "newbie") in [
        (e["user"], e["action"], e["target"]) for e in _audit(site)
    ]


@contextmanager
def _login(site: Site, name: str, password: str) -> Iterator[TestClient]:
    with site.client() as client:
        response = client.post("/api/login", json={"name": name, "password": password})
        assert response.status_code == 200, response.text
        yield client


def test_role_changes_end_the_users_sessions_and_admins_cannot_demote_themselves(
    site: Site,
) -> None:
    admin = site.bearer("admin")
    with site.client() as client:
        made = client.post(
            "/api/users",
            json={"name": "rolf", "password": "Changes-Of-Roles-55", "role": "viewer"},
            headers=admin,
        )
        assert made.status_code == 201
    with _login(site, "rolf", "Changes-Of-Roles-55") as client:
        assert client.get("/api/me").json()["role"] == "viewer"
        with site.client() as other:
            changed = other.patch("/api/users/rolf", json={"role": "editor"}, headers=admin)
            assert changed.status_code == 200 and changed.json() == {
                "name": "rolf",
                "role": "editor",
            }
            assert (
                other.patch("/api/users/ghost", json={"role": "editor"}, headers=admin).status_code
                == 404
            )
            by_editor = other.patch(
                "/api/users/rolf", json={"role": "admin"}, headers=site.bearer("editor")
            )
            assert by_editor.status_code == 403
            self_demotion = other.patch("/api/users/ada", json={"role": "viewer"}, headers=admin)
            assert self_demotion.status_code == 422
            assert other.get("/api/me", headers=admin).json()["role"] == "admin"
        assert client.get("/api/me").status_code == 401  # the session ended with the old role
    assert ("ada", "set-role", "rolf") in [
        (e["user"], e["action"], e["target"]) for e in _audit(site)
    ]


def test_audit_log_is_for_admins_and_records_edits(site: Site) -> None:
    step_id, _ = _first_step(site, "current-state-sl")
    with site.client() as client:
        assert client.get("/api/audit", headers=site.bearer("editor")).status_code == 403
        edited = client.patch(
            f"/api/maps/current-state-sl/steps/{step_id}",
            json={"thoughts": ["audited"]},
            headers=site.bearer("editor"),
        )
        assert edited.status_code == 200
        latest = client.get("/api/audit", params={"limit": 1}, headers=site.bearer("admin")).json()
    assert len(latest) == 1
    assert (latest[0]["user"], latest[0]["action"], latest[0]["target"]) == (
        "eddie",
        "edit-step",
        f"current-state-sl/{step_id}",
    )
    assert latest[0]["detail"] == "thoughts"


# -- headers, storage ---------------------------------------------------------------------------
def test_security_headers(site: Site) -> None:
    with site.client() as client:
        responses = [
            client.get("/api/maps", headers=site.bearer("viewer")),
            client.get("/api/maps"),  # a 401 carries them too
            client.get("/openapi.json"),
        ]
    for response in responses:
        csp = {
            directive.split()[0]: directive.split()[1:]
            for directive in response.headers["content-security-policy"].split(";")
            if directive.strip()
        }
        assert csp["script-src"] == ["'self'"]
        assert (
            "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
        )
        assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert responses[0].headers["cache-control"] == "no-store"


def test_the_accounts_database_keeps_hashes_only(site: Site) -> None:
    with signed_in(site, "ada") as (client, csrf):
        session_id = client.cookies["jl_session"]
        token = client.post(
            "/api/tokens", json={"label": "db"}, headers={"X-CSRF-Token": csrf}
        ).json()["token"]
    stored = accounts_path(site.root).read_bytes()
    for secret in [*PASSWORDS.values(), session_id, token, *site.tokens.values()]:
        assert secret.encode() not in stored
    with sqlite3.connect(accounts_path(site.root)) as db:
        hashes = dict(db.execute("SELECT name, password FROM users").fetchall())
        session_hashes = [row[0] for row in db.execute("SELECT id_hash FROM sessions")]
        token_hashes = [row[0] for row in db.execute("SELECT token_hash FROM tokens")]
    assert set(PASSWORDS) <= set(hashes)
    assert all(h.startswith("$argon2id$") for h in hashes.values())
    assert session_hashes and token_hashes
    assert session_id not in session_hashes and token not in token_hashes


# -- the live cache -----------------------------------------------------------------------------
class _FrozenClock:
    """A clock that never moves: the cache must see changes whatever the time since."""

    @staticmethod
    def monotonic() -> float:
        return 1000.0

    @staticmethod
    def time() -> float:
        return 1_700_000_000.0


@pytest.fixture
def counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Site, list[str]]:
    """A site of its own (the test loads data into it), counting live computations."""
    own = build_site(tmp_path / "cached")
    calls: list[str] = []
    measure = own.workspace.live_with_conformance

    def counting(spec: Any, **options: Any) -> Any:
        calls.append(spec.journey_map.id)
        return measure(spec, **options)

    monkeypatch.setattr(own.app.state.live_cache.workspace, "live_with_conformance", counting)
    monkeypatch.setattr(live_cache, "time", _FrozenClock(), raising=False)
    return own, calls


def _step_customers(site: Site, client: TestClient, step: str) -> int:
    response = client.get("/api/maps/current-state/live", headers=site.bearer("viewer"))
    assert response.status_code == 200, response.text
    steps = {s["step"]: s for s in response.json()["live"]["steps"]}
    customers: int = steps[step]["customers"]
    return customers


def _customers_doing(site: Site, *activities: str) -> int:
    marks = ", ".join("?" for _ in activities)
    ((count,),) = _query(
        site,
        f"SELECT count(DISTINCT customer_key) FROM events WHERE activity IN ({marks})",
        *activities,
    )
    return int(count)


def test_live_results_are_cached_until_the_data_or_the_map_changes(
    counted: tuple[Site, list[str]], tmp_path: Path
) -> None:
    site, calls = counted
    step = "try-on-in-store"
    assert site.workspace.map("current-state").step(step).match == (  # type: ignore[union-attr]
        'activity in ["store_visit", "store_fitting"]'
    )
    with site.client() as client:
        before = _step_customers(site, client, step)
        assert before == _customers_doing(site, "store_visit", "store_fitting") > 0
        assert _step_customers(site, client, step) == before
        assert calls == ["current-state"]  # the second request was served from the cache
        # Twenty new customers visit the store, loaded by another process (the CLI) with its
        # own façade; the next request sees them at once.
        generation = site.workspace.data_generation()
        extra = tmp_path / "visits.csv"
        extra.write_text(
            "customer_id,timestamp,activity,channel\n"
            + "".join(
                f"new-{i},2025-06-0{1 + i % 9}T10:00:00Z,store_visit,store\n" for i in range(20)
            ),
            encoding="utf-8",
        )
        cli = Workspace.open(site.root)
        (report,) = cli.ingest(str(extra))
        assert report.accepted == 20
        cli.stitch()
        assert cli.data_generation() != generation
        after = _step_customers(site, client, step)
        assert len(calls) == 2
        assert after == before + 20 == _customers_doing(site, "store_visit", "store_fitting")
        assert _step_customers(site, client, step) == after and len(calls) == 2
        # A map edit: the step now counts fittings only.
        edited = client.patch(
            f"/api/maps/current-state/steps/{step}",
            json={"match": 'activity == "store_fitting"'},
            headers=site.bearer("editor"),
        )
        assert edited.status_code == 200
        fittings = _step_customers(site, client, step)
        assert len(calls) == 3
        assert fittings == _customers_doing(site, "store_fitting") != after


def test_a_failed_live_computation_leaves_nothing_behind(
    counted: tuple[Site, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    site, calls = counted
    cache = site.app.state.live_cache

    def failing(spec: Any, **options: Any) -> Any:
        calls.append("failed")
        raise JourneylensError("the engine ran out of memory")

    monkeypatch.setattr(cache.workspace, "live_with_conformance", failing)
    with site.client() as client:
        for _ in range(2):
            response = client.get("/api/maps/future-state/live", headers=site.bearer("viewer"))
            assert response.status_code == 422 and "out of memory" in response.text
    assert calls == ["failed", "failed"]  # a failure is not cached
    assert cache._key_locks == {}  # nor is a lock kept for the failed key


def test_no_data_yet_is_a_conflict_not_an_error(bare: Site) -> None:
    with bare.client() as client:
        live = client.get("/api/maps/current-state/live", headers=bare.bearer("viewer"))
        assert live.status_code == 409
        check = client.post(
            "/api/selectors/check",
            json={"selector": 'activity == "x"'},
            headers=bare.bearer("viewer"),
        )
        assert check.status_code == 200 and check.json()["events"] is None
        assert client.get("/api/data/batches", headers=bare.bearer("viewer")).json() == []


# -- odd input ----------------------------------------------------------------------------------
def test_dates_past_the_calendar_are_refused_not_a_server_error(site: Site) -> None:
    with site.client() as client:
        for since in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "not a date"):
            response = client.get(
                "/api/maps/current-state/live",
                params={"since": since},
                headers=site.bearer("viewer"),
            )
            assert response.status_code == 422, (since, response.text)


def test_text_that_is_not_unicode_is_refused_not_a_server_error(site: Site) -> None:
    """JSON can escape a lone surrogate, which no file or database can store."""
    path = site.workspace.map_text("current-state-he")[0]
    before = path.read_bytes()
    step_id, _ = _first_step(site, "current-state-he")
    json_type = {"content-type": "application/json"}
    with site.client() as client:
        cases: list[tuple[str, str, str, Role | None]] = [
            (
                "PATCH",
                f"/api/maps/current-state-he/steps/{step_id}",
                '{"thoughts": ["\\ud800"]}',
                "editor",
            ),
            (
                "PATCH",
                f"/api/maps/current-state-he/steps/{step_id}",
                '{"emotion": "\\udfff"}',
                "editor",
            ),
            (
                "POST",
                "/api/maps/current-state-he/comments",
                f'{{"step": "{step_id}", "text": "a\\ud83d"}}',
                "editor",
            ),
            ("POST", "/api/tokens", '{"label": "\\ud800"}', "viewer"),
            (
                "POST",
                "/api/users",
                '{"name": "x\\ud800", "password": "Long-Enough-Pass-9", "role": "viewer"}',
                "admin",
            ),
            ("POST", "/api/selectors/check", '{"selector": "activity == \\"\\ud800\\""}', "viewer"),
            ("POST", "/api/login", '{"name": "vera", "password": "\\ud800"}', None),
        ]
        for method, url, body, role in cases:
            headers = {**json_type, **(site.bearer(role) if role else {})}
            response = client.request(method, url, content=body.encode(), headers=headers)
            assert response.status_code == 422, (url, body, response.text)
            assert "Unicode" in response.json()["detail"]
        comments = client.get("/api/maps/current-state-he/comments", headers=site.bearer("viewer"))
    assert path.read_bytes() == before
    assert comments.json() == []


def test_unknown_names_cost_one_verification_like_known_ones(
    bare: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No timing here: the work is counted. A name that does not exist must not cost a hash
    on top of the verification a real name costs."""
    accounts = bare.app.state.accounts
    real = accounts._hasher
    work: list[str] = []

    class Counting:
        def hash(self, password: str) -> str:
            work.append("hash")
            return str(real.hash(password))

        def verify(self, hashed: str, password: str) -> bool:
            work.append("verify")
            return bool(real.verify(hashed, password))

        def check_needs_rehash(self, hashed: str) -> bool:
            return bool(real.check_needs_rehash(hashed))

    monkeypatch.setattr(accounts, "_hasher", Counting())
    with bare.client(client=("10.4.0.1", 4000)) as client:
        client.post("/api/login", json={"name": "vera", "password": "wrong-password-1"})
        known = list(work)
        work.clear()
        client.post("/api/login", json={"name": "nobody-here", "password": "wrong-password-1"})
    assert known == ["verify"]
    assert work == known


def test_editing_translated_text_keeps_the_other_languages(site: Site) -> None:
    _, original = site.workspace.map_text("future-state")
    step_id, old_action = _first_step(site, "future-state")
    translated = original.replace(
        f"action: {old_action}\n", f"action: {{en: {old_action}, ro: Vede o reclamă}}\n", 1
    )
    assert translated != original
    editor = site.bearer("editor")
    with site.client() as client:
        put = client.put("/api/maps/future-state", json={"yaml": translated}, headers=editor)
        assert put.status_code == 200, put.text
        edited = client.patch(
            f"/api/maps/future-state/steps/{step_id}",
            json={"action": "Sees a better ad"},
            headers=editor,
        )
        assert edited.status_code == 200, edited.text
    step = site.workspace.map("future-state").step(step_id)
    assert step is not None and step.action == {"en": "Sees a better ad", "ro": "Vede o reclamă"}
    with site.client() as client:
        listed = client.get("/api/maps", headers=editor).json()
    he = next(m for m in listed if m["id"] == "current-state-he")
    assert he["language"] == "he" and he["title"].startswith("אנה")


def test_step_lanes_are_edited(site: Site) -> None:
    path = site.workspace.map_text("current-state-sl")[0]
    before = site.workspace.map("current-state-sl")
    url = "/api/maps/current-state-sl/steps/pay-online"
    kept = "Preverjanje kartice na mobilnem telefonu ne uspe, košarica pa se izprazni"
    editor = site.bearer("editor")
    with site.client() as client:
        edited = client.patch(
            url,
            json={
                "gains": ["Plača z enim dotikom"],
                "backstage": ["Plačilni prehod avtorizira kartico", "Banka pošlje 3-D Secure"],
                # The new one first: the unchanged text keeps its id and evidence anyway.
                "pain_points": [
                    {"text": "Ni podpore za Apple Pay"},
                    {"text": kept, "severity": "high"},
                ],
                "owner": "Digitalna prodaja",
            },
            headers=editor,
        )
        assert edited.status_code == 200, edited.text
        on_disk = path.read_text(encoding="utf-8")
        assert "Digitalna prodaja" in on_disk and "Banka pošlje 3-D Secure" in on_disk
        assert on_disk.startswith("# Trenutno stanje")  # the comments stay
        after = site.workspace.map("current-state-sl")
        step = after.step("pay-online")
        assert step is not None
        assert step.gains == ["Plača z enim dotikom"] and step.owner == "Digitalna prodaja"
        assert step.backstage == [
            "Plačilni prehod avtorizira kartico",
            "Banka pošlje 3-D Secure",
        ]
        new, old = step.pain_points
        assert (new.text, new.severity, new.id, new.evidence) == (
            "Ni podpore za Apple Pay",
            "medium",
            None,
            None,
        )
        assert (old.text, old.severity, old.id, old.evidence) == (
            kept,
            "high",
            "pp-3ds-mobile",
            "measured",
        )
        old_step = before.step("pay-online")
        assert old_step is not None
        assert step.frontstage == old_step.frontstage and step.support == old_step.support
        assert step.emotion_label == old_step.emotion_label and step.match == old_step.match
        others = [s for _, s in after.steps() if s.id != "pay-online"]
        assert others == [s for _, s in before.steps() if s.id != "pay-online"]

        # A bad severity is refused, saying which line and why; the file stays as it is.
        text = path.read_bytes()
        refused = client.patch(
            url,
            json={
                "backstage": ["x"],
                "pain_points": [{"text": kept}, {"text": "y", "severity": "urgent"}],
            },
            headers=editor,
        )
        assert refused.status_code == 422
        detail = refused.json()["detail"]
        assert (
            "line 2" in detail and "'urgent'" in detail and "low, medium, high, critical" in detail
        )
        assert path.read_bytes() == text

        # A translated item keeps its other languages while the lane keeps its length.
        plain = "backstage: [Naročilo je posredovano v skladišče]"
        assert plain in on_disk
        translated = on_disk.replace(
            plain,
            "backstage: [{sl: Naročilo je posredovano v skladišče, en: The order goes out}]",
        )
        put = client.put("/api/maps/current-state-sl", json={"yaml": translated}, headers=editor)
        assert put.status_code == 200, put.text
        confirmation = "/api/maps/current-state-sl/steps/receive-confirmation"
        same = client.patch(
            confirmation, json={"backstage": ["Skladišče prejme naročilo"]}, headers=editor
        )
        assert same.status_code == 200, same.text
        step = site.workspace.map("current-state-sl").step("receive-confirmation")
        assert step is not None
        assert step.backstage == [{"sl": "Skladišče prejme naročilo", "en": "The order goes out"}]
        longer = client.patch(confirmation, json={"backstage": ["a", "b"]}, headers=editor)
        assert longer.status_code == 200, longer.text
        step = site.workspace.map("current-state-sl").step("receive-confirmation")
        assert step is not None and step.backstage == ["a", "b"]
