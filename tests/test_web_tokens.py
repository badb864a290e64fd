"""API tokens expire and can be revoked: by their owner, by an admin, from the CLI."""

from __future__ import annotations

import sqlite3
import time

import pytest
from click.testing import CliRunner

from journeylens.cli import cli
from journeylens.web.accounts import AccountError
from journeylens.web.app import accounts_path, open_accounts
from tests.web_fixtures import Site, build_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return build_site(tmp_path_factory.mktemp("tokens") / "shoes", data=False)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_works_until_it_expires(site: Site) -> None:
    with site.client() as client:
        made = client.post(
            "/api/tokens",
            json={"label": "nightly export", "days": 7},
            headers=site.bearer("viewer"),
        )
        assert made.status_code == 201
        body = made.json()
        assert body["expires"] == pytest.approx(time.time() + 7 * 86400, abs=60)
        assert client.get("/api/me", headers=_bearer(body["token"])).status_code == 200
        with sqlite3.connect(accounts_path(site.root)) as db:
            db.execute(
                "UPDATE tokens SET expires = ? WHERE substr(token_hash, 1, 12) = ?",
                (time.time() - 1, body["id"]),
            )
        assert client.get("/api/me", headers=_bearer(body["token"])).status_code == 401
        listed = client.get("/api/tokens", headers=site.bearer("viewer")).json()
        mine = next(t for t in listed if t["id"] == body["id"])
        assert mine["expired"] is True and mine["label"] == "nightly export"
        assert "token" not in mine
        too_long = client.post(
            "/api/tokens", json={"label": "x", "days": 400}, headers=site.bearer("viewer")
        )
        assert too_long.status_code == 422


def test_owners_and_admins_revoke_tokens(site: Site) -> None:
    accounts = open_accounts(site.root)
    eddies = accounts.create_token("eddie", "script")
    eddies_id = accounts.tokens("eddie")[0].id
    with site.client() as client:
        assert client.get("/api/me", headers=_bearer(eddies)).status_code == 200
        # A viewer sees only their own tokens and cannot revoke anyone else's.
        seen = {t["user"] for t in client.get("/api/tokens", headers=site.bearer("viewer")).json()}
        assert seen == {"vera"}
        refused = client.delete(f"/api/tokens/{eddies_id}", headers=site.bearer("viewer"))
        assert refused.status_code == 404
        assert client.get("/api/me", headers=_bearer(eddies)).status_code == 200
        # The owner revokes it; it stops working at once.
        revoked = client.delete(f"/api/tokens/{eddies_id}", headers=site.bearer("editor"))
        assert revoked.status_code == 200 and revoked.json() == {"revoked": eddies_id}
        assert client.get("/api/me", headers=_bearer(eddies)).status_code == 401
        assert (
            client.delete(f"/api/tokens/{eddies_id}", headers=site.bearer("editor")).status_code
            == 404
        )
        # An admin sees and revokes anyone's.
        veras = accounts.create_token("vera", "laptop")
        veras_id = accounts.tokens("vera")[0].id
        everyone = {
            t["user"] for t in client.get("/api/tokens", headers=site.bearer("admin")).json()
        }
        assert {"vera", "eddie", "ada"} <= everyone
        assert (
            client.delete(f"/api/tokens/{veras_id}", headers=site.bearer("admin")).status_code
            == 200
        )
        assert client.get("/api/me", headers=_bearer(veras)).status_code == 401
        for bad in ("zzzzzzzzzzzz", "short", "'; DROP TABLE tokens; --"):
            assert (
                client.delete(f"/api/tokens/{bad}", headers=site.bearer("admin")).status_code == 404
            )
    with pytest.raises(AccountError, match="1 to 366 days"):
        accounts.create_token("vera", "forever", days=10_000)


def test_the_cli_lists_and_revokes_tokens(site: Site) -> None:
    runner = CliRunner()
    made = runner.invoke(
        cli, ["-w", str(site.root), "users", "token", "ada", "--label", "cli", "--days", "3"]
    )
    assert made.exit_code == 0, made.output
    token = made.output.strip()
    listed = runner.invoke(cli, ["-w", str(site.root), "users", "tokens", "ada"])
    line = next(row for row in listed.output.splitlines() if " cli " in row)
    token_id = line.split()[0]
    with site.client() as client:
        assert client.get("/api/me", headers=_bearer(token)).status_code == 200
        revoked = runner.invoke(cli, ["-w", str(site.root), "users", "revoke", token_id])
        assert revoked.exit_code == 0 and f"revoked {token_id}" in revoked.output
        assert client.get("/api/me", headers=_bearer(token)).status_code == 401
    again = runner.invoke(cli, ["-w", str(site.root), "users", "revoke", token_id])
    assert again.exit_code != 0 and "no token" in again.output
