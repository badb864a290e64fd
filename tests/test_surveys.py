"""Surveys without a browser: definitions and their checks, sealed links, answers, the ledger,
answers loaded as events and joined to their customer, results and exports.

The store, the ledger and the analyses are the real ones (DuckDB, SQLite, the live-map engine)
on the running-shoes demo data.
"""

from __future__ import annotations

import base64
import csv
import io
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylens.errors import (
    ExpiredSurveyLink,
    InvalidSurveyLink,
    StoreBusyError,
    SurveyAlreadyAnswered,
    ValidationError,
    WorkspaceError,
)
from journeylens.model.survey import Survey
from journeylens.store import database
from journeylens.store.loading import normalise_identifier, normalised_value
from journeylens.surveys import tokens
from journeylens.surveys.answers import read_answer
from journeylens.surveys.ledger import LEDGER_FILE
from journeylens.workspace import Workspace

SURVEY = "support-call"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    workspace = Workspace.init(
        tmp_path_factory.mktemp("surveys") / "shoes", example="running-shoes"
    )
    workspace.demo_data(events=3000, seed=3, load=True)
    workspace.stitch()
    return workspace


def _store(workspace: Workspace) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(database.store_path(workspace.root)), read_only=True)


def _known_email(workspace: Workspace) -> tuple[str, str]:
    """An e-mail address of a demo customer, and that customer's key."""
    with _store(workspace) as con:
        row = con.execute(
            "SELECT id_value, customer_key FROM identities WHERE id_type = 'email' "
            "AND NOT flagged ORDER BY id_value LIMIT 1"
        ).fetchone()
    assert row is not None
    return row[0], row[1]


# -- definitions ------------------------------------------------------------------------------
def _write(workspace: Workspace, name: str, text: str) -> Path:
    path = workspace.root / "surveys" / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_survey_is_valid_in_five_languages(shop: Workspace) -> None:
    survey = shop.survey(SURVEY)
    assert survey.languages == ["en", "ro", "ru", "sl", "he"]
    assert [q.kind for q in survey.questions] == ["csat", "single", "open"]
    assert shop.validate() == []


def test_survey_problems_are_reported_with_line_and_column(shop: Workspace) -> None:
    path = _write(
        shop,
        "broken",
        "journeylens: 1\n"
        "id: broken\n"
        "name: Broken\n"
        "languages: [en, he]\n"
        "about: pay-onlin\n"
        "touchpoint: tp-nowhere\n"
        "questions:\n"
        "  - id: q1\n"
        "    kind: csat\n"
        "    text: {en: How was it?}\n",
    )
    try:
        messages = [(i.line, i.column, i.message) for i in shop.validate([path])]
    finally:
        path.unlink()
    assert (5, 8, "'pay-onlin' is neither a step of a map nor a touchpoint") in messages
    assert (6, 13, "unknown touchpoint 'tp-nowhere'") in messages
    assert (10, 5, "no he text: the survey's languages need every text") in messages


@pytest.mark.parametrize(
    ("questions", "expected"),
    [
        ("[{id: a, kind: nps, text: A}, {id: b, kind: nps, text: B}]", "at most one nps"),
        ("[{id: a, kind: single, text: A, choices: [{id: x, label: X}]}]", "at least two"),
        (
            "[{id: a, kind: csat, text: A, choices: [{id: x, label: X}, {id: y, label: Y}]}]",
            "takes no choices",
        ),
        ("[{id: about, kind: open, text: A}]", "are taken"),
        (
            "[{id: email, kind: single, text: A, choices: [{id: x, label: X}, {id: y, label: Y}]}]",
            "are taken",
        ),
        ("[{id: a, kind: open, text: A}, {id: b, kind: open, text: B}]", "at most one open"),
        ("[]", "at least 1 item"),
    ],
)
def test_ambiguous_surveys_are_refused(shop: Workspace, questions: str, expected: str) -> None:
    path = _write(shop, "odd", f"id: odd\nname: Odd\nquestions: {questions}\n")
    try:
        issues = shop.validate([path])
    finally:
        path.unlink()
    assert any(expected in i.message for i in issues), issues


