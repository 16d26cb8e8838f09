"""One Bundle.entry.request: what it asks for, and running it on a store session."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import orjson

from fhir_server import search
from fhir_server.outcome import FhirError, Issue, operation_outcome
from fhir_server.patch import from_entry
from fhir_server.repository import Repository, WriteResult
from fhir_server.repository.meta import etag, parse_etag
from fhir_server.repository.resources import PreparedCreate, PreparedUpdate
from fhir_server.storage.base import ResourceVersion, StoreSession

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
Prepared = PreparedCreate | PreparedUpdate


@dataclass
class EntryRequest:
    index: int
    method: str
    type: str
    id: str | None
    version: int | None
    query: list[tuple[str, str]]
    resource: Any
    full_url: str | None
    if_match: int | None
    if_none_exist: list[tuple[str, str]] | None
    if_none_match: str | None

    @property
    def where(self) -> str:
        return f"Bundle.entry[{self.index}]"


def parse_entry(index: int, entry: Any, base_url: str, resource_types: frozenset[str]) -> EntryRequest:
    where = f"Bundle.entry[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
        raise FhirError.of(400, "required", "Every entry needs a request", f"{where}.request")
    req = entry["request"]
    method, url = req.get("method"), req.get("url")
    if method not in METHODS or not isinstance(url, str) or not url:
        raise FhirError.of(400, "invalid", "request.method and request.url are required", f"{where}.request")
    if url.startswith(base_url + "/"):
        url = url[len(base_url) + 1 :]
    path, _, qs = url.partition("?")
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] not in resource_types:
        raise FhirError.of(400, "not-supported", f"Cannot process entry url {url!r}", f"{where}.request.url")
    id_, version = _id_and_version(parts, url, where)
    if_match = parse_etag(req["ifMatch"]) if isinstance(req.get("ifMatch"), str) else None
    ine = req.get("ifNoneExist")
    return EntryRequest(
        index=index,
        method=method,
        type=parts[0],
        id=id_,
        version=version,
        query=parse_qsl(qs, keep_blank_values=True),
        resource=entry.get("resource"),
        full_url=entry.get("fullUrl"),
        if_match=if_match,
        if_none_exist=parse_qsl(ine.split("?", 1)[-1], keep_blank_values=True)
        if isinstance(ine, str)
        else None,
        if_none_match=req.get("ifNoneMatch"),
    )


def _id_and_version(parts: list[str], url: str, where: str) -> tuple[str | None, int | None]:
    if len(parts) == 1:
        return None, None
    if len(parts) == 2 and not parts[1].startswith(("$", "_")):
        return parts[1], None
    if len(parts) == 4 and parts[2] == "_history" and parts[3].isdigit():
        return parts[1], int(parts[3])
    raise FhirError.of(400, "not-supported", f"Cannot process entry url {url!r}", f"{where}.request.url")


def status_text(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


def write_entry(result: WriteResult, prefer: str) -> dict[str, Any]:
    rv = result.version
    response = version_response(rv, 201 if result.created else 200)
    response["location"] = f"{rv.type}/{rv.id}/_history/{rv.version}"
    entry: dict[str, Any] = {"fullUrl": None, "response": response}
    if prefer == "OperationOutcome":
        response["outcome"] = operation_outcome(result.warnings)
    elif prefer != "minimal" and rv.body is not None:
        entry["resource"] = orjson.loads(rv.body)
    return entry


def version_response(rv: ResourceVersion, status: int) -> dict[str, Any]:
    return {"status": status_text(status), "etag": etag(rv.version), "lastModified": rv.last_updated}


def error_entry(error: FhirError) -> dict[str, Any]:
    return {"response": {"status": status_text(error.status), "outcome": operation_outcome(error.issues)}}


def execute(
    s: StoreSession,
    repo: Repository,
    req: EntryRequest,
    base_url: str,
    prefer: str,
    prepared: Prepared | None = None,
) -> dict[str, Any]:
    """Run one entry in session `s`; the response entry (without fullUrl for reads).
    `prepared`: what was checked for the entry before the session."""
    if req.method in ("GET", "HEAD"):
        return _read_entry(s, repo, req, base_url)
    if req.method == "DELETE":
        return _delete_entry(s, repo, req)
    result = _write(s, repo, req, prepared)
    entry = write_entry(result, prefer)
    entry["fullUrl"] = f"{base_url}/{result.version.type}/{result.version.id}"
    return entry


def _write(s: StoreSession, repo: Repository, req: EntryRequest, prepared: Prepared | None) -> WriteResult:
    if req.method == "POST":
        if req.if_none_exist:
            return repo.create_if_none_exist(s, req.type, req.resource, req.if_none_exist, id_=req.id)
        created = prepared if isinstance(prepared, PreparedCreate) else None
        return repo.create(s, req.type, req.resource, id_=req.id, prepared=created)
    if req.method == "PUT":
        if req.id is None:
            return repo.conditional_update(s, req.type, req.query, req.resource, req.if_match)
        updated = prepared if isinstance(prepared, PreparedUpdate) else None
        return repo.update(s, req.type, req.id, req.resource, req.if_match, prepared=updated)
    patch = from_entry(req.resource, req.where)
    if req.id is None:
        return repo.conditional_patch(s, req.type, req.query, patch, req.if_match)
    return repo.patch(s, req.type, req.id, patch, req.if_match)


def _delete_entry(s: StoreSession, repo: Repository, req: EntryRequest) -> dict[str, Any]:
    if req.id is None:
        deleted = repo.conditional_delete(s, req.type, req.query)
        rv = deleted[0] if deleted else None
    else:
        rv = repo.delete(s, req.type, req.id)
    response: dict[str, Any] = {"status": status_text(204)}
    if rv is not None:
        response["etag"] = etag(rv.version)
    return {"response": response}


def _read_entry(s: StoreSession, repo: Repository, req: EntryRequest, base_url: str) -> dict[str, Any]:
    if req.id is None:
        plan = search.parse_search(req.type, req.query, base_url=base_url)
        result = repo.search(s, plan, "search-type")
        bundle = search.search_bundle(plan, result, base_url, f"/{req.type}")
        return {"resource": bundle, "response": {"status": status_text(200)}}
    if req.version is not None:
        rv = repo.vread(s, req.type, req.id, req.version)
    else:
        rv = repo.read(s, req.type, req.id)
    entry: dict[str, Any] = {"fullUrl": f"{base_url}/{rv.type}/{rv.id}"}
    if req.if_none_match and parse_etag(req.if_none_match) == rv.version:
        entry["response"] = version_response(rv, 304)
        return entry
    assert rv.body is not None
    entry["resource"] = orjson.loads(rv.body)
    entry["response"] = version_response(rv, 200)
    return entry


def locate(error: FhirError, req: EntryRequest) -> FhirError:
    """The same error, its issues prefixed with the entry they came from."""
    issues = [
        Issue(i.severity, i.code, f"{req.where} ({req.method} {req.type}): {i.diagnostics}", i.expression)
        for i in error.issues
    ]
    return FhirError(error.status, issues, error.headers)
