"""Vendored FHIR R4 (4.0.1) definitions, derived by scripts/derive_definitions.py.

Everything here is immutable data, loaded lazily once per process and cached.

- ``resource_types()``            the 146 concrete resource types
- ``type_names()``                every resource and complex datatype with an element tree
- ``element_tree(type_name)``     path -> ElementDef for one type (snapshot order)
- ``search_parameters()``         the 1,375 core SearchParameters (compact dicts)
- ``compartments()``              compartment code -> resource type -> parameter names
- ``required_codes(url)``         codes of a required-bound value set, None if not enumerable
- ``required_codes_by_system(url)`` the same, grouped by code system
- ``constraint(id)``              one FHIRPath constraint (invariant) of the snapshots
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

DATA_DIR = Path(__file__).resolve().parent
FHIR_VERSION = "4.0.1"

PRIMITIVE_TYPES: frozenset[str] = frozenset(
    {
        "base64Binary",
        "boolean",
        "canonical",
        "code",
        "date",
        "dateTime",
        "decimal",
        "id",
        "instant",
        "integer",
        "markdown",
        "oid",
        "positiveInt",
        "string",
        "time",
        "unsignedInt",
        "uri",
        "url",
        "uuid",
        "xhtml",
    }
)


@dataclass(frozen=True, slots=True)
class ElementDef:
    """One element of a type's snapshot.

    ``path`` is the definition path (``MedicationRequest.dispenseRequest.quantity``,
    ``Observation.value[x]``); ``name`` its last segment without ``[x]``.
    ``max`` is None for ``*``. ``choices`` maps JSON names to type codes for ``[x]``
    elements (``valueQuantity`` -> ``Quantity``), empty otherwise. ``content_reference``
    is the path whose definition is reused (``Questionnaire.item``). ``binding`` is the
    ValueSet URL (no version) when the binding strength is required. ``constraints`` are
    the ids of the element's FHIRPath constraints (see ``constraint``); ``targets`` the
    resource types a Reference element may point at (``("Resource",)`` for any).
    """

    path: str
    name: str
    min: int
    max: int | None
    types: tuple[str, ...]
    choices: dict[str, str]
    content_reference: str | None
    binding: str | None
    constraints: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()

    @property
    def parent(self) -> str:
        return self.path.rsplit(".", 1)[0]

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    @property
    def many(self) -> bool:
        """True when the element is a JSON array (max > 1 or ``*``)."""
        return self.max is None or self.max > 1


@dataclass(frozen=True, slots=True)
class TypeDef:
    """A resource or complex datatype: its kind and its elements by path."""

    name: str
    kind: str  # "resource" | "complex"
    abstract: bool
    root: str  # root path segment (SimpleQuantity's elements are Quantity.*)
    elements: dict[str, ElementDef]
    constraints: tuple[str, ...] = ()  # the type's own (root element) constraint ids


@dataclass(frozen=True, slots=True)
class ConstraintDef:
    """One FHIRPath constraint of the R4 snapshots: ``per-1``, ``dom-3``, ``ele-1``..."""

    id: str  # the key, or key@path where R4 reuses a key for another rule
    key: str
    severity: str  # error | warning
    human: str
    expression: str


def _read(name: str) -> Any:
    return orjson.loads((DATA_DIR / name).read_bytes())


@functools.cache
def _raw_types() -> dict[str, Any]:
    types: dict[str, Any] = _read("elements.json")["types"]
    return types


@functools.cache
def resource_types() -> frozenset[str]:
    """The concrete (non-abstract) R4 resource types."""
    return frozenset(_read("resource_types.json"))


@functools.cache
def type_names() -> frozenset[str]:
    """Every type with an element tree: resources (also Resource, DomainResource) and
    complex datatypes (also BackboneElement, Element, SimpleQuantity, MoneyQuantity)."""
    return frozenset(_raw_types())


def _element(raw: dict[str, Any]) -> ElementDef:
    path: str = raw["p"]
    name = path.rsplit(".", 1)[-1]
    if name.endswith("[x]"):
        name = name[:-3]
    max_raw = raw["max"]
    return ElementDef(
        path=path,
        name=name,
        min=int(raw["min"]),
        max=None if max_raw == "*" else int(max_raw),
        types=tuple(raw.get("t", ())),
        choices=dict(raw.get("c", {})),
        content_reference=raw.get("r"),
        binding=raw.get("b"),
        constraints=tuple(raw.get("k", ())),
        targets=tuple(raw.get("tp", ())),
    )


@functools.cache
def type_def(type_name: str) -> TypeDef:
    """The definition of one resource or complex type; KeyError when unknown."""
    raw = _raw_types()[type_name]
    elements = {e.path: e for e in map(_element, raw["elements"])}
    return TypeDef(
        type_name, raw["kind"], bool(raw["abstract"]), raw["root"], elements, tuple(raw.get("k", ()))
    )


@functools.cache
def _constraints() -> dict[str, ConstraintDef]:
    raw: dict[str, dict[str, str]] = _read("constraints.json")
    return {id_: ConstraintDef(id_, **c) for id_, c in raw.items()}


def constraint(constraint_id: str) -> ConstraintDef:
    """A constraint by the id elements and types carry (KeyError when unknown)."""
    return _constraints()[constraint_id]


def constraint_ids() -> frozenset[str]:
    """Every constraint id of the R4 snapshots."""
    return frozenset(_constraints())


def element_tree(type_name: str) -> dict[str, ElementDef]:
    """Path -> ElementDef for every element of a type (KeyError when unknown)."""
    return type_def(type_name).elements


@functools.cache
def search_parameters() -> list[dict[str, Any]]:
    """All core SearchParameters: url, code, name, base, type, expression, xpathUsage,
    target, modifier, comparator, multipleOr, multipleAnd, chain, component (where set)."""
    params: list[dict[str, Any]] = _read("search_parameters.json")
    return params


@functools.cache
def compartments() -> dict[str, dict[str, list[str]]]:
    """Compartment code (Patient, Encounter, RelatedPerson, Practitioner, Device) ->
    resource type -> names of the search parameters that link it to the compartment."""
    data: dict[str, dict[str, list[str]]] = _read("compartments.json")
    return data


@functools.cache
def _valuesets() -> dict[str, dict[str, frozenset[str]] | None]:
    raw: dict[str, dict[str, list[str]] | None] = _read("valuesets.json")
    return {
        url: None if systems is None else {s: frozenset(c) for s, c in systems.items()}
        for url, systems in raw.items()
    }


def required_codes_by_system(valueset_url: str) -> dict[str, frozenset[str]] | None:
    """System -> codes of a required-bound value set; None if unknown or not enumerable."""
    return _valuesets().get(valueset_url.split("|", 1)[0])


@functools.cache
def required_codes(valueset_url: str) -> frozenset[str] | None:
    """All codes of a required-bound value set; None if unknown or not enumerable."""
    systems = required_codes_by_system(valueset_url)
    if systems is None:
        return None
    return frozenset().union(*systems.values())
