"""The expression vocabulary of analyses: Ibis, re-exported so only the engine imports it.

Analyses build backend-neutral expressions with these names and the methods of the tables
:class:`~journeylens.engine.Journeys` hands them; the engine compiles them for DuckDB or Spark.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

Table = ir.Table
Value = ir.Value
Column = ir.Column
BooleanValue = ir.BooleanValue
NumericValue = ir.NumericValue
StringValue = ir.StringValue

asc = ibis.asc
desc = ibis.desc
struct = ibis.struct
array = ibis.array
window = ibis.window
row_number = ibis.row_number
literal = ibis.literal
null = ibis.null
ifelse = ibis.ifelse
cases = ibis.cases
greatest = ibis.greatest
least = ibis.least
union = ibis.union
memtable = ibis.memtable

__all__ = [
    "BooleanValue",
    "Column",
    "NumericValue",
    "StringValue",
    "Table",
    "Value",
    "array",
    "asc",
    "cases",
    "desc",
    "greatest",
    "ifelse",
    "least",
    "literal",
    "memtable",
    "null",
    "row_number",
    "struct",
    "union",
    "window",
]
