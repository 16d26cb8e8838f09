"""Remembered consent: what a user allowed an app, so the next launch does not ask again.

One record per user in the auth store (kind `consent`, key = user id) holds, per client,
the scopes the user allowed, when, and the token families issued under that consent. A
launch asking for no more than was allowed goes straight through; revoking (the user's
grants page, or `fhir-server grants revoke`) forgets the consent and revokes the tokens
issued under it. Launch-context scopes (`launch`, `launch/patient`, ...) say how the
context is chosen, not what may be read, so they are not part of the comparison.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from smart_auth.scopes import split_scope
from smart_auth.store.base import AuthStore

CONTEXT_ONLY = frozenset({"launch", "launch/patient", "launch/encounter"})
MAX_FAMILIES = 50  # token chains remembered per consent (the oldest are forgotten)


@dataclass(frozen=True)
class Consent:
    client_id: str
    scope: str
    granted_at: float


def _permissions(scope: str) -> set[str]:
    return set(split_scope(scope)) - CONTEXT_ONLY


class Consents:
    def __init__(self, store: AuthStore, ttl: float) -> None:
        self.store, self.ttl = store, ttl

    def _load(self, user_id: str) -> dict[str, Any]:
        record = self.store.get_record("consent", user_id)
        return dict(record or {"clients": {}})

    def _save(self, user_id: str, record: dict[str, Any]) -> None:
        if record["clients"]:
            self.store.put_record("consent", user_id, record, time.time() + self.ttl)
        else:
            self.store.delete_record("consent", user_id)

    def covers(self, user_id: str, client_id: str, scope: str) -> bool:
        entry = self._load(user_id)["clients"].get(client_id)
        return entry is not None and _permissions(scope) <= _permissions(entry["scope"])

    def remember(self, user_id: str, client_id: str, scope: str) -> None:
        record = self._load(user_id)
        entry = record["clients"].get(client_id) or {"scope": "", "families": []}
        allowed = split_scope(entry["scope"])
        allowed += [s for s in split_scope(scope) if s not in allowed and s not in CONTEXT_ONLY]
        record["clients"][client_id] = {**entry, "scope": " ".join(allowed), "granted_at": time.time()}
        self._save(user_id, record)

    def add_family(self, user_id: str, client_id: str, family: str) -> None:
        """Note a token chain issued under the user's consent to this client."""
        record = self._load(user_id)
        entry = record["clients"].get(client_id)
        if entry is None:
            return
        entry["families"] = [*entry.get("families", []), family][-MAX_FAMILIES:]
        self._save(user_id, record)

    def granted(self, user_id: str) -> list[Consent]:
        clients = self._load(user_id)["clients"]
        return [Consent(cid, c["scope"], c["granted_at"]) for cid, c in sorted(clients.items())]

    def revoke(self, user_id: str, client_id: str) -> bool:
        """Forget the consent and revoke its tokens; False when there was none."""
        record = self._load(user_id)
        entry = record["clients"].pop(client_id, None)
        if entry is None:
            return False
        for family in entry.get("families", []):
            self.store.revoke_family(family)
        self._save(user_id, record)
        return True
