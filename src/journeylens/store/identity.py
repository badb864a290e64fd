"""Identity stitching: which identifiers belong to the same customer, and why.

Identifiers seen on the same event (a cookie and an e-mail on a checkout) or linked explicitly
are edges of a graph; customers are its connected components, found by label propagation in
SQL (each identifier takes the smallest label among its neighbours until nothing changes), so
the same statements run on a cluster later. Python only counts iterations.

Guard rails: an identifier that co-occurs with too many distinct identifiers of one type (more
than ``max_strong`` e-mails, phones or CRM ids; more than ``max_weak`` cookies or devices) is
flagged (a shared tablet seen with five e-mail addresses, test@example.com on forty browsers)
and takes no part in merging. Keys are deterministic: a hash of the component's
smallest identifier. Stitching never touches events' identifiers; it is a replay from them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import duckdb

from journeylens.errors import JourneylensError
from journeylens.model.sources import IDENTIFIER_TYPES, STRONG_IDENTIFIERS
from journeylens.store.loading import normalise_identifier

MAX_ITERATIONS = 200


@dataclass
class StitchReport:
    identifiers: int
    customers: int
    flagged: int
    iterations: int
    events_attributed: int
    events_unattributed: int
    seconds: float


def _edges_sql() -> str:
    # Star edges: every identifier of an event to the event's smallest one; plus explicit links.
    return """
        WITH keyed AS (
            SELECT event_id, id_type || ':' || id_value AS node FROM event_identifiers),
        anchor AS (SELECT event_id, min(node) AS hub FROM keyed GROUP BY event_id)
        SELECT DISTINCT k.node AS a, h.hub AS b FROM keyed k JOIN anchor h USING (event_id)
        WHERE k.node <> h.hub
        UNION
        SELECT id_type_a || ':' || id_value_a, id_type_b || ':' || id_value_b FROM identity_links
    """


def stitch(
    con: duckdb.DuckDBPyConnection, *, max_strong: int = 3, max_weak: int = 10
) -> StitchReport:
    """Recompute every customer key from the stored identifiers, in one transaction."""
    import time

    started = time.perf_counter()
    strong = sorted(STRONG_IDENTIFIERS)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE jl_edges AS {_edges_sql()}")
        # Guard rails on the full co-occurrence, not the star: who was seen with whom.
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE jl_flagged AS
            WITH pairs AS (
                SELECT DISTINCT a.id_type || ':' || a.id_value AS node, b.id_type AS other_type,
                       b.id_value AS other_value
                FROM event_identifiers a JOIN event_identifiers b USING (event_id)
                WHERE a.id_type <> b.id_type
                UNION
                SELECT DISTINCT id_type_a || ':' || id_value_a, id_type_b, id_value_b
                FROM identity_links
                UNION
                SELECT DISTINCT id_type_b || ':' || id_value_b, id_type_a, id_value_a
                FROM identity_links),
            counts AS (SELECT node, other_type, count(*) AS n FROM pairs GROUP BY ALL)
            SELECT node, string_agg(n || ' ' || other_type || ' identifiers', ', '
                                    ORDER BY other_type) AS reason
            FROM counts
            WHERE n > CASE WHEN list_contains(CAST(? AS VARCHAR[]), other_type) THEN ? ELSE ? END
            GROUP BY node
            """,
            [strong, max_strong, max_weak],
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE jl_clean AS SELECT a, b FROM jl_edges WHERE "
            "a NOT IN (SELECT node FROM jl_flagged) AND b NOT IN (SELECT node FROM jl_flagged)"
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE jl_labels AS
            SELECT node, node AS label FROM (
                SELECT DISTINCT id_type || ':' || id_value AS node FROM event_identifiers
                UNION SELECT id_type_a || ':' || id_value_a FROM identity_links
                UNION SELECT id_type_b || ':' || id_value_b FROM identity_links)
            """
        )
        iterations = 0
        while True:
            iterations += 1
            if iterations > MAX_ITERATIONS:
                raise JourneylensError("stitching did not converge")
            con.execute(
                """
                CREATE OR REPLACE TEMP TABLE jl_next AS
                SELECT l.node, least(l.label, coalesce(min(n.label), l.label)) AS label
                FROM jl_labels l
                LEFT JOIN (SELECT a AS node, b AS other FROM jl_clean
                           UNION ALL SELECT b, a FROM jl_clean) e ON e.node = l.node
                LEFT JOIN jl_labels n ON n.node = e.other
                GROUP BY l.node, l.label
                """
            )
            changed = con.execute(
                "SELECT count(*) FROM jl_next x JOIN jl_labels l USING (node) "
                "WHERE x.label <> l.label"
            ).fetchone()
            con.execute("CREATE OR REPLACE TEMP TABLE jl_labels AS SELECT * FROM jl_next")
            if not changed or not changed[0]:
                break
        con.execute("DELETE FROM identities")
        con.execute(
            """
            INSERT INTO identities
            SELECT split_part(l.node, ':', 1), substr(l.node, strpos(l.node, ':') + 1),
                   CASE WHEN f.node IS NULL THEN 'c_' || substr(md5(l.label), 1, 16) END,
                   f.node IS NOT NULL, f.reason, now()
            FROM jl_labels l LEFT JOIN jl_flagged f USING (node)
            """
        )
        con.execute(
            """
            UPDATE events SET customer_key = k.customer_key
            FROM (SELECT ei.event_id, min(i.customer_key) AS customer_key
                  FROM event_identifiers ei JOIN identities i USING (id_type, id_value)
                  WHERE NOT i.flagged GROUP BY ei.event_id) k
            WHERE events.event_id = k.event_id
            """
        )
        con.execute(
            "UPDATE events SET customer_key = NULL WHERE event_id NOT IN (SELECT ei.event_id FROM "
            "event_identifiers ei JOIN identities i USING (id_type, id_value) WHERE NOT i.flagged)"
        )
        row = con.execute(
            "SELECT count(*), count(DISTINCT customer_key), count(*) FILTER (WHERE flagged), "
            "(SELECT count(*) FILTER (WHERE customer_key IS NOT NULL) FROM events), "
            "(SELECT count(*) FILTER (WHERE customer_key IS NULL) FROM events) FROM identities"
        ).fetchone()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    assert row is not None
    return StitchReport(
        int(row[0]),
        int(row[1]),
        int(row[2]),
        iterations,
        int(row[3]),
        int(row[4]),
        round(time.perf_counter() - started, 3),
    )


def attach(con: duckdb.DuckDBPyConnection, batch_ids: list[int]) -> int:
    """Give customer keys to new single-identifier events (survey answers) without a re-stitch.

    An event with one identifier adds no edge, so the last stitch's components still hold: a
    known identifier lends its customer's key (a flagged one none, as in a stitch), and an
    identifier seen nowhere else becomes a customer of its own with the key a stitch would
    give it. Events with several identifiers, or a new identifier also seen on older
    unstitched events, wait for ``journeylens stitch``. Returns how many events got a key.
    """
    stitched = con.execute("SELECT EXISTS (SELECT 1 FROM identities)").fetchone()
    if not batch_ids or not (stitched and stitched[0]):
        return 0
    marks = ", ".join("?" * len(batch_ids))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE jl_single AS
            SELECT ei.event_id, any_value(ei.id_type) AS id_type, any_value(ei.id_value) AS id_value
            FROM events e JOIN event_identifiers ei USING (event_id)
            WHERE e.batch_id IN ({marks}) AND e.customer_key IS NULL
            GROUP BY ei.event_id HAVING count(*) = 1
            """,
            batch_ids,
        )
        # New identifiers (usually none: most answers come from known customers) become
        # customers of their own unless seen elsewhere, which only a stitch may resolve.
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE jl_new AS
            SELECT DISTINCT s.id_type, s.id_value FROM jl_single s
            WHERE NOT EXISTS (SELECT 1 FROM identities i
                              WHERE i.id_type = s.id_type AND i.id_value = s.id_value)
            """
        )
        new = con.execute("SELECT count(*) FROM jl_new").fetchone()
        if new and new[0]:
            con.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE jl_seen AS
                SELECT DISTINCT m.id_type, m.id_value
                FROM (SELECT o.event_id, o.id_type, o.id_value FROM event_identifiers o
                      SEMI JOIN jl_new n ON o.id_type = n.id_type AND o.id_value = n.id_value) m
                JOIN events e ON e.event_id = m.event_id
                WHERE e.batch_id NOT IN ({marks})
                UNION SELECT id_type_a, id_value_a FROM identity_links
                UNION SELECT id_type_b, id_value_b FROM identity_links
                """,
                batch_ids,
            )
            con.execute(
                """
                INSERT INTO identities
                SELECT n.id_type, n.id_value,
                       'c_' || substr(md5(n.id_type || ':' || n.id_value), 1, 16), false, NULL,
                       now()
                FROM jl_new n ANTI JOIN jl_seen s USING (id_type, id_value)
                """
            )
        row = con.execute(
            """
            UPDATE events SET customer_key = i.customer_key
            FROM jl_single s JOIN identities i USING (id_type, id_value)
            WHERE events.event_id = s.event_id AND NOT i.flagged
            """
        ).fetchone()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return int(row[0]) if row else 0


