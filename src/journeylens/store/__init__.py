"""The embedded event store: one DuckDB file per workspace, one writer at a time."""
