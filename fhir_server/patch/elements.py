"""Where a patched node sits in its type's definition: the element a JSON key names, and
the element tree its children are defined in."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from fhir_server import definitions
from fhir_server.definitions import PRIMITIVE_TYPES, ElementDef

_INLINE = frozenset({"BackboneElement", "Element"})


@dataclass(frozen=True, slots=True)
class Place:
    """A node's definition: the type whose tree holds it and its path there
    (`Patient`/`Patient.contact`, `HumanName`/`HumanName`); type None when unknown."""

    type: str | None
    path: str


@dataclass(frozen=True, slots=True)
class Child:
    """The element a JSON key of a node names, and the type the key's value has."""

    element: ElementDef
    value_type: str  # the key's own type (`Quantity` for `valueQuantity`)


@functools.cache
def _children(type_name: str) -> dict[tuple[str, str], Child]:
    """(parent path, JSON key) -> Child, for every element of a type."""
    out: dict[tuple[str, str], Child] = {}
    for el in definitions.element_tree(type_name).values():
        if el.is_choice:
            for key, t in el.choices.items():
                out[(el.parent, key)] = Child(el, t)
        else:
            out[(el.parent, el.name)] = Child(el, el.types[0] if el.types else "")
    return out


def child(place: Place, key: str) -> Child | None:
    """The element the JSON key `key` names under `place` (None when it names none)."""
    if place.type is None or place.type not in definitions.type_names():
        return None
    return _children(place.type).get((place.path, key))


def named(place: Place, name: str) -> ElementDef | None:
    """The element called `name` (`value` for `value[x]`) under `place`."""
    if place.type is None or place.type not in definitions.type_names():
        return None
    for (parent, _), found in _children(place.type).items():
        if parent == place.path and found.element.name == name:
            return found.element
    return None


def child_place(place: Place, found: Child, value: object) -> Place:
    """The definition of a child node of type `found.value_type`."""
    el = found.element
    if el.content_reference:
        return Place(place.type, el.content_reference)
    if found.value_type in _INLINE:
        return Place(place.type, el.path)
    if found.value_type == "Resource" or found.value_type in definitions.resource_types():
        kind = value.get("resourceType") if isinstance(value, dict) else None
        return Place(kind, kind) if isinstance(kind, str) else Place(None, "")
    if found.value_type in PRIMITIVE_TYPES or found.value_type not in definitions.type_names():
        return Place(None, "")
    return Place(found.value_type, definitions.type_def(found.value_type).root)


def resource_place(resource: dict[str, object]) -> Place:
    kind = resource.get("resourceType")
    return Place(kind, kind) if isinstance(kind, str) else Place(None, "")
