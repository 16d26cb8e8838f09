"""parse_search: a FHIR search query -> SearchPlan (filters here, result controls in controls.py)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace

from fhir_server.definitions import compartments
from fhir_server.outcome import FhirError, Issue, warning
from fhir_server.search import values as v
from fhir_server.search.cardinality import single_valued
from fhir_server.search.compiler import leaf_types
from fhir_server.search.controls import IGNORED_PARAMS, RESULT_PARAMS, Controls, parse_controls
from fhir_server.search.local_refs import localize
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
    RefPred,
    SearchPlan,
)
from fhir_server.search.registry import UNSUPPORTED, SearchParam, registry
from fhir_server.search.valuesets import value_set_preds

_MODIFIERS: dict[str, frozenset[str]] = {
    "token": frozenset({"", "not", "text", "missing", "of-type", "in", "not-in"}),
    "string": frozenset({"", "exact", "contains", "missing"}),
    "reference": frozenset({"", "missing", "identifier"}),
    "date": frozenset({"", "missing"}),
    "number": frozenset({"", "missing"}),
    "quantity": frozenset({"", "missing"}),
    "uri": frozenset({"", "above", "below", "missing"}),
    "composite": frozenset({"", "missing"}),
}


class _Ignored(Exception):
    """A parameter the server cannot honour (warning, or 400 when strict)."""


def _param(types: Sequence[str], code: str) -> SearchParam:
    found = [registry().get(t, code) for t in types] if types else [registry().get("Patient", code)]
    known = [p for p in found if p is not None]
    if not known or code in UNSUPPORTED or (types and len(known) != len(types)):
        where = ",".join(types) or "all types"
        raise _Ignored(f"Unknown or unsupported search parameter '{code}' for {where}")
    return known[0]


def _parse_value(param: SearchParam, name: str, modifier: str, raw: str) -> Pred:
    kind = param.type
    if kind == "token":
        return v.of_type_pred(name, raw) if modifier == "of-type" else v.token_pred(name, raw)
    if kind == "string":
        return v.string_pred(raw, modifier or "prefix")
    if kind == "reference":
        return v.reference_pred(name, raw, param.targets)
    if kind == "date":
        return v.date_pred(name, raw)
    if kind == "number":
        return v.number_pred(name, raw)
    if kind == "quantity":
        return v.quantity_pred(name, raw)
    if kind == "uri":
        return v.uri_pred(name, raw, modifier or "eq")
    if kind == "composite":
        return _composite_value(param, name, raw)
    raise _Ignored(f"Search parameter '{name}' of type {kind} is not supported")


def _composite_value(param: SearchParam, name: str, raw: str) -> CompositePred:
    pieces = v.split_unescaped(raw, "$")
    if len(pieces) != len(param.components):
        raise v.bad(name, raw, f"expected {len(param.components)} components separated by '$'")
    parts: list[tuple[str, Pred]] = []
    for comp, piece in zip(param.components, pieces, strict=False):
        sub = SearchParam(comp.code, comp.definition, comp.type, param.resource_type, None)
        parts.append((comp.type, _parse_value(sub, name, "", piece)))
    return CompositePred(tuple(parts))


def _on_code(param: SearchParam) -> bool:
    """True when the parameter reads `code` elements only (stored without a system)."""
    if param.expression is None:
        return False
    return leaf_types(param.resource_type, param.expression) == frozenset({"code"})


def _reference_modifier(param: SearchParam, modifier: str) -> tuple[str, SearchParam]:
    """`:Type` narrows a reference parameter's targets; returns the remaining modifier."""
    if param.type == "reference" and modifier and modifier[0].isupper():
        if param.targets and modifier not in param.targets:
            raise FhirError.of(400, "invalid", f"{modifier} is not a target of '{param.code}'")
        return "", replace(param, targets=(modifier,))
    return modifier, param


def _simple_clause(types: Sequence[str], key: str, raw: str) -> Clause:
    code, _, modifier = key.partition(":")
    if code == "_id":
        return IdClause(tuple(v.unescape(x) for x in v.split_or(raw)), negate=modifier == "not")
    if code == "_lastUpdated":
        return LastUpdatedClause(tuple(v.date_pred(key, x) for x in v.split_or(raw)))
    param = _param(types, code)
    modifier, param = _reference_modifier(param, modifier)
    if modifier not in _MODIFIERS.get(param.type, frozenset({""})):
        raise FhirError.of(400, "invalid", f"Modifier ':{modifier}' is not supported on '{code}'", key)
    if modifier == "missing":
        if raw not in ("true", "false"):
            raise v.bad(key, raw, ":missing takes true or false")
        return MissingClause(code, param.type, raw == "true")
    if modifier in ("in", "not-in"):
        preds_in = value_set_preds(key, [v.unescape(x) for x in v.split_or(raw)], _on_code(param))
        return ParamClause(code, "token", preds_in, negate=modifier == "not-in", single=single_valued(param))
    if modifier == "text":
        preds = tuple(v.string_pred(x, "prefix") for x in v.split_or(raw))
        return ParamClause(code + ":text", "string", preds)
    if modifier == "identifier":
        return ParamClause(
            code + ":identifier", "token", tuple(v.token_pred(key, x) for x in v.split_or(raw))
        )
    values: tuple[Pred, ...] = tuple(_parse_value(param, key, modifier, x) for x in v.split_or(raw))
    if modifier == "of-type":
        return ParamClause(code + ":of-type", "token", values)
    return ParamClause(code, param.type, values, negate=modifier == "not", single=single_valued(param))


