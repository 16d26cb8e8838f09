"""$validate-code on CodeSystem and ValueSet (type and instance level)."""

from __future__ import annotations

from typing import Any

from flask import Response

from fhir_server.api.http import fhir_response
from fhir_server.operations.terminology_support import (
    arguments,
    display_language,
    instance,
    require_type,
    service,
    translated_errors,
)
from fhir_server.outcome import FhirError
from terminology.parameters import coding, one, text, validation_parameters


def validate_code_operation(type_: str | None, id_: str | None) -> Response:
    require_type("validate-code", type_, ("CodeSystem", "ValueSet"))
    assert type_ is not None
    args = arguments()
    target = instance(type_, type_, id_)
    with translated_errors():
        system, code, version, display = coding(args)
        language = display_language(args)
        if type_ == "CodeSystem":
            if target is not None:
                system = target.get("url")
            system = system or text(args, "url")
            result = service().validate_code(
                system=system, code=code, version=version, display=display, language=language
            )
        else:
            valueset: str | dict[str, Any] | None = target or one(args, "valueSet") or text(args, "url")
            if valueset is None:
                raise FhirError.of(400, "required", "ValueSet/$validate-code needs url, valueSet or an id")
            result = service().validate_code(
                valueset=valueset,
                system=system,
                code=code,
                version=version,
                display=display,
                language=language,
            )
        return fhir_response(validation_parameters(result))
