"""Transaction identities: ids for new resources, and references rewritten to them.

Before any entry runs, every entry that creates a resource gets its final id, so that
`urn:uuid:` fullUrls and conditional references (`Patient?identifier=...`) can be
rewritten to `Type/id` in every resource of the bundle.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fhir_server.bundles.entry import EntryRequest
from fhir_server.outcome import FhirError
from fhir_server.repository import Repository
from fhir_server.repository.meta import new_id
from fhir_server.storage.base import StoreSession


def assign_identities(s: StoreSession, repo: Repository, reqs: list[EntryRequest]) -> dict[str, str]:
    """fullUrl → Type/id for every creating or updating entry; fixes req.id in place."""
    mapping: dict[str, str] = {}
    for req in reqs:
        if req.method == "POST":
            found = repo.match(s, req.type, req.if_none_exist) if req.if_none_exist else []
            if len(found) > 1:
                raise FhirError.of(
                    412, "multiple-matches", "ifNoneExist matched several resources", req.where
                )
            req.id = found[0] if found else (req.id or new_id())  # kept if assigned before
        elif req.method == "PUT" and req.id is None:
            found = repo.match(s, req.type, req.query)
            if len(found) > 1:
                raise FhirError.of(
                    412, "multiple-matches", "The conditional update matched several", req.where
                )
            body_id = req.resource.get("id") if isinstance(req.resource, dict) else None
            req.id = found[0] if found else (body_id or new_id())
            if isinstance(req.resource, dict):
                req.resource = {**req.resource, "id": req.id}
        if req.full_url and req.id and req.method in ("POST", "PUT"):
            mapping[req.full_url] = f"{req.type}/{req.id}"
    return mapping


class NeedsStore(Exception):
    """A conditional reference, resolved without a store session."""


def rewrite_references(
    s: StoreSession | None, repo: Repository, reqs: list[EntryRequest], mapping: dict[str, str]
) -> None:
    """Every reference to a bundle entry (or, in a session, a conditional one) → Type/id.
    Rewriting what was rewritten already changes nothing."""
    for req in reqs:
        if isinstance(req.resource, dict):
            req.resource = _rewrite(s, repo, req, req.resource, mapping)


def _rewrite(
    s: StoreSession | None, repo: Repository, req: EntryRequest, value: Any, mapping: dict[str, str]
) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                out[key] = _resolve(s, repo, req, item, mapping)
            else:
                out[key] = _rewrite(s, repo, req, item, mapping)
        return out
    if isinstance(value, list):
        return [_rewrite(s, repo, req, item, mapping) for item in value]
    if isinstance(value, str) and value in mapping:
        return mapping[value]
    return value


def _resolve(
    s: StoreSession | None, repo: Repository, req: EntryRequest, ref: str, mapping: dict[str, str]
) -> str:
    if ref in mapping:
        return mapping[ref]
    if ref.startswith(("urn:uuid:", "urn:oid:")):
        raise FhirError.of(400, "not-found", f"Reference {ref} matches no fullUrl in the bundle", req.where)
    type_, sep, query = ref.partition("?")
    if sep and "/" not in type_:
        if s is None:
            raise NeedsStore(ref)
        found = repo.match(s, type_, parse_qsl(query, keep_blank_values=True))
        if len(found) != 1:
            raise FhirError.of(
                412,
                "multiple-matches" if found else "not-found",
                f"Conditional reference {ref} matched {len(found)} resources; it needs exactly one",
                req.where,
            )
        return f"{type_}/{found[0]}"
    return ref