def test_create_writes_a_valid_survey_and_refuses_a_second(shop: Workspace) -> None:
    path = shop.create_survey(
        "after-delivery", kinds=("ces", "open"), about="wait-for-delivery", languages=("en", "ro")
    )
    try:
        survey = shop.survey("after-delivery")
        assert survey.about == "wait-for-delivery"
        assert survey.text(survey.questions[0].text, "ro").startswith("Cât de ușor")
        with pytest.raises(WorkspaceError, match="already exists"):
            shop.create_survey("after-delivery")
    finally:
        path.unlink()


def test_an_edit_that_changes_the_id_or_breaks_the_survey_is_refused(shop: Workspace) -> None:
    path, text = shop.survey_text(SURVEY)
    with pytest.raises(WorkspaceError, match="ids are stable"):
        shop.save_survey_text(SURVEY, text.replace("id: support-call", "id: renamed", 1))
    with pytest.raises(ValidationError):
        shop.save_survey_text(SURVEY, text.replace("kind: csat", "kind: stars", 1))
    assert path.read_text(encoding="utf-8") == text


# -- identifiers, links ------------------------------------------------------------------------
_ORACLE = duckdb.connect()


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(["email", "phone", "cookie", "crm_id"]),
    value=st.text(alphabet=st.sampled_from(list(" \t+-()0123456789aAbZ.@ÉéŞş_")), max_size=16),
)
def test_identifiers_are_normalised_as_ingest_normalises_them(kind: str, value: str) -> None:
    """The oracle is the SQL that every ingest runs."""
    sql = normalise_identifier(kind, "v", country_code=None)
    row = _ORACLE.execute(f"SELECT {sql} FROM (SELECT CAST(? AS VARCHAR) AS v)", [value]).fetchone()
    assert row is not None
    assert normalised_value(kind, value) == row[0]


def test_a_link_opens_and_hides_who_and_what_it_is_about(shop: Workspace) -> None:
    token, invitation = shop.survey_invitation(SURVEY, "email: Ana.Runner@Example.COM ")
    assert invitation.identifier == "email:ana.runner@example.com"
    assert invitation.about == "call-support"
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for secret in (b"ana.runner", b"call-support", b"support-call", b"email"):
        assert secret not in raw
    survey, opened, answered = shop.open_survey_token(token)
    assert (survey.id, opened, answered) == (SURVEY, invitation, False)


def test_every_changed_byte_of_a_link_is_refused(shop: Workspace) -> None:
    token, _ = shop.survey_invitation(SURVEY, "email:tamper@example.com")
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for position in range(len(raw)):
        changed = bytearray(raw)
        changed[position] ^= 0x01
        forged = base64.urlsafe_b64encode(bytes(changed)).rstrip(b"=").decode()
        with pytest.raises(InvalidSurveyLink):
            shop.open_survey_token(forged)
    for forged in ("", token[:-4], token + "AAAA", "é" * 20, "x" * 5000):
        with pytest.raises(InvalidSurveyLink):
            shop.open_survey_token(forged)


def test_a_link_made_with_another_key_or_expired_is_refused(shop: Workspace) -> None:
    invitation = tokens.new_invitation(SURVEY, "email:k@example.com", None, valid_days=1)
    with pytest.raises(InvalidSurveyLink):
        shop.open_survey_token(tokens.seal(invitation, bytes(32)))
    key = tokens.load_key(shop.state_dir)
    old = tokens.new_invitation(SURVEY, "email:k@example.com", None, valid_days=1, now=0)
    with pytest.raises(ExpiredSurveyLink):
        shop.open_survey_token(tokens.seal(old, key))


def test_links_need_a_typed_identifier_and_a_known_step(shop: Workspace) -> None:
    with pytest.raises(WorkspaceError, match="type:value"):
        shop.survey_invitation(SURVEY, "ana@example.com")
    with pytest.raises(WorkspaceError, match="neither a map step"):
        shop.survey_invitation(SURVEY, "email:a@example.com", about="nowhere")
    with pytest.raises(WorkspaceError, match="not de"):
        shop.survey_invitation(SURVEY, "email:a@example.com", language="de")


