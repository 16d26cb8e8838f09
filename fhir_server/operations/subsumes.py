"""CodeSystem/$subsumes: is codeA an ancestor of codeB (or the reverse) in the is-a tree?"""

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
from terminology.parameters import Args, one, subsumes_parameters, text


def subsumes_operation(type_: str | None, id_: str | None) -> Response:
    require_type("subsumes", type_, ("CodeSystem",))
    args = arguments()
    target = instance("CodeSystem", type_, id_)
    with translated_errors():
        system = target.get("url") if target is not None else text(args, "system")
        code_a, system_a = _code(args, "A")
        code_b, system_b = _code(args, "B")
        system = system or system_a or system_b
        if not system or not code_a or not code_b:
            raise FhirError.of(
                400, "required", "$subsumes needs system, codeA and codeB (or codingA/codingB)"
            )
        if any(s not in (None, system) for s in (system_a, system_b)):
            raise FhirError.of(400, "invalid", "codingA and codingB must be in the same system")
        outcome = service().subsumes(system, code_a, code_b, text(args, "version"))
        return fhir_response(subsumes_parameters(outcome))


def _code(args: Args, which: str) -> tuple[str | None, str | None]:
    c = one(args, f"coding{which}")
    if isinstance(c, dict):
        return c.get("code"), c.get("system")
    return text(args, f"code{which}"), None