# -- explaining and erasing ------------------------------------------------------------------


@dataclass
class Link:
    """Why two identifiers are joined: the event (or explicit link) that carried both."""

    a: str
    b: str
    evidence: str


@dataclass
class IdentityExplanation:
    identifier: str
    customer_key: str | None
    flagged_reason: str | None
    identifiers: list[str] = field(default_factory=list)
    chains: dict[str, list[Link]] = field(default_factory=dict)  # target -> path from query
    events: int = 0


def resolve(
    con: duckdb.DuckDBPyConnection, text: str, *, pseudonym_key: str | None = None
) -> list[tuple[str, str]]:
    """Which stored identifiers ``type:value`` or a bare ``value`` stands for (normalised)."""
    id_type, sep, value = text.partition(":")
    candidates = [id_type] if sep and id_type in IDENTIFIER_TYPES else list(IDENTIFIER_TYPES)
    if not (sep and id_type in IDENTIFIER_TYPES):
        value = text
    found: list[tuple[str, str]] = []
    for candidate in candidates:
        norm = normalise_identifier(candidate, "CAST(? AS VARCHAR)", country_code=None)
        params: list[object] = [value] * norm.count("?")
        if pseudonym_key is not None:
            norm = f"sha256(CAST(? AS VARCHAR) || {norm})"
            params = [f"{pseudonym_key}:{candidate}:", *params]
        row = con.execute(
            f"SELECT id_value FROM identities WHERE id_type = ? AND id_value = {norm} LIMIT 1",
            [candidate, *params],
        ).fetchone()
        if row is not None:
            found.append((candidate, str(row[0])))
    return found


