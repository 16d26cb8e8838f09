"""FHIRPath Patch (fhirpatch.html): a Parameters resource whose `operation` parameters
(add, insert, delete, replace, move) are applied in order to a copy of the resource.

A malformed Parameters is refused with 400 before anything is applied; an operation that
cannot apply (its path selects nothing, or several elements; an index out of range; a
value of the wrong type; `add` on a single element that is already there) with 422. The
stored resource is never touched: the result is validated and written by the repository.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from fhir_server.outcome import FhirError
from fhir_server.patch.elements import child, named
from fhir_server.patch.locate import Location, collection, locate
from fhir_server.patch.values import Value, bad, element_json, read_value

# The parts each operation type takes (besides `type` and `path`), and which are required.
_PARTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "add": (frozenset({"name", "value"}), frozenset({"name", "value"})),
    "insert": (frozenset({"index", "value"}), frozenset({"index", "value"})),
    "delete": (frozenset(), frozenset()),
    "replace": (frozenset({"value"}), frozenset({"value"})),
    "move": (frozenset({"source", "destination"}), frozenset({"source", "destination"})),
}
_INTEGERS = ("index", "source", "destination")


@dataclass(frozen=True, slots=True)
class Operation:
    where: str  # `Parameters.parameter[2]`, for messages
    type: str
    path: str
    name: str | None = None
    value: Value | None = None
    index: int | None = None
    source: int | None = None
    destination: int | None = None


def parse_operations(parameters: Any) -> list[Operation]:
    """The operations of a FHIRPath Patch Parameters resource (400 when malformed)."""
    if not isinstance(parameters, dict) or parameters.get("resourceType") != "Parameters":
        raise FhirError.of(400, "invalid", "A FHIRPath Patch body must be a Parameters resource")
    params = parameters.get("parameter", [])
    if not isinstance(params, list):
        raise FhirError.of(400, "invalid", "Parameters.parameter must be a list")
    return [_operation(p, f"Parameters.parameter[{i}]") for i, p in enumerate(params)]


def _operation(param: Any, where: str) -> Operation:
    if not isinstance(param, dict) or param.get("name") != "operation":
        raise bad(where, "every parameter of a FHIRPath Patch is named 'operation'")
    parts: dict[str, dict[str, Any]] = {}
    for part in param.get("part") or []:
        name = part.get("name") if isinstance(part, dict) else None
        if not isinstance(name, str) or name in parts:
            raise bad(where, "each part needs a name, and each name occurs once")
        parts[name] = part
    kind = parts.get("type", {}).get("valueCode")
    if kind not in _PARTS:
        raise bad(where, "type must be one of add, insert, delete, replace, move (as valueCode)")
    path = parts.get("path", {}).get("valueString")
    if not isinstance(path, str) or not path.strip():
        raise bad(where, "path (valueString) is required")
    allowed, required = _PARTS[kind]
    extra = set(parts) - allowed - {"type", "path"}
    missing = required - set(parts)
    if extra or missing:
        problems = [f"{kind} takes no {', '.join(sorted(extra))}"] if extra else []
        problems += [f"{kind} needs {', '.join(sorted(missing))}"] if missing else []
        raise bad(where, "; ".join(problems))
    name = parts["name"].get("valueString") if "name" in parts else None
    if "name" in parts and (not isinstance(name, str) or not name):
        raise bad(where, "name (valueString) must name an element")
    numbers = {k: _integer(parts[k], f"{where}.{k}") for k in _INTEGERS if k in parts}
    value = read_value(parts["value"], f"{where}.value") if "value" in parts else None
    return Operation(where, kind, path, name, value, **numbers)


def _integer(part: dict[str, Any], where: str) -> int:
    value = part.get("valueInteger")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise bad(where, "must be a valueInteger of 0 or more")
    return value


def apply_fhirpath_patch(resource: dict[str, Any], parameters: Any) -> dict[str, Any]:
    operations = parse_operations(parameters)
    patched = copy.deepcopy(resource)
    for op in operations:
        _APPLY[op.type](patched, op)
    for key in ("resourceType", "id"):
        if patched.get(key) != resource.get(key):
            raise FhirError.of(422, "processing", f"A patch may not change {key}")
    return patched


def _one(resource: dict[str, Any], op: Operation, verb: str) -> Location:
    found = locate(resource, op.path)
    if len(found) != 1:
        what = "no element" if not found else f"{len(found)} elements"
        raise bad(op.where, f"the path {op.path} selects {what}; {verb} needs exactly one", 422)
    return found[0]


def _add(resource: dict[str, Any], op: Operation) -> None:
    assert op.name is not None and op.value is not None
    target = _one(resource, op, "add")
    container = target.value(resource)
    element = named(target.place, op.name)
    if not isinstance(container, dict) or element is None:
        raise bad(op.where, f"{op.path} has no element '{op.name}'", 422)
    key, value = element_json(op.value, element, target.place, op.where)
    if element.many:
        existing = container.setdefault(key, [])
        if not isinstance(existing, list):
            raise bad(op.where, f"{op.path}.{op.name} is stored as a single value, not a list", 422)
        existing.append(value)
        return
    present = [k for k in (element.choices or {element.name: ""}) if k in container]
    if present:
        raise bad(op.where, f"{op.path}.{op.name} is already there; replace it instead", 422)
    container[key] = value


def _insert(resource: dict[str, Any], op: Operation) -> None:
    assert op.value is not None and op.index is not None
    target = collection(resource, op.path)
    element = named(target.place, target.key)
    if element is None or not element.many:
        raise bad(op.where, f"{op.path} is not a list", 422)
    items = target.parent.get(target.key, [])
    if not isinstance(items, list):
        raise bad(op.where, f"{op.path} is stored as a single value, not a list", 422)
    if op.index > len(items):
        raise bad(op.where, f"index {op.index} is past the end of {op.path} ({len(items)} items)", 422)
    _, value = element_json(op.value, element, target.place, op.where)
    items.insert(op.index, value)
    target.parent[target.key] = items
    _shift_extensions(target.parent, target.key, lambda ext: ext.insert(op.index or 0, None))


def _delete(resource: dict[str, Any], op: Operation) -> None:
    found = locate(resource, op.path)
    if not found:
        return  # delete: "if found"
    if len(found) > 1:
        raise bad(op.where, f"the path {op.path} selects {len(found)} elements; delete removes one", 422)
    target = found[0]
    if target.parent is None:
        raise bad(op.where, "the resource itself cannot be deleted by a patch", 422)
    if target.index is None:
        del target.parent[target.key]
        target.parent.pop("_" + target.key, None)
        return
    items = target.parent[target.key]
    del items[target.index]
    _shift_extensions(target.parent, target.key, lambda ext: ext.pop(target.index or 0))
    if not items:
        del target.parent[target.key]
        target.parent.pop("_" + target.key, None)


def _replace(resource: dict[str, Any], op: Operation) -> None:
    assert op.value is not None
    target = _one(resource, op, "replace")
    if target.parent is None:
        raise bad(op.where, "the resource itself cannot be replaced by a patch; use update", 422)
    found = child(target.holder, target.key)
    if found is None:
        raise bad(op.where, f"{op.path} is not an element of {target.holder.path or 'the resource'}", 422)
    element, parent_place = found.element, target.holder
    key, value = element_json(op.value, element, parent_place, op.where)
    if target.index is not None:
        target.parent[target.key][target.index] = value
        return
    if key != target.key:  # a choice changes type: valueQuantity -> valueString
        del target.parent[target.key]
        target.parent.pop("_" + target.key, None)
    target.parent[key] = value


def _move(resource: dict[str, Any], op: Operation) -> None:
    assert op.source is not None and op.destination is not None
    target = collection(resource, op.path)
    items = target.parent.get(target.key)
    size = len(items) if isinstance(items, list) else 0
    if not isinstance(items, list) or op.source >= size or op.destination >= size:
        raise bad(op.where, f"source and destination must be positions in {op.path} ({size} items)", 422)
    items.insert(op.destination, items.pop(op.source))
    source, destination = op.source, op.destination
    _shift_extensions(target.parent, target.key, lambda ext: ext.insert(destination, ext.pop(source)))


def _shift_extensions(parent: dict[str, Any], key: str, change: Any) -> None:
    """Keep a primitive list's `_key` array of extensions in step with the list."""
    ext = parent.get("_" + key)
    if isinstance(ext, list):
        change(ext)
        if not any(ext):
            del parent["_" + key]


_APPLY = {"add": _add, "insert": _insert, "delete": _delete, "replace": _replace, "move": _move}
