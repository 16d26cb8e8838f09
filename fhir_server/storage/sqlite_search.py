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
from dataclasses import dataclass
from typing import Any

from fhir_server import definitions
from fhir_server.search import totals
from fhir_server.search.page_end import column_directions, finish, keyset_terms, missing_sort_value
from fhir_server.search.plan import (
    ChainClause,
    Clause,
    HasClause,
    Hit,
    IdClause,
    MissingClause,
    ParamClause,
    SearchPlan,
    SearchResult,
    SortKey,
    TokenPred,
)
from fhir_server.search.totals import exact_total_wanted
from fhir_server.storage.sqlite_clauses import (
    Scope,
    Sql,
    by_id,
    condition,
    driver,
    p_expr,
    reset_aliases,
)
from fhir_server.storage.sqlite_dates import date_drivers
from fhir_server.storage.sqlite_include import includes

_ESTIMATE_CAP = 2000
# A driver listing at most this many rows is taken without estimating the others: it is
# already cheap, and each estimate costs up to _ESTIMATE_CAP index reads.
_GOOD_ENOUGH = 64
_SORT_COLUMNS = {
    "token": ("code", "code"),
    "string": ("norm", "norm"),
    "reference": ("rid", "rid"),
    "date": ("lo", "hi"),
    "number": ("lo", "hi"),
    "quantity": ("lo", "hi"),
    "uri": ("uri", "uri"),
}


def _sort_expr(key: SortKey, scope: Scope) -> Sql:
    if key.kind == "id":
        return "r.id", []
    if key.kind == "lastUpdated":
        return "r.last_updated", []
    asc_col, desc_col = _SORT_COLUMNS[key.kind]
    col, agg = (desc_col, "max") if key.descending else (asc_col, "min")
    missing = missing_sort_value(key.kind, key.descending)
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


def _rank(clauses: Sequence[Clause], indexes: list[int]) -> int:
    """Likely selectivity, most selective first: the order in which drivers are estimated."""
    clause = clauses[indexes[0]]
    if isinstance(clause, (IdClause, ChainClause, HasClause)):
        return 0
    if isinstance(clause, ParamClause):
        if clause.kind in ("reference", "uri", "composite"):
            return 1
        if clause.kind == "token":
            has_system = any(isinstance(p, TokenPred) and p.system for p in clause.preds)
            return 1 if has_system else 3
        return 2
    return 4


def _pick_driver(
    conn: sqlite3.Connection, clauses: Sequence[Clause], type_: str, need_size: bool = False
) -> tuple[list[int], Sql, int | None] | None:
    """The candidate driver listing the fewest rows (capped count), with the clauses it
    fully answers (those need no separate check). Candidates are estimated most likely
    selective first, and one listing few rows is taken at once."""
    candidates = _candidates(conn, clauses, type_)
    if len(candidates) == 1:
        indexes, sql = candidates[0]
        return indexes, sql, (_estimate(conn, sql) if need_size else None)
    candidates.sort(key=lambda c: _rank(clauses, c[0]))
    best: tuple[int, list[int], Sql] | None = None
    for indexes, sql in candidates:
        size = _estimate(conn, sql)
        if best is None or size < best[0]:
            best = (size, indexes, sql)
        if size <= _GOOD_ENOUGH:
            break
    return None if best is None else (best[1], best[2], best[0])


def _index_only(clause: Clause) -> bool:
    """True when the clause's driver lists only ids of live resources of the searched type
    (index rows exist only for current, undeleted versions), each match at least once."""
    if isinstance(clause, ParamClause):
        return not clause.negate
    if isinstance(clause, MissingClause):
        return not clause.missing
    return isinstance(clause, ChainClause)


def _types(plan: SearchPlan) -> tuple[str, ...]:
    return plan.types or tuple(sorted(definitions.resource_types()))


def _where(conn: sqlite3.Connection, plan: SearchPlan) -> Sql:
    return _where_and_count(conn, plan).where


def _walkable(plan: SearchPlan) -> bool:
    """Pages in plain (type, id) order of one type, forward: a bounded walk may serve it."""
    return (
        len(plan.types) == 1
        and not plan.sort
        and plan.count > 0
        and bool(plan.clauses)
        and (plan.cursor is None or plan.cursor.forward)
    )


