"""Pairwise precision and recall of a stitch against the demo generator's ground truth.

Two events are a true pair when the same generated customer produced them, and a predicted pair
when stitching gave them the same customer key. Computed with counts in SQL, never by listing
pairs: a cluster of n events holds n·(n−1)/2 pairs.
"""

from __future__ import annotations

import duckdb

# The generator's identifiers carry their customer number (see journeylens.ingest.demo).
_TRUTH = """
    CASE id_type
        WHEN 'email' THEN regexp_extract(id_value, '^runner([0-9]+)@example[.]com$', 1)
        WHEN 'cookie' THEN regexp_extract(id_value, '^k([0-9]+)-[0-9]+$', 1)
        WHEN 'device' THEN regexp_extract(id_value, '^k([0-9]+)-[0-9]+$', 1)
        WHEN 'phone' THEN regexp_extract(id_value, '^[+]4072([0-9]{7})$', 1)
        WHEN 'crm_id' THEN regexp_extract(id_value, '^CRM([0-9]{8})$', 1)
    END
"""


def pairwise_quality(con: duckdb.DuckDBPyConnection) -> tuple[float, float]:
    row = con.execute(
        f"""
        WITH truth AS (
            SELECT event_id, min(TRY_CAST(nullif({_TRUTH}, '') AS BIGINT)) AS who
            FROM event_identifiers GROUP BY event_id),
        labelled AS (
            SELECT coalesce(e.customer_key, 'solo:' || e.event_id) AS predicted,
                   coalesce(CAST(t.who AS VARCHAR), 'solo:' || e.event_id) AS actual
            FROM events e JOIN truth t USING (event_id)),
        cells AS (SELECT predicted, actual, count(*) AS n FROM labelled GROUP BY ALL)
        SELECT
            (SELECT sum(n * (n - 1) / 2) FROM cells) AS tp,
            (SELECT sum(m * (m - 1) / 2) FROM (SELECT sum(n) AS m FROM cells GROUP BY predicted)),
            (SELECT sum(m * (m - 1) / 2) FROM (SELECT sum(n) AS m FROM cells GROUP BY actual))
        """
    ).fetchone()
    assert row is not None
    tp, predicted, actual = (float(v or 0) for v in row)
    return (tp / predicted if predicted else 1.0, tp / actual if actual else 1.0)
