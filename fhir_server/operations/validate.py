"""$validate (resource-operation-validate): is this resource valid for create/update/delete?"""

from __future__ import annotations

from typing import Any

from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Text
from fhir_server.outcome import FhirError, Issue, error, has_errors, most_severe_first, operation_outcome
from fhir_server.validation.profiles import validate_against

MODES = ("create", "update", "delete")


def validate(req: OperationRequest) -> dict[str, Any]:
    type_ = str(req.type)
    req.require_body("the resource to check (or a Parameters with resource, mode and profile)")
    resource, mode, profile = req.resource(), req.text("mode"), _profile(req)
    if mode is not None and mode not in MODES:
        raise FhirError.of(400, "invalid", f"mode must be one of {', '.join(MODES)}")
    issues: list[Issue] = []
    if mode == "delete":
        if req.id is None:
            issues.append(error("required", "mode=delete needs [type]/[id]/$validate"))
    else:
        issues += _validate(req, resource, type_, profile)
        if mode == "update" and not _id_matches(resource, req.id):
            issues.append(error("invalid", "For mode=update the id must match the URL", f"{type_}.id"))
    return operation_outcome(most_severe_first(issues))


def _profile(req: OperationRequest) -> str | None:
    value = req.value("profile")
    if value is not None and not isinstance(value, str):
        raise FhirError.of(400, "invalid", "profile must be a canonical URL")
    return value


def _validate(req: OperationRequest, resource: Any, type_: str, profile: str | None) -> list[Issue]:
    """Structure, then claimed profiles, then the profile asked for (if any)."""
    repo = req.server.repo
    issues = repo.validate(resource, expected_type=type_)
    if has_errors(issues):
        return issues
    if repo.profiles is not None:
        issues += repo.profiles(resource)
    if profile:
        issues += validate_against(resource, profile, service=req.server.terminology, lang=req.language)
    return issues


def _id_matches(resource: Any, id_: str | None) -> bool:
    body_id = resource.get("id") if isinstance(resource, dict) else None
    return body_id is not None and (id_ is None or body_id == id_)


OPERATIONS = (
    Operation(
        name="validate",
        id="Resource-validate",
        base="http://hl7.org/fhir/OperationDefinition/Resource-validate",
        title=Text("Validate a resource", "اعتبارسنجی یک منبع"),
        description=Text(
            "Checks a resource against R4 (structure, codes, invariants), the profiles it claims or the "
            "server requires, and the profile asked for; stores nothing.",
            "یک منبع را با R4 (ساختار، کدها، قیدها)، پروفایل‌هایی که ادعا می‌کند یا کارساز لازم می‌داند "
            "و پروفایل خواسته‌شده می‌سنجد؛ چیزی ذخیره نمی‌شود.",
        ),
        levels=("type", "instance"),
        methods=("POST",),
        handler=validate,
        parameters=(
            In("resource", "Resource", "The resource to check", "منبعی که سنجیده می‌شود"),
            In("mode", "code", "create, update or delete", "create، update یا delete"),
            In("profile", "uri", "A profile to check against", "پروفایلی که با آن سنجیده شود"),
            Out("return", "OperationOutcome", "The issues found", "مشکلات پیدا‌شده", 1),
        ),
    ),
)
