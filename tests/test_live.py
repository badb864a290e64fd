"""Live maps: hand-counted journeys on DuckDB and Spark, the planted pain points of the demo
data found for every seed, moments of truth against hand-computed odds ratios, and the data
lanes drawn (escaped) on the map."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import site
import warnings
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from journeylens.analyses.binding import Scope, bound_steps, outcome_step
from journeylens.analyses.live import LiveMap, LiveSpec, live_map
from journeylens.analyses.painpoints import odds_ratio
from journeylens.cli.main import cli
from journeylens.engine import Engine, Journeys
from journeylens.model.journey_map import JourneyMap
from journeylens.render.journey_map import render_svg
from journeylens.workspace import Workspace
from tests.journeys import event, journeys_of

H = 3600.0
D = 86_400.0

SHOP = JourneyMap.model_validate(
    {
        "id": "shop",
        "title": "Shop",
        "stages": [
            {
                "id": "consider",
                "name": "Consider",
                "lifecycle": "consideration",
                "steps": [
                    {"id": "view", "action": "Views", "match": 'activity == "view"'},
                    {"id": "untracked", "action": "Asks a friend"},
                ],
            },
            {
                "id": "buy",
                "name": "Buy",
                "lifecycle": "conversion",
                "steps": [
                    {"id": "cart", "action": "Adds to cart", "match": 'activity == "cart"'},
                    {"id": "order", "action": "Orders", "match": 'activity == "order"'},
                ],
            },
            {
                "id": "after",
                "name": "After",
                "lifecycle": "retention",
                "steps": [
                    {
                        "id": "help",
                        "action": "Reads help",
                        "touchpoint": "tp-help",
                        "match": 'activity == "faq"',
                    },
                    {
                        "id": "call",
                        "action": "Calls",
                        "touchpoint": "tp-phone",
                        "match": 'activity == "call"',
                    },
                    {"id": "return", "action": "Returns", "match": 'activity == "returned"'},
                ],
            },
        ],
    }
)


def shop_rows() -> list[dict[str, Any]]:
    """Five customers, counted by hand in the assertions below."""
    return [
        # a: the happy path, then help and a call 2 days later, a repeat call, a bad answer.
        event("a", 0, "view", channel="web", device="mobile"),
        event("a", 1 * H, "cart", channel="web", device="mobile"),
        event("a", 2 * H, "order", channel="web", device="mobile"),
        event("a", 3 * D, "faq", channel="web"),
        event("a", 5 * D, "call", channel="phone", attributes='{"wait_seconds": 900}'),
        event("a", 6 * D, "call", channel="phone", attributes='{"wait_seconds": 60}'),
        event(
            "a",
            7 * D,
            "survey",
            channel="email",
            score=1.0,
            score_type="csat",
            text="Too long on hold",
            language="en",
            attributes='{"about": "tp-phone"}',
        ),
        # b: views, carts, goes back to viewing, carts again, leaves (drops at cart).
        event("b", 0, "view", channel="web", device="mobile"),
        event("b", 1 * H, "cart", channel="web", device="mobile"),
        event("b", 2 * H, "view", channel="web", device="mobile"),
        event("b", 3 * H, "cart", channel="web", device="mobile"),
        # c: views and leaves (drops at view).
        event("c", 0, "view", channel="web", device="desktop"),
        # d: carts (no view) and orders; a happy survey about the order step.
        event("d", 0, "cart", channel="web", device="desktop"),
        event("d", 4 * H, "order", channel="web", device="desktop"),
        event(
            "d",
            1 * D,
            "survey",
            channel="email",
            score=5.0,
            score_type="csat",
            text="Great",
            language="en",
            attributes='{"about": "order"}',
        ),
        # e: no designed step at all (counts in the population only).
        event("e", 0, "newsletter", channel="email"),
    ]


@pytest.fixture(scope="module", params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def shop_journeys(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Journeys]:
    """The shop's journeys, prepared once per engine for the tests that only read them (on
    Spark, preparing and measuring take seconds each)."""
    from journeylens.engine import duckdb_engine

    tmp = tmp_path_factory.mktemp(f"shop-{request.param}")
    if request.param == "spark":
        yield journeys_of(request.getfixturevalue("spark_engine"), shop_rows(), tmp)
        return
    eng = duckdb_engine()
    yield journeys_of(eng, shop_rows(), tmp)
    eng.close()


@pytest.fixture(scope="module")
def shop(shop_journeys: Journeys) -> LiveMap:
    return live_map(shop_journeys, LiveSpec(SHOP, within=7 * D, long_wait=300))


def test_binding_reads_the_design() -> None:
    steps = bound_steps(SHOP)
    assert [s.id for s in steps][:3] == ["view", "untracked", "cart"]
    assert steps[0].next == ("untracked",) and steps[-1].next == ()
    assert outcome_step(steps) is not None and outcome_step(steps).id == "order"  # type: ignore[union-attr]


def test_live_counts_by_hand(shop: LiveMap) -> None:
    assert (shop.customers, shop.outcome, shop.converted) == (5, "order", 2)
    view, untracked, cart, order = (shop.step(s) for s in ("view", "untracked", "cart", "order"))
    assert (view.customers, view.events, view.share) == (3, 4, 0.6)
    assert not untracked.bound and untracked.customers == 0
    assert shop.unmatched == ["return"]  # no "returned" event in the data
    # cart: a, b, d; next designed step "order" after the first cart: a (1 h), d (4 h).
    assert (cart.customers, cart.converted, cart.conversion) == (3, 2, round(2 / 3, 6))
    assert cart.median_time_to_next == pytest.approx(2.5 * H)
    # Drop-off before the outcome: b's last step is cart, c's is view.
    assert (view.dropped, cart.dropped, order.counts_dropoff) == (1, 1, False)
    assert view.dropoff == round(1 / 3, 6) and order.dropoff is None
    by_device = {b.label: (b.customers, b.dropped) for b in view.dropoff_by}
    assert by_device == {"mobile": (2, 0), "desktop": (1, 1)}
    # Loops: b went back from cart to view.
    assert (cart.looping, view.looping) == (1, 0)


def test_contacts_are_caused_by_the_step_just_before(shop: LiveMap) -> None:
    help_step, call = shop.step("help"), shop.step("call")
    # a's first call follows help (2 days); the repeat call follows the first call.
    assert (help_step.contacting, help_step.contact_events, help_step.contact_rate) == (1, 1, 1.0)
    assert (call.contacting, call.contact_events) == (1, 1)
    assert shop.step("order").contacting == 0  # the faq came between order and the call
    assert [c.label for c in help_step.contact_reasons] == ["call"]
    assert (call.waited, call.long_waits, call.median_wait) == (1, 1, 900.0)


def test_satisfaction_is_tied_by_about(shop: LiveMap) -> None:
    call, order = shop.step("call"), shop.step("order")
    (csat,) = call.satisfaction
    assert (csat.score_type, csat.answers, csat.mean, csat.dissatisfied) == ("csat", 1, 1.0, 1)
    assert call.emotion == -2.0 and order.emotion == 2.0
    assert [v.text for v in call.verbatims] == ["Too long on hold"]
    assert shop.step("view").emotion is None


def test_scope_narrows_customers(shop_journeys: Journeys) -> None:
    spec = LiveSpec(SHOP, scope=Scope(segment="attr.wait_seconds > 0"))
    mobile = live_map(shop_journeys, spec)
    assert mobile.customers == 1 and mobile.step("view").customers == 1


def test_a_later_step_means_no_drop_off(engine: Engine, tmp_path: Path) -> None:
    # g carts, has no order event (lost by the shop system) but calls support later: the
    # call shows the journey went on, so g did not abandon at the cart.
    rows = [
        *shop_rows(),
        event("g", 0, "cart", channel="web", device="mobile"),
        event("g", 2 * D, "call", channel="phone"),
    ]
    result = live_map(journeys_of(engine, rows, tmp_path), LiveSpec(SHOP))
    cart = result.step("cart")
    assert (cart.customers, cart.dropped) == (4, 1)  # still only b


def test_a_step_with_data_is_no_longer_flagged(engine: Engine, tmp_path: Path) -> None:
    rows = [*shop_rows(), event("a", 9 * D, "returned", channel="store")]
    journeys = journeys_of(engine, rows, tmp_path)
    result = live_map(journeys, LiveSpec(SHOP))
    assert result.unmatched == [] and result.step("return").customers == 1


def test_odds_ratio_matches_a_hand_computed_woolf_interval() -> None:
    ratio, low, high = odds_ratio(20, 80, 40, 60)
    assert ratio == pytest.approx(0.375)
    se = math.sqrt(1 / 20 + 1 / 80 + 1 / 40 + 1 / 60)
    assert low == pytest.approx(math.exp(math.log(0.375) - 1.959964 * se))
    assert high == pytest.approx(math.exp(math.log(0.375) + 1.959964 * se))
    assert low == pytest.approx(0.19921, abs=1e-4) and high == pytest.approx(0.70594, abs=1e-4)


# -- the demo data: planted pain points ------------------------------------------------------

SEEDS = range(10)


def _measure_seed(root: Path, seed: int) -> dict[str, Any]:
    """One seed through the whole pipeline, in a worker process: the demo workspace created,
    its data generated, loaded and stitched, and its live map measured. Returns what the test
    checks, and every warning raised (re-raised in the test process, where they are errors)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ws = Workspace.init(root, example="running-shoes")
        ws.demo_data(events=12_000, seed=seed, load=True)
        ws.stitch()
        truth = json.loads((ws.root / "data/demo/ground_truth.json").read_text())
        measured, pains = ws.live(ws.live_spec("current-state"))
    return {
        "truth": truth,
        "top": [p.step for p in pains.ranked[:3]],
        "kinds": {p.step: {s.kind for s in p.signals} for p in pains.ranked},
        "unmatched": measured.unmatched,
        "warnings": [(str(w.message), w.category, w.filename, w.lineno) for w in caught],
    }


