"""Roles and the scopes each may be granted, loaded from data (smart_auth/data/roles.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from smart_auth.scopes import ScopeSet

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

    def ceiling(self, name: str) -> ScopeSet:
        return self.get(name).scopes

    def label(self, name: str, lang: str) -> str:
        role = self._roles.get(name)
        return role.label.get(lang, name) if role else name
