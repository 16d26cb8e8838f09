"""SMART App Launch scopes (v1 and v2) and the access decision the FHIR layer enforces.

Pure functions and values only: no Flask, no storage. The FHIR side asks
`AccessContext.decide(interaction, resource_type)` and, for every resource it is about to
return or change, `Decision.permits(resource, in_compartment, matches)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

LEVELS = ("patient", "user", "system")
PERMISSION_ORDER = "cruds"
V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}
CONTEXT_SCOPES = frozenset(
    {
        "openid",
        "fhirUser",
        "profile",
        "launch",
        "launch/patient",
        "launch/encounter",
        "offline_access",
        "online_access",
    }
)

# FHIR interaction (http://hl7.org/fhir/restful-interaction) -> the SMART v2 permission it needs.
INTERACTION_PERMISSION = {
    "create": "c",
    "read": "r",
    "vread": "r",
    "history-instance": "r",
    "update": "u",
    "patch": "u",
    "delete": "d",
    "search": "s",
    "search-type": "s",
    "search-system": "s",
    "search-compartment": "s",
    "history-type": "s",
    "history-system": "s",
}

_RESOURCE_SCOPE = re.compile(
    r"^(?P<level>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]*)\.(?P<perm>[A-Za-z*]+)(?:\?(?P<query>.+))?$"
)
_V2_PERMS = re.compile(r"^c?r?u?d?s?$")


class ScopeError(ValueError):
    """A scope that looks like a SMART resource scope but is malformed."""


@dataclass(frozen=True)
class ResourceScope:
    """`level/Type.perms[?query]`, normalised to a set of v2 permission letters."""

    level: str
    resource_type: str
    permissions: frozenset[str]
    params: tuple[tuple[str, str], ...] = ()
    version: int = 2

    def covers(self, permission: str, resource_type: str) -> bool:
        return permission in self.permissions and self.resource_type in ("*", resource_type)

    def __str__(self) -> str:
        # a restricted scope is written in the v2 form: v1 has no query syntax
        perms = _render_permissions(self.permissions, v1=self.version == 1 and not self.params)
        text = f"{self.level}/{self.resource_type}.{perms}"
        return f"{text}?{urlencode(self.params)}" if self.params else text


def _render_permissions(perms: frozenset[str], v1: bool) -> str:
    if v1:
        for word, letters in V1_PERMISSIONS.items():
            if perms == frozenset(letters):
                return word
    return "".join(p for p in PERMISSION_ORDER if p in perms)


def parse_scope(text: str) -> ResourceScope | None:
    """A resource scope, or None for any other scope (openid, launch, ...).

    Raises ScopeError when `text` has the shape of a resource scope but is not valid.
    """
    match = _RESOURCE_SCOPE.match(text)
    if not match:
        if text.partition("/")[0] in LEVELS and "." in text:
            raise ScopeError(f"malformed SMART scope: {text}")
        return None
    perm, query = match["perm"], match["query"]
    if perm in V1_PERMISSIONS:
        if query:
            raise ScopeError(f"v1 scopes take no query: {text}")
        return ResourceScope(match["level"], match["type"], frozenset(V1_PERMISSIONS[perm]), (), 1)
    if not perm or not _V2_PERMS.match(perm):
        raise ScopeError(f"permissions must be a subset of 'cruds' in that order: {text}")
    return ResourceScope(match["level"], match["type"], frozenset(perm), _restrictions(text, query or ""))


def _restrictions(text: str, query: str) -> tuple[tuple[str, str], ...]:
    """The `?param=value` pairs; a pair without a name or a value is an error, not dropped
    (dropping `?category=` would grant more than was asked)."""
    try:
        params = tuple(parse_qsl(query, keep_blank_values=True, strict_parsing=True))
    except ValueError as exc:
        raise ScopeError(f"malformed query in SMART scope: {text}") from exc
    if any(not name or not value for name, value in params):
        raise ScopeError(f"every restriction needs a parameter and a value: {text}")
    return params


def split_scope(scope: str | None) -> list[str]:
    return [s for s in (scope or "").split() if s]


@dataclass(frozen=True)
class ScopeSet:
    """A parsed scope string: resource scopes plus the other (context) scopes."""

    resources: tuple[ResourceScope, ...] = ()
    others: tuple[str, ...] = ()

    @classmethod
    def parse(cls, scope: str | None, strict: bool = False) -> ScopeSet:
        """Parse; malformed resource scopes are dropped, or raise ScopeError when `strict`."""
        resources: list[ResourceScope] = []
        others: list[str] = []
        for token in split_scope(scope):
            try:
                parsed = parse_scope(token)
            except ScopeError:
                if strict:
                    raise
                continue
            if parsed is None:
                others.append(token)
            else:
                resources.append(parsed)
        return cls(tuple(resources), tuple(others))

    def has(self, scope: str) -> bool:
        return scope in self.others

    def __str__(self) -> str:
        return " ".join(_dedupe([*self.others, *(str(r) for r in self.resources)]))


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


@dataclass(frozen=True)
class Constraint:
    """One way a resource may be reached: inside a patient's compartment and/or matching params."""

    patient: str | None = None
    params: tuple[tuple[str, str], ...] = ()

    @property
    def unrestricted(self) -> bool:
        return self.patient is None and not self.params

    def satisfied(
        self,
        resource: Mapping[str, Any],
        in_compartment: Callable[[Mapping[str, Any], str], bool],
        matches: Callable[[Mapping[str, Any], tuple[tuple[str, str], ...]], bool],
    ) -> bool:
        if self.patient is not None and not in_compartment(resource, self.patient):
            return False
        return not self.params or matches(resource, self.params)


