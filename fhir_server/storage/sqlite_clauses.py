"""Compile search-plan clauses and predicates into SQLite SQL over the ix_* tables.

Each clause has two forms:
- `condition(clause, scope)`: a boolean expression correlated on the scope's resource alias
  (EXISTS subqueries over an index table; used to filter candidate rows);
- `driver(clause, type_)`: a `SELECT id` that lists candidates straight from an index
  (used as `r.id IN (...)` for the clause expected to be most selective), or None.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fhir_server.search.dates import format_ms
from fhir_server.search.page_end import next_prefix, prefix_ranges
from fhir_server.search.plan import (
    AnyClause,
    ChainClause,
    Clause,
    CompositePred,
    HasClause,
    IdClause,
    LastUpdatedClause,
    MissingClause,
    ParamClause,
    Pred,
    RangePred,
    RefPred,
    StringPred,
    TokenPred,
    TypeClause,
    UriPred,
)
from fhir_server.storage.sqlite_index import param_code, table

Sql = tuple[str, list[Any]]
_aliases = threading.local()


def reset_aliases() -> None:
    """Number aliases from 0 again (at the start of each search, per thread): one query
    shape then always compiles to the same SQL text, which sqlite3's statement cache
    reuses instead of preparing the statement anew (preparing costs far more than running
    these indexed statements)."""
    _aliases.counter = itertools.count()


def _alias(prefix: str) -> str:
    counter = getattr(_aliases, "counter", None)
    if counter is None:
        counter = _aliases.counter = itertools.count()
    return f"{prefix}{next(counter)}"


@dataclass(frozen=True, slots=True)
class Scope:
    """The resource row a condition is about: SQL alias and the types it can have."""

    alias: str
    types: tuple[str, ...]


def p_expr(scope: Scope, param: str) -> Sql:
    """SQL for the `p` code of `param` on the scope's row (a CASE when several types)."""
    if len(scope.types) == 1:
        return "?", [param_code(scope.types[0], param)]
    whens = " ".join("WHEN ? THEN ?" for _ in scope.types)
    args: list[Any] = [x for t in scope.types for x in (t, param_code(t, param))]
    return f"(CASE {scope.alias}.type {whens} END)", args


def _in(column: str, values: Sequence[Any]) -> Sql:
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def by_id(kind: str, alias: str) -> str:
    """The index table read through its (id, p) index: for checks correlated on one
    resource, which the planner might otherwise answer by scanning the value index."""
    return f"{table(kind)} {alias} INDEXED BY {table(kind)}_by_id"


# ---- predicates ---------------------------------------------------------------------


def token_sql(a: str, pred: TokenPred) -> Sql:
    parts: list[str] = []
    args: list[Any] = []
    if pred.code is not None:
        parts.append(f"{a}.code = ?")
        args.append(pred.code)
    if pred.no_system:
        parts.append(f"{a}.sys = ''")
    elif pred.system is not None:
        parts.append(f"{a}.sys = ?")
        args.append(pred.system)
    return " AND ".join(parts) or "1", args


def string_sql(a: str, pred: StringPred) -> Sql:
    if pred.mode == "exact":
        return f"{a}.exact = ?", [pred.value]
    if pred.mode == "contains":
        return f"instr({a}.norm, ?) > 0", [pred.value]
    return f"{a}.norm >= ? AND {a}.norm < ?", [pred.value, next_prefix(pred.value)]


def ref_sql(a: str, pred: RefPred) -> Sql:
    if pred.url is not None:
        return f"{a}.url = ?", [pred.url]
    sql, args = f"{a}.url = ''", []
    if pred.id is not None:  # None: any resource of the types (a bulk export's "any patient")
        sql, args = f"{a}.rid = ? AND {sql}", [pred.id]
    if pred.types:
        type_sql, type_args = _in(f"{a}.rtype", pred.types)
        return f"{sql} AND {type_sql}", args + type_args
    return sql, args


def range_sql(lo: str, hi: str, pred: RangePred, is_date: bool) -> Sql:
    """`search.page_end.prefix_ranges` on the columns `lo` and `hi`."""
    columns = {"lo": lo, "hi": hi}
    alternatives = prefix_ranges(pred.prefix, pred.low, pred.high, is_date)
    sql = " OR ".join(
        "(" + " AND ".join(f"{columns[col]} {op} ?" for col, op, _ in terms) + ")" for terms in alternatives
    )
    return (f"({sql})" if len(alternatives) > 1 else sql), [b for terms in alternatives for _, _, b in terms]


