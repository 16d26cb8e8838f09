"""Structural validation of FHIR R4 JSON: elements, JSON types, cardinality, primitive
formats, required-binding codes, extensions, nested resources.

Paths are FHIRPath locations built only where needed (child objects, or an issue), so the
common valid case allocates few strings.
"""

from __future__ import annotations

from fhir_server import definitions
from fhir_server.outcome import Issue, error

from .model import COMPLEX, PRIMITIVE, RESOURCE, Child, Node, primitive_extension_node, resource_node
from .primitives import json_type


def validate_resource_at(
    resource: object, path: str | None, issues: list[Issue], expected_type: str | None = None
) -> None:
    """Validate a resource appearing at ``path`` (None for the top level)."""
    if type(resource) is not dict:
        issues.append(
            error("structure", f"A resource must be a JSON object, found {json_type(resource)}", *_loc(path))
        )
        return
    rtype = resource.get("resourceType")
    if type(rtype) is not str or not rtype:
        issues.append(error("structure", "Missing resourceType", *_loc(path)))
        return
    if rtype not in definitions.resource_types():
        issues.append(error("invalid", f"Unknown resourceType '{rtype[:100]}'", *_loc(path)))
        return
    if expected_type is not None and rtype != expected_type:
        issues.append(
            error("invalid", f"Expected resourceType '{expected_type}', found '{rtype}'", *_loc(path))
        )
        return
    check_object(resource, resource_node(rtype), path or rtype, issues)


def _loc(path: str | None) -> tuple[str, ...]:
    return (path,) if path else ()


ELE_1 = "ele-1: All FHIR elements must have a @value or children"


def check_object(obj: dict[str, object], node: Node, path: str, issues: list[Issue]) -> None:
    if not obj:
        issues.append(error("structure", "Empty object is not allowed", path))
        return

    children = node.children
    chosen: dict[str, str] | None = None
    for key, value in obj.items():
        child = children.get(key)
        if child is None:
            if key[:1] == "_":
                _check_companion(obj, key, value, node, path, issues)
            elif not (key == "resourceType" and node.is_resource):
                issues.append(_unknown(node, key, path))
            continue
        if child.choice is not None:
            if chosen is None:
                chosen = {}
            other = chosen.setdefault(child.choice, key)
            if other != key:
                issues.append(
                    error(
                        "structure",
                        f"Only one of {other} and {key} is allowed ({child.choice}[x])",
                        f"{path}.{child.label}",
                    )
                )
                continue
        if child.many:
            _check_array(obj, key, value, child, path, issues)
        elif type(value) is list:
            issues.append(
                error("structure", f"{key} must be a single value, not an array", f"{path}.{child.label}")
            )
        elif value is None:
            issues.append(error("structure", "null is not allowed", f"{path}.{child.label}"))
        else:
            _check_value(value, child, path, child.label, issues)
    for keys, label, minimum in node.required:
        for k in keys:
            if k in obj:
                if minimum > 1:
                    _check_minimum(obj.get(k), label, minimum, path, issues)
                break
        else:
            what = f"{label}[x]" if len(keys) > 2 else label
            issues.append(
                error("required", f"Missing required element {what} (min {minimum})", f"{path}.{label}")
            )
    if node.is_extension:
        _check_extension(obj, path, issues)


def _check_minimum(value: object, label: str, minimum: int, path: str, issues: list[Issue]) -> None:
    if type(value) is list and len(value) < minimum:
        issues.append(error("structure", f"{label} needs at least {minimum} items", f"{path}.{label}"))


def _unknown(node: Node, key: str, path: str) -> Issue:
    hint = ""
    for child in node.children.values():
        if child.choice is not None and key.startswith(child.choice):
            allowed = [n for n, c in node.children.items() if c.choice == child.choice]
            hint = f" ({child.choice}[x] allows {', '.join(allowed)})"
            break
    return error("structure", f"Unknown element '{key}' in {node.name}{hint}", f"{path}.{key}")


def _check_array(
    obj: dict[str, object], key: str, value: object, child: Child, path: str, issues: list[Issue]
) -> None:
    if type(value) is not list:
        issues.append(error("structure", f"{key} must be an array", f"{path}.{child.label}"))
        return
    if not value:
        issues.append(error("structure", "Empty array is not allowed", f"{path}.{child.label}"))
        return
    if child.max is not None and len(value) > child.max:
        issues.append(error("structure", f"{key} allows at most {child.max} items", f"{path}.{child.label}"))
    companion = obj.get("_" + key) if child.kind == PRIMITIVE else None
    for i, item in enumerate(value):
        if item is None:
            if type(companion) is list and i < len(companion) and companion[i] is not None:
                continue
            issues.append(error("structure", "null is not allowed", f"{path}.{child.label}[{i}]"))
            continue
        _check_value(item, child, path, f"{child.label}[{i}]", issues)


