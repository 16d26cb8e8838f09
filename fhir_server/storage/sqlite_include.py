"""The SQLite lookups behind _include and _revinclude (the rounds: search.include_rounds)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from fhir_server.search.include_rounds import Key, collect_includes
from fhir_server.search.plan import Clause, Hit, Include, SearchPlan
from fhir_server.storage.sqlite_clauses import Scope, condition
from fhir_server.storage.sqlite_index import param_code, type_range

_CHUNK = 500


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _forward(conn: sqlite3.Connection, inc: Include, ids: Sequence[str]) -> set[Key]:
    """Targets referenced by `ids` (of inc.source_type) through the include's parameter."""
    if inc.param == "*":
        low, high = type_range(inc.source_type)
        p_sql, p_args = "p BETWEEN ? AND ?", [low, high]
    else:
        p_sql, p_args = "p = ?", [param_code(inc.source_type, inc.param)]
    found: set[Key] = set()
    for chunk in _chunks(ids):
        sql = (
            f"SELECT rtype, rid FROM ix_reference WHERE id IN ({_marks(len(chunk))}) AND {p_sql} AND url = ''"
        )
        args: list[Any] = [*chunk, *p_args]
        if inc.target_type:
            sql += " AND rtype = ?"
            args.append(inc.target_type)
        found.update((t, i) for t, i in conn.execute(sql, args) if t and i)
    return found


def _reverse(conn: sqlite3.Connection, inc: Include, target_type: str, ids: Sequence[str]) -> set[Key]:
    """Resources of inc.source_type that reference `ids` (of target_type)."""
    if inc.target_type and inc.target_type != target_type:
        return set()
    found: set[Key] = set()
    p = param_code(inc.source_type, inc.param)
    for chunk in _chunks(ids):
        sql = (
            f"SELECT id FROM ix_reference WHERE p = ? AND rid IN ({_marks(len(chunk))}) "
            "AND rtype = ? AND url = ''"
        )
        found.update((inc.source_type, i) for (i,) in conn.execute(sql, [p, *chunk, target_type]))
    return found


def _read(conn: sqlite3.Connection, type_: str, ids: Sequence[str], limit: Clause | None) -> list[Hit]:
    hits: list[Hit] = []
    cond, cond_args = condition(limit, Scope("r", (type_,))) if limit is not None else ("1", [])
    for chunk in _chunks(sorted(ids)):
        sql = (
            "SELECT r.type, r.id, r.body FROM resources r "
            f"WHERE r.type = ? AND r.id IN ({_marks(len(chunk))}) AND r.deleted = 0 AND ({cond})"
        )
        hits.extend(Hit(t, i, b) for t, i, b in conn.execute(sql, [type_, *chunk, *cond_args]))
    return hits


class _SQLiteIncludes:
    """The lookups `collect_includes` walks, on one connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def forward(self, inc: Include, ids: Sequence[str]) -> set[Key]:
        return _forward(self.conn, inc, ids)

    def reverse(self, inc: Include, target_type: str, ids: Sequence[str]) -> set[Key]:
        return _reverse(self.conn, inc, target_type, ids)

    def read(self, type_: str, ids: Sequence[str], limit: Clause | None) -> list[Hit]:
        return _read(self.conn, type_, ids, limit)


def includes(conn: sqlite3.Connection, plan: SearchPlan, matches: Sequence[Hit]) -> list[Hit]:
    """Resources included by the plan's _include/_revinclude for this page (not matches)."""
    return collect_includes(_SQLiteIncludes(conn), plan, matches)