# -- answers --------------------------------------------------------------------------------------
def test_answers_are_checked_against_their_questions(shop: Workspace) -> None:
    survey = shop.survey(SURVEY)
    cases: list[tuple[dict[str, list[str]], dict[str, str]]] = [
        ({}, {"csat": "required"}),
        ({"csat": ["0"]}, {"csat": "out_of_range"}),
        ({"csat": ["6"]}, {"csat": "out_of_range"}),
        ({"csat": ["4.5"]}, {"csat": "out_of_range"}),
        ({"csat": ["4", "5"]}, {"csat": "out_of_range"}),
        ({"csat": ["4"], "reason": ["nope"]}, {"reason": "unknown_choice"}),
        ({"csat": ["4"], "reason": ["refund", "delivery"]}, {"reason": "one_choice"}),
        ({"csat": ["4"], "comment": ["x" * 2001]}, {"comment": "too_long"}),
    ]
    for form, problems in cases:
        assert read_answer(survey, form)[1] == problems, form
    answer, problems = read_answer(
        survey, {"csat": [" 5 "], "reason": ["refund"], "comment": ["  Mulțumesc!  "]}
    )
    assert problems == {}
    assert (answer.scores, answer.choices, answer.text) == (
        {"csat": 5},
        {"reason": ["refund"]},
        "Mulțumesc!",
    )


def _satisfaction(workspace: Workspace, step: str) -> tuple[int, float] | None:
    measured, _ = workspace.live(workspace.live_spec("current-state"))
    scores = next(s for s in measured.steps if s.step == step).satisfaction
    csat = next((s for s in scores if s.score_type == "csat"), None)
    return None if csat is None else (csat.answers, csat.mean)


def test_an_answer_reaches_the_live_map_on_its_customer(shop: Workspace) -> None:
    email, customer = _known_email(shop)
    before = _satisfaction(shop, "wait-for-delivery")
    token, _ = shop.survey_invitation(
        SURVEY, f"email:{email.upper()}", about="wait-for-delivery", language="ro"
    )
    form = {"csat": ["1"], "reason": ["delivery"], "comment": ["Livrarea a întârziat o săptămână"]}
    assert shop.answer_survey(token, form, "ro") == {}
    report = shop.flush_survey_answers()
    assert (report.answers, report.attached) == (1, 1)
    assert report.batches[0].accepted == 1
    with _store(shop) as con:
        row = con.execute(
            "SELECT customer_key, score, score_type, text, language, activity, touchpoint, "
            "channel, attributes->>'about', attributes->>'reason' FROM events "
            "WHERE source = 'survey-support-call'"
        ).fetchall()
    assert row == [
        (customer, 1.0, "csat", "Livrarea a întârziat o săptămână", "ro", "survey_answer",
         "tp-csat-survey", "email", "wait-for-delivery", "delivery")
    ]  # fmt: skip
    after = _satisfaction(shop, "wait-for-delivery")
    count, total = (before[0], before[0] * before[1]) if before else (0, 0.0)
    assert after is not None
    assert after[0] == count + 1
    assert after[1] == pytest.approx((total + 1) / (count + 1))
    # The loaded answer forgets its identifier in the ledger; the store has it.
    loaded = [r for r in shop.survey_responses(SURVEY) if r.about == "wait-for-delivery"]
    assert [r.identifier for r in loaded] == [None]
    # Joining at load time gave the key a full re-stitch gives.
    shop.stitch()
    with _store(shop) as con:
        again = con.execute(
            "SELECT customer_key FROM events WHERE source = 'survey-support-call'"
        ).fetchall()
    assert again == [(customer,)]


def test_a_new_customer_is_keyed_as_a_stitch_would_key_them(shop: Workspace) -> None:
    token, _ = shop.survey_invitation(SURVEY, "email:first.timer@example.org")
    assert shop.answer_survey(token, {"csat": ["5"]}, "en") == {}
    shop.flush_survey_answers()
    query = (
        "SELECT e.customer_key FROM events e JOIN event_identifiers i USING (event_id) "
        "WHERE i.id_value = 'first.timer@example.org'"
    )
    with _store(shop) as con:
        attached = con.execute(query).fetchall()
    shop.stitch()
    with _store(shop) as con:
        assert con.execute(query).fetchall() == attached
    assert attached[0][0] is not None


