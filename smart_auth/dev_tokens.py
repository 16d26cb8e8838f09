"""Development bearer tokens: `fhir-server token --user NAME` for curl on the same machine.

Whoever can write the data directory can already do anything, so the command mints the
token straight into the auth store, for the user's whole role ceiling (or less with
`--scope`). Such a token is good only for requests from a loopback address: copied off
the machine it opens nothing.
"""

from __future__ import annotations

import ipaddress
import time
import uuid
from collections.abc import Callable

from smart_auth.hashing import digest, new_secret
from smart_auth.roles import Roles
from smart_auth.scope_grant import narrow
from smart_auth.scopes import ScopeSet
from smart_auth.store.base import AuthStore, Record

DEV_CLIENT = "fhir-server-token"


def from_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def mint(
    store: AuthStore,
    username: str,
    scope: str | None = None,
    ttl: int = 3600,
    workplaces: Callable[[str], list[str]] = lambda fhir_user: [],
) -> tuple[str, Record]:
    """A loopback-only access token for a user: the token, and its stored record.
    `workplaces(fhir_user)`: the user's organizations (see `Directory.workplaces`)."""
    user = store.find_user(username)
    if user is None or user.get("disabled"):
        raise ValueError(f"no such user: {username}")
    roles = Roles()
    mine = bool(user.get("fhir_user")) and roles.by_workplace(user["role"])
    ceiling = roles.ceiling(user["role"], workplaces(user["fhir_user"]) if mine else [])
    granted = narrow(ScopeSet.parse(scope, strict=True), ceiling) if scope else ceiling
    if not granted.resources:
        raise ValueError(f"the role {user['role']} may not be granted {scope}")
    fhir_user = user.get("fhir_user") or ""
    context = {"patient": fhir_user.split("/", 1)[1]} if fhir_user.startswith("Patient/") else {}
    token, now = new_secret(), time.time()
    record: Record = {
        "token_id": uuid.uuid4().hex,
        "access_hash": digest(token),
        "refresh_hash": None,
        "family": uuid.uuid4().hex,
        "grant_id": None,
        "client_id": DEV_CLIENT,
        "user_id": user["user_id"],
        "role": user["role"],
        "fhir_user": user.get("fhir_user"),
        "scope": str(granted),
        "grant_type": "development",
        "issued_at": now,
        "expires_at": now + ttl,
        "refresh_expires_at": None,
        "context": context,
        "session_id": None,
        "auth_time": None,
        "loopback_only": True,
    }
    store.put_token(record)
    return token, record