def explain(con: duckdb.DuckDBPyConnection, id_type: str, id_value: str) -> IdentityExplanation:
    node = f"{id_type}:{id_value}"
    row = con.execute(
        "SELECT customer_key, reason FROM identities WHERE id_type = ? AND id_value = ?",
        [id_type, id_value],
    ).fetchone()
    if row is None:
        raise JourneylensError(f"unknown identifier {node}: run journeylens stitch first?")
    result = IdentityExplanation(node, row[0], row[1])
    if row[0] is None:
        return result
    members = [
        f"{t}:{v}"
        for t, v in con.execute(
            "SELECT id_type, id_value FROM identities WHERE customer_key = ? ORDER BY 1, 2",
            [row[0]],
        ).fetchall()
    ]
    result.identifiers = members
    # The component's edges with their evidence: small (one customer), so walked here.
    edges = con.execute(
        """
        SELECT a.id_type || ':' || a.id_value, b.id_type || ':' || b.id_value,
               min(e.source || ' ' || e.activity || ' at ' || strftime(e.ts, '%Y-%m-%d %H:%M')
                   || ' (event ' || CASE WHEN e.source_event_id IS NOT NULL
                   THEN e.source || ':' || e.source_event_id
                   ELSE replace(CAST(e.event_id AS VARCHAR), '-', '') END || ')')
        FROM event_identifiers a JOIN event_identifiers b USING (event_id)
        JOIN events e USING (event_id)
        WHERE e.customer_key = ? AND a.id_type || ':' || a.id_value
              < b.id_type || ':' || b.id_value
        GROUP BY ALL
        """,
        [row[0]],
    ).fetchall()
    edges += con.execute(
        """
        SELECT id_type_a || ':' || id_value_a, id_type_b || ':' || id_value_b,
               min('link in ' || coalesce(l.source, 'batch ' || l.batch_id) || ' row '
                   || coalesce(CAST(l.source_row AS VARCHAR), '?') || ' (batch '
                   || l.batch_id || ')')
        FROM identity_links l
        JOIN identities a ON a.id_type = l.id_type_a AND a.id_value = l.id_value_a
        JOIN identities b ON b.id_type = l.id_type_b AND b.id_value = l.id_value_b
        WHERE a.customer_key = ? AND b.customer_key = ?
        GROUP BY ALL
        """,
        [row[0], row[0]],
    ).fetchall()
    graph: dict[str, list[tuple[str, str]]] = {}
    for a, b, evidence in edges:
        graph.setdefault(a, []).append((b, evidence))
        graph.setdefault(b, []).append((a, evidence))
    previous: dict[str, tuple[str, str]] = {}
    queue, seen = deque([node]), {node}
    while queue:
        current = queue.popleft()
        for neighbour, evidence in sorted(graph.get(current, [])):
            if neighbour not in seen:
                seen.add(neighbour)
                previous[neighbour] = (current, evidence)
                queue.append(neighbour)
    for target in members:
        if target == node or target not in previous:
            continue
        chain, step = [], target
        while step != node:
            before, evidence = previous[step]
            chain.append(Link(before, step, evidence))
            step = before
        result.chains[target] = chain[::-1]
    count = con.execute("SELECT count(*) FROM events WHERE customer_key = ?", [row[0]]).fetchone()
    result.events = int(count[0]) if count else 0
    return result