@pytest.fixture(scope="module")
def demo_seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Any]]:
    """Every seed's demo workspace built and measured, the seeds spread over the CPUs (a seed
    takes seconds of Ibis compiling, which one process does on one core)."""
    roots = {seed: tmp_path_factory.mktemp(f"seed{seed}") / "shoes" for seed in SEEDS}
    workers = min(len(roots), os.cpu_count() or 1)
    spawn = multiprocessing.get_context("spawn")  # not fork: this process runs JVM threads
    # The workers import this module by name, from the repository (as pytest does here).
    repository = str(Path(__file__).parents[1])
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=spawn, initializer=site.addsitedir, initargs=(repository,)
    ) as pool:
        futures = {seed: pool.submit(_measure_seed, root, seed) for seed, root in roots.items()}
        done = {seed: future.result() for seed, future in futures.items()}
    for seed, result in done.items():
        for message, category, filename, lineno in result["warnings"]:
            warnings.warn_explicit(message, category, filename, lineno)
        result["root"] = roots[seed]
    return done


@pytest.fixture(scope="module")
def demo_workspaces(demo_seeds: dict[int, dict[str, Any]]) -> list[Workspace]:
    return [Workspace.open(demo_seeds[seed]["root"]) for seed in SEEDS]


def test_planted_pain_points_are_the_top_three_for_every_seed(
    demo_seeds: dict[int, dict[str, Any]],
) -> None:
    assert sorted(demo_seeds) == list(SEEDS)
    for seed in SEEDS:
        truth, top, kinds = (demo_seeds[seed][k] for k in ("truth", "top", "kinds"))
        assert truth["seed"] == seed
        assert set(top) == set(truth["planted_pain_points"]), (truth["seed"], top)
        # Every planted step carries its own kind of evidence.
        assert "drop-off" in kinds["pay-online"]
        assert "failure demand" in kinds["look-for-returns-info"]
        assert "dissatisfaction" in kinds["call-support"]
        assert demo_seeds[seed]["unmatched"] == []