def test_one_answer_per_link_even_when_sent_twice_at_once(shop: Workspace) -> None:
    token, invitation = shop.survey_invitation(SURVEY, "email:twice@example.com")
    outcomes: list[str] = []

    def answer() -> None:
        try:
            shop.answer_survey(token, {"csat": ["4"]}, "en")
            outcomes.append("recorded")
        except SurveyAlreadyAnswered:
            outcomes.append("refused")

    threads = [threading.Thread(target=answer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["recorded"] + ["refused"] * 5
    assert sum(r.token_id == invitation.token_id for r in shop.survey_responses(SURVEY)) == 1
    with pytest.raises(SurveyAlreadyAnswered):
        shop.answer_survey(token, {"csat": ["1"]}, "en")
    shop.flush_survey_answers()


def test_answers_wait_while_the_store_is_busy_and_load_once(shop: Workspace) -> None:
    token, invitation = shop.survey_invitation(SURVEY, "email:busy@example.com")
    with database.writer(shop.root):
        assert shop.answer_survey(token, {"csat": ["3"]}, "en") == {}
        with pytest.raises(StoreBusyError):
            shop.flush_survey_answers()
    assert shop.survey_results(SURVEY).pending == 1
    first = shop.flush_survey_answers()
    assert first.answers == 1 and first.batches[0].accepted == 1
    # Loading the same answer again (as after a crash between the store and the ledger)
    # adds nothing: the events' ids come from the link.
    with sqlite3.connect(shop.state_dir / LEDGER_FILE) as ledger:
        ledger.execute(
            "UPDATE responses SET batch_id = NULL, identifier = 'email:busy@example.com' "
            "WHERE token_id = ?",
            [invitation.token_id],
        )
    again = shop.flush_survey_answers()
    assert again.answers == 1 and again.batches[0].accepted == 0
    assert shop.survey_results(SURVEY).pending == 0
    with _store(shop) as con:
        stored = con.execute(
            "SELECT count(*) FROM events WHERE attributes->>'response' = ?", [invitation.token_id]
        ).fetchone()
    assert stored == (1,)


def test_results_count_rates_and_headline_figures(tmp_path: Path) -> None:
    workspace = Workspace.init(tmp_path / "shoes", example="running-shoes")
    scores = [10, 9, 8, 7, 6, 2, 5, 5]
    for i, score in enumerate(scores):
        token, _ = workspace.survey_invitation(SURVEY, f"email:r{i}@example.com")
        workspace.answer_survey(token, {"csat": [str(score // 2 or 1)]}, "en")
    for i in range(2):
        workspace.survey_invitation(SURVEY, f"email:silent{i}@example.com", about="pay-online")
    found = workspace.survey_results(SURVEY)
    assert (found.issued, found.answered, found.pending) == (10, 8, 8)
    by_about = {part.about: part for part in found.by_about}
    assert by_about["call-support"].response_rate == 1.0
    assert by_about["pay-online"].response_rate == 0.0
    csat = found.total.scores[0]
    values = [score // 2 or 1 for score in scores]
    assert csat.answers == 8
    assert csat.mean == pytest.approx(sum(values) / 8, abs=0.01)
    assert csat.headline == pytest.approx(100 * sum(v >= 4 for v in values) / 8)
    assert csat.distribution == {v: values.count(v) for v in sorted(set(values))}


def test_csv_export_has_no_identifiers_and_defuses_formulas(tmp_path: Path) -> None:
    workspace = Workspace.init(tmp_path / "shoes", example="running-shoes")
    token, _ = workspace.survey_invitation(SURVEY, "email:formula@example.com", language="he")
    workspace.answer_survey(
        token, {"csat": ["2"], "reason": ["refund"], "comment": ['=HYPERLINK("x")']}, "he"
    )
    text = workspace.survey_responses_csv(SURVEY)
    assert "formula@example.com" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["csat"] == "2" and rows[0]["reason"] == "refund"
    assert rows[0]["comment"] == '\'=HYPERLINK("x")'
    assert rows[0]["language"] == "he" and rows[0]["about"] == "call-support"


def test_erasing_a_customer_forgets_their_survey_links_and_answers(tmp_path: Path) -> None:
    workspace = Workspace.init(tmp_path / "shoes", example="running-shoes")
    token, _ = workspace.survey_invitation(SURVEY, "email:gone@example.com")
    workspace.answer_survey(token, {"csat": ["4"]}, "en")
    workspace.survey_invitation(SURVEY, "email:stays@example.com")
    assert workspace.erase_survey_identifier("email:GONE@example.com") == 2
    found = workspace.survey_results(SURVEY)
    assert (found.issued, found.answered) == (1, 0)


@pytest.fixture
def no_key_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(tokens.KEY_ENV, raising=False)
    yield


def test_the_survey_key_is_private_and_can_come_from_the_environment(
    tmp_path: Path, no_key_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tokens.load_key(tmp_path)
    assert len(key) == 32
    assert (tmp_path / tokens.KEY_FILE).stat().st_mode & 0o077 == 0
    assert tokens.load_key(tmp_path) == key
    configured = base64.urlsafe_b64encode(bytes(range(32))).decode()
    monkeypatch.setenv(tokens.KEY_ENV, configured)
    assert tokens.load_key(tmp_path) == bytes(range(32))
    monkeypatch.setenv(tokens.KEY_ENV, "short")
    with pytest.raises(Exception, match="32 bytes"):
        tokens.load_key(tmp_path)


def test_survey_model_is_exported_in_the_json_schema_sense() -> None:
    """Unknown keys are errors, as in maps (a typo never passes silently)."""
    with pytest.raises(Exception, match="Extra inputs"):
        Survey.model_validate({"id": "x", "name": "X", "questions": [], "qestions": []})


def test_an_identifier_also_on_unstitched_events_waits_for_a_stitch(tmp_path: Path) -> None:
    workspace = Workspace.init(tmp_path / "shoes", example="running-shoes")
    first = tmp_path / "first.csv"
    first.write_text(
        "customer_id,timestamp,activity,channel\nC-1,2026-01-02T10:00:00Z,visit,webshop\n",
        encoding="utf-8",
    )
    workspace.ingest(str(first))
    workspace.stitch()
    later = tmp_path / "later.csv"  # loaded after the stitch: joins an e-mail to a cookie
    later.write_text(
        "email,cookie,timestamp,activity,channel\n"
        "late@example.com,ck-9,2026-01-03T10:00:00Z,visit,webshop\n",
        encoding="utf-8",
    )
    from journeylens.model.sources import Identifier, SourceSpec

    (workspace.root / "sources").mkdir(exist_ok=True)
    spec = SourceSpec(
        id="later",
        path="later.csv",
        identifiers=[Identifier(column="email", type="email"),
                     Identifier(column="cookie", type="cookie")],
    )  # fmt: skip
    (workspace.root / "sources" / "later.yaml").write_text(
        "id: later\npath: " + str(later) + "\nidentifiers: [{column: email, type: email}, "
        "{column: cookie, type: cookie}]\n",
        encoding="utf-8",
    )
    assert spec.columns()[:3] == ["timestamp", "email", "cookie"]
    workspace.ingest("later")
    token, _ = workspace.survey_invitation(SURVEY, "email:late@example.com")
    workspace.answer_survey(token, {"csat": ["4"]}, "en")
    assert workspace.flush_survey_answers().attached == 0  # a stitch decides, not the answer
    query = "SELECT customer_key FROM events WHERE source = 'survey-support-call'"
    with _store(workspace) as con:
        assert con.execute(query).fetchall() == [(None,)]
    workspace.stitch()
    with _store(workspace) as con:
        keyed = con.execute(query).fetchall()
        cookie = con.execute(
            "SELECT customer_key FROM identities WHERE id_value = 'ck-9'"
        ).fetchall()
    assert keyed == cookie and keyed[0][0] is not None


def test_answers_to_a_broken_survey_wait_without_blocking_the_others(tmp_path: Path) -> None:
    workspace = Workspace.init(tmp_path / "shoes", example="running-shoes")
    other = workspace.create_survey("other", kinds=("nps",), about="pay-online")
    token, _ = workspace.survey_invitation(SURVEY, "email:kept@example.com")
    workspace.answer_survey(token, {"csat": ["4"]}, "en")
    token, _ = workspace.survey_invitation("other", "email:loaded@example.com")
    workspace.answer_survey(token, {"nps": ["9"]}, "en")
    path = workspace.survey_path(SURVEY)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("kind: csat", "kind: stars", 1), encoding="utf-8")
    report = workspace.flush_survey_answers()
    assert (report.answers, report.waiting) == (1, {SURVEY: 1})
    assert report.batches[0].accepted == 1 and report.batches[0].source == "survey-other"
    path.write_text(text, encoding="utf-8")
    again = workspace.flush_survey_answers()
    assert (again.answers, again.waiting) == (1, {})
    assert other.exists()
