"""Transaction bundles: all entries in one store transaction, all or nothing.

Processing order is the spec's: DELETE, then POST, then PUT/PATCH, then GET/HEAD.
"""

from __future__ import annotations

from typing import Any

from fhir_server.bundles.entry import EntryRequest, Prepared, execute, locate, parse_entry
from fhir_server.bundles.references import NeedsStore, assign_identities, rewrite_references
from fhir_server.outcome import FhirError
from fhir_server.repository import Repository
from fhir_server.repository.meta import new_id
from fhir_server.storage.base import Store, StoreSession

ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}


def run_transaction(
    store: Store, repo: Repository, entries: list[Any], base_url: str, types: frozenset[str], prefer: str
) -> dict[str, Any]:
    reqs = [parse_entry(i, e, base_url, types) for i, e in enumerate(entries)]
    _refuse_duplicates(reqs)
    with store.session() as reads:
        prepared = prepare_entries(repo, reqs, reads)
    results: dict[int, dict[str, Any]] = {}
    with store.session(write=True) as s:
        mapping = assign_identities(s, repo, reqs)
        if prepared is None:  # identities needed the store: references are resolved here
            rewrite_references(s, repo, reqs, mapping)
        for req in sorted(reqs, key=lambda r: ORDER[r.method]):
            try:
                results[req.index] = execute(s, repo, req, base_url, prefer, (prepared or {}).get(req.index))
            except FhirError as exc:
                raise locate(exc, req) from exc
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [results[i] for i in range(len(reqs))],
    }


def _refuse_duplicates(reqs: list[EntryRequest]) -> None:
    """The spec forbids two entries acting on the same resource in one transaction."""
    seen: set[str] = set()
    for req in reqs:
        if req.id is None or req.method in ("GET", "HEAD"):
            continue
        key = f"{req.type}/{req.id}"
        if key in seen:
            raise FhirError.of(400, "invalid", f"{key} appears in more than one entry", req.where)
        seen.add(key)


def prepare_entries(
    repo: Repository, reqs: list[EntryRequest], reads: StoreSession
) -> dict[int, Prepared] | None:
    """Before the write lock: give the new resources their ids, point the bundle's own
    references at them, validate every created or updated resource and (where no workflow
    rule will change it) stamp and index it; for the others, the rules' reads are done in
    `reads` (and checked again in the session). A bundle with anything conditional (ifNoneExist,
    a conditional update, a search-style reference) needs the store for its identities:
    it is then done entirely in the session, as before (None)."""
    if any(r.if_none_exist or (r.method == "PUT" and r.id is None) for r in reqs):
        return None
    for req in reqs:
        if req.method == "POST":
            req.id = new_id()
    mapping = {
        r.full_url: f"{r.type}/{r.id}" for r in reqs if r.full_url and r.id and r.method in ("POST", "PUT")
    }
    try:
        rewrite_references(None, repo, reqs, mapping)
    except NeedsStore:
        return None
    prepared: dict[int, Prepared] = {}
    for req in reqs:
        try:
            if req.method == "POST":
                found = repo.prepare_create(req.type, req.resource, req.id, reads)
                if found is not None:
                    prepared[req.index] = found
            elif req.method == "PUT" and req.id is not None:
                prepared[req.index] = repo.prepare_update(req.type, req.id, req.resource)
        except FhirError as exc:
            raise locate(exc, req) from exc
    return prepared
