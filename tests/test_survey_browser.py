"""A survey created from the command line, answered in a real browser (Debian's Chromium via
Playwright) in Hebrew and in Romanian, and the answers seen on the live map's step."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from journeylens.cli import cli
from journeylens.store import database
from journeylens.workspace import Workspace
from tests.web_server import USERS, chromium, demo_workspace, serve

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).parents[1] / "build" / "screenshots"
STEP = "wait-for-delivery"
HEBREW = "המשלוח איחר בשבוע ואף אחד לא עדכן"
ROMANIAN = "Livrarea a fost rapidă, mulțumesc!"


@dataclass
class Site:
    url: str
    workspace: Workspace
    customers: list[str]  # e-mail addresses of demo customers


def _run(root: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-w", str(root), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    workspace = demo_workspace(tmp_path_factory.mktemp("survey-web") / "shoes", events=4000)
    with duckdb.connect(str(database.store_path(workspace.root)), read_only=True) as con:
        rows = con.execute(
            "SELECT id_value FROM identities WHERE id_type = 'email' AND NOT flagged "
            "ORDER BY id_value LIMIT 2"
        ).fetchall()
    with serve(workspace.root) as url:
        yield Site(url, workspace, [r[0] for r in rows])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _answer(browser: Any, link: str, score: int, text: str, shot: str) -> tuple[str, str, Any]:
    context = browser.new_context(viewport={"width": 420, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(link)
    direction = page.get_attribute("html", "dir") or ""
    page.click(f'#q-csat label.scale-point:has(input[value="{score}"])')
    page.fill("#survey-form textarea", text)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
    page.click("#survey-submit")
    message = page.locator("#survey-message").inner_text()
    # The same link a second time: answered already.
    page.goto(link)
    again = page.locator("#survey-message").inner_text()
    context.close()
    assert errors == []
    return direction, message, again


def test_a_cli_survey_answered_in_hebrew_and_romanian_shows_on_the_live_map(
    browser: Any, site: Site
) -> None:
    root = site.workspace.root
    _run(
        root, "survey", "create", "after-delivery", "--kind", "csat", "--kind", "open",
        "--about", STEP, "--language", "he", "--language", "ro", "--language", "en",
    )  # fmt: skip
    assert "0 error(s)" in _run(root, "survey", "validate", "after-delivery")
    links = [
        _run(
            root,
            "survey",
            "link",
            "after-delivery",
            "--to",
            f"email:{who}",
            "--language",
            language,
            "--base-url",
            site.url,
        ).strip()
        for who, language in zip(site.customers, ("he", "ro"), strict=True)
    ]

    direction, thanks, again = _answer(browser, links[0], 2, HEBREW, "survey-he")
    assert direction == "rtl"
    assert thanks == "תודה על תשובתכם."
    assert again == "על הסקר הזה כבר ענו. תודה!"
    direction, thanks, again = _answer(browser, links[1], 5, ROMANIAN, "survey-ro")
    assert direction == "ltr"
    assert thanks == "Vă mulțumim pentru răspuns."

    # The app loads answers into the store after the respondent has their page.
    deadline = time.monotonic() + 60
    while site.workspace.survey_results("after-delivery").pending and time.monotonic() < deadline:
        time.sleep(0.2)
    output = _run(root, "survey", "results", "after-delivery")
    assert f"{STEP}: 2 of 2 answered (100%)" in output
    assert "CSAT mean 3.5" in output
    assert "not yet in the event store" not in output  # the app loaded them on answer

    context = browser.new_context(viewport={"width": 1440, "height": 960})
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(site.url + "/login")
    page.fill("#login-name", USERS["viewer"].name)
    page.fill("#login-password", USERS["viewer"].password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(site.url + "/")
    page.goto(site.url + "/maps/current-state")
    page.wait_for_selector("#canvas svg .step-hit", state="attached")
    page.locator(f'.step-hit[data-step="{STEP}"]').click(force=True)
    panel = page.locator("#step-panel")
    panel.wait_for(state="visible")
    verbatims = panel.locator(".verbatims blockquote").all_inner_texts()
    assert any(HEBREW in v for v in verbatims) and any(ROMANIAN in v for v in verbatims)
    text = panel.inner_text()
    assert "Satisfaction (CSAT)" in text
    assert "2 answers, 1 dissatisfied" in text
    page.screenshot(path=str(SHOTS / "survey-on-live-map.png"), full_page=False)

    # The team's survey page shows the same results, and the comments as text.
    page.goto(site.url + "/surveys/after-delivery")
    comments = page.locator("#survey-comments li").all_inner_texts()
    assert sorted(comments) == sorted([f"“{HEBREW}”", f"“{ROMANIAN}”"])
    assert page.locator("#survey-comments li[dir=rtl]").count() == 1
    page.screenshot(path=str(SHOTS / "survey-results.png"), full_page=True)
    context.close()
