"""search_bundle: the searchset Bundle of a search result."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import orjson

from fhir_server.outcome import operation_outcome
from fhir_server.search.elements import apply_elements
from fhir_server.search.paging import encode_cursor
from fhir_server.search.plan import Cursor, Hit, SearchPlan, SearchResult


def _url(base_url: str, request_path: str, params: list[tuple[str, str]]) -> str:
    path = base_url.rstrip("/") + ("/" + request_path.lstrip("/") if request_path.strip("/") else "")
    return f"{path}?{urlencode(params)}" if params else path


def _links(plan: SearchPlan, result: SearchResult, base_url: str, request_path: str) -> list[dict[str, str]]:
    params = list(plan.params)
    self_params = params + ([("_cursor", encode_cursor(plan.cursor))] if plan.cursor else [])
    links = [{"relation": "self", "url": _url(base_url, request_path, self_params)}]
    if result.next_key is not None:
        token = encode_cursor(Cursor(True, result.next_key))
        links.append({"relation": "next", "url": _url(base_url, request_path, [*params, ("_cursor", token)])})
    if result.prev_key is not None:
        token = encode_cursor(Cursor(False, result.prev_key))
        links.append(
            {"relation": "previous", "url": _url(base_url, request_path, [*params, ("_cursor", token)])}
        )
    return links


def _entry(hit: Hit, mode: str, plan: SearchPlan, base_url: str) -> dict[str, Any]:
    resource = orjson.loads(hit.body) if hit.body else {"resourceType": hit.type, "id": hit.id}
    elements = list(plan.elements) if plan.elements is not None else None
    resource = apply_elements(resource, plan.summary, elements if mode == "match" else None)
    return {
        "fullUrl": f"{base_url.rstrip('/')}/{hit.type}/{hit.id}",
        "resource": resource,
        "search": {"mode": mode},
    }


def search_bundle(plan: SearchPlan, result: SearchResult, base_url: str, request_path: str) -> dict[str, Any]:
    """The searchset Bundle of a plan's result (matches, includes, a warnings
    OperationOutcome with search.mode=outcome, total and paging links)."""
    entries = [_entry(h, "match", plan, base_url) for h in result.matches]
    entries += [_entry(h, "include", plan, base_url) for h in result.included]
    if plan.warnings:
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": operation_outcome(plan.warnings),
                "search": {"mode": "outcome"},
            }
        )
    bundle: dict[str, Any] = {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "searchset"}
    if result.total is not None:
        bundle["total"] = result.total
    bundle["link"] = _links(plan, result, base_url, request_path)
    bundle["entry"] = entries
    return bundle