@dataclass(frozen=True)
class Decision:
    """Whether an interaction on a type is allowed, and under which constraints.

    `constraints` is empty when access is unrestricted; otherwise a resource is reachable
    when it satisfies at least one of them.
    """

    allowed: bool
    constraints: tuple[Constraint, ...] = ()

    @property
    def unrestricted(self) -> bool:
        return self.allowed and not self.constraints

    def permits(
        self,
        resource: Mapping[str, Any],
        in_compartment: Callable[[Mapping[str, Any], str], bool],
        matches: Callable[[Mapping[str, Any], tuple[tuple[str, str], ...]], bool],
    ) -> bool:
        if not self.allowed:
            return False
        if not self.constraints:
            return True
        return any(c.satisfied(resource, in_compartment, matches) for c in self.constraints)


DENY = Decision(False)


def permission_for(interaction: str) -> str:
    """The v2 permission letter an interaction needs ('read' -> 'r'); letters pass through."""
    if interaction in PERMISSION_ORDER and len(interaction) == 1:
        return interaction
    try:
        return INTERACTION_PERMISSION[interaction]
    except KeyError:
        raise ValueError(f"unknown FHIR interaction: {interaction}") from None


@dataclass(frozen=True)
class AccessContext:
    """What a verified access token lets its bearer do."""

    client_id: str
    scopes: ScopeSet = field(default_factory=ScopeSet)
    patient: str | None = None
    encounter: str | None = None
    fhir_user: str | None = None
    subject: str | None = None
    role: str | None = None
    token_id: str | None = None

    @property
    def scope(self) -> str:
        return str(self.scopes)

    def decide(self, interaction: str, resource_type: str) -> Decision:
        permission = permission_for(interaction)
        constraints: list[Constraint] = []
        for scope in self.scopes.resources:
            if not scope.covers(permission, resource_type):
                continue
            constraint = self._constraint(scope)
            if constraint is None:
                continue
            if constraint.unrestricted:
                return Decision(True)
            constraints.append(constraint)
        if not constraints:
            return DENY
        return Decision(True, tuple(dict.fromkeys(constraints)))

    def _constraint(self, scope: ResourceScope) -> Constraint | None:
        if scope.level == "patient":
            if self.patient is None:
                return None  # a patient scope without a patient in context grants nothing
            return Constraint(self.patient, scope.params)
        return Constraint(None, scope.params)

    def allows(self, interaction: str, resource_type: str) -> bool:
        """True when some scope grants the interaction on the type (possibly constrained)."""
        return self.decide(interaction, resource_type).allowed
