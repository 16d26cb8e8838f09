"""$lookup (CodeSystem, system level): details of a code: display, designations, properties."""

from __future__ import annotations

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
from terminology.parameters import coding, lookup_parameters


def lookup_operation(type_: str | None, id_: str | None) -> Response:
    require_type("lookup", type_, ("CodeSystem", None))
    args = arguments()
    target = instance("CodeSystem", type_, id_)
    with translated_errors():
        system, code, version, _ = coding(args)
        if target is not None:
            system, version = target.get("url"), version or target.get("version")
        if not system or not code:
            raise FhirError.of(400, "required", "$lookup needs system and code (or coding)")
        found = service().lookup(system, code, version, display_language(args))
        wanted = [p for p in args.get("property", []) if isinstance(p, str)]
        return fhir_response(lookup_parameters(found, wanted))
