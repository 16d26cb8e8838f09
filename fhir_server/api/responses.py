"""Responses for single resources and writes: ETag, Last-Modified, Location, Prefer."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import orjson
from flask import Response, request

from fhir_server import search
from fhir_server.api.context import base_url
from fhir_server.api.http import fhir_response, prefer_return
from fhir_server.outcome import Issue, operation_outcome
from fhir_server.repository import WriteResult
from fhir_server.repository.meta import etag
from fhir_server.storage.base import ResourceVersion


def http_date(instant: str) -> str:
    return format_datetime(datetime.fromisoformat(instant.replace("Z", "+00:00")), usegmt=True)


def version_headers(rv: ResourceVersion) -> dict[str, str]:
    return {"ETag": etag(rv.version), "Last-Modified": http_date(rv.last_updated)}


def not_modified(rv: ResourceVersion) -> bool:
    """If-None-Match / If-Modified-Since on read: True when the client's copy is current."""
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or f'"{rv.version}"' in tags
    ims = request.headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        changed = datetime.fromisoformat(rv.last_updated.replace("Z", "+00:00"))
        return changed.replace(microsecond=0) <= since
    return False


def resource_response(
    rv: ResourceVersion, summary: str | None = None, elements: list[str] | None = None
) -> Response:
    if not_modified(rv):
        return fhir_response(None, 304, version_headers(rv))
    body: bytes | dict[str, Any] | None = rv.body
    if (summary and summary != "false") or elements:
        body = search.apply_elements(orjson.loads(rv.body or b"{}"), summary, elements)
    return fhir_response(body, 200, version_headers(rv))


def location(rv: ResourceVersion) -> str:
    return f"{base_url()}/{rv.type}/{rv.id}/_history/{rv.version}"


def write_response(result: WriteResult) -> Response:
    rv = result.version
    status = 201 if result.created else 200
    headers = version_headers(rv)
    if result.created or request.method in ("PUT", "PATCH"):
        headers["Location"] = location(rv)
    return prefer_body(rv.body, status, headers, list(result.warnings))


def prefer_body(body: bytes | None, status: int, headers: dict[str, str], issues: list[Issue]) -> Response:
    choice = prefer_return()
    if choice == "minimal":
        return fhir_response(None, status, headers)
    if choice == "OperationOutcome":
        return fhir_response(operation_outcome(issues), status, headers)
    return fhir_response(body, status, headers)
