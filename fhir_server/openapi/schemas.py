"""JSON Schemas (OpenAPI 3.1 dialect) of FHIR R4 types, made from the element trees the
validator uses (`fhir_server.definitions`): properties, arrays for repeating elements,
choice types under their JSON names, backbone elements inline, complex types by $ref.

The schemas describe what the server sends and accepts without being stricter than the
validator: extra members (`_given`, primitive extensions) are allowed, and a resource's
required elements are those R4 requires (min 1)."""

from __future__ import annotations

from typing import Any

from fhir_server import definitions
from fhir_server.definitions import ElementDef

REF = "#/components/schemas/"
_INTEGERS = {"integer": None, "positiveInt": 1, "unsignedInt": 0}


def primitive(type_: str) -> dict[str, Any]:
    if type_ == "boolean":
        return {"type": "boolean"}
    if type_ in _INTEGERS:
        low = _INTEGERS[type_]
        return {"type": "integer"} if low is None else {"type": "integer", "minimum": low}
    if type_ == "decimal":
        return {"type": "number"}
    return {"type": "string"}


def type_schema(name: str, wanted: set[str]) -> dict[str, Any]:
    """The schema of a resource or complex type; the complex types it refers to are added
    to `wanted` (the caller emits them too)."""
    tdef = definitions.type_def(name)
    schema = _object(tdef.elements, tdef.root, wanted)
    if tdef.kind == "resource":
        schema["properties"] = {"resourceType": {"const": name}, **schema["properties"]}
        schema["required"] = ["resourceType", *schema.get("required", [])]
    schema["description"] = f"FHIR R4 {name}"
    return schema


def _object(tree: dict[str, ElementDef], path: str, wanted: set[str]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required: list[str] = []
    for element in tree.values():
        if element.parent != path or element.path == path:
            continue
        if element.is_choice:
            for json_name, type_ in element.choices.items():
                props[json_name] = _many(element, _value(tree, element, type_, wanted))
            continue
        props[element.name] = _many(
            element, _value(tree, element, element.types[0] if element.types else "", wanted)
        )
        if element.min >= 1:
            required.append(element.name)
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def _value(tree: dict[str, ElementDef], element: ElementDef, type_: str, wanted: set[str]) -> dict[str, Any]:
    if element.content_reference or (
        type_ in ("BackboneElement", "Element") and _has_children(tree, element)
    ):
        if element.content_reference:
            return {"type": "object"}
        return _object(tree, element.path, wanted)
    if type_ in definitions.PRIMITIVE_TYPES or type_.startswith("http://hl7.org/fhirpath/") or not type_:
        return primitive(type_)
    if type_ in ("Resource", "DomainResource"):
        return {"$ref": REF + "Resource"}
    if type_ in definitions.type_names():
        wanted.add(type_)
        return {"$ref": REF + type_}
    return {}


def _has_children(tree: dict[str, ElementDef], element: ElementDef) -> bool:
    prefix = element.path + "."
    return any(p.startswith(prefix) for p in tree)


def _many(element: ElementDef, schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": schema} if element.many else schema


def schemas_for(resource_types: list[str]) -> dict[str, Any]:
    """Named schemas for these resource types and every complex type they use, plus a
    generic `Resource`."""
    out: dict[str, Any] = {
        "Resource": {
            "type": "object",
            "properties": {"resourceType": {"type": "string"}, "id": {"type": "string"}},
            "required": ["resourceType"],
            "description": "Any FHIR R4 resource",
        }
    }
    wanted = set(resource_types)
    done: set[str] = set()
    while wanted - done:
        name = sorted(wanted - done)[0]
        done.add(name)
        out[name] = type_schema(name, wanted)
    return out
