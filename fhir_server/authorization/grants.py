"""A token's grants as search-plan clauses, and the narrowing of plans with them.

For an interaction on a type, a token grants nothing (the interaction is refused), every
resource of the type, or those satisfying one of its scope constraints: inside a patient's
compartment and/or matching a scope's `?param=` query. `grant()` turns the latter into a
`TypeClause` (or an `AnyClause` of them), engine-neutral clauses both stores compile. The
Repository adds them to a search plan before the store runs it, so totals, pages,
includes, chains and `_has` all count over what the token may see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from fhir_server import definitions, search
from fhir_server.outcome import FhirError
from fhir_server.search.parse import compartment_clause
from fhir_server.search.plan import (
    NOTHING,
    AnyClause,
    ChainClause,
    Clause,
    HasClause,
    SearchPlan,
    TypeClause,
)
from smart_auth.scopes import AccessContext, Constraint

# Chained parameters and `_has` read their inner resources as a search of that type does.
INNER_INTERACTION = "search-type"


def is_open(grant: Clause) -> bool:
    """True for the grant of a whole type: `TypeClause(type)` with no further clause."""
    return isinstance(grant, TypeClause) and not grant.clauses


class Grants:
    """The clauses one token's grants compile to; one per request, results kept."""

    def __init__(self, access: AccessContext) -> None:
        self.access = access
        self._cache: dict[tuple[str, str], Clause | None] = {}

    def grant(self, interaction: str, type_: str) -> Clause | None:
        """None when the token may not do `interaction` on `type_` at all; else the clause a
        resource of the type must satisfy (`NOTHING` when no constraint can be met there,
        as a patient's compartment for a type outside it)."""
        key = (interaction, type_)
        if key not in self._cache:
            self._cache[key] = self._grant(interaction, type_)
        return self._cache[key]

    def _grant(self, interaction: str, type_: str) -> Clause | None:
        decision = self.access.decide(interaction, type_)
        if not decision.allowed:
            return None
        if decision.unrestricted:
            return TypeClause(type_)
        options = [
            TypeClause(type_, found)
            for found in (_constraint_clauses(type_, c) for c in decision.constraints)
            if found is not None
        ]
        if not options:
            return NOTHING
        return options[0] if len(options) == 1 else AnyClause(tuple(options))

    def visible_types(self, interaction: str, types: Iterable[str]) -> dict[str, Clause]:
        """The grants of the types where the token may see something."""
        found = {t: self.grant(interaction, t) for t in types}
        return {t: g for t, g in found.items() if g is not None and g != NOTHING}

    # -- plans -------------------------------------------------------------------------

    def narrow(self, plan: SearchPlan, interaction: str) -> SearchPlan:
        """The plan limited to what the token may see: 403 for a named type it may not
        search; a search of every type covers the types it may search."""
        clauses = [self.narrow_clause(c) for c in plan.clauses]
        types = plan.types
        if types:
            grants = [self._required(interaction, t) for t in types]
        else:
            every = sorted(definitions.resource_types())
            visible = self.visible_types(interaction, every)
            grants = list(visible.values())
            if not visible:
                clauses.append(NOTHING)
            elif len(visible) < len(every):
                types = tuple(visible)
        if len(grants) == 1 and isinstance(grants[0], TypeClause):
            clauses.extend(grants[0].clauses)  # one type: its own clauses, each a driver candidate
        elif not all(is_open(g) for g in grants):
            clauses.append(AnyClause(tuple(grants)))
        limits = self._include_limits(plan)
        return replace(plan, types=types, clauses=tuple(clauses), include_limits=limits)

    def _required(self, interaction: str, type_: str) -> Clause:
        grant = self.grant(interaction, type_)
        if grant is None:
            raise FhirError.of(403, "forbidden", f"The token's scopes do not allow {interaction} on {type_}")
        return grant

    def narrow_clause(self, clause: Clause) -> Clause:
        """Chains and `_has` only reach inner resources the token may search."""
        if isinstance(clause, ChainClause):
            return self._chain(clause)
        if isinstance(clause, HasClause):
            inner = self.narrow_clause(clause.inner)
            grant = self.grant(INNER_INTERACTION, clause.source_type)
            if grant is None or grant == NOTHING:
                return NOTHING
            if not is_open(grant):
                inner = TypeClause(clause.source_type, (inner, grant))
            return replace(clause, inner=inner)
        if isinstance(clause, AnyClause):
            return AnyClause(tuple(self.narrow_clause(c) for c in clause.clauses))
        if isinstance(clause, TypeClause):
            return TypeClause(clause.type, tuple(self.narrow_clause(c) for c in clause.clauses))
        return clause

    def _chain(self, clause: ChainClause) -> Clause:
        inner = self.narrow_clause(clause.inner)
        visible = self.visible_types(INNER_INTERACTION, clause.target_types)
        if not visible:
            return NOTHING
        targets = tuple(visible)
        if all(is_open(g) for g in visible.values()):
            return ChainClause(clause.param, targets, inner)
        options = tuple(TypeClause(t, (inner,) if is_open(g) else (inner, g)) for t, g in visible.items())
        return ChainClause(clause.param, targets, options[0] if len(options) == 1 else AnyClause(options))

    def _include_limits(self, plan: SearchPlan) -> tuple[tuple[str, Clause], ...] | None:
        """Included resources are read: each type limited to what the token may read."""
        if not plan.includes and not plan.revincludes:
            return None
        every = sorted(definitions.resource_types())
        visible = self.visible_types("read", every)
        if len(visible) == len(every) and all(is_open(g) for g in visible.values()):
            return None
        return tuple(visible.items())

    def only(self, interaction: str, type_: str | None) -> Clause | None:
        """What history may show (versions of resources the token may see now); None: all."""
        if type_ is not None:
            grant = self._required(interaction, type_)
            return None if is_open(grant) else grant
        every = sorted(definitions.resource_types())
        visible = self.visible_types(interaction, every)
        if len(visible) == len(every) and all(is_open(g) for g in visible.values()):
            return None
        return AnyClause(tuple(visible.values()))


def _constraint_clauses(type_: str, constraint: Constraint) -> tuple[Clause, ...] | None:
    """The clauses of one constraint on `type_`; None when no resource of the type can meet
    it (a type outside the patient compartment, a scope parameter the type does not have)."""
    clauses: list[Clause] = []
    try:
        if constraint.patient is not None:
            clauses.append(compartment_clause((type_,), ("Patient", constraint.patient)))
        if constraint.params:
            plan = search.parse_search(type_, list(constraint.params), strict=True)
            clauses.extend(plan.clauses)
    except FhirError:
        return None
    return tuple(clauses)
