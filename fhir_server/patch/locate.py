"""FHIRPath Patch paths -> the places in the resource they select.

FHIRPath engines return values, not locations, so the path runs on a marked copy of the
resource: every object carries a marker naming its place in the real resource. A path
ending in a plain element name (`Patient.contact[0].gender`, `Patient.identifier[1]`)
runs without its last step, and the last step is taken here, so that primitives can be
located too. `resolve()` is not available: a patch never leaves the resource.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import fhirpathpy
from fhirpathpy.models import models

from fhir_server.outcome import FhirError
from fhir_server.patch.elements import Place, child, child_place, named, resource_place
from fhir_server.search.registry import split_top_level

MARK = "__patch_node__"
_LAST_STEP = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)(?:\[(\d+)\])?$")
_MODEL = models["r4"]


@dataclass(frozen=True, slots=True)
class Location:
    """One selected node: `parent[key]`, or `parent[key][index]` in a list; the resource
    itself when `parent` is None. `place` is the node's definition, `holder` its parent's."""

    parent: dict[str, Any] | None
    key: str
    index: int | None
    place: Place
    holder: Place

    def value(self, resource: dict[str, Any]) -> Any:
        if self.parent is None:
            return resource
        found = self.parent[self.key]
        return found if self.index is None else found[self.index]


@dataclass(frozen=True, slots=True)
class Collection:
    """The list a path names (`Patient.identifier`): `parent[key]`, perhaps absent yet."""

    parent: dict[str, Any]
    key: str
    place: Place  # the parent's definition


def bad_path(path: str, why: str) -> FhirError:
    return FhirError.of(400, "invalid", f"The patch path '{path}' is not usable: {why}")


@functools.lru_cache(maxsize=256)
def _compiled(path: str) -> Any:
    try:
        return fhirpathpy.compile(path, _MODEL)
    except Exception as exc:  # fhirpathpy raises many kinds on bad syntax
        raise bad_path(path, f"not valid FHIRPath ({exc})") from exc


def _marked(resource: dict[str, Any]) -> tuple[dict[str, Any], list[Location]]:
    """A copy of `resource` whose objects carry MARK = their index in the returned list."""
    table: list[Location] = []

    def copy(node: Any, loc: Location) -> Any:
        if isinstance(node, list):
            return [copy(item, loc) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {MARK: len(table)}
        table.append(loc)
        real = loc.value(resource)
        for key, value in node.items():
            found = child(loc.place, key)
            if isinstance(value, list):
                out[key] = [
                    copy(item, Location(real, key, i, _place_of(loc.place, found, item), loc.place))
                    for i, item in enumerate(value)
                ]
            elif isinstance(value, dict):
                out[key] = copy(
                    value, Location(real, key, None, _place_of(loc.place, found, value), loc.place)
                )
            else:
                out[key] = value
        return out

    root = resource_place(resource)
    return copy(resource, Location(None, "", None, root, root)), table


def _place_of(parent: Place, found: Any, value: Any) -> Place:
    return child_place(parent, found, value) if found is not None else Place(None, "")


def _evaluate(resource: dict[str, Any], path: str) -> tuple[list[Any], list[Location]]:
    marked, table = _marked(resource)
    try:
        result = _compiled(path)(marked, {})
    except FhirError:
        raise
    except Exception as exc:
        raise bad_path(path, str(exc)) from exc
    return list(result), table


def _nodes(resource: dict[str, Any], path: str) -> list[Location]:
    """Every object `path` selects (anything else is refused: it has no place)."""
    result, table = _evaluate(resource, path)
    out = []
    for item in result:
        if not isinstance(item, dict) or not isinstance(item.get(MARK), int):
            raise bad_path(path, "it selects a value that is not an element of the resource")
        out.append(table[item[MARK]])
    return out


def _split(path: str) -> tuple[str, str, int | None] | None:
    """(the path without its last step, that step's element name, its [index])."""
    steps = split_top_level(path.strip(), ".")
    if len(steps) < 2:
        return None
    m = _LAST_STEP.match(steps[-1].strip())
    if m is None:
        return None
    return ".".join(steps[:-1]), m.group(1), int(m.group(2)) if m.group(2) is not None else None


def keys_named(parent: dict[str, Any], place: Place, name: str) -> list[str]:
    """The JSON keys of `parent` that hold element `name` (`valueQuantity` for `value`)."""
    if name in parent:
        return [name]
    element = named(place, name)
    if element is None or not element.is_choice:
        return []
    return [k for k in element.choices if k in parent]


def locate(resource: dict[str, Any], path: str) -> list[Location]:
    """The places `path` selects in `resource`, in order."""
    split = _split(path)
    if split is None:
        return _nodes(resource, path)
    head, name, index = split
    out: list[Location] = []
    for parent_loc in _nodes(resource, head):
        parent, place = parent_loc.value(resource), parent_loc.place
        for key in keys_named(parent, place, name):
            value = parent[key]
            items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
            out.extend(
                Location(parent, key, i, _place_of(place, child(place, key), v), place) for i, v in items
            )
    if index is None:
        return out
    return out[index : index + 1]  # FHIRPath indexes the whole collection


def collection(resource: dict[str, Any], path: str) -> Collection:
    """The list `path` names, for insert and move: its last step must be an element name."""
    split = _split(path)
    if split is None or split[2] is not None:
        raise bad_path(path, "insert and move need the path of a list, ending in its element name")
    head, name, _ = split
    parents = _nodes(resource, head)
    if len(parents) != 1:
        raise FhirError.of(
            422, "processing", f"The patch path '{head}' selects {len(parents)} elements; the list needs one"
        )
    return Collection(parents[0].value(resource), name, parents[0].place)
