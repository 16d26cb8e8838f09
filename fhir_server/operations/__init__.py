"""$operations: one module each, registered by name here."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response

from fhir_server.operations.validate import validate_operation
from fhir_server.outcome import FhirError

# name -> handler(resource_type or None, id or None)
Operation = Callable[[str | None, str | None], Response]
OPERATIONS: dict[str, Operation] = {"validate": validate_operation}


def run_operation(name: str, type_: str | None, id_: str | None) -> Response:
    handler = OPERATIONS.get(name)
    if handler is None:
        raise FhirError.of(404, "not-supported", f"Unknown operation ${name}")
    return handler(type_, id_)
