"""ConceptMap/$translate: one map (url or instance) or all, chaining maps to reach a
target system (IRC -> generic -> ATC)."""

from __future__ import annotations

from flask import Response

from fhir_server.api.http import fhir_response
from fhir_server.operations.terminology_support import (
    arguments,
    instance,
    require_type,
    service,
    translated_errors,
)
from fhir_server.outcome import FhirError
from terminology.parameters import boolean, coding, text, translate_parameters


def translate_operation(type_: str | None, id_: str | None) -> Response:
    require_type("translate", type_, ("ConceptMap",))
    args = arguments()
    target_map = instance("ConceptMap", type_, id_)
    with translated_errors():
        system, code, _, _ = coding(args)
        if not system or not code:
            raise FhirError.of(400, "required", "$translate needs system and code (or coding)")
        url = target_map.get("url") if target_map is not None else text(args, "url")
        found = service().translate(
            system=system,
            code=code,
            target=text(args, "targetsystem"),
            url=url,
            reverse=boolean(args, "reverse"),
        )
        return fhir_response(translate_parameters(found))
