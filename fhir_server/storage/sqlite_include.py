"""_include and _revinclude (with :iterate) for SQLite searches."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from fhir_server.search.plan import Hit, Include, SearchPlan
from fhir_server.storage.sqlite_index import param_code, type_range

MAX_INCLUDED = 1000
MAX_ROUNDS = 4
_CHUNK = 500

Key = tuple[str, str]


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


def _by_type(keys: Iterable[Key]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for t, i in keys:
        grouped.setdefault(t, []).append(i)
    return grouped


def _round(
    conn: sqlite3.Connection, plan: SearchPlan, sources: Iterable[Key], iterate_only: bool
) -> set[Key]:
    grouped = _by_type(sources)
    found: set[Key] = set()
    for inc in plan.includes:
        if (inc.iterate or not iterate_only) and inc.source_type in grouped:
            found |= _forward(conn, inc, grouped[inc.source_type])
    for inc in plan.revincludes:
        if inc.iterate or not iterate_only:
            for target_type, ids in grouped.items():
                found |= _reverse(conn, inc, target_type, ids)
    return found


def _read(conn: sqlite3.Connection, keys: Iterable[Key]) -> list[Hit]:
    hits: list[Hit] = []
    for type_, ids in _by_type(keys).items():
        for chunk in _chunks(sorted(ids)):
            sql = (
                "SELECT type, id, body FROM resources "
                f"WHERE type = ? AND id IN ({_marks(len(chunk))}) AND deleted = 0"
            )
            hits.extend(Hit(t, i, b) for t, i, b in conn.execute(sql, [type_, *chunk]))
    return hits


def includes(conn: sqlite3.Connection, plan: SearchPlan, matches: Sequence[Hit]) -> list[Hit]:
    """Resources included by the plan's _include/_revinclude for this page (not matches)."""
    if not plan.includes and not plan.revincludes:
        return []
    seen: set[Key] = {(h.type, h.id) for h in matches}
    frontier: set[Key] = set(seen)
    result: list[Hit] = []
    for round_ in range(MAX_ROUNDS):
        new = _round(conn, plan, frontier, iterate_only=round_ > 0) - seen
        if not new:
            break
        hits = _read(conn, sorted(new))[: MAX_INCLUDED - len(result)]
        result.extend(hits)
        seen |= new
        frontier = {(h.type, h.id) for h in hits}
        if len(result) >= MAX_INCLUDED:
            break
    return result