def erase(
    con: duckdb.DuckDBPyConnection, id_type: str, id_value: str, *, mention: str | None = None
) -> tuple[int, int]:
    """Delete a customer's events and identifiers everywhere; return (events, identifiers)."""
    import hashlib

    row = con.execute(
        "SELECT customer_key FROM identities WHERE id_type = ? AND id_value = ?",
        [id_type, id_value],
    ).fetchone()
    key = row[0] if row else None
    con.execute("BEGIN TRANSACTION")
    try:
        if key is not None:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE jl_gone AS SELECT event_id FROM events "
                "WHERE customer_key = ?",
                [key],
            )
            con.execute(
                "CREATE OR REPLACE TEMP TABLE jl_gone_ids AS SELECT id_type, id_value "
                "FROM identities WHERE customer_key = ?",
                [key],
            )
        else:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE jl_gone AS SELECT DISTINCT event_id FROM "
                "event_identifiers WHERE id_type = ? AND id_value = ?",
                [id_type, id_value],
            )
            con.execute(
                "CREATE OR REPLACE TEMP TABLE jl_gone_ids AS SELECT CAST(? AS VARCHAR) "
                "AS id_type, CAST(? AS VARCHAR) AS id_value",
                [id_type, id_value],
            )
        counts = con.execute(
            "SELECT (SELECT count(*) FROM jl_gone), (SELECT count(*) FROM jl_gone_ids)"
        ).fetchone()
        con.execute("DELETE FROM events WHERE event_id IN (SELECT event_id FROM jl_gone)")
        con.execute(
            "DELETE FROM event_identifiers WHERE event_id IN (SELECT event_id FROM jl_gone)"
            " OR (id_type, id_value) IN (SELECT id_type, id_value FROM jl_gone_ids)"
        )
        con.execute(
            "DELETE FROM identities WHERE (id_type, id_value) IN "
            "(SELECT id_type, id_value FROM jl_gone_ids)"
        )
        con.execute(
            "DELETE FROM identity_links WHERE (id_type_a, id_value_a) IN (SELECT * FROM "
            "jl_gone_ids) OR (id_type_b, id_value_b) IN (SELECT * FROM jl_gone_ids)"
        )
        # Rejected rows keep raw text: drop any that mention an erased identifier.
        con.execute(
            "DELETE FROM quarantine WHERE EXISTS (SELECT 1 FROM jl_gone_ids g "
            "WHERE contains(lower(quarantine.raw), lower(g.id_value))) "
            "OR contains(lower(raw), lower(CAST(? AS VARCHAR)))",
            [mention or id_value],
        )
        assert counts is not None
        digest = hashlib.sha256(f"{id_type}:{id_value}".encode()).hexdigest()
        con.execute(
            "INSERT INTO erasures VALUES (now(), ?, ?, ?)", [digest, int(counts[0]), int(counts[1])]
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("CHECKPOINT")  # rewrite the file so the deleted rows are gone from disk too
    return int(counts[0]), int(counts[1])