def _check_value(value: object, child: Child, path: str, step: str, issues: list[Issue]) -> None:
    kind = child.kind
    if kind == PRIMITIVE:
        assert child.checker is not None
        problem = child.checker(value)
        if problem is not None:
            issues.append(error(problem[0], problem[1], f"{path}.{step}"))
        elif child.codes is not None and value not in child.codes:
            issues.append(
                error(
                    "code-invalid",
                    f"'{str(value)[:100]}' is not a valid code for {child.name}",
                    f"{path}.{step}",
                )
            )
    elif kind == COMPLEX:
        if type(value) is not dict:
            issues.append(
                error(
                    "structure",
                    f"Expected a JSON object for {child.type_code}, found {json_type(value)}",
                    f"{path}.{step}",
                )
            )
            return
        assert child.node is not None
        here = f"{path}.{step}"
        if len(value) == 1 and "id" in value:
            issues.append(_ele_1(here))
        check_object(value, child.node, here, issues)
        if child.system_codes is not None:
            _check_coded(value, child, here, issues)
    elif kind == RESOURCE:
        validate_resource_at(value, f"{path}.{step}", issues)


def _check_coded(value: dict[str, object], child: Child, path: str, issues: list[Issue]) -> None:
    """Required binding on Coding/CodeableConcept: check codes of the enumerated systems."""
    assert child.system_codes is not None
    if child.type_code == "Coding":
        codings: list[tuple[str, object]] = [(path, value)]
    else:
        raw = value.get("coding")
        codings = [(f"{path}.coding[{i}]", c) for i, c in enumerate(raw)] if type(raw) is list else []
    for where, coding in codings:
        if type(coding) is not dict:
            continue
        system, code = coding.get("system"), coding.get("code")
        if type(system) is str and type(code) is str:
            allowed = child.system_codes.get(system)
            if allowed is not None and code not in allowed:
                issues.append(
                    error("code-invalid", f"'{code[:100]}' is not a valid code in {system}", f"{where}.code")
                )


def _check_companion(
    obj: dict[str, object], key: str, value: object, node: Node, path: str, issues: list[Issue]
) -> None:
    """A primitive's ``_name`` companion: id/extension objects, arrays aligned with values."""
    name = key[1:]
    child = node.children.get(name)
    if child is None or child.kind != PRIMITIVE:
        issues.append(_unknown(node, key, path))
        return
    ext_node = primitive_extension_node()
    where = f"{path}.{child.label}"
    if child.many:
        if type(value) is not list or not value:
            issues.append(error("structure", f"{key} must be a non-empty array", where))
            return
        values = obj.get(name)
        if values is not None and (type(values) is not list or len(values) != len(value)):
            issues.append(error("structure", f"{key} must have as many items as {name}", where))
        for i, item in enumerate(value):
            if item is None:
                continue
            if type(item) is not dict:
                issues.append(
                    error("structure", f"Expected a JSON object, found {json_type(item)}", f"{where}[{i}]")
                )
            else:
                if _id_only(item) and (type(values) is not list or i >= len(values) or values[i] is None):
                    issues.append(_ele_1(f"{where}[{i}]"))
                check_object(item, ext_node, f"{where}[{i}]", issues)
    elif type(value) is not dict:
        issues.append(
            error("structure", f"Expected a JSON object for {key}, found {json_type(value)}", where)
        )
    else:
        if _id_only(value) and obj.get(name) is None:
            issues.append(_ele_1(where))
        check_object(value, ext_node, where, issues)


def _id_only(obj: dict[str, object]) -> bool:
    return len(obj) == 1 and "id" in obj


def _ele_1(path: str) -> Issue:
    """ele-1 (hasValue() or children().count() > id.count()): empty objects are refused
    as such; an element whose only child is its id breaks ele-1."""
    return error("invariant", f"{ELE_1} (it has only an id)", path)


def _check_extension(obj: dict[str, object], path: str, issues: list[Issue]) -> None:
    """ext-1: an extension has either nested extensions or a value[x], not both."""
    has_value = any(k.startswith("value") or k.startswith("_value") for k in obj)
    if has_value and "extension" in obj:
        issues.append(error("invariant", f"{EXT_1} (it has both)", path))
    elif not has_value and "extension" not in obj:
        issues.append(error("invariant", f"{EXT_1} (it has neither)", path))


EXT_1 = "ext-1: Must have either extensions or value[x], not both"