@dataclass(frozen=True, slots=True)
class _Where:
    where: Sql  # the WHERE clause over `resources r` selecting all matches
    count: Sql | None  # an index-only count of the matches, when there is one
    big: bool  # the driver lists at least _ESTIMATE_CAP rows
    ids: Sql | None  # `SELECT id` listing every match exactly once, when there is one
    driver: Sql | None = None  # `SELECT id` of the candidates (every match among them)
    size: int | None = None  # the driver's rows, counted up to _ESTIMATE_CAP, when known


def _where_and_count(conn: sqlite3.Connection, plan: SearchPlan) -> _Where:
    """The WHERE clause selecting all matches (before paging); when the driver alone
    answers every clause from the index, a cheaper count of the matches (index only, no
    resource row read per match); and whether the driver lists many rows (at least the
    estimate cap), so that walking the type in id order finds a page sooner."""
    types = _types(plan)
    scope = Scope("r", types)
    parts: list[str] = ["r.deleted = 0"]
    args: list[Any] = []
    if plan.types:
        parts.append(f"r.type IN ({', '.join('?' * len(types))})")
        args.extend(types)
    clauses = list(plan.clauses)
    count: Sql | None = None
    ids_only: Sql | None = None  # the driver alone lists every match, once
    big = False
    driver_sql: Sql | None = None
    size: int | None = None
    if len(types) == 1 and clauses:
        need_size = _walkable(plan) and not exact_total_wanted(plan)
        picked = _pick_driver(conn, clauses, types[0], need_size=need_size)
        if picked is not None:
            answered, (dsql, dargs), size = picked
            driver_sql = dsql, list(dargs)
            big = size is not None and size >= _ESTIMATE_CAP
            parts.append(f"r.id IN ({dsql})")
            args.extend(dargs)
            if len(answered) == len(clauses) and all(_index_only(clauses[i]) for i in answered):
                # One row per resource when the one answered parameter is single-valued
                # (identical rows are stored once): a plain count, no DISTINCT sort.
                one = len({c.param for c in clauses if isinstance(c, ParamClause)}) == 1
                single = one and all(isinstance(c, ParamClause) and c.single for c in clauses)
                count = f"SELECT count({'*' if single else 'DISTINCT id'}) FROM ({dsql})", list(dargs)
                if single:
                    ids_only = f"SELECT id FROM ({dsql})", list(dargs)
            clauses = [c for i, c in enumerate(clauses) if i not in answered]
    for clause in clauses:
        sql, cargs = condition(clause, scope)
        parts.append(f"({sql})")
        args.extend(cargs)
    return _Where((" AND ".join(parts), args), count, big, ids_only, driver_sql, size)


_WALK_ROWS = 4000


def _id_page(conn: sqlite3.Connection, plan: SearchPlan, only_ids: Sql) -> list[tuple[Any, ...]]:
    """The page straight from a driver that lists every match exactly once: the first
    count + 1 ids in order (a top-N sort over the index rows, no list of all matches
    built and no resource row read per match), then their bodies."""
    after = str(plan.cursor.key[-1]) if plan.cursor is not None else ""
    sql, args = only_ids
    found = [
        i
        for (i,) in conn.execute(
            f"SELECT id FROM ({sql}) WHERE id > ? ORDER BY id LIMIT ?", [*args, after, plan.count + 1]
        )
    ]
    return _with_bodies(conn, plan, [(plan.types[0], i) for i in found])


def _with_bodies(
    conn: sqlite3.Connection, plan: SearchPlan, found: list[tuple[str, str]]
) -> list[tuple[Any, ...]]:
    if plan.ids_only or not found:
        return [(t, i, None) for t, i in found]
    marks = ", ".join("?" * len(found))
    bodies = dict(
        conn.execute(
            f"SELECT id, body FROM resources WHERE type = ? AND id IN ({marks}) AND deleted = 0",
            [plan.types[0], *[i for _, i in found]],
        ).fetchall()
    )
    return [(t, i, bodies[i]) for t, i in found if i in bodies]


