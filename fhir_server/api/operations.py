"""One route for every `$operation`, at every level: HTTP in, `OperationRequest` to the
registered handler, its result back out as HTTP (status, headers, Prefer: return,
Content-Language)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from fhir_server import authorization
from fhir_server.api.context import base_url, check_type, ctx, query_pairs
from fhir_server.api.http import fhir_response, read_json_body, request_language
from fhir_server.api.responses import write_response
from fhir_server.operations import REGISTRY, Accepted, Content, OperationRequest, OperationResult, Server
from fhir_server.operations.contract import Level
from fhir_server.repository import WriteResult

TERMINOLOGY_SYNC = "terminology_sync"  # app.extensions key of the TerminologySync


def register_operation_routes(bp: Blueprint) -> None:
    bp.add_url_rule("/$<name>", "operation", operation, methods=["GET", "POST"])
    bp.add_url_rule("/<type_>/$<name>", "operation", operation, methods=["GET", "POST"])
    bp.add_url_rule("/<type_>/<id_>/$<name>", "operation", operation, methods=["GET", "POST"])


def operation(name: str, type_: str | None = None, id_: str | None = None) -> Response:
    level: Level = "instance" if id_ is not None else "type" if type_ is not None else "system"
    if type_ is not None:
        check_type(type_)
    op = REGISTRY.find(name, level, type_, request.method)
    result = op.handler(_request(name, level, type_, id_))
    return _response(result)


def server() -> Server:
    """The handlers' view of this app: store, repository, settings, terminology."""
    c = ctx()
    sync = current_app.extensions.get(TERMINOLOGY_SYNC)
    return Server(
        store=c.store,
        repo=c.repo,
        settings=c.settings,
        base_url=base_url(),
        resource_types=c.resource_types,
        terminology_source=sync.current if sync is not None else None,
        extras=current_app.extensions,
    )


def _request(name: str, level: Level, type_: str | None, id_: str | None) -> OperationRequest:
    body = read_json_body() if request.method == "POST" and _has_body() else None
    return OperationRequest(
        name=name,
        level=level,
        type=type_,
        id=id_,
        method=request.method,
        query=tuple((k, v) for k, v in query_pairs() if k not in ("_format", "_pretty")),
        body=body,
        caller=authorization.current(),
        server=server(),
        language=request_language(),
        display_language=_first_language(),
        accept=tuple(_media(t) for t in request.headers.get("Accept", "").split(",") if t.strip()),
        prefer=_prefer(),
    )


def _has_body() -> bool:
    if request.mimetype == "application/x-www-form-urlencoded":
        return False  # form fields are query parameters (query_pairs)
    return bool(request.content_length) or request.headers.get("Transfer-Encoding") == "chunked"


def _first_language() -> str | None:
    header = request.headers.get("Accept-Language", "")
    first = header.split(",")[0].split(";")[0].strip()
    return first or None


def _media(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _prefer() -> dict[str, str]:
    found: dict[str, str] = {}
    for part in request.headers.get("Prefer", "").replace(";", ",").split(","):
        key, _, value = part.strip().partition("=")
        if key:
            found[key.strip().lower()] = value.strip().strip('"')
    return found


def _response(result: Any) -> Response:
    if isinstance(result, WriteResult):
        response = write_response(result)
    elif isinstance(result, Content):
        response = Response(result.data, result.status, dict(result.headers), content_type=result.media_type)
    elif isinstance(result, Accepted):
        response = fhir_response(None, 202, {"Content-Location": result.status_url})
    elif isinstance(result, OperationResult):
        response = fhir_response(result.resource, result.status, dict(result.headers))
    else:
        response = fhir_response(result)
    response.headers.setdefault("Content-Language", request_language())
    return response
