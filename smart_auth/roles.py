"""Roles and the scopes each may be granted, loaded from data (smart_auth/data/roles.json).

A role's scope may be restricted to the user's own workplace: `user/Claim.crs?provider=
{organization}` grants a pharmacist the claims of the pharmacies they work at
(`Directory.workplaces`), one scope per workplace, and nothing without one. The
restriction is then an ordinary `?param=` scope: the FHIR side narrows every query with it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from smart_auth.scopes import ResourceScope, ScopeSet

WORKPLACE = "{organization}"  # in a restriction's value: the user's workplace (Organization/id)

DEFAULT_ROLES_FILE = Path(__file__).parent / "data" / "roles.json"


def _role_names(path: Path) -> tuple[str, ...]:
    return tuple(k for k in json.loads(path.read_text(encoding="utf-8")) if not k.startswith("_"))


# The roles are the data file's: adding one there (say, a clinic's receptionist) is enough.
ROLE_NAMES = _role_names(DEFAULT_ROLES_FILE)


@dataclass(frozen=True)
class Role:
    name: str
    scopes: ScopeSet
    label: dict[str, str]


class Roles:
    def __init__(self, path: Path = DEFAULT_ROLES_FILE) -> None:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        self._roles = {
            name: Role(name, ScopeSet.parse(spec["scopes"], strict=True), dict(spec.get("label", {})))
            for name, spec in doc.items()
            if not name.startswith("_")
        }

    def names(self) -> list[str]:
        return list(self._roles)

    def get(self, name: str) -> Role:
        try:
            return self._roles[name]
        except KeyError:
            raise ValueError(f"unknown role: {name}") from None

    def by_workplace(self, name: str) -> bool:
        """True when some of the role's scopes are restricted to the user's workplace."""
        return any(WORKPLACE in v for scope in self.get(name).scopes.resources for _, v in scope.params)

    def ceiling(self, name: str, workplaces: Sequence[str] = ()) -> ScopeSet:
        """The most a user of the role may be granted; a scope restricted to the user's
        workplace becomes one per workplace in `workplaces` (Organization references)."""
        scopes = self.get(name).scopes
        resources = [s for scope in scopes.resources for s in _for_workplaces(scope, workplaces)]
        return ScopeSet(tuple(resources), scopes.others)

    def label(self, name: str, lang: str) -> str:
        role = self._roles.get(name)
        return role.label.get(lang, name) if role else name


def _for_workplaces(scope: ResourceScope, workplaces: Sequence[str]) -> list[ResourceScope]:
    if not any(WORKPLACE in value for _, value in scope.params):
        return [scope]
    return [
        replace(scope, params=tuple((k, v.replace(WORKPLACE, place)) for k, v in scope.params))
        for place in workplaces
    ]