def quantity_sql(a: str, pred: RangePred) -> Sql:
    sql, args = range_sql(f"{a}.lo", f"{a}.hi", pred, False)
    if pred.system is not None:
        sql += f" AND {a}.sys = ?"
        args.append(pred.system)
    if pred.code is not None:
        sql += f" AND ({a}.code = ? OR {a}.unit = ?)"
        args.extend([pred.code, pred.code])
    return sql, args


def uri_sql(a: str, pred: UriPred) -> Sql:
    if pred.mode == "below":
        value = pred.values[0]
        return f"{a}.uri >= ? AND {a}.uri < ?", [value, next_prefix(value)]
    return _in(f"{a}.uri", pred.values)


def _json_col(a: str, index: int, key: str) -> str:
    return f"json_extract({a}.rest, '$[{index}].{key}')"


def _composite_part_sql(a: str, kind: str, pred: Pred, index: int) -> Sql:
    """A component after the first, read from the JSON `rest` column."""
    col = {k: _json_col(a, index, k) for k in ("s", "c", "n", "e", "t", "i", "u", "l", "h")}
    if isinstance(pred, TokenPred):
        return token_sql(a, pred)[0].replace(f"{a}.code", col["c"]).replace(f"{a}.sys", col["s"]), token_sql(
            a, pred
        )[1]
    if isinstance(pred, StringPred):
        sql, args = string_sql(a, pred)
        return sql.replace(f"{a}.norm", col["n"]).replace(f"{a}.exact", col["e"]), args
    if isinstance(pred, RangePred):
        sql, args = range_sql(col["l"], col["h"], pred, kind == "date")
        if kind == "quantity" and pred.code is not None:
            sql += f" AND ({col['c']} = ? OR {col['u']} = ?)"
            args.extend([pred.code, pred.code])
        return sql, args
    if isinstance(pred, RefPred):
        sql, args = ref_sql(a, pred)
        return sql.replace(f"{a}.rid", col["i"]).replace(f"{a}.rtype", col["t"]).replace(
            f"{a}.url", col["u"]
        ), args
    if isinstance(pred, UriPred):
        return _in(col["u"], pred.values)
    return "0", []


def composite_sql(a: str, pred: CompositePred) -> Sql:
    _first_kind, first = pred.parts[0]
    sql, args = token_sql(a, first) if isinstance(first, TokenPred) else ("1", [])
    for i, (kind, part) in enumerate(pred.parts[1:]):
        part_sql, part_args = _composite_part_sql(a, kind, part, i)
        sql += f" AND ({part_sql})"
        args.extend(part_args)
    return sql, args


def pred_sql(kind: str, a: str, pred: Pred) -> Sql:
    if isinstance(pred, TokenPred):
        return token_sql(a, pred)
    if isinstance(pred, StringPred):
        return string_sql(a, pred)
    if isinstance(pred, RefPred):
        return ref_sql(a, pred)
    if isinstance(pred, RangePred):
        if kind == "quantity":
            return quantity_sql(a, pred)
        return range_sql(f"{a}.lo", f"{a}.hi", pred, kind == "date")
    if isinstance(pred, UriPred):
        return uri_sql(a, pred)
    return composite_sql(a, pred)


def preds_sql(kind: str, a: str, preds: Sequence[Pred]) -> Sql:
    parts, args = [], []
    by_system: dict[str, list[str]] = {}
    any_system: list[str] = []
    for pred in preds:
        if isinstance(pred, TokenPred) and pred.system is not None and pred.code is not None:
            by_system.setdefault(pred.system, []).append(pred.code)  # grouped below
            continue
        if isinstance(pred, TokenPred) and pred.system is None and not pred.no_system and pred.code:
            any_system.append(pred.code)
            continue
        sql, pargs = pred_sql(kind, a, pred)
        parts.append(f"({sql})")
        args.extend(pargs)
    # `system|code` alternatives as one IN list per system: a value set's thousand codes
    # would otherwise nest a thousand ORs, deeper than SQLite's expression limit.
    for system, codes in by_system.items():
        in_sql, in_args = _in(f"{a}.code", codes)
        parts.append(f"({a}.sys = ? AND {in_sql})")
        args.extend([system, *in_args])
    if any_system:
        in_sql, in_args = _in(f"{a}.code", any_system)
        parts.append(f"({in_sql})")
        args.extend(in_args)
    return " OR ".join(parts) or "0", args


