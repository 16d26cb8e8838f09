"""Whether one resource (any version of it, stored or not) satisfies a search plan's
clauses, judged on its own index entries, with the stores' semantics.

Incremental readers need it: a measure counting what changed since its last evaluation
must tell what the replaced version counted for, and only the current version is in
the store's indexes. It covers what a resource's own entries can answer: tokens,
strings, references, dates and numbers, quantities, URIs, `:not`, `:missing`, `_id`
and `_lastUpdated`; chains and `_has` need other resources and are refused
(`Unsupported`) when the plan is checked, not while matching.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fhir_server.search.dates import date_range
from fhir_server.search.entries import (
    CompositeEntry,
    DateEntry,
    NumberEntry,
    QuantityEntry,
    ReferenceEntry,
    StringEntry,
    TokenEntry,
    UriEntry,
)
from fhir_server.search.plan import (
    AnyClause,
    Clause,
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

Entry = Any  # one of search.entries' entry types


class Unsupported(ValueError):
    """A clause that needs more than the resource itself (chains, _has, composites)."""


def check(clauses: Iterable[Clause]) -> None:
    """Unsupported unless every clause can be judged on a resource's own entries."""
    for clause in clauses:
        if isinstance(clause, AnyClause | TypeClause):
            check(clause.clauses)
        elif isinstance(clause, ParamClause):
            if clause.kind == "composite":
                raise Unsupported(f"{clause.param}: composite parameters")
        elif not isinstance(clause, IdClause | LastUpdatedClause | MissingClause):
            raise Unsupported(f"{type(clause).__name__}: needs other resources")


def matches(clauses: Sequence[Clause], resource: dict[str, Any], entries: Sequence[Entry]) -> bool:
    """True when `resource` (with its index `entries`) satisfies every clause."""
    by_param: dict[str, list[Entry]] = {}
    for entry in entries:
        if not isinstance(entry, CompositeEntry):
            by_param.setdefault(entry.param, []).append(entry)
    return all(_clause(c, resource, by_param) for c in clauses)


def _clause(clause: Clause, resource: dict[str, Any], by_param: dict[str, list[Entry]]) -> bool:
    if isinstance(clause, IdClause):
        return (resource.get("id") in clause.ids) != clause.negate
    if isinstance(clause, LastUpdatedClause):
        stamp = date_range(str((resource.get("meta") or {}).get("lastUpdated") or ""))
        return stamp is not None and any(_range(stamp[0], stamp[0], p) for p in clause.preds)
    if isinstance(clause, MissingClause):
        return (not by_param.get(clause.param)) == clause.missing
    if isinstance(clause, ParamClause):
        found = any(_pred(e, p) for e in by_param.get(clause.param, ()) for p in clause.preds)
        return found != clause.negate
    if isinstance(clause, TypeClause):
        return resource.get("resourceType") == clause.type and all(
            _clause(c, resource, by_param) for c in clause.clauses
        )
    if isinstance(clause, AnyClause):
        return any(_clause(c, resource, by_param) for c in clause.clauses)
    raise Unsupported(f"{type(clause).__name__}: needs other resources")


def _pred(entry: Entry, pred: Pred) -> bool:
    if isinstance(pred, TokenPred) and isinstance(entry, TokenEntry):
        if pred.code is not None and entry.code != pred.code:
            return False
        if pred.no_system:
            return not entry.system
        return pred.system is None or entry.system == pred.system
    if isinstance(pred, StringPred) and isinstance(entry, StringEntry):
        if pred.mode == "exact":
            return bool(entry.exact == pred.value)
        if pred.mode == "contains":
            return pred.value in entry.norm
        return bool(entry.norm.startswith(pred.value))
    if isinstance(pred, RefPred) and isinstance(entry, ReferenceEntry):
        if pred.url is not None:
            return entry.url == pred.url
        return not entry.url and entry.id == pred.id and (not pred.types or entry.type in pred.types)
    if isinstance(pred, RangePred) and isinstance(entry, DateEntry | NumberEntry | QuantityEntry):
        if not _range(entry.low, entry.high, pred):
            return False
        if isinstance(entry, QuantityEntry):
            if pred.system is not None and entry.system != pred.system:
                return False
            return pred.code is None or pred.code in (entry.code, entry.unit)
        return True
    if isinstance(pred, UriPred) and isinstance(entry, UriEntry):
        if pred.mode == "below":
            return bool(entry.uri.startswith(pred.values[0]))
        return entry.uri in pred.values
    return False


def _range(lo: float, hi: float, pred: RangePred) -> bool:
    """The prefixes' meaning for a stored range [lo, hi] and the query's [ql, qh] (as the
    stores compile them; `ap` as the exact range)."""
    ql, qh = pred.low, pred.high
    within = lo >= ql and hi <= qh
    return {
        "eq": within,
        "ne": not within,
        "gt": hi > qh,
        "lt": lo < ql,
        "ge": hi > qh or within,
        "le": lo < ql or within,
        "sa": lo > qh,
        "eb": hi < ql,
        "ap": hi >= ql and lo <= qh,
    }[pred.prefix]
