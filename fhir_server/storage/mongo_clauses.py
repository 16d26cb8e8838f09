"""Compile search-plan clauses and predicates into MongoDB query documents.

Predicates become conditions on one element of a kind's index array, combined with
`$elemMatch` so that every condition of a predicate holds on the same entry (the SQLite
engine's one index row). Semantics follow `sqlite_clauses` exactly: the conformance suite
runs the same searches against both engines.

Chains and `_has` are resolved in two steps: the inner clause is run first against its own
resource types (ids only), and the outer condition becomes an `$in` over the result. That
works unchanged on a sharded cluster, where `$lookup` into a sharded collection is costly,
and keeps each step an index lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from fhir_server.search.dates import format_ms
from fhir_server.search.page_end import next_prefix, prefix_ranges
from fhir_server.search.plan import (
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
from fhir_server.storage.mongo_index import FIELDS

Query = dict[str, Any]
NOTHING: Query = {"_id": {"$in": []}}
# (filter, projection) -> documents; runs inside the caller's session.
Finder = Callable[[Query, dict[str, int]], list[dict[str, Any]]]


def all_of(conds: Sequence[Query]) -> Query:
    """AND of conditions: one document when their keys do not collide, else `$and`."""
    merged: Query = {}
    for cond in conds:
        if any(k in merged for k in cond):
            return {"$and": list(conds)}
        merged.update(cond)
    return merged


def any_of(conds: Sequence[Query]) -> Query:
    if not conds:
        return NOTHING
    return conds[0] if len(conds) == 1 else {"$or": list(conds)}


def _prefix(field: str, value: str) -> Query:
    return {field: {"$gte": value, "$lt": next_prefix(value)}}


# ---- predicates (conditions on one index element; `f` prefixes the keys) -------------


def token_cond(pred: TokenPred, f: str = "") -> Query:
    cond: Query = {}
    if pred.code is not None:
        cond[f + "c"] = pred.code
    if pred.no_system:
        cond[f + "s"] = ""
    elif pred.system is not None:
        cond[f + "s"] = pred.system
    return cond


def string_cond(pred: StringPred, f: str = "") -> Query:
    if pred.mode == "exact":
        return {f + "e": pred.value}
    if pred.mode == "contains":
        return {f + "n": {"$regex": re.escape(pred.value)}}
    return _prefix(f + "n", pred.value)


def ref_cond(pred: RefPred, f: str = "") -> Query:
    if pred.url is not None:
        return {f + "u": pred.url}
    cond: Query = {f + "u": ""}
    if pred.id is not None:  # None: any resource of the types (a bulk export's "any patient")
        cond[f + "i"] = pred.id
    if pred.types:
        cond[f + "t"] = {"$in": list(pred.types)}
    return cond


_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


def range_cond(
    lo: str, hi: str, pred: RangePred, is_date: bool, value: Callable[[float], Any] = lambda x: x
) -> Query:
    """`search.page_end.prefix_ranges` on the fields `lo` and `hi`."""
    fields = {"lo": lo, "hi": hi}
    alternatives = [
        all_of([{fields[col]: {_OPS[op]: value(bound)}} for col, op, bound in terms])
        for terms in prefix_ranges(pred.prefix, pred.low, pred.high, is_date)
    ]
    return alternatives[0] if len(alternatives) == 1 else {"$or": alternatives}


def quantity_cond(pred: RangePred, f: str = "", unit_key: str = "un", with_system: bool = True) -> Query:
    conds = [range_cond(f + "l", f + "h", pred, False)]
    if with_system and pred.system is not None:
        conds.append({f + "s": pred.system})
    if pred.code is not None:
        conds.append({"$or": [{f + "c": pred.code}, {f + unit_key: pred.code}]})
    return all_of(conds)


def uri_cond(pred: UriPred, f: str = "") -> Query:
    if pred.mode == "below":
        return _prefix(f + "u", pred.values[0])
    return {f + "u": {"$in": list(pred.values)}}


def _composite_part(kind: str, pred: Pred, f: str) -> Query:
    if isinstance(pred, TokenPred):
        return token_cond(pred, f)
    if isinstance(pred, StringPred):
        return string_cond(pred, f)
    if isinstance(pred, RangePred):
        if kind == "quantity":  # as the SQLite engine: code or unit, no system check
            return quantity_cond(pred, f, unit_key="u", with_system=False)
        return range_cond(f + "l", f + "h", pred, kind == "date")
    if isinstance(pred, RefPred):
        return ref_cond(pred, f)
    if isinstance(pred, UriPred):
        return {f + "u": {"$in": list(pred.values)}}
    return NOTHING


def composite_cond(pred: CompositePred) -> Query:
    _kind, first = pred.parts[0]
    conds = [token_cond(first) if isinstance(first, TokenPred) else {}]
    for i, (kind, part) in enumerate(pred.parts[1:]):
        conds.append(_composite_part(kind, part, f"r{i}."))
    return all_of([c for c in conds if c])


def pred_cond(kind: str, pred: Pred) -> Query:
    if isinstance(pred, TokenPred):
        return token_cond(pred)
    if isinstance(pred, StringPred):
        return string_cond(pred)
    if isinstance(pred, RefPred):
        return ref_cond(pred)
    if isinstance(pred, RangePred):
        if kind == "quantity":
            return quantity_cond(pred)
        return range_cond("l", "h", pred, kind == "date")
    if isinstance(pred, UriPred):
        return uri_cond(pred)
    return composite_cond(pred)


def param_match(kind: str, param: str, preds: Sequence[Pred]) -> Query:
    """Some entry of `param` satisfies one of `preds`."""
    conds = [pred_cond(kind, p) for p in preds]
    element = all_of([{"p": param}, any_of(conds)]) if conds else NOTHING
    return {FIELDS[kind]: {"$elemMatch": element}}


# ---- clauses ------------------------------------------------------------------------


def _lu_value(x: float) -> str:
    return format_ms(int(x))


class ClauseCompiler:
    """Compiles clauses for one search; `find` runs the inner steps of chains and `_has`."""

    def __init__(self, find: Finder) -> None:
        self.find = find

    def compile(self, clause: Clause, types: tuple[str, ...]) -> Query:
        if isinstance(clause, IdClause):
            return {"i": {"$nin" if clause.negate else "$in": list(clause.ids)}}
        if isinstance(clause, LastUpdatedClause):
            return any_of([range_cond("lu", "lu", p, True, _lu_value) for p in clause.preds])
        if isinstance(clause, ParamClause):
            cond = param_match(clause.kind, clause.param, clause.preds)
            return {"$nor": [cond]} if clause.negate else cond
        if isinstance(clause, MissingClause):
            present = {f"{FIELDS[clause.kind]}.p": clause.param}
            return {"$nor": [present]} if clause.missing else present
        if isinstance(clause, ChainClause):
            return self._chain(clause)
        if isinstance(clause, HasClause):
            return self._has(clause, types)
        if isinstance(clause, TypeClause):
            if clause.type not in types:
                return NOTHING
            own = (clause.type,)
            return all_of([{"t": clause.type}, *(self.compile(c, own) for c in clause.clauses)])
        return any_of([self.compile(c, types) for c in clause.clauses])

    def matching(
        self, types: tuple[str, ...], clause: Clause, projection: dict[str, int]
    ) -> list[dict[str, Any]]:
        query = all_of([{"t": {"$in": list(types)}, "d": False}, self.compile(clause, types)])
        return self.find(query, projection)

    def _chain(self, clause: ChainClause) -> Query:
        found: dict[str, list[str]] = {}
        for doc in self.matching(clause.target_types, clause.inner, {"t": 1, "i": 1}):
            found.setdefault(doc["t"], []).append(doc["i"])
        targets = [{"t": t, "i": {"$in": ids}} for t, ids in found.items()]
        if not targets:
            return NOTHING
        return {"ref": {"$elemMatch": all_of([{"p": clause.param, "u": ""}, any_of(targets)])}}

    def _has(self, clause: HasClause, types: tuple[str, ...]) -> Query:
        found: dict[str, set[str]] = {}
        for doc in self.matching((clause.source_type,), clause.inner, {"ref": 1}):
            for ref in doc.get("ref", ()):
                if ref["p"] == clause.ref_param and ref["u"] == "" and ref["t"] in types:
                    found.setdefault(ref["t"], set()).add(ref["i"])
        return any_of([{"t": t, "i": {"$in": sorted(ids)}} for t, ids in found.items()])