def _chain_clause(types: Sequence[str], key: str, raw: str) -> Clause:
    head, _, rest = key.partition(".")
    code, _, type_mod = head.partition(":")
    param = _param(types, code)
    if param.type != "reference":
        raise FhirError.of(400, "invalid", f"Cannot chain through non-reference parameter '{code}'", key)
    targets = (type_mod,) if type_mod else param.targets
    inner_code = rest.partition(".")[0].partition(":")[0]
    usable = tuple(
        t for t in targets if registry().get(t, inner_code) or inner_code in ("_id", "_lastUpdated")
    )
    if not usable:
        raise _Ignored(f"Chained parameter '{rest}' is not defined on any target of '{code}'")
    return ChainClause(code, usable, _clause(usable, rest, raw))


def _has_clause(types: Sequence[str], key: str, raw: str) -> Clause:
    pieces = key.split(":", 3)
    if len(pieces) < 4 or not all(pieces[1:]):
        raise FhirError.of(400, "invalid", f"Malformed _has parameter '{key}'", key)
    _, source, ref_code, rest = pieces
    if source not in registry().resource_types:
        raise FhirError.of(400, "invalid", f"Unknown resource type '{source}' in _has", key)
    ref = registry().get(source, ref_code)
    if ref is None or ref.type != "reference":
        raise FhirError.of(400, "invalid", f"'{ref_code}' is not a reference parameter of {source}", key)
    return HasClause(source, ref_code, _clause((source,), rest, raw))


def _clause(types: Sequence[str], key: str, raw: str) -> Clause:
    if key.startswith("_has:"):
        return _has_clause(types, key, raw)
    if "." in key:
        return _chain_clause(types, key, raw)
    return _simple_clause(types, key, raw)


def compartment_clause(resource_types: Sequence[str], compartment: tuple[str, str]) -> Clause:
    comp_type, comp_id = compartment
    links = compartments().get(comp_type)
    if links is None:
        raise FhirError.of(400, "invalid", f"Unknown compartment {comp_type}")
    clauses: list[Clause] = []
    for rt in resource_types:
        if rt not in links:
            raise FhirError.of(400, "invalid", f"{rt} is not in the {comp_type} compartment")
        for code in links[rt]:
            if code == "{def}":
                clauses.append(IdClause((comp_id,)))
            else:
                clauses.append(ParamClause(code, "reference", (RefPred((comp_type,), comp_id, None),)))
    if comp_type in resource_types:
        clauses.append(IdClause((comp_id,)))
    return AnyClause(tuple(clauses))


def _types(
    resource_type: str | None, controls: Controls, compartment: tuple[str, str] | None
) -> tuple[str, ...]:
    if resource_type is not None:
        if resource_type not in registry().resource_types:
            raise FhirError.of(404, "not-supported", f"Unknown resource type '{resource_type}'")
        return (resource_type,)
    if controls.types:
        return controls.types
    if compartment is not None:
        return tuple(sorted(compartments().get(compartment[0], {})))
    return ()


def parse_search(
    resource_type: str | None,
    params: list[tuple[str, str]],
    *,
    compartment: tuple[str, str] | None = None,
    strict: bool = False,
    base_url: str | None = None,
) -> SearchPlan:
    """Parse a search query. Raises FhirError(400) on malformed values (and on unknown or
    unsupported parameters when `strict`); otherwise those become plan warnings.
    `base_url` is this server's: reference values under it also match `Type/id`.

    Plans are immutable and cached: the write path's workflow rules repeat the same
    queries for every item of a prescription."""
    key = tuple((str(k), str(v)) for k, v in params)
    if any(k.endswith((":in", ":not-in")) for k, _ in key):  # expansions change with terminology
        plan = _parse(resource_type, list(key), compartment=compartment, strict=strict)
    else:
        plan = _parse_cached(resource_type, key, compartment, strict, registry().generation)
    return localize(plan, base_url)


@functools.lru_cache(maxsize=2048)
def _parse_cached(
    resource_type: str | None,
    params: tuple[tuple[str, str], ...],
    compartment: tuple[str, str] | None,
    strict: bool,
    generation: int,
) -> SearchPlan:
    return _parse(resource_type, list(params), compartment=compartment, strict=strict)


def _parse(
    resource_type: str | None,
    params: list[tuple[str, str]],
    *,
    compartment: tuple[str, str] | None = None,
    strict: bool = False,
) -> SearchPlan:
    controls = parse_controls(resource_type, params, strict)
    types = _types(resource_type, controls, compartment)
    clauses: list[Clause] = []
    warnings: list[Issue] = list(controls.warnings)
    honoured: list[tuple[str, str]] = []
    for key, raw in params:
        base = key.partition(":")[0]
        if base in RESULT_PARAMS or base in IGNORED_PARAMS:
            continue
        try:
            clauses.append(_clause(types, key, raw))
        except _Ignored as exc:
            if strict:
                raise FhirError.of(400, "not-supported", str(exc), key) from exc
            warnings.append(warning("not-supported", str(exc), key))
            continue
        honoured.append((key, raw))
    if compartment is not None:
        clauses.append(compartment_clause(types, compartment))
    honoured.extend(controls.link_params)
    return SearchPlan(
        types=types,
        clauses=tuple(clauses),
        sort=controls.sort,
        count=controls.count,
        total=controls.total,
        includes=controls.includes,
        revincludes=controls.revincludes,
        summary=controls.summary,
        elements=controls.elements,
        cursor=controls.cursor,
        warnings=tuple(warnings),
        params=tuple(honoured),
    )