# ---- clause conditions (correlated) -------------------------------------------------


def _lu_sql(col: str, pred: RangePred) -> Sql:
    # last_updated is one instant: a range of one millisecond, compared as text.
    lo_pred = RangePred(pred.prefix, pred.low, pred.high)
    sql, args = range_sql(col, col, lo_pred, True)
    return sql, [format_ms(int(x)) if isinstance(x, (int, float)) else x for x in args]


def condition(clause: Clause, scope: Scope) -> Sql:
    r = scope.alias
    if isinstance(clause, IdClause):
        sql, args = _in(f"{r}.id", clause.ids)
        return (f"NOT ({sql})" if clause.negate else sql), args
    if isinstance(clause, LastUpdatedClause):
        parts = [_lu_sql(f"{r}.last_updated", p) for p in clause.preds]
        return " OR ".join(f"({s})" for s, _ in parts), [x for _, a in parts for x in a]
    if isinstance(clause, ParamClause):
        return _param_condition(clause, scope)
    if isinstance(clause, MissingClause):
        t = _alias("m")
        pc, pargs = p_expr(scope, clause.param)
        sql = f"EXISTS (SELECT 1 FROM {by_id(clause.kind, t)} WHERE {t}.id = {r}.id AND {t}.p = {pc})"
        return (f"NOT {sql}" if clause.missing else sql), pargs
    if isinstance(clause, ChainClause):
        return _chain_condition(clause, scope)
    if isinstance(clause, HasClause):
        return _has_condition(clause, scope)
    if isinstance(clause, TypeClause):
        return _type_condition(clause, scope)
    parts = [condition(c, scope) for c in clause.clauses]
    return " OR ".join(f"({s})" for s, _ in parts) or "0", [x for _, a in parts for x in a]


def _param_condition(clause: ParamClause, scope: Scope) -> Sql:
    t = _alias("t")
    pc, pargs = p_expr(scope, clause.param)
    psql, args = preds_sql(clause.kind, t, clause.preds)
    sql = (
        f"EXISTS (SELECT 1 FROM {by_id(clause.kind, t)} "
        f"WHERE {t}.p = {pc} AND {t}.id = {scope.alias}.id AND ({psql}))"
    )
    return (f"NOT {sql}" if clause.negate else sql), pargs + args


def _chain_condition(clause: ChainClause, scope: Scope) -> Sql:
    x, r2 = _alias("x"), _alias("r")
    pc, pargs = p_expr(scope, clause.param)
    inner_sql, inner_args = condition(clause.inner, Scope(r2, clause.target_types))
    types_sql, types_args = _in(f"{x}.rtype", clause.target_types)
    sql = (
        f"EXISTS (SELECT 1 FROM {by_id('reference', x)} JOIN resources {r2} "
        f"ON {r2}.type = {x}.rtype AND {r2}.id = {x}.rid "
        f"WHERE {x}.p = {pc} AND {x}.id = {scope.alias}.id AND {x}.url = '' AND {types_sql} "
        f"AND {r2}.deleted = 0 AND ({inner_sql}))"
    )
    return sql, pargs + types_args + inner_args


def _type_condition(clause: TypeClause, scope: Scope) -> Sql:
    if clause.type not in scope.types:
        return "0", []
    parts = [condition(c, Scope(scope.alias, (clause.type,))) for c in clause.clauses]
    sql = " AND ".join([f"{scope.alias}.type = ?", *(f"({s})" for s, _ in parts)])
    return sql, [clause.type, *(x for _, a in parts for x in a)]