def _walk_page(conn: sqlite3.Connection, plan: SearchPlan) -> list[tuple[Any, ...]] | None:
    """The page (count + 1 rows) found by walking the type's rows in id order and checking
    every clause on each, at most _WALK_ROWS rows; None when the walk did not settle it.

    For a clause matching many resources (a common name prefix, a status) this costs about
    count / selectivity row checks, independent of how many resources match in all, where
    listing the matches from an index and sorting them grows with the store."""
    type_ = plan.types[0]
    scope = Scope("w", plan.types)
    conds, args = [], []
    for clause in plan.clauses:
        sql, cargs = condition(clause, scope)
        conds.append(f"({sql})")
        args.extend(cargs)
    after = str(plan.cursor.key[-1]) if plan.cursor is not None else ""
    sql = (
        "SELECT w.type, w.id FROM (SELECT type, id, deleted, last_updated FROM resources "
        "WHERE type = ? AND id > ? ORDER BY type, id LIMIT ?) w "
        f"WHERE w.deleted = 0 AND {' AND '.join(conds)} LIMIT ?"
    )
    need = plan.count + 1
    found = conn.execute(sql, [type_, after, _WALK_ROWS, *args, need]).fetchall()
    if len(found) < need:
        # Fewer than a page within the walk: only final if the walk reached the type's end.
        end = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM resources WHERE type = ? AND id > ? "
            "ORDER BY type, id LIMIT ?)",
            [type_, after, _WALK_ROWS],
        ).fetchone()[0]
        if end >= _WALK_ROWS:
            return None
    return _with_bodies(conn, plan, [(t, i) for t, i in found])


def _keyset(n_sort: int, descending: Sequence[bool], key: Sequence[Any]) -> Sql:
    """Rows strictly after `key` in the order given by `descending` (per column s0.., type, id)."""
    cols = [f"s{i}" for i in range(n_sort)] + ["k_type", "k_id"]
    ors, args = [], []
    for i, op in keyset_terms(list(descending)):
        eqs = " AND ".join(f"{c} = ?" for c in cols[:i])
        ors.append(f"({eqs + ' AND ' if eqs else ''}{cols[i]} {op} ?)")
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
    descending = column_directions(plan)
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


def _cheap_count(conn: sqlite3.Connection, plan: SearchPlan, w: _Where) -> int | None:
    """The number of matches when counting them is cheap (see search.totals), else None.

    Without criteria: the type's rows, counted up to TOTAL_CAP + 1. With a driver listing
    at most TOTAL_CAP candidates that the index alone answers (or CHECK_CAP candidates
    checked against further criteria): the exact count. Otherwise counting could read
    every row: None."""
    if not plan.clauses:
        sql = f"SELECT count(*) FROM (SELECT 1 FROM resources r WHERE {w.where[0]} LIMIT ?)"
        return int(conn.execute(sql, [*w.where[1], totals.TOTAL_CAP + 1]).fetchone()[0])
    if w.driver is None:
        return None
    size = w.size if w.size is not None else _estimate(conn, w.driver)
    if size > (totals.TOTAL_CAP if w.count is not None else totals.CHECK_CAP):
        return None
    sql, args = w.count or (f"SELECT count(*) FROM resources r WHERE {w.where[0]}", w.where[1])
    return int(conn.execute(sql, args).fetchone()[0])


def execute(conn: sqlite3.Connection, plan: SearchPlan) -> SearchResult:
    reset_aliases()
    w = _where_and_count(conn, plan)
    where, count, big, only_ids = w.where, w.count, w.big, w.ids
    total = None
    if exact_total_wanted(plan):
        sql, args = count or (f"SELECT count(*) FROM resources r WHERE {where[0]}", where[1])
        total = int(conn.execute(sql, args).fetchone()[0])
        big = total >= _ESTIMATE_CAP  # the total tells the size: no estimate was made
    rows: list[tuple[Any, ...]] | None = None
    if plan.count > 0 and _walkable(plan):
        if only_ids is not None:
            rows = _id_page(conn, plan, only_ids)
        elif big:
            rows = _walk_page(conn, plan)
    elif plan.count <= 0:
        rows = []
    if rows is None:
        rows = _page_rows(conn, plan, where)
    return finish(
        plan,
        [_hit(r) for r in rows],
        total,
        lambda: _cheap_count(conn, plan, w),
        lambda hits: includes(conn, plan, hits),
    )
