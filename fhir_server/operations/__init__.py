"""$operations: one module each, registered by name here."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response

from fhir_server.operations.check_rules import check_rules_operation
from fhir_server.operations.eligibility import eligibility_operation
from fhir_server.operations.expand import expand_operation
from fhir_server.operations.lookup import lookup_operation
from fhir_server.operations.prescribe import prescribe_operation
from fhir_server.operations.printout import printout_operation
from fhir_server.operations.record_paper import record_paper_operation
from fhir_server.operations.sign import sign_operation
from fhir_server.operations.subsumes import subsumes_operation
from fhir_server.operations.terminology_import import terminology_import_operation
from fhir_server.operations.translate import translate_operation
from fhir_server.operations.validate import validate_operation
from fhir_server.operations.validate_code import validate_code_operation
from fhir_server.operations.verify import verify_operation
from fhir_server.outcome import FhirError

# name -> handler(resource_type or None, id or None)
Operation = Callable[[str | None, str | None], Response]
OPERATIONS: dict[str, Operation] = {
    "validate": validate_operation,
    "lookup": lookup_operation,
    "validate-code": validate_code_operation,
    "expand": expand_operation,
    "translate": translate_operation,
    "subsumes": subsumes_operation,
    "terminology-import": terminology_import_operation,
    "prescribe": prescribe_operation,
    "check-rules": check_rules_operation,
    "eligibility": eligibility_operation,
    "verify": verify_operation,
    "printout": printout_operation,
    "record-paper": record_paper_operation,
    "sign": sign_operation,
}


def run_operation(name: str, type_: str | None, id_: str | None) -> Response:
    handler = OPERATIONS.get(name)
    if handler is None:
        raise FhirError.of(404, "not-supported", f"Unknown operation ${name}")
    return handler(type_, id_)
