"""Survey pages and API in the web app (in-process client): the public response page, its
defences (sealed links, one answer, rate limit, honeypot, framing allowed only there), and the
team's survey pages and endpoints."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from journeylens.web.survey_pages import RateLimit
from tests.web_fixtures import Site, build_site, signed_in

SURVEY = "support-call"
HOSTILE = '<img src=x onerror="window.__xss=1">'


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return build_site(tmp_path_factory.mktemp("web-surveys") / "shoes", data=False)


@pytest.fixture
def fresh_limit(site: Site) -> Iterator[None]:
    site.app.state.survey_limit = RateLimit()
    yield
    site.app.state.survey_limit = RateLimit()


def _link(site: Site, who: str, **options: str) -> str:
    token, _ = site.workspace.survey_invitation(SURVEY, f"email:{who}@example.com", **options)
    return f"/s/{token}"


def test_the_response_page_speaks_the_links_language(site: Site) -> None:
    with site.client() as client:
        page = client.get(_link(site, "hebrew", language="he"))
        assert page.status_code == 200
        assert '<html lang="he" dir="rtl">' in page.text
        assert "עד כמה אתם מרוצים מהטיפול בשיחה שלכם?" in page.text
        assert page.text.count('type="radio" name="csat"') == 5
        # The respondent may switch to another of the survey's languages.
        romanian = client.get(_link(site, "switch", language="he") + "?lang=ro")
        assert '<html lang="ro" dir="ltr">' in romanian.text
        assert "Cât de mulțumit sunteți" in romanian.text
        # Without a language in the link, the browser's is used when the survey has it.
        russian = client.get(_link(site, "browser"), headers={"Accept-Language": "ru,en;q=0.5"})
        assert '<html lang="ru"' in russian.text


def test_the_response_page_may_be_framed_and_leaks_nothing(site: Site) -> None:
    with site.client() as client:
        page = client.get(_link(site, "embed"))
        map_page = client.get("/login")
    assert "frame-ancestors *" in page.headers["content-security-policy"]
    assert "x-frame-options" not in page.headers
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "embed@example.com" not in page.text and "call-support" not in page.text
    # Every other page stays unframeable.
    assert map_page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in map_page.headers["content-security-policy"]


def test_a_score_chosen_in_the_mail_is_preselected(site: Site) -> None:
    with site.client() as client:
        page = client.get(_link(site, "mailbutton") + "?csat=4")
    checked = re.findall(r'name="csat" value="(\d)" checked', page.text)
    assert checked == ["4"]


def test_an_answer_is_recorded_once_and_refused_after(site: Site, fresh_limit: None) -> None:
    link = _link(site, "once")
    with site.client() as client:
        missing = client.post(link, data={"lang": "en"})
        assert missing.status_code == 422
        assert "Please answer this question." in missing.text
        assert 'aria-invalid="true"' in missing.text
        done = client.post(link, data={"lang": "en", "csat": "4", "comment": "Quick, thanks"})
        assert done.status_code == 200
        assert "Thank you. We read every answer." in done.text
        again = client.post(link, data={"lang": "en", "csat": "1"})
        assert again.status_code == 409
        assert client.get(link).status_code == 409
    answers = [r for r in site.workspace.survey_responses(SURVEY) if r.answer.text]
    assert [(r.answer.scores, r.answer.text) for r in answers] == [({"csat": 4}, "Quick, thanks")]


def test_changed_and_expired_links_are_refused(site: Site) -> None:
    link = _link(site, "tampered")
    token = link.rsplit("/", 1)[1]
    changed = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    with site.client() as client:
        for bad in (f"/s/{changed}", "/s/not-a-token", f"/s/{token[:-5]}"):
            refused = client.get(bad)
            assert refused.status_code == 404, bad
            assert "This survey link is not valid." in refused.text
            assert client.post(bad, data={"csat": "5"}).status_code == 404
    from journeylens.surveys import tokens

    key = tokens.load_key(site.workspace.state_dir)
    old = tokens.new_invitation(SURVEY, "email:old@example.com", None, valid_days=1, now=0)
    with site.client() as client:
        expired = client.get("/s/" + tokens.seal(old, key))
    assert expired.status_code == 410
    assert "This survey link has expired." in expired.text


def test_the_honeypot_keeps_nothing(site: Site, fresh_limit: None) -> None:
    link = _link(site, "robot")
    before = len(site.workspace.survey_responses(SURVEY))
    with site.client() as client:
        answered = client.post(link, data={"csat": "5", "website": "http://spam.example"})
        assert answered.status_code == 200  # a bot is thanked, not told
        assert len(site.workspace.survey_responses(SURVEY)) == before
        # The link still works for the person it was meant for.
        assert client.post(link, data={"csat": "5"}).status_code == 200
    assert len(site.workspace.survey_responses(SURVEY)) == before + 1


def test_answers_from_one_address_are_rate_limited(site: Site) -> None:
    site.app.state.survey_limit = RateLimit(limit=3, window=600)
    try:
        with site.client() as client:
            statuses = [
                client.post(_link(site, f"flood{i}"), data={"csat": "3"}).status_code
                for i in range(5)
            ]
            assert statuses == [200, 200, 200, 429, 429]
            assert "Too many answers" in client.post(_link(site, "x"), data={"csat": "3"}).text
    finally:
        site.app.state.survey_limit = RateLimit()


def test_hostile_answers_are_shown_as_text_to_the_team(site: Site, fresh_limit: None) -> None:
    with site.client() as client:
        client.post(_link(site, "hostile"), data={"csat": "2", "comment": HOSTILE})
    with signed_in(site, "vera") as (client, _):
        page = client.get(f"/surveys/{SURVEY}")
    assert page.status_code == 200
    assert HOSTILE not in page.text
    assert "&lt;img src=x onerror=&#34;window.__xss=1&#34;&gt;" in page.text
    assert 'id="survey-text"' not in page.text  # viewers get no editor


def test_the_team_edits_a_survey_and_sees_its_issues(site: Site) -> None:
    path, text = site.workspace.survey_text(SURVEY)
    with signed_in(site, "eddie") as (client, csrf):
        refused = client.post(f"/surveys/{SURVEY}", data={"text": text})
        assert refused.status_code == 403  # no CSRF field
        broken = client.post(
            f"/surveys/{SURVEY}",
            data={
                "text": text.replace("about: call-support", "about: call-suport"),
                "csrf_token": csrf,
            },
        )
        assert broken.status_code == 422
        assert "&#39;call-suport&#39; is neither a step of a map nor a touchpoint" in broken.text
        assert re.search(r"support-call\.yaml:\d+:\d+", broken.text)
        assert path.read_text(encoding="utf-8") == text
        saved = client.post(
            f"/surveys/{SURVEY}",
            data={"text": text.replace("valid_days: 14", "valid_days: 21"), "csrf_token": csrf},
        )
        assert saved.status_code == 200 and 'id="survey-saved"' in saved.text
        assert site.workspace.survey(SURVEY).valid_days == 21
        made = client.post(
            f"/surveys/{SURVEY}/link",
            data={
                "identifier": "email:page@example.com",
                "about": "pay-online",
                "csrf_token": csrf,
            },
        )
        assert made.status_code == 200
        url = re.search(r'id="survey-link" dir="ltr">([^<]+)<', made.text)
        assert url is not None
        opened = site.workspace.open_survey_token(url.group(1).rsplit("/", 1)[1])[1]
        assert (opened.identifier, opened.about) == ("email:page@example.com", "pay-online")
        assert "data:image/svg+xml;base64," in made.text
        assert "&lt;iframe src=" in made.text
    path.write_text(text, encoding="utf-8")


def test_the_survey_api(site: Site) -> None:
    editor = site.bearer("editor")
    with site.client() as client:
        listed = client.get("/api/surveys", headers=site.bearer("viewer")).json()
        assert [s["id"] for s in listed] == [SURVEY]
        assert listed[0]["questions"] == ["csat", "single", "open"]
        detail = client.get(f"/api/surveys/{SURVEY}", headers=site.bearer("viewer")).json()
        assert detail["survey"]["about"] == "call-support"
        assert detail["results"]["answered"] == listed[0]["answered"]
        assert client.get("/api/surveys/nope", headers=editor).status_code == 404
        made = client.post(
            f"/api/surveys/{SURVEY}/links",
            json={"identifier": "phone:+40 721 000 111", "language": "ro"},
            headers=editor,
        )
        assert made.status_code == 201
        body = made.json()
        assert body["qr_svg"].startswith("<svg") and body["url"].startswith("http")
        token = body["url"].rsplit("/", 1)[1]
        assert site.workspace.open_survey_token(token)[1].identifier == "phone:+40721000111"
        bad = client.post(
            f"/api/surveys/{SURVEY}/links", json={"identifier": "nobody"}, headers=editor
        )
        assert bad.status_code == 422 and "type:value" in bad.json()["detail"]
        created = client.post(
            "/api/surveys",
            json={"yaml": "id: api-nps\nname: NPS\nquestions: [{id: q, kind: nps, text: Q}]\n"},
            headers=editor,
        )
        assert created.status_code == 201
        duplicate = client.post(
            "/api/surveys",
            json={"yaml": "id: api-nps\nname: NPS\nquestions: [{id: q, kind: nps, text: Q}]\n"},
            headers=editor,
        )
        assert duplicate.status_code == 422
        invalid = client.put(
            "/api/surveys/api-nps", json={"yaml": "id: api-nps\nname: NPS\n"}, headers=editor
        )
        assert invalid.status_code == 422
        assert invalid.json()["issues"][0]["message"] == "missing required field 'questions'"
        loaded = client.post("/api/surveys-load", headers=editor)
        assert loaded.status_code == 200
        assert client.post("/api/surveys-load", headers=site.bearer("viewer")).status_code == 403
    (site.root / "surveys" / "api-nps.yaml").unlink()


def test_an_answer_waits_while_the_store_is_busy(
    site: Site, fresh_limit: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from journeylens.store import database
    from journeylens.web import survey_pages

    monkeypatch.setattr(survey_pages, "RETRY_SECONDS", 0.01)
    link = _link(site, "busy")
    with database.writer(site.root), site.client() as client:
        answered = client.post(link, data={"csat": "2"})
        assert answered.status_code == 200  # the respondent is not kept waiting
        assert site.workspace.survey_results(SURVEY).pending >= 1
    with site.client() as client:
        loaded = client.post("/api/surveys-load", headers=site.bearer("editor"))
    assert loaded.status_code == 200 and loaded.json()["answers"] >= 1
    assert site.workspace.survey_results(SURVEY).pending == 0
