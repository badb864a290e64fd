"""The process map drawing: real Graphviz, parsed SVG, hostile labels, and the helpdesk log."""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from journeylens.analyses.dfg import ActivityStats, DfgSpec, Edge, ProcessMap, process_map
from journeylens.errors import RenderError
from journeylens.render.process_map import format_duration, render_process_map

SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).parents[1]
DATA = ROOT.parent / "shared/data"
HOSTILE = [
    '<script>alert("x")</script>',
    'Say "hi" \\ back\\slash \\"',
    "Line one\nline two",
    "הזמנה נשלחה",
    "Оформление заказа",
    '"]; evil [label="x"]; start -> end; } digraph { //',
    "<![CDATA[ ]]> &amp; </text></svg>",
]


def _map(
    edges: list[tuple[str, str, int]],
    *,
    start: dict[str, int],
    end: dict[str, int],
    total: int | None = None,
) -> ProcessMap:
    """A process map from (source, target, count) triples; activities counted from them."""
    events: dict[str, int] = {}
    for source, target, count in edges:
        events[source] = events.get(source, 0) + count
        events.setdefault(target, 0)
    for name, count in end.items():
        events[name] = events.get(name, 0) + count
    return ProcessMap(
        edges=tuple(
            Edge(s, t, n, max(1, n // 2), 60.0 * n, 3_600.0 + 720 * n, 86_400.0 * n)
            for s, t, n in edges
        ),
        start=start,
        end=end,
        activities={name: ActivityStats(n, max(1, n // 3)) for name, n in events.items()},
        events=sum(events.values()),
        journeys=sum(start.values()),
        customers=sum(start.values()) - 1,
        edges_total=len(edges) if total is None else total,
    )


SHOP = _map(
    [
        ("Browse", "Add to cart", 800),
        ("Add to cart", "Checkout", 500),
        ("Checkout", "Pay", 450),
        ("Pay", "Checkout", 40),
        ("Add to cart", "Browse", 120),
        ("Checkout", "Checkout", 30),
        ("Browse", "Pay", 5),
    ],
    start={"Browse": 900, "Add to cart": 20},
    end={"Pay": 410, "Browse": 400, "Checkout": 110},
)


def _tree(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def _groups(root: ElementTree.Element, *classes: str) -> list[ElementTree.Element]:
    return [g for g in root.iter(f"{SVG}g") if set(classes) <= set((g.get("class") or "").split())]


def _lines(text: ElementTree.Element) -> str:
    return "\n".join(span.text or "" for span in text.iter(f"{SVG}tspan"))


def _texts(root: ElementTree.Element) -> list[str]:
    return [_lines(text) for text in root.iter(f"{SVG}text")]


def _title(group: ElementTree.Element) -> str:
    title = group.find(f"{SVG}title")
    assert title is not None
    return title.text or ""


def _node_top(root: ElementTree.Element, name: str) -> float:
    for group in _groups(root, "node"):
        if _title(group).split("\n")[0] == name:
            rect = group.find(f"{SVG}rect")
            assert rect is not None
            return float(rect.get("y", "nan"))
    raise AssertionError(f"no node {name!r}")


def test_one_node_per_activity_and_one_arrow_per_transition_start_and_end() -> None:
    root = _tree(render_process_map(SHOP, title="Webshop"))
    assert len(_groups(root, "node", "activity")) == len(SHOP.activities) == 4
    assert len(_groups(root, "node", "start")) == len(_groups(root, "node", "end")) == 1
    assert len(_groups(root, "edge", "transition")) == len(SHOP.edges) == 7
    assert len(_groups(root, "edge", "start")) == len(SHOP.start)
    assert len(_groups(root, "edge", "end")) == len(SHOP.end)
    texts = _texts(root)
    for name, stats in SHOP.activities.items():
        assert name in texts
        assert f"{stats.events:,} events" in texts
    for edge in SHOP.edges:
        assert f"{edge.count:,}" in texts
    assert {"Start", "End", "920 journeys", "Webshop"} <= set(texts)
    # Every arrow is a path with a head; thicker for the main path than for the rare detour.
    widths = {}
    for group in _groups(root, "edge", "transition"):
        path = group.find(f"{SVG}path")
        assert path is not None
        widths[_title(group).split(":")[0]] = float(path.get("stroke-width", "0"))
    assert widths["Browse → Add to cart"] > widths["Pay → Checkout"] > widths["Browse → Pay"]
    assert all(g.find(f"{SVG}polygon") is not None for g in _groups(root, "edge"))


def test_the_main_path_runs_top_to_bottom_and_loops_back_up() -> None:
    root = _tree(render_process_map(SHOP))
    tops = [_node_top(root, name) for name in ("Start", "Browse", "Add to cart", "Checkout", "Pay")]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)
    assert _node_top(root, "End") > tops[-1]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "–"),
        (0.0, "0 s"),
        (0.26, "0.3 s"),
        (9.96, "10 s"),
        (42.4, "42 s"),
        (59.6, "1 min"),
        (200, "3 min 20 s"),
        (599.6, "10 min"),
        (3_599.0, "1 h"),
        (3 * 3600 + 12 * 60 + 10, "3 h 12 min"),
        (86_399.0, "1 d"),
        (4.5 * 86_400, "4.5 d"),
        (45.2 * 86_400, "45 d"),
    ],
)
def test_durations_read_like_a_person_would_say_them(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_durations_and_counts_follow_the_language() -> None:
    assert format_duration(4.5 * 86_400, "ru") == "4,5 дн"
    assert format_duration(3 * 3600 + 720, "sl") == "3 h 12 min"
    root = _tree(render_process_map(SHOP, language="ru"))
    texts = _texts(root)
    assert {"Начало", "Конец", "920 путей", "800"} <= set(texts)
    browse = f"{SHOP.activities['Browse'].events:,}".replace(",", "\u202f")
    assert f"{browse} событий" in texts
    root = _tree(render_process_map(_map([("a", "b", 1)], start={"a": 1}, end={"b": 1})))
    assert {"1 event", "1 journey"} <= set(_texts(root))


def test_the_metric_picks_the_arrow_labels() -> None:
    median = _texts(_tree(render_process_map(SHOP, metric="median")))
    # 3,600 + 720 × 800 s = 6.7 d; 3,600 + 720 × 5 s = 2 h.
    assert {"6.7 d", "2 h"} <= set(median)
    assert "800" not in median and "900" not in median  # start arrows carry no count then
    customers = _texts(_tree(render_process_map(SHOP, metric="customers")))
    assert {"400", "250", "2"} <= set(customers)
    assert any("customers" in t and "directly" in t for t in customers)
    with pytest.raises(RenderError, match="unknown metric"):
        render_process_map(SHOP, metric="p99")  # type: ignore[arg-type]


def test_hostile_labels_stay_text() -> None:
    names = HOSTILE
    edges = [(a, b, 50 - 5 * i) for i, (a, b) in enumerate(itertools.pairwise(names))]
    pm = _map(edges, start={names[0]: 60}, end={names[-1]: 30, names[2]: 5})
    title = '<script>alert(1)</script> "Q3" map'
    svg = render_process_map(pm, title=title)
    root = _tree(svg)
    tags = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert tags <= {
        "svg",
        "title",
        "defs",
        "style",
        "rect",
        "g",
        "path",
        "polygon",
        "text",
        "tspan",
    }
    # The DOT-looking name did not add nodes or arrows: the layout saw only our ids.
    assert len(_groups(root, "node", "activity")) == len(names)
    assert len(_groups(root, "edge", "transition")) == len(edges)
    tooltips = [_title(g) for g in _groups(root, "node", "activity")]
    shown = " ".join(" ".join(_texts(root)).split())
    for name in names:
        assert any(tip.startswith(f"{name}\n") for tip in tooltips), name
        assert " ".join(name.split()) in shown, name  # wrapped over lines, but the same words
    assert title in _texts(root)
    assert "<script" not in svg and "&lt;script&gt;" in svg
    # Hebrew names run right to left on their own; everything else stays left to right.
    directions = {_lines(t): t.get("direction") for t in root.iter(f"{SVG}text")}
    assert directions["הזמנה נשלחה"] == "rtl"
    assert directions["Оформление заказа"] is None


def test_control_characters_cannot_break_the_document() -> None:
    name = "Tab\there\x01\x1b[31m\ud800end"
    pm = _map([(name, "ok", 2)], start={name: 2}, end={"ok": 2})
    root = _tree(render_process_map(pm))
    assert "Tab here\ufffd\ufffd[31m\ufffdend" in _texts(root)


def test_same_map_same_bytes_whatever_the_input_order() -> None:
    first = render_process_map(SHOP, title="Shop")
    assert render_process_map(SHOP, title="Shop") == first
    shuffled = ProcessMap(
        edges=tuple(reversed(SHOP.edges)),
        start=dict(reversed(SHOP.start.items())),
        end=dict(reversed(SHOP.end.items())),
        activities=dict(reversed(SHOP.activities.items())),
        events=SHOP.events,
        journeys=SHOP.journeys,
        customers=SHOP.customers,
        edges_total=SHOP.edges_total,
    )
    assert render_process_map(shuffled, title="Shop") == first


def test_filtered_maps_say_how_much_is_shown_and_drop_stranded_activities() -> None:
    kept = [e for e in SHOP.edges if e.count >= 100]
    pm = ProcessMap(
        edges=tuple(kept),
        start=SHOP.start,
        end=SHOP.end,
        activities={**SHOP.activities, "Rare": ActivityStats(1, 1)},
        events=SHOP.events + 1,
        journeys=SHOP.journeys,
        customers=SHOP.customers,
        edges_total=len(SHOP.edges) + 1,
    )
    root = _tree(render_process_map(pm))
    texts = _texts(root)
    assert "4 of 8 transitions shown (the most frequent); rare activities hidden: 1." in texts
    assert "Rare" not in texts
    assert len(_groups(root, "edge", "transition")) == 4
    # Starts and ends rarer than the rarest transition shown go too (Add to cart: 20).
    assert len(_groups(root, "edge", "start")) == 1
    unfiltered = _texts(_tree(render_process_map(SHOP)))
    assert not any("transitions shown" in t for t in unfiltered)


def test_an_empty_map_still_draws() -> None:
    pm = ProcessMap((), {}, {}, {}, 0, 0, 0)
    root = _tree(render_process_map(pm))
    assert len(_groups(root, "node")) == 2 and not _groups(root, "edge")


def test_missing_graphviz_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RenderError, match="package 'graphviz'"):
        render_process_map(SHOP)


def test_drawing_needs_no_engine() -> None:
    """The renderer imports only its own layer and those below the engine, and importing it
    loads neither Ibis nor the engine (the ProcessMap type is for the checker only)."""
    source = (ROOT / "src/journeylens/render/process_map.py").read_text()
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    ours = {name for name in imported if name.startswith("journeylens")}
    allowed = (
        "journeylens.analyses",
        "journeylens.model",
        "journeylens.errors",
        "journeylens.render",
    )
    assert ours and all(name.startswith(allowed) for name in ours), ours
    assert not {n for n in imported if n.split(".")[0] in ("ibis", "duckdb", "pyspark")}
    check = (
        "import sys, journeylens.render.process_map\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] == 'ibis'"
        " or m.startswith('journeylens.engine')]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", check], check=True, cwd=ROOT)


def test_helpdesk_process_map(tmp_path: Path) -> None:
    from journeylens.engine import duckdb_engine, prepare
    from journeylens.workspace import Workspace

    ws = Workspace.init(tmp_path / "w")
    ws.ingest(str(DATA / "helpdesk/helpdesk.xes.gz"))
    ws.stitch()
    engine = duckdb_engine(ws.root / ".journeylens/store.duckdb")
    try:
        journeys = prepare(engine, engine.con.table("events"), tmp_path / "j.parquet")
        pm = process_map(journeys, DfgSpec(min_count=50))
        everything = process_map(journeys)
    finally:
        engine.close()
    svg = render_process_map(pm, title="Helpdesk")
    (tmp_path / "helpdesk.svg").write_text(svg)
    root = _tree(svg)
    shown = {a for e in pm.edges for a in (e.source, e.target)} | set(pm.start) | set(pm.end)
    nodes = _groups(root, "node", "activity")
    assert 0 < len(nodes) <= len(shown)
    assert len(_groups(root, "edge", "transition")) == len(pm.edges) == 17
    texts = _texts(root)
    assert f"{len(pm.edges)} of {pm.edges_total} transitions shown" in " ".join(texts)
    assert {"Assign seriousness", "Take in charge ticket", "Resolve ticket", "Closed"} <= set(texts)
    assert "4,580 journeys" in texts
    main = [
        "Start",
        "Assign seriousness",
        "Take in charge ticket",
        "Resolve ticket",
        "Closed",
        "End",
    ]
    tops = [_node_top(root, name) for name in main]
    assert tops == sorted(tops)
    # All 55 transitions: Graphviz alone breaks the many cycles so that "Take in charge" sits
    # above "Assign seriousness"; walking the most frequent way first keeps the path downward.
    root = _tree(render_process_map(everything))
    assert len(_groups(root, "node", "activity")) == len(everything.activities) == 14
    assert len(_groups(root, "edge", "transition")) == everything.edges_total == 55
    tops = [_node_top(root, name) for name in main]
    assert tops == sorted(tops)
