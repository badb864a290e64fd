from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeylens.cli import cli
from journeylens.workspace import Workspace

WEB = """cookie,email,phone,timestamp,activity,channel
k1,,,2024-01-01T10:00:00Z,view,webshop
k1,Ana@Example.com,,2024-01-01T10:05:00Z,signup,webshop
k2,ana@example.com ,,2024-01-02T10:00:00Z,login,webshop
,,+40 721 000 111,2024-01-03T10:00:00Z,call,phone
k2,,0040721000111,2024-01-03T11:00:00Z,callback_form,webshop
tablet,a@x.com,,2024-01-04T10:00:00Z,view,store
tablet,b@x.com,,2024-01-04T11:00:00Z,view,store
tablet,c@x.com,,2024-01-04T12:00:00Z,view,store
tablet,d@x.com,,2024-01-04T13:00:00Z,view,store
k9,,,2024-01-05T10:00:00Z,view,webshop
"""


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace.init(tmp_path / "ws")
    (workspace.root / "sources").mkdir()
    (workspace.root / "sources/web.yaml").write_text(
        "id: web\npath: web.csv\nidentifiers: [{column: cookie, type: cookie}, "
        "{column: email, type: email}, {column: phone, type: phone}]\n"
    )
    (workspace.root / "web.csv").write_text(WEB)
    workspace.ingest("web")
    return workspace


def test_stitch_normalises_links_and_refuses_shared_identifiers(ws: Workspace) -> None:
    report = ws.stitch()
    # Ana: k1, k2, one e-mail in two spellings, one phone in two formats. a-d@x.com stay apart
    # because the shared tablet is flagged; k9 is alone.
    assert (report.identifiers, report.customers, report.flagged) == (10, 6, 1)
    ana = ws.identity("email:ana@example.com")
    assert ana.identifiers == [
        "cookie:k1",
        "cookie:k2",
        "email:ana@example.com",
        "phone:+40721000111",
    ]
    assert ana.events == 5
    chain = ana.chains["phone:+40721000111"]
    assert [(link.a, link.b) for link in chain] == [
        ("email:ana@example.com", "cookie:k2"),
        ("cookie:k2", "phone:+40721000111"),
    ]
    assert "callback_form" in chain[1].evidence
    tablet = ws.identity("cookie:tablet")
    assert tablet.customer_key is None and tablet.flagged_reason == "4 email identifiers"
    # A bare value resolves; a raw spelling is normalised before lookup.
    assert ws.identity(" ANA@example.com").customer_key == ana.customer_key


def test_keys_are_deterministic_and_restitching_is_a_replay(ws: Workspace) -> None:
    ws.stitch()
    first = ws.identity("email:ana@example.com").customer_key
    again = ws.stitch()
    assert again.customers == 6
    assert ws.identity("email:ana@example.com").customer_key == first


def test_erase_removes_the_customer_everywhere(ws: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "cookie,email,phone,timestamp,activity,channel\n"
        "k1,ana@example.com,,not-a-time,view,webshop\n"
    )
    (ws.root / "sources/bad.yaml").write_text(
        f"id: bad\npath: {bad}\nidentifiers: [{{column: cookie, type: cookie}}, "
        "{column: email, type: email}]\n"
    )
    ws.ingest("bad")
    ws.stitch()
    result = CliRunner().invoke(cli, ["-w", str(ws.root), "erase", "ana@example.com", "--yes"])
    assert result.exit_code == 0, result.output
    assert "erased 5 event(s) and 4 identifier(s)" in result.stdout
    assert ws.quarantine() == []  # the rejected row mentioning her is gone too
    report = ws.stitch()
    assert report.customers == 5
    with pytest.raises(Exception, match="no identifier"):
        ws.identity("cookie:k1")


def test_demo_data_meets_the_stitching_targets(tmp_path: Path) -> None:
    workspace = Workspace.init(tmp_path / "shoes", example="running-shoes")
    folder, reports = workspace.demo_data(events=30_000, seed=11, load=True)
    assert sum(r.accepted for r in reports) == 30_000
    assert all(r.quarantined == 0 for r in reports)
    truth = json.loads((folder / "ground_truth.json").read_text())
    assert truth["planted_pain_points"] == ["pay-online", "look-for-returns-info", "call-support"]
    report = workspace.stitch()
    assert report.flagged >= 1
    tablet = workspace.identity("cookie:tablet-01")  # the store's shared tablet
    assert tablet.customer_key is None and "crm_id identifiers" in (tablet.flagged_reason or "")
    precision, recall = workspace.stitch_quality()
    assert precision >= 0.99 and recall >= 0.98


def test_demo_data_is_reproducible(tmp_path: Path) -> None:
    from journeylens.ingest.demo import generate

    a = generate(tmp_path / "a", events=5_000, seed=3)
    b = generate(tmp_path / "b", events=5_000, seed=3)
    for name in a.files:
        assert a.files[name].read_bytes() == b.files[name].read_bytes()


CRM = """crm_id,email,phone
C-1,k9@example.com,
C-2,,
C-3,ana@example.com,+40 721 000 111
C-1,k9@example.com,
"""


def test_a_links_source_joins_identifiers_and_explains_the_row(ws: Workspace) -> None:
    (ws.root / "sources/crm.yaml").write_text(
        "id: crm\nkind: links\npath: crm.csv\nidentifiers: [{column: crm_id, type: crm_id}, "
        "{column: email, type: email}, {column: phone, type: phone}]\n"
    )
    (ws.root / "crm.csv").write_text(CRM)
    (report,) = ws.ingest("crm")
    # C-2 names nobody else: quarantined at its row; the repeated C-1 row adds nothing.
    assert (report.read, report.accepted, report.quarantined, report.duplicates) == (4, 2, 1, 1)
    (row,) = ws.quarantine(batch=report.batch_id)
    assert (row.row, row.column, row.reason) == (
        3,
        "crm_id",
        "a link needs at least two identifiers (expected: crm_id (crm_id), email (email), "
        "phone (phone))",
    )
    ws.stitch()
    ana = ws.identity("crm_id:C-3")
    assert "email:ana@example.com" in ana.identifiers and "cookie:k2" in ana.identifiers
    (link,) = ana.chains["email:ana@example.com"]
    assert link.evidence == "link in crm row 4 (batch 2)"
    # Links alone make no events; the CRM id joins no events of its own.
    assert ana.events == 5
    # Erasing through the CRM id removes the links too: nothing joins them again.
    ws.erase("crm_id:C-3")
    ws.stitch()
    for gone in ("crm_id:C-3", "email:ana@example.com", "cookie:k2"):
        with pytest.raises(Exception, match="no identifier"):
            ws.identity(gone)
    assert ws.ingest("crm")[0].status == "skipped"


def test_a_links_source_needs_two_identifier_columns(ws: Workspace) -> None:
    (ws.root / "sources/bad.yaml").write_text(
        "id: bad\nkind: links\npath: crm.csv\nidentifiers: [{column: crm_id, type: crm_id}]\n"
    )
    with pytest.raises(Exception, match="at least two identifier columns"):
        ws.sources()
