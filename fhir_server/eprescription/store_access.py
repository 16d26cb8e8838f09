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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from fhir_server import authorization
from fhir_server.outcome import FhirError
from fhir_server.storage.base import ResourceVersion, StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

_MEMOS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def memo(s: StoreSession) -> dict[str, Any]:
    """Scratch space that lives as long as the session (one transaction)."""
    try:
        return _MEMOS.setdefault(s, {})
    except TypeError:  # a session type without weak references: no sharing, still correct
        return {}


def lookup(s: StoreSession, type_: str, id_: str | None) -> dict[str, Any] | None:
    """A resource the workflow reads only as input (a prescriber's role, a visit, a
    coverage, the patient's record): read without claiming it (`StoreSession.peek`),
    so units that share such input never collide on it."""
    return _body(s.peek(type_, id_)) if id_ else None


def read(s: StoreSession, type_: str, id_: str | None) -> dict[str, Any] | None:
    if not id_:
        return None
    rv = s.current(type_, id_)
    if rv is None or rv.deleted or rv.body is None:
        return None
    found: dict[str, Any] = orjson.loads(rv.body)
    return found


@dataclass
class Ahead:
    """What the workflow read before the write lock (in a read session), each with what
    shows it still holds in the write session: a resource's version, or a view's change
    stamp (see `StoreSession.stamp`)."""

    reads: dict[tuple[str, str], tuple[int, dict[str, Any] | None]] = field(default_factory=dict)
    views: dict[tuple[Any, ...], tuple[str, int, Any]] = field(default_factory=dict)

    def read(self, s: StoreSession, type_: str, id_: str) -> dict[str, Any] | None:
        if (type_, id_) not in self.reads:
            rv = s.current(type_, id_)
            self.reads[(type_, id_)] = (_version(rv), _body(rv))
        return self.reads[(type_, id_)][1]

    def view(self, s: StoreSession, key: tuple[Any, ...], stamp: str, load: Callable[[], Any]) -> Any:
        if key not in self.views:
            before = s.stamp(stamp)  # read first: a write after it bumps it, however it lands
            self.views[key] = (stamp, before, load())
        return self.views[key][2]


def ahead_for(reads: StoreSession) -> Ahead:
    """One Ahead per read session: the entries of a bundle share their reads."""
    found: Ahead = memo(reads).setdefault("ahead-out", Ahead())
    return found


def adopt(s: StoreSession, ahead: Ahead) -> None:
    """Offer what was read ahead to the workflow's work in write session `s`."""
    adopted: list[Ahead] = memo(s).setdefault("ahead", [])
    if all(a is not ahead for a in adopted):
        adopted.append(ahead)


def cached(s: StoreSession, key: tuple[Any, ...], load: Callable[[], Any], stamp: str | None = None) -> Any:
    """`load()` once per session (one transaction): what a prescription's items share.

    For what the workflow reads and does not write in that transaction (the patient,
    the prescriber's roles, the encounter, the patient's earlier prescriptions). A view
    that depends on change stamp `stamp` reads the stamp first: in a write unit that is
    the unit's claim on what the view shows (a patient's items: on MongoDB the stamp's
    document, not every search of the type), and a view read ahead under the stamp is
    taken instead of `load()` when the stamp has not moved."""
    store = memo(s).setdefault("cache", {})
    if key not in store:
        now = s.stamp(stamp) if stamp is not None else None
        for ahead in memo(s).get("ahead", ()):
            view = ahead.views.get(key)
            if view is not None and view[0] == stamp and now == view[1]:
                store[key] = view[2]
                break
        else:
            store[key] = load()
    return store[key]


def read_shared(s: StoreSession, type_: str, id_: str | None) -> dict[str, Any] | None:
    """`lookup`, once per session (what was read ahead, when its version is still current)."""

    def load() -> dict[str, Any] | None:
        if not id_:
            return None
        rv = s.peek(type_, id_)
        for ahead in memo(s).get("ahead", ()):
            hit = ahead.reads.get((type_, id_))
            if hit is not None and hit[0] == _version(rv):
                return hit[1]
        return _body(rv)

    found: dict[str, Any] | None = cached(s, ("read", type_, id_), load)
    return found


def _version(rv: ResourceVersion | None) -> int:
    return 0 if rv is None or rv.deleted else rv.version


def _body(rv: ResourceVersion | None) -> dict[str, Any] | None:
    if rv is None or rv.deleted or rv.body is None:
        return None
    found: dict[str, Any] = orjson.loads(rv.body)
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


def prescription_items(
    repo: Repository, s: StoreSession, rx: str, by_prescription_id: bool
) -> list[dict[str, Any]]:
    """The items (drug and service requests) of prescription `rx`, found by the server.

    Named by the prescription's id rather than an item's, the prescription is found as a
    search by identifier finds it: one whose items the caller may read none of is not
    known (an empty list), so a stranger's guess of an id learns nothing."""
    found = find(repo, s, "MedicationRequest", [("prescription", rx)]) + find(
        repo, s, "ServiceRequest", [("requisition", rx)]
    )
    caller = authorization.current()
    if by_prescription_id and not any(caller.visible(s, "read", item) for item in found):
        return []
    return found


def system_update(
    repo: Repository, s: StoreSession, resource: dict[str, Any], expected: int
) -> dict[str, Any]:
    """A new version of an existing resource, written by the server through the
    Repository (validated, indexed, the workflow's rules applied), against the version
    the caller read (412 when it moved)."""
    with authorization.as_system():
        result = repo.update(s, resource["resourceType"], resource["id"], resource, expected)
    return result.resource or resource
