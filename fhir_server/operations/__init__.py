"""$operations: one module each, declared once, registered here.

How to add an operation (say `Claim/$submit`):

1. Write `fhir_server/operations/submit.py` with a handler
   `def submit(req: OperationRequest) -> dict | OperationResult | WriteResult | Content | Accepted`
   (see `contract.py`): read inputs with `req.resource()`, `req.value(name)`,
   `req.text(name)`, `req.values(name)`; use `req.server.store` / `req.server.repo` (the one
   door; `req.caller` is the acting identity), `req.language` for messages; raise
   `FhirError` for refusals. No Flask, no headers: the API layer does HTTP.
2. In the same module declare `OPERATIONS = (Operation(name="submit", levels=("type",),
   types=("Claim",), affects_state=True, methods=("POST",), handler=submit, title=Text(en, fa),
   description=Text(en, fa), parameters=(In(...), Out(...))),)`: every input and output with
   its type, cardinality and documentation in English and Persian. `base=` names the HL7
   definition a standard operation implements; `id=` is needed when one name has several
   definitions (`CodeSystem-validate-code`, `ValueSet-validate-code`).
3. Add the module to `_MODULES` below. That is all: the one route in `api/operations.py`
   dispatches `$submit` at the declared levels, types and methods; the OperationDefinition
   (`http://noskhe.ir/fhir/OperationDefinition/<id>`), the CapabilityStatement and the
   OpenAPI document follow from the declaration; `tests/operations/test_registry.py` fails
   if anything is undocumented.
"""

from __future__ import annotations

from collections.abc import Iterable

from fhir_server.operations import (
    adjust,
    bulk_import,
    check_rules,
    claim,
    eligibility,
    evaluate_measure,
    everything,
    expand,
    export,
    lookup,
    prescribe,
    printout,
    record_paper,
    settle,
    sign,
    submit,
    subsumes,
    terminology_import,
    translate,
    validate,
    validate_code,
    verify,
)
from fhir_server.operations.contract import (
    Accepted,
    Content,
    Level,
    Operation,
    OperationRequest,
    OperationResult,
    Server,
)
from fhir_server.outcome import FhirError

_MODULES = (
    validate,
    lookup,
    validate_code,
    expand,
    translate,
    subsumes,
    terminology_import,
    prescribe,
    check_rules,
    eligibility,
    verify,
    printout,
    record_paper,
    sign,
    export,
    bulk_import,
    everything,
    claim,
    submit,
    adjust,
    settle,
    evaluate_measure,
)

__all__ = [
    "REGISTRY",
    "Accepted",
    "Content",
    "Operation",
    "OperationRequest",
    "OperationResult",
    "Registry",
    "Server",
]


class Registry:
    """Every operation the server offers: what dispatch, OperationDefinitions, the
    CapabilityStatement and the OpenAPI document are all made from."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        self.operations = tuple(operations)
        ids = [op.id for op in self.operations]
        if len(ids) != len(set(ids)):
            raise ValueError(f"two operations share an OperationDefinition id: {sorted(ids)}")

    def names(self) -> frozenset[str]:
        return frozenset(op.name for op in self.operations)

    def find(self, name: str, level: Level, type_: str | None, method: str) -> Operation:
        """The operation `$name` called at this level on this type with this method.

        404 for a name the server does not offer at all or not here, 405 for a method it
        does not answer (GET for one that changes state)."""
        offered = [op for op in self.operations if op.name == name]
        if not offered:
            raise FhirError.of(404, "not-supported", f"Unknown operation ${name}")
        here = [op for op in offered if op.answers(level, type_)]
        if not here:
            where = _where(offered)
            raise FhirError.of(404, "not-supported", f"${name} is not offered here; it runs on {where}")
        op = here[0]
        if method not in op.methods:
            raise FhirError.of(
                405, "not-supported", f"${name} answers {' and '.join(op.methods)}, not {method}"
            )
        return op

    def at(self, level: Level, type_: str | None = None) -> list[Operation]:
        """The operations offered at a level (on a type, for type and instance levels)."""
        return [op for op in self.operations if op.answers(level, type_)]

    def for_type(self, type_: str) -> list[Operation]:
        """The operations offered on a type, at type or instance level."""
        return [op for op in self.operations if op.answers("type", type_) or op.answers("instance", type_)]


def _where(ops: list[Operation]) -> str:
    places = []
    for op in ops:
        for level in op.levels:
            if level == "system":
                places.append(f"[base]/${op.name}")
            else:
                suffix = "/[id]" if level == "instance" else ""
                places += [f"{t}{suffix}/${op.name}" for t in (op.types or ("[type]",))]
    return ", ".join(dict.fromkeys(places))


REGISTRY = Registry(op for module in _MODULES for op in module.OPERATIONS)
