"""The OperationDefinition of every registered operation, made from its declaration.

Persian texts ride on the R4 `translation` extension of `title`, `description` and each
parameter's `documentation`, so a client that knows only English reads plain R4.
"""

from __future__ import annotations

import functools
from typing import Any

from fhir_server.operations.contract import Operation, Param, Text

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
VERSION = "0.1.0"
DATE = "2026-11-27"


def operation_definition(op: Operation) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "OperationDefinition",
        "id": op.id,
        "url": op.url,
        "version": VERSION,
        "name": "".join(part.capitalize() for part in op.id.replace("-", " ").split()),
        "title": op.title.en,
        "_title": _persian(op.title),
        "status": "active",
        "kind": "operation",
        "date": DATE,
        "publisher": "Noskhe",
        "description": op.description.en,
        "_description": _persian(op.description),
        "affectsState": op.affects_state,
        "code": op.name,
    }
    if op.base:
        resource["base"] = op.base
    if op.levels != ("system",):
        resource["resource"] = list(op.types or ("Resource",))
    resource |= {level: level in op.levels for level in ("system", "type", "instance")}
    resource["parameter"] = [_parameter(p) for p in op.parameters]
    return resource


def _parameter(param: Param) -> dict[str, Any]:
    out: dict[str, Any] = {"name": param.name, "use": param.use, "min": param.min, "max": param.max}
    out["documentation"] = param.doc.en
    out["_documentation"] = _persian(param.doc)
    if param.type is not None:
        out["type"] = param.type
    if param.target_profile:
        out["targetProfile"] = list(param.target_profile)
    if param.parts:
        out["part"] = [_parameter(p) for p in param.parts]
    return out


def _persian(text: Text) -> dict[str, Any]:
    return {
        "extension": [
            {
                "url": TRANSLATION,
                "extension": [
                    {"url": "lang", "valueCode": "fa"},
                    {"url": "content", "valueString": text.fa},
                ],
            }
        ]
    }


@functools.cache
def all_definitions() -> tuple[dict[str, Any], ...]:
    """The OperationDefinitions of the registry (built once)."""
    from fhir_server.operations import REGISTRY

    return tuple(operation_definition(op) for op in REGISTRY.operations)
