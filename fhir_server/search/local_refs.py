"""References given as this server's own absolute URL search as the relative reference.

search.html: "A relative reference resolving to the same value as a specified absolute
URL ... qualifies as a match": `subject=http://host/fhir/Patient/123` (with the configured
base `http://host/fhir`) finds `{"reference": "Patient/123"}`. The absolute form is kept as
an alternative, so a reference stored in that absolute form still matches too.
"""

from __future__ import annotations

import re
from dataclasses import replace

from fhir_server.search.plan import (
    AnyClause,
    ChainClause,
    Clause,
    CompositePred,
    HasClause,
    ParamClause,
    Pred,
    RefPred,
    SearchPlan,
)

_TYPE_ID = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def localize(plan: SearchPlan, base_url: str | None) -> SearchPlan:
    """The plan with every own-base absolute reference value also matching `Type/id`."""
    if not base_url:
        return plan
    prefix = base_url.rstrip("/") + "/"
    clauses = tuple(_clause(c, prefix) for c in plan.clauses)
    return plan if clauses == plan.clauses else replace(plan, clauses=clauses)


def _clause(clause: Clause, prefix: str) -> Clause:
    if isinstance(clause, ParamClause):
        preds = tuple(p for pred in clause.preds for p in _preds(pred, prefix))
        return clause if preds == clause.preds else replace(clause, preds=preds)
    if isinstance(clause, (ChainClause, HasClause)):
        inner = _clause(clause.inner, prefix)
        return clause if inner is clause.inner else replace(clause, inner=inner)
    if isinstance(clause, AnyClause):
        subs = tuple(_clause(c, prefix) for c in clause.clauses)
        return clause if subs == clause.clauses else replace(clause, clauses=subs)
    return clause


def _preds(pred: Pred, prefix: str) -> tuple[Pred, ...]:
    if isinstance(pred, RefPred):
        local = _local(pred, prefix)
        return (pred,) if local is None else (local, pred)
    if isinstance(pred, CompositePred):
        parts = []
        for kind, part in pred.parts:
            local = _local(part, prefix) if isinstance(part, RefPred) else None
            parts.append((kind, local or part))
        return (CompositePred(tuple(parts)),)
    return (pred,)


def _local(pred: RefPred, prefix: str) -> RefPred | None:
    if pred.url is None or not pred.url.startswith(prefix):
        return None
    m = _TYPE_ID.match(pred.url[len(prefix) :])
    return None if m is None else RefPred((m.group(1),), m.group(2), None)
