"""_summary and _elements: subsetting a resource, marked with the SUBSETTED tag."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from fhir_server import definitions

SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "Resource encoded in summary mode",
}
_ALWAYS = ("resourceType", "id", "meta")
_MANDATORY_FOR_ELEMENTS = ("implicitRules", "modifierExtension")


@functools.cache
def _summary_names() -> dict[str, frozenset[str]]:
    raw = json.loads((Path(__file__).parent / "summary_elements.json").read_text())
    return {t: frozenset(names) for t, names in raw.items()}


@functools.cache
def _mandatory(rtype: str) -> frozenset[str]:
    """Top-level elements with min > 0 (kept by _summary=text)."""
    try:
        tree = definitions.element_tree(rtype)
    except KeyError:
        return frozenset()
    return frozenset(
        e.name + ("[x]" if e.is_choice else "") for e in tree.values() if e.path.count(".") == 1 and e.min > 0
    )


def _json_name_matches(key: str, names: frozenset[str]) -> bool:
    if key in names:
        return True
    return any(key[i].isupper() and key[:i] + "[x]" in names for i in range(1, len(key)))


def _keep(resource: dict[str, Any], names: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k in _ALWAYS or _json_name_matches(k, names)}


def _mark(resource: dict[str, Any]) -> dict[str, Any]:
    meta = dict(resource.get("meta") or {})
    tags = [t for t in meta.get("tag", []) if t.get("code") != "SUBSETTED"]
    meta["tag"] = [*tags, SUBSETTED]
    return {**resource, "meta": meta}


def _elements_names(elements: list[str]) -> frozenset[str]:
    names = {e.split(".", 1)[0] for e in elements}
    # A name given without [x] also selects a choice element (`value` -> valueQuantity).
    return frozenset(names | {n + "[x]" for n in names} | set(_MANDATORY_FOR_ELEMENTS))


def apply_elements(
    resource: dict[str, Any], summary: str | None, elements: list[str] | None
) -> dict[str, Any]:
    """The resource as `_summary` (true | text | data | count | false) and `_elements` ask.
    Returns `resource` itself when nothing is removed."""
    rtype = str(resource.get("resourceType", ""))
    if summary in (None, "false", "count"):
        if not elements:
            return resource
        return _mark(_keep(resource, _elements_names(elements)))
    if summary == "true":
        return _mark(_keep(resource, _summary_names().get(rtype, frozenset())))
    if summary == "text":
        return _mark(_keep(resource, _mandatory(rtype) | {"text"}))
    if summary == "data":
        return _mark({k: v for k, v in resource.items() if k != "text"})
    return resource
