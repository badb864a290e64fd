"""Readers for formats DuckDB cannot scan itself: they stream rows as Arrow batches."""
