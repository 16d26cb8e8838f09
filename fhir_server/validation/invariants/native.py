"""Native forms of the invariants every resource meets: dom-2..dom-6 (DomainResource),
ref-1 (every Reference) and txt-1/txt-2 (every narrative).

ele-1 (every element has a value or children) and ext-1 (an extension has a value or
extensions, not both) are checked by the structural walk itself (structure.py).
Each function answers for one focus as a FHIRPath invariant does: True (holds), False
(violated), a string (violated, saying why), or None (no answer: empty). Tests run
them against the FHIRPath expressions they replace (tests/validation/invariants).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from fhir_server.validation.narrative import check_div

from .scope import Scope

Verdict = bool | str | None
Native = Callable[[Any, Scope], Verdict]


def _contained(resource: Any) -> list[dict[str, Any]]:
    items = resource.get("contained") if type(resource) is dict else None
    return [c for c in items if type(c) is dict] if type(items) is list else []


def dom_2(resource: Any, scope: Scope) -> Verdict:
    """contained.contained.empty()"""
    return not any("contained" in c for c in _contained(resource))


def dom_3(resource: Any, scope: Scope) -> Verdict:
    """Every contained resource is referenced from the resource, or refers to it ('#')."""
    contained = [c for c in _contained(resource) if isinstance(c.get("id"), str)]
    if not contained:
        return True
    # The compact JSON of the resource tells most cases at C speed: a Reference.reference
    # "#id" is the exact bytes "reference":"#id" (ids need no escaping, and a quote inside
    # any string is escaped). Only a bare "#id" elsewhere (maybe a canonical or uri) needs
    # the typed walk that knows which elements are canonical, uri or url.
    blob = orjson.dumps(resource)
    unreferenced = []
    typed: set[str] | None = None
    for c in contained:
        target = f"#{c['id']}".encode()
        if b'"reference":"' + target + b'"' in blob:
            continue
        if b'"' + target + b'"' in blob:
            typed = local_targets(resource) if typed is None else typed
            if target.decode() in typed:
                continue
        if b'"#"' in orjson.dumps(c) and "#" in local_targets(c):
            continue
        unreferenced.append(c["id"])
    if unreferenced:
        return f"not referenced: {', '.join(unreferenced)}"
    return True


def local_targets(resource: dict[str, Any]) -> set[str]:
    """Every Reference.reference, canonical, uri and url value in the resource (contained
    resources included): what ``descendants().reference | descendants().ofType(uri)...``
    yields, read with the element definitions so only those types count."""
    from fhir_server.validation.model import COMPLEX, PRIMITIVE, RESOURCE, Node, resource_node

    found: set[str] = set()

    def walk(obj: dict[str, Any], node: Node) -> None:
        for key, value in obj.items():
            child = node.children.get(key)
            if child is None:
                continue
            items = value if type(value) is list else [value]
            if child.kind == PRIMITIVE:
                if key == "reference" or child.type_code in ("uri", "url", "canonical"):
                    found.update(v for v in items if type(v) is str)
            elif child.kind == COMPLEX and child.node is not None:
                for item in items:
                    if type(item) is dict:
                        walk(item, child.node)
            elif child.kind == RESOURCE:
                for item in items:
                    rtype = item.get("resourceType") if type(item) is dict else None
                    if isinstance(rtype, str):
                        walk(item, resource_node(rtype))

    rtype = resource.get("resourceType")
    if isinstance(rtype, str):
        walk(resource, resource_node(rtype))
    return found


def dom_4(resource: Any, scope: Scope) -> Verdict:
    """contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()"""
    return not any(
        type(c.get("meta")) is dict and ("versionId" in c["meta"] or "lastUpdated" in c["meta"])
        for c in _contained(resource)
    )


def dom_5(resource: Any, scope: Scope) -> Verdict:
    """contained.meta.security.empty()"""
    return not any(type(c.get("meta")) is dict and "security" in c["meta"] for c in _contained(resource))


def dom_6(resource: Any, scope: Scope) -> Verdict:
    """text.`div`.exists(), for resources that are not contained: "Contained resources do
    not have narrative" (R4 DomainResource.text)."""
    if scope.root is not scope.resource:
        return True
    text = resource.get("text") if type(resource) is dict else None
    return type(text) is dict and "div" in text


def ref_1(reference: Any, scope: Scope) -> Verdict:
    """A local reference (#id) names a contained resource of the container; '#' alone
    refers to the container and is allowed only inside a contained resource (R5 ref-1)."""
    ref = reference.get("reference") if type(reference) is dict else None
    if type(ref) is not str or not ref.startswith("#"):
        return True
    if ref == "#":
        return scope.root is not scope.resource
    return any(c.get("id") == ref[1:] for c in _contained(scope.root))


def txt_1(div: Any, scope: Scope) -> Verdict:
    """htmlChecks(): only the XHTML R4 allows (see validation.narrative)."""
    if type(div) is not str:
        return None
    problem = check_div(div).markup
    return True if problem is None else problem


def txt_2(div: Any, scope: Scope) -> Verdict:
    """htmlChecks(): some non-whitespace content."""
    if type(div) is not str:
        return None
    problems = check_div(div)
    return problems.markup is not None or not problems.empty


NATIVE: dict[str, Native] = {
    "dom-2": dom_2,
    "dom-3": dom_3,
    "dom-4": dom_4,
    "dom-5": dom_5,
    "dom-6": dom_6,
    "ref-1": ref_1,
    "txt-1": txt_1,
    "txt-2": txt_2,
}
