"""The workflow's reads inside the current store session, and its own writes.

Lookups (a patient's coverages, earlier prescriptions, a duplicate) and the follow-up
writes of a workflow step (a dispense raising a prescription's running total, a
signature activating it) are the server's work, not the client's interaction: they go
through the Repository as the server (`authorization.as_system()`), in the same
transaction, the writes against the version the rule read, so a concurrent change
makes one of the two writers fail.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from fhir_server import authorization
from fhir_server.outcome import FhirError
from fhir_server.storage.base import StoreSession

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
    repo: Repository, s: StoreSession, type_: str, params: list[tuple[str, str]], limit: int = 200
) -> list[dict[str, Any]]:
    """Current resources matching a search, inside the session, as the server sees them
    (callers showing them to a client check its access to what they show)."""
    with authorization.as_system():
        return repo.find(s, type_, params, limit)


def system_update(
    repo: Repository, s: StoreSession, resource: dict[str, Any], expected: int
) -> dict[str, Any]:
    """A new version of an existing resource, written by the server through the
    Repository (validated, indexed, the workflow's rules applied), against the version
    the caller read (412 when it moved)."""
    with authorization.as_system():
        result = repo.update(s, resource["resourceType"], resource["id"], resource, expected)
    return result.resource or resource
