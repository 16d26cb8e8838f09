"""Run a SearchPlan on SQLite: candidate selection, sort, keyset paging, total, includes.

The query is `resources r` filtered by the plan's clauses. One clause, the one whose index
lists the fewest rows (a capped count, measured per query), drives: `r.id IN (SELECT id
FROM <index> ...)`; all others are correlated EXISTS checks on those candidates. Sort keys
are correlated MIN/MAX subqueries; `type, id` ends every ordering so it is total, which
keyset paging needs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from fhir_server import definitions
from fhir_server.search.dates import MAX_MS, MIN_MS
from fhir_server.search.plan import Clause, Hit, SearchPlan, SearchResult, SortKey
from fhir_server.storage.sqlite_clauses import Scope, Sql, by_id, condition, driver, p_expr
from fhir_server.storage.sqlite_dates import date_drivers
from fhir_server.storage.sqlite_include import includes

_ESTIMATE_CAP = 2000
_SORT_COLUMNS = {
    "token": ("code", "code"),
    "string": ("norm", "norm"),
    "reference": ("rid", "rid"),
    "date": ("lo", "hi"),
    "number": ("lo", "hi"),
    "quantity": ("lo", "hi"),
    "uri": ("uri", "uri"),
}
_MISSING_LAST: dict[str, tuple[Any, Any]] = {  # (ascending, descending) sentinels
    "date": (MAX_MS + 1, MIN_MS - 1),
    "number": (1e308, -1e308),
    "quantity": (1e308, -1e308),
}


def _sort_expr(key: SortKey, scope: Scope) -> Sql:
    if key.kind == "id":
        return "r.id", []
    if key.kind == "lastUpdated":
        return "r.last_updated", []
    asc_col, desc_col = _SORT_COLUMNS[key.kind]
    col, agg = (desc_col, "max") if key.descending else (asc_col, "min")
    missing = _MISSING_LAST.get(key.kind, ("\U0010ffff", ""))[1 if key.descending else 0]
    pc, args = p_expr(scope, key.param)
    sql = f"coalesce((SELECT {agg}(s.{col}) FROM {by_id(key.kind, 's')} WHERE s.p = {pc} AND s.id = r.id), ?)"
    return sql, [*args, missing]


def _estimate(conn: sqlite3.Connection, sql: Sql) -> int:
    query = f"SELECT count(*) FROM ({sql[0]} LIMIT {_ESTIMATE_CAP})"
    return int(conn.execute(query, sql[1]).fetchone()[0])


def _candidates(
    conn: sqlite3.Connection, clauses: Sequence[Clause], type_: str
) -> list[tuple[list[int], Sql]]:
    found = date_drivers(conn, clauses, type_)
    answered = {i for indexes, _ in found for i in indexes}
    for i, clause in enumerate(clauses):
        sql = driver(clause, type_) if i not in answered else None
        if sql is not None:
            found.append(([i], sql))
    return found


def _pick_driver(
    conn: sqlite3.Connection, clauses: Sequence[Clause], type_: str
) -> tuple[list[int], Sql] | None:
    """The candidate driver listing the fewest rows (capped count), with the clauses it
    fully answers (those need no separate check)."""
    candidates = _candidates(conn, clauses, type_)
    if len(candidates) == 1:
        return candidates[0]
    best: tuple[int, list[int], Sql] | None = None
    for indexes, sql in candidates:
        size = _estimate(conn, sql)
        if best is None or size < best[0]:
            best = (size, indexes, sql)
        if size == 0:
            break
    return None if best is None else (best[1], best[2])


def _types(plan: SearchPlan) -> tuple[str, ...]:
    return plan.types or tuple(sorted(definitions.resource_types()))


def _where(conn: sqlite3.Connection, plan: SearchPlan) -> Sql:
    """The WHERE clause selecting all matches (before paging)."""
    types = _types(plan)
    scope = Scope("r", types)
    parts: list[str] = ["r.deleted = 0"]
    args: list[Any] = []
    if plan.types:
        parts.append(f"r.type IN ({', '.join('?' * len(types))})")
        args.extend(types)
    clauses = list(plan.clauses)
    if len(types) == 1 and clauses:
        picked = _pick_driver(conn, clauses, types[0])
        if picked is not None:
            answered, (dsql, dargs) = picked
            parts.append(f"r.id IN ({dsql})")
            args.extend(dargs)
            clauses = [c for i, c in enumerate(clauses) if i not in answered]
    for clause in clauses:
        sql, cargs = condition(clause, scope)
        parts.append(f"({sql})")
        args.extend(cargs)
    return " AND ".join(parts), args


def _keyset(n_sort: int, descending: Sequence[bool], key: Sequence[Any]) -> Sql:
    """Rows strictly after `key` in the order given by `descending` (per column s0.., type, id)."""
    cols = [f"s{i}" for i in range(n_sort)] + ["k_type", "k_id"]
    ors, args = [], []
    for i, col in enumerate(cols):
        eqs = " AND ".join(f"{c} = ?" for c in cols[:i])
        op = "<" if descending[i] else ">"
        ors.append(f"({eqs + ' AND ' if eqs else ''}{col} {op} ?)")
        args.extend([*key[:i], key[i]])
    return " OR ".join(ors), args


def _page_rows(conn: sqlite3.Connection, plan: SearchPlan, where: Sql) -> list[tuple[Any, ...]]:
    scope = Scope("r", _types(plan))
    sorts = [_sort_expr(k, scope) for k in plan.sort]
    body = "NULL" if plan.ids_only else "r.body"
    select_sorts = "".join(f", {s} AS s{i}" for i, (s, _) in enumerate(sorts))
    args: list[Any] = [a for _, sargs in sorts for a in sargs] + where[1]
    inner = (
        f"SELECT r.type AS k_type, r.id AS k_id, {body} AS body{select_sorts} "
        f"FROM resources r WHERE {where[0]}"
    )
    forward = plan.cursor is None or plan.cursor.forward
    descending = [k.descending != (not forward) for k in plan.sort] + [not forward, not forward]
    outer_where = ""
    if plan.cursor is not None:
        ks_sql, ks_args = _keyset(len(sorts), descending, plan.cursor.key)
        outer_where, args = f" WHERE {ks_sql}", args + ks_args
    cols = [f"s{i}" for i in range(len(sorts))] + ["k_type", "k_id"]
    order = ", ".join(f"{c} {'DESC' if d else 'ASC'}" for c, d in zip(cols, descending, strict=False))
    sql = f"SELECT * FROM ({inner}){outer_where} ORDER BY {order} LIMIT ?"
    rows = conn.execute(sql, [*args, plan.count + 1]).fetchall()
    return rows


def _hit(row: tuple[Any, ...]) -> Hit:
    type_, id_, body, *sort_values = row
    return Hit(type_, id_, body, (*sort_values, type_, id_))


def execute(conn: sqlite3.Connection, plan: SearchPlan) -> SearchResult:
    where = _where(conn, plan)
    total = None
    if plan.total in ("accurate", "estimate"):
        total = int(
            conn.execute(f"SELECT count(*) FROM resources r WHERE {where[0]}", where[1]).fetchone()[0]
        )
    rows = _page_rows(conn, plan, where) if plan.count > 0 else []
    more = len(rows) > plan.count
    hits = [_hit(r) for r in rows[: plan.count]]
    forward = plan.cursor is None or plan.cursor.forward
    if not forward:
        hits.reverse()
    has_next = more if forward else True
    has_prev = plan.cursor is not None if forward else more
    if total is None and plan.cursor is None and not more:
        total = len(hits)
    included = [] if plan.ids_only else includes(conn, plan, hits)
    return SearchResult(
        matches=hits,
        included=included,
        total=total,
        next_key=hits[-1].sort_key if hits and has_next else None,
        prev_key=hits[0].sort_key if hits and has_prev else None,
    )