def test_calling_support_is_a_moment_of_truth(demo_workspaces: list[Workspace]) -> None:
    ws = demo_workspaces[0]
    moments = ws.moments(ws.live_spec("current-state"))
    call = next(m for m in moments.moments if m.step == "call-support")
    assert call.outcome == "came back" and call.significant and call.high < 1
    assert call.reached_rate < call.not_reached_rate
    # Checked against the counts it came from.
    ratio, _, _ = odds_ratio(
        round(call.reached_rate * call.reached),
        call.reached - round(call.reached_rate * call.reached),
        round(call.not_reached_rate * call.not_reached),
        call.not_reached - round(call.not_reached_rate * call.not_reached),
    )
    assert ratio == pytest.approx(call.odds_ratio, rel=1e-3)


def test_live_map_drawing_escapes_verbatims(demo_workspaces: list[Workspace]) -> None:
    ws = demo_workspaces[0]
    spec = ws.live_spec("current-state")
    measured, pains = ws.live(spec)
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    call = measured.step("call-support")
    from dataclasses import replace

    from journeylens.analyses.live import Verbatim

    hostile = replace(call, verbatims=(Verbatim(payload, "en", 99),))
    steps = tuple(hostile if s.step == "call-support" else s for s in measured.steps)
    svg = render_svg(
        spec.journey_map, ws.settings, live=replace(measured, steps=steps), pains=pains
    )
    tree = ElementTree.fromstring(svg)
    tags = {element.tag.split("}")[-1] for element in tree.iter()}
    assert "script" not in tags and "img" not in tags
    texts = " ".join("".join(t.itertext()) for t in tree.iter("{http://www.w3.org/2000/svg}text"))
    # Shown as text (wrapped over lines), escaped by the serialiser.
    assert payload.replace(" ", "") in texts.replace(" ", "")
    for lane in ("Customers (data)", "Conversion & drop-off", "Pain points from data"):
        assert lane in texts
    assert "mobile" in texts  # the drop-off split on the payment step