def _has_condition(clause: HasClause, scope: Scope) -> Sql:
    h, r2 = _alias("h"), _alias("r")
    inner_sql, inner_args = condition(clause.inner, Scope(r2, (clause.source_type,)))
    sql = (
        f"EXISTS (SELECT 1 FROM ix_reference {h} JOIN resources {r2} "
        f"ON {r2}.type = ? AND {r2}.id = {h}.id "
        f"WHERE {h}.p = ? AND {h}.rid = {scope.alias}.id AND {h}.rtype = {scope.alias}.type "
        f"AND {h}.url = '' AND {r2}.deleted = 0 AND ({inner_sql}))"
    )
    return sql, [clause.source_type, param_code(clause.source_type, clause.ref_param), *inner_args]


# ---- drivers (candidate id lists for one type) --------------------------------------


def driver(clause: Clause, type_: str) -> Sql | None:
    """`SELECT id` of candidates of `type_` for the clause, from an index; None if the
    clause cannot list its matches (negations, :missing)."""
    if isinstance(clause, IdClause):
        return None if clause.negate else ("SELECT value FROM json_each(?)", [_json_list(clause.ids)])
    if isinstance(clause, LastUpdatedClause):
        sql, args = condition(clause, Scope("lu", (type_,)))
        return f"SELECT lu.id FROM resources lu WHERE lu.type = ? AND ({sql})", [type_, *args]
    if isinstance(clause, ParamClause) and not clause.negate:
        t = _alias("d")
        psql, args = preds_sql(clause.kind, t, clause.preds)
        return (
            f"SELECT {t}.id FROM {table(clause.kind)} {t} WHERE {t}.p = ? AND ({psql})",
            [param_code(type_, clause.param), *args],
        )
    if isinstance(clause, MissingClause) and not clause.missing:
        t = _alias("d")
        return f"SELECT {t}.id FROM {table(clause.kind)} {t} WHERE {t}.p = ?", [
            param_code(type_, clause.param)
        ]
    if isinstance(clause, ChainClause):
        return _chain_driver(clause, type_)
    if isinstance(clause, HasClause):
        return _has_driver(clause, type_)
    if isinstance(clause, AnyClause):
        return _any_driver(clause, type_)
    if isinstance(clause, TypeClause):
        return _type_driver(clause, type_)
    return None


def _json_list(values: Sequence[str]) -> str:
    import orjson

    return orjson.dumps(list(values)).decode("utf-8")


def _chain_driver(clause: ChainClause, type_: str) -> Sql | None:
    x = _alias("x")
    branches: list[str] = []
    args: list[Any] = [param_code(type_, clause.param)]
    for target in clause.target_types:
        inner = driver(clause.inner, target)
        if inner is None:
            return None
        branches.append(f"({x}.rtype = ? AND {x}.rid IN ({inner[0]}))")
        args.extend([target, *inner[1]])
    return (
        f"SELECT {x}.id FROM ix_reference {x} WHERE {x}.p = ? AND {x}.url = '' AND ({' OR '.join(branches)})",
        args,
    )


def _has_driver(clause: HasClause, type_: str) -> Sql | None:
    inner = driver(clause.inner, clause.source_type)
    if inner is None:
        return None
    h = _alias("h")
    return (
        f"SELECT {h}.rid FROM ix_reference {h} WHERE {h}.p = ? AND {h}.rtype = ? AND {h}.url = '' "
        f"AND {h}.id IN ({inner[0]})",
        [param_code(clause.source_type, clause.ref_param), type_, *inner[1]],
    )


def _type_driver(clause: TypeClause, type_: str) -> Sql | None:
    """Another type lists nothing; this type lists what all its clauses list (INTERSECT)."""
    if clause.type != type_:
        return "SELECT NULL WHERE 0", []
    parts = [driver(c, type_) for c in clause.clauses]
    if not parts or any(p is None for p in parts):
        return None
    found = [p for p in parts if p is not None]
    if len(found) == 1:
        return found[0]
    both = " INTERSECT ".join(f"SELECT * FROM ({s})" for s, _ in found)
    return f"SELECT * FROM ({both})", [x for _, a in found for x in a]


def _any_driver(clause: AnyClause, type_: str) -> Sql | None:
    parts = []
    for sub in clause.clauses:
        found = driver(sub, type_)
        if found is None:
            return None
        parts.append(found)
    if not parts:
        return None
    return " UNION ".join(s for s, _ in parts), [x for _, a in parts for x in a]
