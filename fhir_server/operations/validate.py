"""$validate (resource-operation-validate): is this resource valid for create/update/delete?"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request

from fhir_server.api.context import ctx
from fhir_server.api.http import fhir_response, read_json_body, request_language
from fhir_server.outcome import FhirError, Issue, error, has_errors, most_severe_first, operation_outcome
from fhir_server.validation.profiles import validate_against

MODES = ("create", "update", "delete")


def validate_operation(type_: str | None, id_: str | None) -> Response:
    if type_ is None:
        raise FhirError.of(400, "invalid", "$validate runs on a resource type: [type]/$validate")
    if request.method != "POST":
        raise FhirError.of(405, "not-supported", "$validate takes the resource in a POST body")
    resource, mode, profile = _arguments(read_json_body())
    issues: list[Issue] = []
    if mode == "delete":
        if id_ is None:
            issues.append(error("required", "mode=delete needs [type]/[id]/$validate"))
    else:
        issues += _validate(resource, type_, profile)
        if mode == "update" and not _id_matches(resource, id_):
            issues.append(error("invalid", "For mode=update the id must match the URL", f"{type_}.id"))
    return fhir_response(operation_outcome(most_severe_first(issues)))


def _validate(resource: Any, type_: str, profile: str | None) -> list[Issue]:
    """Structure, then claimed profiles, then the profile asked for (if any)."""
    repo = ctx().repo
    issues = repo.validate(resource, expected_type=type_)
    if has_errors(issues):
        return issues
    if repo.profiles is not None:
        issues += repo.profiles(resource)
    if profile:
        issues += validate_against(
            resource, profile, service=current_app.extensions.get("terminology"), lang=request_language()
        )
    return issues


def _arguments(body: Any) -> tuple[Any, str | None, str | None]:
    """The resource, mode and profile, from a bare resource or a Parameters wrapper."""
    mode, profile = request.args.get("mode"), request.args.get("profile")
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        resource = None
        for param in body.get("parameter") or []:
            name = param.get("name")
            if name == "resource":
                resource = param.get("resource")
            elif name == "mode":
                mode = param.get("valueCode")
            elif name == "profile":
                profile = param.get("valueUri") or param.get("valueCanonical")
        body = resource
    if mode is not None and mode not in MODES:
        raise FhirError.of(400, "invalid", f"mode must be one of {', '.join(MODES)}")
    return body, mode, profile


def _id_matches(resource: Any, id_: str | None) -> bool:
    body_id = resource.get("id") if isinstance(resource, dict) else None
    return body_id is not None and (id_ is None or body_id == id_)
