"""The value of a FHIRPath Patch operation, turned into the JSON of the element it goes in.

A value is a `value[x]` part (`valueDate`, `valueIdentifier`), a `resource` part (for
`contained`), or, for anonymous types (`Patient.contact`, `Timing.repeat`), nested parts
named after the element's children (fhirpatch.html). Its type must fit the element:
`valueQuantity` into `value[x]` becomes `valueQuantity`; a Quantity fits SimpleQuantity,
Age or Duration; a primitive fits a primitive (its format is checked with the resource).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fhir_server import definitions
from fhir_server.definitions import PRIMITIVE_TYPES, ElementDef
from fhir_server.outcome import FhirError
from fhir_server.patch.elements import Child, Place, child_place, named

_QUANTITIES = frozenset(
    {"Quantity", "SimpleQuantity", "MoneyQuantity", "Age", "Distance", "Duration", "Count"}
)


@dataclass(frozen=True, slots=True)
class Value:
    type: str | None  # FHIR type of value[x] (`date`, `Quantity`) or resource type; None: parts
    json: Any  # the value, or the nested parts


def bad(where: str, why: str, status: int = 400) -> FhirError:
    return FhirError.of(status, "invalid" if status == 400 else "processing", f"{where}: {why}")


def _fhir_type(suffix: str) -> str:
    lower = suffix[:1].lower() + suffix[1:]
    return lower if lower in PRIMITIVE_TYPES else suffix


def read_value(part: dict[str, Any], where: str) -> Value:
    """The value a part carries: `value[x]`, `resource`, or nested `part`s."""
    typed = [k for k in part if k.startswith("value") and len(k) > 5]
    nested = part.get("part")
    given = len(typed) + ("resource" in part) + (nested is not None)
    if given != 1:
        raise bad(where, "a value needs exactly one of value[x], resource or part")
    if typed:
        return Value(_fhir_type(typed[0][5:]), part[typed[0]])
    if "resource" in part:
        resource = part["resource"]
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise bad(where, "resource must be a resource")
        return Value(resource["resourceType"], resource)
    if not isinstance(nested, list) or not nested or not all(isinstance(p, dict) for p in nested):
        raise bad(where, "part must be a non-empty list of parameters")
    return Value(None, nested)


def element_json(value: Value, element: ElementDef, parent: Place, where: str) -> tuple[str, Any]:
    """The JSON key (`valueQuantity` for a choice) and value for `element` under `parent`."""
    if value.type is None:
        if element.is_choice:
            raise bad(where, f"{element.path} takes a typed value, not parts", 422)
        place = child_place(parent, Child(element, element.types[0] if element.types else ""), None)
        if place.type is None:
            raise bad(where, f"{element.path} is a {', '.join(element.types)}, not built from parts", 422)
        return element.name, from_parts(value.json, place, where)
    if element.is_choice:
        key = element.name + value.type[:1].upper() + value.type[1:]
        if key not in element.choices:
            raise bad(where, f"{element.path} cannot hold a {value.type}", 422)
        return key, value.json
    if not _fits(value.type, element.types):
        raise bad(
            where, f"{element.path} is a {', '.join(element.types) or 'element'}, not a {value.type}", 422
        )
    return element.name, value.json


def _fits(value_type: str, element_types: tuple[str, ...]) -> bool:
    for t in element_types:
        if t == value_type or (t in PRIMITIVE_TYPES and value_type in PRIMITIVE_TYPES):
            return True
        if t in _QUANTITIES and value_type == "Quantity":
            return True
        if t == "Resource" and value_type in definitions.resource_types():
            return True
    return False


def from_parts(parts: list[dict[str, Any]], place: Place, where: str) -> dict[str, Any]:
    """An element built from parts named after its children (repeats make a list)."""
    out: dict[str, Any] = {}
    for part in parts:
        name = part.get("name")
        if not isinstance(name, str) or not name:
            raise bad(where, "each part of a value needs a name")
        element = named(place, name)
        if element is None:
            raise bad(where, f"{place.path} has no element '{name}'", 422)
        key, json = element_json(read_value(part, f"{where}.{name}"), element, place, f"{where}.{name}")
        if element.many:
            out.setdefault(key, []).append(json)
        elif key in out:
            raise bad(where, f"{element.path} can occur only once", 422)
        else:
            out[key] = json
    return out
