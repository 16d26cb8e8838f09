"""Reads and server-side writes inside the current store session.

Server-side effects of a workflow step (a dispense lowering what remains of a
prescription, a signature activating it) are not the client's interactions: they are
written here without the token's scope checks, in the same transaction, with the
version the rule read, so a concurrent change makes one of the two writers fail.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from fhir_server import search
from fhir_server.outcome import FhirError
from fhir_server.repository.meta import now_instant, stamp
from fhir_server.storage.base import ResourceVersion, StoreSession, VersionConflict

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

_MEMOS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def memo(s: StoreSession) -> dict[str, Any]:
    """Scratch space that lives as long as the session (one transaction)."""
    try:
        return _MEMOS.setdefault(s, {})
    except TypeError:  # a session type without weak references: no sharing, still correct
        return {}


def read(s: StoreSession, type_: str, id_: str | None) -> dict[str, Any] | None:
    if not id_:
        return None
    rv = s.current(type_, id_)
    if rv is None or rv.deleted or rv.body is None:
        return None
    found: dict[str, Any] = orjson.loads(rv.body)
    return found


def cached(s: StoreSession, key: tuple[Any, ...], load: Callable[[], Any]) -> Any:
    """`load()` once per session (one transaction): what a prescription's items share.

    For what the workflow reads and does not write in that transaction (the patient,
    the prescriber's roles, the encounter, the patient's earlier prescriptions)."""
    store = memo(s).setdefault("cache", {})
    if key not in store:
        store[key] = load()
    return store[key]


def read_shared(s: StoreSession, type_: str, id_: str | None) -> dict[str, Any] | None:
    """`read`, once per session."""
    found: dict[str, Any] | None = cached(s, ("read", type_, id_), lambda: read(s, type_, id_))
    return found


def read_with_version(s: StoreSession, type_: str, id_: str) -> tuple[dict[str, Any], int]:
    rv = s.current(type_, id_)
    if rv is None or rv.deleted or rv.body is None:
        raise FhirError.of(422, "not-found", f"{type_}/{id_} is not known")
    return orjson.loads(rv.body), rv.version


def find(
    s: StoreSession, type_: str, params: list[tuple[str, str]], limit: int = 200
) -> list[dict[str, Any]]:
    """Current resources matching a search, inside the session."""
    ids = search.match(s, type_, params, limit)
    if not ids:
        return []
    return [orjson.loads(rv.body) for rv in s.read_many([(type_, i) for i in ids]) if rv.body]


def server_write(
    repo: Repository, s: StoreSession, resource: dict[str, Any], expected: int
) -> dict[str, Any]:
    """Store a new version of an existing resource as the server (no scope checks)."""
    version = expected + 1
    stored = stamp(resource, resource["id"], version, now_instant())
    rv = ResourceVersion(
        stored["resourceType"],
        stored["id"],
        version,
        stored["meta"]["lastUpdated"],
        False,
        orjson.dumps(stored),
        "PUT",
    )
    try:
        s.put(rv, repo.indexer(stored), expected)
    except VersionConflict as exc:
        raise FhirError.of(
            409, "conflict", f"Concurrent change of {stored['resourceType']}/{stored['id']}; retry"
        ) from exc
    return stored
