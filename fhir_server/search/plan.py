"""The backend-neutral search plan: what `parse_search` produces and stores compile.

A plan is a conjunction of clauses over one or more resource types. Each clause is about
one search parameter (by code; the store maps it to its index of `kind`) and holds an OR of
predicates. Chains and `_has` nest clauses evaluated against other resource types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fhir_server.outcome import Issue


@dataclass(frozen=True, slots=True)
class TokenPred:
    system: str | None  # None: any system (unless no_system)
    code: str | None  # None: any code (`system|`)
    no_system: bool = False  # `|code`: entries without a system


@dataclass(frozen=True, slots=True)
class StringPred:
    value: str  # normalized for prefix/contains, as given for exact
    mode: str  # prefix | exact | contains


@dataclass(frozen=True, slots=True)
class RefPred:
    """Relative target (`types` x `id`; id None: any resource of those types) or an
    absolute/canonical `url`."""

    types: tuple[str, ...]  # acceptable target types (empty: any)
    id: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class RangePred:
    """date / number / quantity: prefix applied to the query range [low, high]."""

    prefix: str  # eq ne gt lt ge le sa eb ap
    low: float
    high: float
    system: str | None = None  # quantity only
    code: str | None = None  # quantity only (matches code or unit)


@dataclass(frozen=True, slots=True)
class UriPred:
    values: tuple[str, ...]  # eq / above: any of these exactly; below: prefix values[0]
    mode: str  # eq | below | above


@dataclass(frozen=True, slots=True)
class CompositePred:
    parts: tuple[tuple[str, Pred], ...]  # (component index kind, predicate) per component


Pred = TokenPred | StringPred | RefPred | RangePred | UriPred | CompositePred


@dataclass(frozen=True, slots=True)
class ParamClause:
    """Some entry of `param` (index `kind`) satisfies one of `preds`; negated for `:not`."""

    param: str
    kind: str  # token string reference date number quantity uri composite
    preds: tuple[Pred, ...]
    negate: bool = False
    single: bool = False  # at most one entry per resource (AND-ed clauses may be merged)


@dataclass(frozen=True, slots=True)
class MissingClause:
    param: str
    kind: str
    missing: bool


@dataclass(frozen=True, slots=True)
class IdClause:
    ids: tuple[str, ...]
    negate: bool = False


@dataclass(frozen=True, slots=True)
class LastUpdatedClause:
    preds: tuple[RangePred, ...]


@dataclass(frozen=True, slots=True)
class ChainClause:
    """`param` references a resource of one of `target_types` that satisfies `inner`."""

    param: str
    target_types: tuple[str, ...]
    inner: Clause


@dataclass(frozen=True, slots=True)
class HasClause:
    """Some `source_type` resource whose `ref_param` points here satisfies `inner`."""

    source_type: str
    ref_param: str
    inner: Clause


@dataclass(frozen=True, slots=True)
class AnyClause:
    """OR of clauses (compartment membership)."""

    clauses: tuple[Clause, ...]


@dataclass(frozen=True, slots=True)
class TypeClause:
    """The resource is of type `type` and satisfies every one of `clauses`, each compiled for
    that type alone. Authorization narrows searches with these: a token's grant differs per
    type (a patient's compartment, a scope's `?param=` restriction), so a search over
    several types, an include or a chain holds one per type it may see."""

    type: str
    clauses: tuple[Clause, ...] = ()


Clause = (
    ParamClause
    | MissingClause
    | IdClause
    | LastUpdatedClause
    | ChainClause
    | HasClause
    | AnyClause
    | TypeClause
)
NOTHING: Clause = AnyClause(())  # matches no resource


@dataclass(frozen=True, slots=True)
class SortKey:
    param: str  # _id, _lastUpdated, or a parameter code
    kind: str  # index kind, or "id" / "lastUpdated"
    descending: bool


@dataclass(frozen=True, slots=True)
class Include:
    source_type: str
    param: str  # reference parameter code, or "*"
    target_type: str | None
    iterate: bool


@dataclass(frozen=True, slots=True)
class Cursor:
    """Keyset position: the sort values, type and id of the row the page starts after
    (`forward`) or before (not `forward`)."""

    forward: bool
    key: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class SearchPlan:
    types: tuple[str, ...]  # the types searched; empty: every type
    clauses: tuple[Clause, ...] = ()
    sort: tuple[SortKey, ...] = ()
    count: int = 20
    # auto: counted when cheap (search.totals.TOTAL_CAP); none | estimate | accurate: `_total`
    total: str = "auto"
    includes: tuple[Include, ...] = ()
    revincludes: tuple[Include, ...] = ()
    summary: str | None = None
    elements: tuple[str, ...] | None = None
    cursor: Cursor | None = None
    warnings: tuple[Issue, ...] = ()
    params: tuple[tuple[str, str], ...] = ()  # the honoured query, for paging links
    ids_only: bool = False  # match(): ids only, no bodies, no includes
    # What included resources may be, per type (a clause they must satisfy); a type not
    # listed is never included. None: no limit. Set by authorization, never by a client.
    include_limits: tuple[tuple[str, Clause], ...] | None = None

    def include_limit(self, type_: str) -> Clause | None:
        """The clause included resources of `type_` must satisfy; None when they may not be
        included at all (only asked when include_limits is set)."""
        assert self.include_limits is not None
        return dict(self.include_limits).get(type_)


@dataclass(frozen=True, slots=True)
class Hit:
    type: str
    id: str
    body: bytes | None
    sort_key: tuple[object, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class SearchResult:
    """What a store returns: the page (in order), included resources, total, and the
    keyset positions for the next/previous pages (None when there is no such page)."""

    matches: list[Hit]
    included: list[Hit]
    total: int | None
    next_key: tuple[object, ...] | None
    prev_key: tuple[object, ...] | None
