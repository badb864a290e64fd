-- The event store. Events are immutable once loaded; customer keys are derived by stitching.
CREATE SEQUENCE batch_ids START 1;

CREATE TABLE batches (
    batch_id     INTEGER PRIMARY KEY,
    source       VARCHAR NOT NULL,
    file         VARCHAR NOT NULL,
    checksum     VARCHAR NOT NULL,
    format       VARCHAR NOT NULL,
    rows_read    BIGINT NOT NULL,
    accepted     BIGINT NOT NULL,
    quarantined  BIGINT NOT NULL,
    duplicates   BIGINT NOT NULL,
    warnings     BIGINT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ NOT NULL,
    status       VARCHAR NOT NULL,       -- loaded | failed
    message      VARCHAR
);

CREATE TABLE events (
    event_id     VARCHAR NOT NULL,
    batch_id     INTEGER NOT NULL,
    source       VARCHAR NOT NULL,
    source_row   BIGINT NOT NULL,
    ts           TIMESTAMPTZ NOT NULL,
    activity     VARCHAR NOT NULL,
    channel      VARCHAR,
    touchpoint   VARCHAR,
    device       VARCHAR,
    value        DOUBLE,
    text         VARCHAR,
    score        DOUBLE,
    score_type   VARCHAR,
    language     VARCHAR,
    attributes   JSON,
    customer_key VARCHAR
);

-- Every identifier seen on an event, normalised (or pseudonymised).
CREATE TABLE event_identifiers (
    event_id     VARCHAR NOT NULL,
    id_type      VARCHAR NOT NULL,
    id_value     VARCHAR NOT NULL
);

-- Explicit links between identifiers (a CRM export saying this e-mail has this phone).
CREATE TABLE identity_links (
    id_type_a    VARCHAR NOT NULL,
    id_value_a   VARCHAR NOT NULL,
    id_type_b    VARCHAR NOT NULL,
    id_value_b   VARCHAR NOT NULL,
    batch_id     INTEGER NOT NULL
);

-- The result of the last stitch: which customer each identifier belongs to.
CREATE TABLE identities (
    id_type      VARCHAR NOT NULL,
    id_value     VARCHAR NOT NULL,
    customer_key VARCHAR,
    flagged      BOOLEAN NOT NULL,
    reason       VARCHAR,
    stitched_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE quarantine (
    batch_id     INTEGER NOT NULL,
    file         VARCHAR NOT NULL,
    row_number   BIGINT NOT NULL,
    column_name  VARCHAR,
    reason       VARCHAR NOT NULL,
    raw          VARCHAR
);

CREATE TABLE erasures (
    erased_at    TIMESTAMPTZ NOT NULL,
    identifier_hash VARCHAR NOT NULL,
    events       BIGINT NOT NULL,
    identifiers  BIGINT NOT NULL
);
