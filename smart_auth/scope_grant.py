"""Down-scoping: what is granted is the request narrowed by each ceiling (client, role).

SMART lets a server grant less than was asked. `narrow(requested, ceiling)` keeps, for every
requested resource scope, its intersection with each ceiling scope (types, permissions and
query restrictions), so `user/*.cruds` under a pharmacist ceiling becomes the pharmacist's
scopes, and `patient/*.read` under `user/*.rs` stays `patient/*.read`.
"""

from __future__ import annotations

from collections.abc import Iterable

from smart_auth.scopes import ResourceScope, ScopeSet


def _levels_compatible(requested: str, ceiling: str) -> bool:
    # A user-level allowance covers the narrower patient-level request.
    return requested == ceiling or (requested == "patient" and ceiling == "user")


def _type_intersection(requested: str, ceiling: str) -> str | None:
    if ceiling == "*":
        return requested
    if requested in ("*", ceiling):
        return ceiling
    return None


def intersect(requested: ResourceScope, ceiling: ResourceScope) -> ResourceScope | None:
    if not _levels_compatible(requested.level, ceiling.level):
        return None
    type_ = _type_intersection(requested.resource_type, ceiling.resource_type)
    perms = requested.permissions & ceiling.permissions
    if type_ is None or not perms:
        return None
    params = tuple(dict.fromkeys(requested.params + ceiling.params))
    version = requested.version if not params else 2
    return ResourceScope(requested.level, type_, perms, params, version)


def _subsumed(scope: ResourceScope, others: Iterable[ResourceScope]) -> bool:
    """True when another scope already grants everything `scope` does."""
    for other in others:
        if other is scope or other.level != scope.level:
            continue
        if other.resource_type not in ("*", scope.resource_type):
            continue
        if scope.permissions <= other.permissions and set(other.params) <= set(scope.params):
            return True  # `found` holds no duplicates, so `other` is strictly broader or equal-but-distinct
    return False


def narrow(requested: ScopeSet, ceiling: ScopeSet, context_allowed: Iterable[str] = ()) -> ScopeSet:
    """The part of `requested` inside `ceiling`; context scopes pass when in ceiling or allowed."""
    allowed_others = set(ceiling.others) | set(context_allowed)
    others = tuple(s for s in requested.others if s in allowed_others)
    found: list[ResourceScope] = []
    for req in requested.resources:
        for ceil in ceiling.resources:
            hit = intersect(req, ceil)
            if hit is not None and hit not in found:
                found.append(hit)
    kept = tuple(s for s in found if not _subsumed(s, found))
    return ScopeSet(kept, others)
