"""Index-friendly drivers for date clauses.

A date entry is a range [lo, hi], indexed on (p, lo, hi). `ge`/`gt` conditions are about
`hi`, which the primary key cannot seek; but `hi - lo` never exceeds the widest range stored
for the parameter (ix_date_width), so `hi >= x` implies `lo >= x - width`, a key range.
For a single-valued parameter, all AND-ed date clauses must hold on its one entry, so
`authoredon=ge2026-03-01&authoredon=lt2026-03-03` becomes one bounded range scan.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from fhir_server.search.dates import MAX_MS, MIN_MS
from fhir_server.search.plan import Clause, ParamClause, RangePred
from fhir_server.storage.sqlite_clauses import Sql, range_sql
from fhir_server.storage.sqlite_index import date_width, param_code

_LOWER = frozenset({"eq", "ge", "gt", "sa"})  # imply hi >= query low
_UPPER = frozenset({"eq", "le", "lt", "eb"})  # imply lo <= query high


def _bounds(preds: Sequence[RangePred], width: int) -> tuple[int, int]:
    low, high = MIN_MS, MAX_MS
    for pred in preds:
        if pred.prefix in _LOWER:
            low = max(low, int(pred.low) - width)
        if pred.prefix in _UPPER:
            high = min(high, int(pred.high))
    return low, high


def _simple(clause: Clause) -> RangePred | None:
    if (
        isinstance(clause, ParamClause)
        and clause.kind == "date"
        and not clause.negate
        and len(clause.preds) == 1
    ):
        pred = clause.preds[0]
        return pred if isinstance(pred, RangePred) else None
    return None


def date_drivers(
    conn: sqlite3.Connection, clauses: Sequence[Clause], type_: str
) -> list[tuple[list[int], Sql]]:
    """Candidate drivers: (indexes of the clauses each one answers, SQL)."""
    groups: dict[str, list[tuple[int, RangePred, bool]]] = {}
    for i, clause in enumerate(clauses):
        pred = _simple(clause)
        if pred is not None and isinstance(clause, ParamClause):
            groups.setdefault(clause.param, []).append((i, pred, clause.single))
    out: list[tuple[list[int], Sql]] = []
    for param, members in groups.items():
        p = param_code(type_, param)
        width = date_width(conn, p)
        if width is None:
            out.append(([i for i, _, _ in members], ("SELECT NULL AS id WHERE 0", [])))
            continue
        merged = members if members[0][2] else members[:1]
        out.append(([i for i, _, _ in merged], _sql(p, [pred for _, pred, _ in merged], width)))
    return out


def _sql(p: int, preds: Sequence[RangePred], width: int) -> Sql:
    low, high = _bounds(preds, width)
    parts: list[str] = ["d.p = ?", "d.lo BETWEEN ? AND ?"]
    args: list[Any] = [p, low, high]
    for pred in preds:
        sql, pargs = range_sql("d.lo", "d.hi", pred, True)
        parts.append(f"({sql})")
        args.extend(pargs)
    where = " AND ".join(parts)
    return f"SELECT d.id FROM ix_date d WHERE {where}", args
