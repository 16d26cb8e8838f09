"""HTTP details of the FHIR API: media types, bodies, Prefer, and response building."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, has_request_context, request
from werkzeug.exceptions import RequestEntityTooLarge

from fhir_server.outcome import FhirError, Issue, operation_outcome
from fhir_server.validation.profiles import language_from_header

FHIR_JSON = "application/fhir+json"
JSON_TYPES = {FHIR_JSON, "application/json", "text/json", "json", "application/json+fhir"}
XML_TYPES = {"application/fhir+xml", "application/xml", "text/xml", "xml", "application/xml+fhir"}


def media_type(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def check_accept() -> None:
    """406 for XML (unsupported); any JSON type or */* is fine."""
    fmt = request.args.get("_format")
    if fmt is not None:
        if media_type(fmt) in XML_TYPES:
            raise FhirError.of(406, "not-supported", "XML is not supported; use _format=json")
        if media_type(fmt) not in JSON_TYPES:
            raise FhirError.of(406, "not-supported", f"Unsupported _format {fmt!r}")
        return
    accept = request.headers.get("Accept", "")
    if not accept:
        return
    types = [media_type(part) for part in accept.split(",")]
    if any(t in JSON_TYPES or t in ("*/*", "application/*") for t in types):
        return
    if any(t in XML_TYPES for t in types):
        raise FhirError.of(406, "not-supported", "XML is not supported; ask for application/fhir+json")


def read_json_body(allowed: frozenset[str] = frozenset(JSON_TYPES)) -> Any:
    """The request body as JSON: 415 for other media types, 400 for bad JSON, 413 if too big."""
    media = media_type(request.headers.get("Content-Type", ""))
    if media in XML_TYPES:
        raise FhirError.of(415, "not-supported", "XML is not supported; send application/fhir+json")
    if media not in allowed:
        raise FhirError.of(
            415, "not-supported", f"Unsupported Content-Type {media or '(none)'!r}; use {FHIR_JSON}"
        )
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge as exc:
        raise FhirError.of(413, "too-long", "The request body is larger than the limit") from exc
    if not raw:
        raise FhirError.of(400, "invalid", "The request body is empty")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FhirError.of(400, "structure", f"The body is not valid JSON: {exc}") from exc


def prefer_return() -> str:
    """The Prefer: return=... choice: minimal, representation (default) or OperationOutcome."""
    for part in request.headers.get("Prefer", "").split(";"):
        for item in part.split(","):
            key, _, value = item.strip().partition("=")
            if key.strip() == "return":
                return value.strip().strip('"')
    return "representation"


def prefer_strict() -> bool:
    return "handling=strict" in request.headers.get("Prefer", "").replace(" ", "")


def dumps(body: dict[str, Any] | bytes) -> bytes:
    pretty = request.args.get("_pretty") == "true"
    if isinstance(body, bytes):
        if not pretty:
            return body
        body = orjson.loads(body)
    return orjson.dumps(body, option=orjson.OPT_INDENT_2 if pretty else 0)


def response_content_type() -> str:
    """Answer in the JSON type asked for: application/json if that is what the client wants."""
    fmt = request.args.get("_format") or request.headers.get("Accept", "")
    media = [media_type(t) for t in fmt.split(",")]
    if FHIR_JSON not in media and ("application/json" in media or "json" in media):
        return "application/json; charset=utf-8"
    return "application/fhir+json; charset=utf-8"


def fhir_response(
    body: dict[str, Any] | bytes | None, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    data = b"" if body is None else dumps(body)
    resp = Response(data, status=status, headers=headers or {})
    if body is not None:
        resp.content_type = response_content_type()
    return resp


def outcome_response(status: int, issues: list[Issue], headers: dict[str, str] | None = None) -> Response:
    return fhir_response(operation_outcome(issues), status, headers)


def request_language() -> str:
    """The language for messages (fa or en): Accept-Language of the current request."""
    if not has_request_context():
        return "en"
    return language_from_header(request.headers.get("Accept-Language"))