def test_cli_painpoints_json_and_live_render(
    demo_workspaces: list[Workspace], tmp_path: Path
) -> None:
    ws = demo_workspaces[1]
    runner = CliRunner()
    result = runner.invoke(
        cli, ["-w", str(ws.root), "analyze", "painpoints", "current-state", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    first = data["ranked"][0]
    assert {"step", "score", "evidence", "signals"} <= set(first)
    assert first["evidence"] and 0 < first["score"] <= 1
    out = tmp_path / "live.svg"
    result = runner.invoke(
        cli, ["-w", str(ws.root), "render", "current-state", "--live", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    drawn = out.read_text(encoding="utf-8")
    assert "Live data as of" in drawn and "follow the designed path" in drawn
    result = runner.invoke(
        cli,
        ["-w", str(ws.root), "analyze", "whatif", "current-state", "--step", "pay-online=0.1"],
    )
    assert result.exit_code == 0, result.output
    assert "if pay-online's drop-off went from" in result.output
    result = runner.invoke(
        cli, ["-w", str(ws.root), "analyze", "conformance", "current-state", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert 0 < json.loads(result.output)["conformance"] < 1


def test_deflection_compares_readers_with_the_rest_of_the_stage(
    engine: Engine, tmp_path: Path
) -> None:
    from journeylens.analyses.support import DeflectionSpec, deflection

    rows = [
        *shop_rows(),  # a reads help, then calls within 7 days
        event("f", 0, "faq", channel="web"),  # reads, never calls
        event("g", 0, "call", channel="phone"),  # calls without reading
        event("h", 0, "returned", channel="store"),  # in the stage, no contact
        event("h", 10 * D, "call", channel="phone"),  # too late: outside 7 days
    ]
    journeys = journeys_of(engine, rows, tmp_path)
    (help_step,) = deflection(
        journeys, DeflectionSpec(SHOP, self_service=("help",), within=7 * D)
    ).steps
    assert (help_step.readers, help_step.readers_contacting) == (2, 1)
    assert (help_step.others, help_step.others_contacting) == (2, 1)
    assert help_step.deflection == 0.0 and help_step.verdict == "no clear effect"


def test_the_missing_returns_article_fails_to_deflect(demo_workspaces: list[Workspace]) -> None:
    from journeylens.analyses.support import DeflectionSpec

    ws = demo_workspaces[2]
    assert ws.self_service_steps("current-state") == ("look-for-returns-info",)
    spec = DeflectionSpec(
        ws.map("current-state"),
        self_service=ws.self_service_steps("current-state"),
        contact_channels=ws.contact_channels(),
    )
    (faq,) = ws.analyze("support", spec).steps
    assert faq.verdict.startswith("fails") and faq.low > 1
    assert faq.rate_with is not None and faq.rate_with > 0.7


def test_a_saved_segment_becomes_a_personas_members(
    demo_workspaces: list[Workspace], tmp_path: Path
) -> None:
    ws = demo_workspaces[3]
    runner = CliRunner()
    saved = ws.root / "segments"
    result = runner.invoke(
        cli, ["-w", str(ws.root), "analyze", "segments", "current-state", "--k", "3", "--save",
              str(saved), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sizes = {s["id"]: s["size"] for s in json.loads(result.output)["segments"]}
    settings = ws.root / "journeylens.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(
        text.replace("  - id: p-ana\n", "  - id: p-ana\n    members: segments/segment-0.parquet\n"),
        encoding="utf-8",
    )
    result = runner.invoke(
        cli, ["-w", str(ws.root), "analyze", "live", "current-state", "--persona", "p-ana",
              "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    as_persona = json.loads(result.output)["customers"]
    members = ["--members", str(saved / "segment-0.parquet"), "--json"]
    alone = runner.invoke(cli, ["-w", str(ws.root), "analyze", "live", "current-state", *members])
    assert json.loads(alone.output)["customers"] == sizes[0]
    # Ana's persona also has a segment selector: her members satisfy both.
    both = runner.invoke(
        cli,
        ["-w", str(ws.root), "analyze", "live", "current-state", *members,
         "--segment", 'attr.segment == "beginner"'],
    )  # fmt: skip
    assert as_persona == json.loads(both.output)["customers"] < sizes[0]
